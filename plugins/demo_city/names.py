"""Place names for the demo city (兰州市): counties, their townships, and pools for generated village names.

Township lists follow Lanzhou's real divisions (the towns that 兰州新区 manages are listed under it, not under
永登县/皋兰县). Kinds drive both the urban/rural mix and the relative size of a township:

* ``street``        街道 in the built-up core: only 社区, small
* ``street_mixed``  街道 on the urban fringe: 社区 and 村, larger
* ``seat``          镇 that hosts a county seat: several 社区 plus 村
* ``town``          镇: 村 (maybe one 社区 at the town seat), large
* ``xiang``         乡: only 村, large
"""
from __future__ import annotations

CITY = ("620100000000", "兰州市")

# county code (6 digits), name, urban (区 vs 县), seat (lon, lat): where its urban townships cluster
COUNTIES: tuple[tuple[str, str, bool, tuple[float, float]], ...] = (
    ("620102", "城关区", True, (103.83, 36.06)),
    ("620103", "七里河区", True, (103.78, 36.07)),
    ("620104", "西固区", True, (103.63, 36.10)),
    ("620105", "安宁区", True, (103.72, 36.10)),
    ("620111", "红古区", True, (102.87, 36.34)),
    ("620121", "永登县", False, (103.26, 36.74)),
    ("620122", "皋兰县", False, (103.95, 36.33)),
    ("620123", "榆中县", False, (104.11, 35.85)),
    ("620171", "兰州新区", True, (103.62, 36.50)),
)

_S, _SM, _SEAT, _T, _X = "street", "street_mixed", "seat", "town", "xiang"

TOWNSHIPS: dict[str, tuple[tuple[str, str], ...]] = {
    "620102": tuple((name, _S) for name in (
        "酒泉路街道", "张掖路街道", "雁南街道", "临夏路街道", "雁北街道", "五泉街道", "白银路街道", "皋兰路街道",
        "广武门街道", "伏龙坪街道", "靖远路街道", "草场街街道", "火车站街道", "拱星墩街道", "东岗街道",
        "团结新村街道", "东岗西路街道", "铁路东村街道", "铁路西村街道", "渭源路街道", "盐场路街道",
        "嘉峪关路街道", "焦家湾街道")) + (("青白石街道", _SM), ("九州街道", _SM)),
    "620103": (
        ("西园街道", _S), ("西湖街道", _S), ("建兰路街道", _S), ("敦煌路街道", _S), ("西站街道", _S),
        ("土门墩街道", _S), ("晏家坪街道", _SM), ("龚家湾街道", _SM), ("秀川街道", _SM),
        ("彭家坪镇", _SEAT), ("阿干镇", _T), ("八里镇", _T), ("西果园镇", _T), ("黄峪镇", _T)),
    "620104": (
        ("陈坪街道", _S), ("先锋路街道", _S), ("福利路街道", _S), ("西固城街道", _S), ("四季青街道", _S),
        ("临洮街街道", _S), ("西柳沟街道", _SM), ("新城镇", _T), ("东川镇", _T), ("河口镇", _T), ("达川镇", _T)),
    "620105": (
        ("培黎街道", _S), ("西路街道", _S), ("十里店街道", _S), ("银滩路街道", _S), ("孔家崖街道", _SM),
        ("沙井驿街道", _SM), ("刘家堡街道", _SM), ("安宁堡街道", _SM)),
    "620111": (
        ("窑街街道", _S), ("下窑街道", _S), ("矿区街道", _S), ("华龙街道", _S), ("海石湾镇", _SEAT),
        ("花庄镇", _T), ("平安镇", _T), ("红古镇", _T)),
    "620121": (
        ("城关镇", _SEAT), ("红城镇", _T), ("中堡镇", _T), ("武胜驿镇", _T), ("河桥镇", _T), ("连城镇", _T),
        ("苦水镇", _T), ("大同镇", _T), ("龙泉寺镇", _T), ("柳树镇", _T), ("通远镇", _T), ("坪城乡", _X),
        ("民乐乡", _X), ("七山乡", _X)),
    "620122": (("石洞镇", _SEAT), ("忠和镇", _T), ("什川镇", _T), ("九合镇", _T), ("黑石镇", _T)),
    "620123": (
        ("城关镇", _SEAT), ("夏官营镇", _T), ("高崖镇", _T), ("金崖镇", _T), ("和平镇", _T), ("甘草店镇", _T),
        ("青城镇", _T), ("定远镇", _T), ("连搭镇", _T), ("新营镇", _T), ("贡井镇", _T), ("来紫堡乡", _X),
        ("清水驿乡", _X), ("龙泉乡", _X), ("韦营乡", _X), ("中连川乡", _X), ("园子岔乡", _X), ("上花岔乡", _X),
        ("哈岘乡", _X), ("马坡乡", _X), ("小康营乡", _X), ("银山乡", _X), ("三角城乡", _X)),
    "620171": (
        ("中川街道", _SM), ("秦川街道", _SM), ("西岔街道", _SM), ("上川镇", _T), ("树屏镇", _T), ("水阜镇", _T)),
}

# Two-character community (社区) names: a first and a second character, never the same one twice.
COMMUNITY_FIRST = "金银东西南北新建和安兴华龙凤雁滨文民康瑞祥泰盛丰宁乐福春秀光明兰园广佳锦嘉丽景红白黄青翠桃杏柳"
COMMUNITY_SECOND = "城华园苑河湖山林泉桥街坊港湾光明兴盛乐安和平阳滩庭花源川台门路坪岗府里"

# Village (村) names: a surname + 家 + a landform (王家湾村), or a two-character name (红星村).
VILLAGE_SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋魏牛董袁邓许汪田姚金白崔康秦史侯孟段雷杜祁"
VILLAGE_LANDFORMS = "湾坪岔沟川庄台营堡山河岘窑滩寨洼梁塬嘴岭"
VILLAGE_TWO_CHAR = (
    "红星", "新庄", "团结", "光明", "东湾", "西湾", "上庄", "下庄", "中滩", "南坪", "北山", "前进", "胜利", "丰收",
    "红光", "新联", "联合", "和平", "柳沟", "杏园", "梨园", "枣林", "泉头", "水川", "沙河", "石门", "双墩",
    "三合", "四合", "五星", "永丰", "大坪", "小川", "长川", "白崖", "红崖", "黑石", "青石", "碱沟",
)

CHINESE_DIGITS = "零一二三四五六七八九"


def chinese_number(n: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 20 → 二十, 35 → 三十五 (1 ≤ n ≤ 99)."""
    if not 1 <= n <= 99:
        raise ValueError(n)
    tens, ones = divmod(n, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else CHINESE_DIGITS[tens] + "十")
    return head + (CHINESE_DIGITS[ones] if ones else "")

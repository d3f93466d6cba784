"""Report texts as people write them: several phrasings, colloquial words, the occasional typo.

Most reports do not use the category's official title: people write 摆摊 for 占道经营, 井盖儿 or 窨井盖 for 井盖,
没电了 for 停电. `PHRASES` holds such phrasings per category title; `COLLOQUIAL` swaps words for the ones people
say; `TYPOS` the slips of a phone keyboard. `history_rows` makes a CSV-ready history from the same generator,
seeded, for `minqing dispatch evaluate --from` and the tests.
"""
from __future__ import annotations

import datetime as dt
import random

PLACES = ("小区门口", "菜市场旁边", "学校对面", "公交站附近", "河边步道", "十字路口", "老家属院", "巷子里", "商铺门前",
          "桥下面", "村口", "广场东侧", "楼下", "地下通道口", "加油站旁")
OPENINGS = ("{place}{what}", "反映：{place}有{what}", "{place}又出现{what}了", "群众来电称{place}{what}",
            "网格员巡查发现{place}{what}", "{what}，位置在{place}", "我家{place}那块{what}，好几天了")
TAILS = ("麻烦尽快处理一下。", "已经不是第一次了，希望相关部门管管。", "影响居民出行。", "存在安全隐患。",
         "居民意见很大。", "请派人来看看。", "晚上尤其严重。", "老人孩子经过很危险。", "拍了照片。", "")
TYPOS = {"处理": "处里", "安全": "按全", "居民": "居明", "影响": "影向", "垃圾": "拉圾", "摊位": "滩位",
         "漏水": "露水", "燃气": "然气", "消防": "消房", "纠纷": "纠份", "噪音": "燥音", "电梯": "电第"}
FIRST_TYPOS = ("处理", "安全", "居民", "影响")
COLLOQUIAL = {"井盖": ("井盖儿", "窨井盖", "井盖子"), "占道经营": ("摆摊", "占道摆摊", "摆地摊"),
              "流动摊贩": ("小商贩推车", "流动摊子", "卖菜的三轮车"), "停电": ("没电了", "断电", "突然停电"),
              "漏水": ("跑水", "冒水", "往外渗水"), "爆管": ("水管爆了", "管子崩了"), "乱堆乱放": ("乱堆东西", "堆满杂物"),
              "燃气泄漏": ("煤气味很大", "闻到一股燃气味", "天然气漏气"), "电梯故障": ("电梯坏了", "电梯关人", "电梯老停"),
              "信号灯故障": ("红绿灯不亮", "红绿灯坏了", "信号灯一直闪黄灯"), "违法停车": ("乱停车", "车停在路中间"),
              "邻里纠纷": ("邻居吵架", "和邻居闹矛盾"), "树木倒伏": ("树倒了", "大树歪倒"), "断枝": ("树枝断了挂着",),
              "路面病害": ("路上坑坑洼洼", "路面塌了个坑", "马路裂缝"), "飞线充电": ("楼上拉线给电瓶车充电", "电线从窗户吊下来充电"),
              "消防车通道": ("消防通道", "生命通道"), "拖欠农民工工资": ("老板不给发工资", "干完活拿不到钱", "欠薪")}
PHRASES = {
    "占道经营": ("有人摆摊卖水果占了人行道", "早市摊子摆到马路上", "小贩把摊位支在路边"),
    "店外经营": ("饭馆把桌子摆到门外", "店家在门口支摊子", "商户把货物摆到店外人行道上"),
    "流动摊贩": ("推车卖烤红薯的到处跑", "三轮车卖菜的堵在路口", "流动卖小吃的"),
    "乱堆乱放": ("建筑垃圾堆在路边没人管", "楼道口堆了一堆破家具", "废品收购点东西堆到路上"),
    "违规户外广告": ("店门口乱挂横幅", "广告牌歪了快掉下来", "电线杆上贴满小广告"),
    "夜市摊位越线经营": ("夜市摊子摆出黄线外", "晚上烧烤摊占到车道上"),
    "夜市环境卫生": ("夜市收摊后满地垃圾", "夜市油污没人打扫"),
    "爆管漏水": ("路边水管爆了水哗哗流", "地下冒水把路都淹了", "自来水管子崩了"),
    "停水水压": ("家里没水了", "水压太低楼上用不上水", "停水两天也没通知"),
    "水质异常": ("自来水发黄有异味", "水龙头出来的水浑浊"),
    "井盖消火栓问题": ("井盖儿丢了一个黑窟窿", "窨井盖松动车一过就响", "消火栓被撞歪了在漏水", "井盖子碎了"),
    "燃气泄漏": ("楼道里煤气味很重", "闻到天然气味担心漏气", "厨房燃气管有嘶嘶声"),
    "软管老化或超期": ("灶台连的胶皮管子都裂了", "燃气软管用了十几年没换"),
    "私拉乱接燃气管道": ("饭店自己接了根燃气管", "私自改燃气管道"),
    "违规使用液化气": ("地下室饭馆用液化气罐", "煤气罐放在人员密集的店里"),
    "报警器缺失失效": ("饭店没装燃气报警器", "报警器一直不响是坏的"),
    "信号灯故障": ("红绿灯不亮了", "路口红绿灯坏了车乱走", "信号灯一直闪黄灯"),
    "交通标志标线缺损": ("斑马线都磨没了", "限速牌被撞倒了", "路上的标线看不清"),
    "违法停车严重": ("车乱停把路堵死了", "人行道上停满了车", "车停在公交站台"),
    "事故多发点": ("这个弯道老出车祸", "路口经常撞车"),
    "农村道路交通安全隐患": ("村道急弯没有护栏", "三轮车拉人上路"),
    "路面病害": ("马路上一个大坑", "路面坑坑洼洼车都颠坏了", "柏油路裂了好几道缝"),
    "桥梁隧道隐患": ("桥栏杆断了", "隧道顶上往下掉渣"),
    "水毁塌方": ("下雨后山体滑下来堵了路", "路基被水冲垮了"),
    "非法营运": ("黑车在车站门口拉客", "私家车跑黑出租"),
    "树木倒伏断枝": ("大风把树刮倒了压在路上", "树枝断了吊在半空", "行道树歪了快倒了"),
    "绿地损毁侵占": ("有人在绿化带里种菜", "草坪被车压坏了"),
    "病虫害": ("树叶上全是虫子", "柳树长了好多虫"),
    "公园设施损坏": ("公园长椅坏了", "公园路灯不亮"),
    "电梯故障": ("电梯坏了老人上不了楼", "电梯关人了", "电梯老是停在半截"),
    "物业服务纠纷": ("物业不管事还乱收费", "交了物业费没人打扫"),
    "物业撤场": ("物业撂挑子走了没人管", "小区物业突然撤了"),
    "老旧小区改造问题": ("小区改造挖完路就不管了", "老旧小区改造施工扰民"),
    "邻里纠纷": ("邻居家吵架快打起来了", "楼上楼下因为漏水闹矛盾", "邻居占了公共过道吵起来"),
    "婚姻家庭纠纷": ("两口子天天吵要离婚", "家里老人赡养问题闹矛盾"),
    "劳务纠纷": ("干活的工钱谈不拢吵起来", "雇主和工人起了争执"),
    "土地山林纠纷": ("两家为地界吵起来", "承包地边界有争议"),
    "拖欠农民工工资": ("工地老板不给发工资", "干完活一年了拿不到钱", "包工头跑了工钱没着落"),
    "未签订劳动合同": ("上班半年也不签合同", "公司不给签劳动合同"),
    "治安隐患": ("晚上路灯不亮经常有人偷车", "这里老有人打架"),
    "可疑人员": ("有个陌生人在小区里转悠", "几个人鬼鬼祟祟看车"),
    "可疑物品": ("路边放着一个没人要的箱子", "垃圾桶旁有个可疑的包"),
    "出租房屋治安隐患": ("出租屋里住了好多人进进出出", "群租房人员很杂"),
    "消防车通道占用": ("消防通道被车堵死了", "生命通道停满私家车"),
    "楼道堆物和电动车停放": ("楼道里停电动车还充电", "楼道堆满纸箱子"),
    "安全出口锁闭": ("商场安全出口被锁了", "逃生门用铁链锁着"),
    "消防设施损坏": ("灭火器都过期了", "消防栓箱子是空的"),
    "线路设施隐患": ("电线杆歪了", "高压线垂得很低"),
    "停电故障": ("整栋楼没电了", "突然停电好几个小时", "一到晚上就断电"),
    "私拉乱接和飞线充电": ("楼上拉线下来给电瓶车充电", "电线从窗户吊下来充电"),
    "自建房安全隐患": ("自建房墙裂了", "村里老房子快塌了"),
    "房屋裂缝沉降": ("楼房墙体开裂", "房子往下沉门都关不上"),
    "违规改扩建": ("楼顶加盖了一层", "一楼住户私自打通承重墙"),
    "独居老人生活困难": ("独居老人家里没吃的", "一个老人住没人照顾"),
    "老人失联": ("隔壁老人好几天没见人了", "老人走丢了找不到"),
    "食品安全隐患": ("饭店后厨脏得很", "卖的熟食没有冷藏", "吃了饭店的菜拉肚子"),
    "无证经营食品": ("小作坊没证做豆腐", "无证卖凉皮的"),
    "疑似食物中毒": ("好几个人吃了食堂的饭上吐下泻", "聚餐后多人腹痛"),
    "河道乱堆垃圾": ("河边扔了很多生活垃圾", "河道里漂着垃圾"),
    "非法采砂": ("晚上有人在河里挖沙", "河滩上有挖沙船"),
    "排污口异常": ("河边排污口冒黑水", "有工厂往河里排污水"),
    "校园周边安全隐患": ("学校门口车速太快", "学校旁边有人卖三无玩具"),
    "上下学交通拥堵": ("放学的时候接孩子的车堵成一团", "学校门口早上堵死了"),
    "危化品违规储存经营": ("居民楼里存了好多油漆桶", "小店卖散装汽油"),
    "安全生产隐患": ("工厂里机器没有防护罩", "工地工人不戴安全帽"),
    "健身器材损坏": ("小区健身器材坏了", "单杠松了有人摔了"),
    "信号盲区": ("家里手机没信号", "村里打不通电话"),
    "站点设施损坏": ("公交站牌倒了", "候车亭玻璃碎了"),
    "地质灾害险情": ("山上往下滚石头", "后山裂了一道大缝"),
    "违法占地": ("有人在耕地上盖房子", "占农田建厂房"),
}


def report_text(rng: random.Random, theme_title: str, category_title: str) -> tuple[str, str]:
    # The main generator's draws stay as they were (the rest of the demo depends on its sequence); the
    # variety comes from a second generator seeded by those draws.
    place = rng.choice(PLACES)
    vague = rng.random() >= 0.7
    opening = rng.choice(OPENINGS)
    tail = rng.choice(TAILS)
    typo_roll = rng.random()
    typo = rng.choice(FIRST_TYPOS) if typo_roll < 0.15 else None  # the original four: same draws
    variety = random.Random(f"{place}|{opening}|{tail}|{typo_roll}|{category_title}")
    what = _what(variety, theme_title, category_title, vague)
    description = opening.format(place=place, what=what) + "，" + tail
    if typo is None and variety.random() < 0.1:
        typo = variety.choice(list(TYPOS))
    if typo:
        description = description.replace(typo, TYPOS[typo])
    heading = category_title if variety.random() < 0.4 else what.split("，")[0][:20]
    return f"{place}{heading}"[:60], description


def _what(rng: random.Random, theme_title: str, category_title: str, vague: bool) -> str:
    if vague and rng.random() < 0.5:
        return f"{theme_title}问题"
    phrasings = PHRASES.get(category_title, ())
    roll = rng.random()
    if phrasings and roll < 0.65:
        what = rng.choice(phrasings)
    else:
        what = category_title
    for word, spoken in COLLOQUIAL.items():
        if word in what and not any(form in what for form in spoken) and rng.random() < 0.6:
            what = what.replace(word, rng.choice(spoken))
    return what


def history_rows(categories: list[dict], count: int, seed: int, *, end: dt.datetime | None = None,
                 days: int = 365) -> list[dict]:
    """`count` past cases as CSV rows (text, category, department, region, reported_at), from the generator.

    `categories`: dicts with code, title, theme_title, department and optionally regions (county codes)."""
    rng = random.Random(seed)
    end = end or dt.datetime(2026, 1, 1)
    rows = []
    for _ in range(count):
        category = rng.choice(categories)
        title, description = report_text(rng, category["theme_title"], category["title"])
        at = end - dt.timedelta(days=rng.uniform(0, days))
        rows.append({"text": f"{title}。{description}", "category": category["code"],
                     "department": category["department"],
                     "region": rng.choice(category.get("regions") or ("620102", "620103", "620104", "620105")),
                     "reported_at": at.isoformat(timespec="seconds")})
    return sorted(rows, key=lambda row: row["reported_at"])

"""Form answers for demo records, made from the record form itself: every field by its type, enum, format and
bounds, with names, people, phones, ID numbers and codes that read like a real ledger's."""
from __future__ import annotations

import datetime as dt
import random

from minqing.core.privacy import idcard, uscc

SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
GIVEN = "建国志强秀英桂兰玉梅海军红霞文华明亮国庆永红淑珍晓燕丽娟德福金花春生俊杰子涵浩然雅静婷婷伟东新民彦斌"
ROADS = ("东岗西路", "庆阳路", "张掖路", "酒泉路", "西津西路", "南滨河路", "北滨河路", "天水路", "民主西路", "金昌路",
         "平凉路", "雁滩路", "安宁西路", "西固中路", "读者大道", "兰州路", "建兰路", "龚家湾路", "盐场路", "和政路")
WORDS = ("金城", "黄河", "陇原", "皋兰", "五泉", "白塔", "兰山", "西部", "丝路", "河湾", "安宁", "雁滩", "华林", "陇海")
ESTATES = ("花园", "小区", "家园", "嘉苑", "新村", "家属院", "雅居", "佳园")
TRADES = ("商贸", "建设", "石化", "机械", "食品", "物流", "科技", "建材", "医药", "环保", "能源", "实业")
HERITAGE = ("白塔山古建筑群", "金天观", "五泉山古建筑群", "兰州黄河铁桥", "庄严寺", "兰州府城隍庙", "八路军兰州办事处旧址",
            "青城古民居群", "红城感恩寺", "鲁土司衙门旧址", "连城古城址", "金城关遗址", "明长城兰州段", "汉代墓群",
            "什川古梨园", "安宁堡古堡遗址")
RIVERS = ("黄河", "湟水河", "庄浪河", "宛川河", "大通河", "雷坛河", "南河道", "咸水河", "苦水河", "西柳沟", "大沙沟")
# Fields holding a person's name: by key, or by words of their title.
PERSON_KEYS = {"manager", "director", "keeper", "contact", "ranger", "patroller", "observer", "agent", "principal",
               "safety_officer", "labour_officer", "road_chief", "helper_name", "monitor_name", "chief_name",
               "owner_name", "head_name", "operator_name"}
PERSON_WORDS = ("姓名", "负责人", "联系人", "管理人", "管理员", "护林员", "观测员", "信息员", "代理员", "保护员", "站长",
                "河长", "路长", "校长", "专管员", "产权人", "户主", "监测员", "责任人", "主任")
RANGES = {"students": (80, 2400), "staff": (10, 180), "guards": (1, 8), "lanes": (1, 6), "people_covered": (300, 9000),
          "stalls": (8, 120), "area_mu": (20, 3000), "daily_vegetables_t": (0.5, 60), "reserve_days": (3, 15),
          "capacity": (200, 20000), "followers": (2000, 800000), "households": (20, 1800), "units_registered": (0, 40),
          "investment_wan": (800, 300000), "area_ha": (50, 20000), "matters": (60, 1200), "helpers": (1, 12),
          "capacity_t": (500, 50000), "stock_t": (200, 30000), "beds": (0, 600), "doctors": (1, 400),
          "heat_area_10k_m2": (2, 120), "appeals_90d": (3, 160), "buildings": (3, 60), "workers": (30, 800),
          "deposit_wan": (20, 300), "output_wan": (2000, 500000), "employees": (5, 3000), "mediators": (3, 15),
          "cases_last_year": (5, 200), "area_m2": (60, 3000), "trees": (50, 20000), "length_km": (0.8, 18),
          "protection_m": (30, 100), "staff_count": (3, 30), "capacity_kva": (200, 2000), "daily_boardings": (50, 6000),
          "trained_staff": (1, 30), "visitors_last_year": (500, 300000), "equipment": (6, 40), "windows": (2, 30),
          "self_terminals": (1, 10), "backup_hours": (2, 12), "accidents_last_year": (0, 15), "tank_m3": (20, 400),
          "activities_last_year": (4, 60), "volunteers": (10, 800), "children_served": (30, 2000), "pipe_mm": (100, 300),
          "pressure_mpa": (0.14, 0.6), "units": (2, 8), "flow_m3s": (0.5, 12), "power_kw": (110, 4000),
          "residents": (10, 400), "threatened_households": (2, 60), "threatened_people": (6, 240), "floors": (1, 6),
          "household_size": (1, 7), "annual_income_per_capita": (6000, 16000), "max_stock_t": (0.5, 80),
          "established_year": (1975, 2022), "built_year": (1968, 2020), "installed_year": (2008, 2024),
          "commissioned_year": (1990, 2024), "enlisted_year": (1960, 2018), "discharged_year": (1965, 2024)}


THEME_RANGES = {("landscaping.green_space", "area_m2"): (1500, 250000), ("emergency.shelters", "area_m2"): (2000, 60000),
                ("civil_air_defence.shelters", "area_m2"): (800, 30000),
                ("science_technology.science_popularisation", "area_m2"): (80, 12000),
                ("health.public_health", "beds"): (0, 900), ("civil_affairs.care_homes", "beds"): (10, 400)}


def is_person(title: str) -> bool:
    return any(word in title for word in PERSON_WORDS)


def person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def mobile(rng: random.Random) -> str:
    return rng.choice(("139", "138", "137", "136", "151", "158", "186", "189", "177", "193")) + f"{rng.randrange(10 ** 8):08d}"


def company(rng: random.Random) -> str:
    return f"兰州{rng.choice(WORDS)}{rng.choice(TRADES)}{rng.choice(('有限公司', '有限责任公司', '股份有限公司'))}"


def estate(rng: random.Random) -> str:
    return rng.choice(WORDS) + rng.choice(ESTATES)


def day(rng: random.Random, today: dt.date, back: int = 900, ahead: int = 0) -> str:
    return (today + dt.timedelta(days=rng.randint(-back, ahead))).isoformat()


class Values:
    """Answers for one record: `place` names the village and township the record lies in and its region code."""

    def __init__(self, rng: random.Random, today: dt.date, place: dict, theme_key: str = ""):
        self.rng, self.today, self.place, self.theme_key = rng, today, place, theme_key

    def document(self, schema: dict, full: bool, location: tuple[float, float]) -> dict:
        required = set(schema.get("required") or ())
        out = {}
        for key, spec in (schema.get("properties") or {}).items():
            if key not in required and not full and self.rng.random() < 0.2:
                continue
            value = self.value(key, spec, location, full)
            if value is not None:
                out[key] = value
        return out

    def value(self, key: str, spec: dict, location, full: bool):
        rng = self.rng
        kind, fmt, title = spec.get("type"), spec.get("format"), spec.get("title") or ""
        if "enum" in spec:
            return rng.choice(spec["enum"])
        if kind == "boolean":
            return rng.random() < 0.7
        if kind in ("integer", "number"):
            return self.number(key, spec)
        if kind == "object":
            if fmt == "geo-point":
                return {"lon": round(location[0], 6), "lat": round(location[1], 6)}
            return self.document(spec, full, location)
        if kind == "array":
            return self.array(key, spec, location, full)
        if kind == "string":
            return self.text(key, spec, fmt, title)
        return None

    def number(self, key: str, spec: dict):
        default = (spec.get("minimum", 0), min(spec.get("maximum", 200), 200))
        low, high = THEME_RANGES.get((self.theme_key, key)) or RANGES.get(key, default)
        low, high = max(low, spec.get("minimum", low)), min(high, spec.get("maximum", high))
        if spec.get("type") == "integer" or isinstance(low, int) and isinstance(high, int) and key.endswith("year"):
            return self.rng.randint(int(low), int(high))
        return round(self.rng.uniform(low, high), 1)

    def array(self, key: str, spec: dict, location, full: bool):
        items = spec.get("items") or {}
        if items.get("format") == "attachment":
            return list(self.place.get("photos") or [])[:1] or None
        if "enum" in items:
            count = self.rng.randint(1, min(3, len(items["enum"])))
            return self.rng.sample(items["enum"], count)
        if items.get("type") == "object":
            count = max(spec.get("minItems", 1), self.rng.randint(1, 2))
            return [self.document(items, True, location) for _ in range(count)]
        return None

    def text(self, key: str, spec: dict, fmt: str | None, title: str) -> str | None:
        rng, place = self.rng, self.place
        if fmt == "cn-mobile":
            return mobile(rng)
        if fmt == "cn-id":
            born = dt.date(rng.randint(1938, 1995), rng.randint(1, 12), rng.randint(1, 28))
            return idcard.make(place["region_code"][:6], born, rng.randrange(1000))
        if fmt == "date":
            return day(rng, self.today, 700, 200 if "到期" in title else 0)
        if fmt in ("attachment", "date-time", "email"):
            return None
        if key in PERSON_KEYS or is_person(title):
            return person(rng)
        if "地址" in title or key in ("address", "actual_address"):
            return f"{place['township']}{rng.choice(ROADS)}{rng.randint(1, 400)}号"
        made = self.special(key, title)
        if made is not None:
            return made[: spec.get("maxLength", 200)]
        return f"{place['village']}{title}"[: spec.get("maxLength", 200)]

    def special(self, key: str, title: str) -> str | None:
        rng, place = self.rng, self.place
        code = place["region_code"][:6]
        if key == "credit_code":
            return uscc.make("91", code, rng.randrange(31 ** 9))   # with its check character
        if key == "certificate_number":
            born = dt.date(rng.randint(1940, 2010), rng.randint(1, 12), rng.randint(1, 28))
            return idcard.make(code, born, rng.randrange(1000)) + f"{rng.randint(10, 99)}{rng.randint(1, 7)}{rng.randint(1, 4)}"
        if key == "un_number":
            return f"{rng.randint(1000, 3500)}"
        if key == "licence_number":
            return ("JY" + f"{rng.randrange(10 ** 14):014d}") if "食品" in title else f"甘兰{rng.randint(10000, 99999)}号"
        if key in ("permit_number", "filing_number", "registration_number", "code", "road_code", "account_number",
                   "point_code"):
            return {"permit_number": f"91{code}{rng.randrange(10 ** 8):08d}001V", "filing_number":
                    f"陇ICP备{rng.randint(10000000, 20999999)}号", "road_code": rng.choice("XYC") + f"{rng.randint(1, 999):03d}",
                    "registration_number": f"甘宗登字{rng.randint(1000, 9999)}号", "code": f"H{code}{rng.randint(1000, 9999)}",
                    "account_number": f"{rng.randrange(10 ** 10):010d}",
                    "point_code": f"{code}{rng.randint(100, 999)}"}[key]
        if key in ("operator", "owner_unit", "contractor", "property_company", "maintainer", "manager_unit",
                   "responsible", "unit_name", "business_name", "user_name"):
            return company(rng) if key != "responsible" else f"{place['township']}办事处"
        if key in ("estate", "place_name", "shelter_name", "venue_name"):
            return place["village"] + estate(rng) if key == "estate" else f"{place['village']}{title.replace('名称', '')}"
        if key == "routes":
            return "、".join(f"{number}路" for number in sorted(rng.sample(range(1, 160), rng.randint(1, 5))))
        if key == "open_hours":
            return rng.choice(("08:30-17:30", "09:00-21:00", "全天开放", "06:00-22:00", "周一至周五 09:00-17:00"))
        if key == "era":
            return rng.choice(("汉", "唐", "宋", "元", "明", "清", "民国", "1950年代"))
        if key == "village":
            return place["village"]
        if key in ("river_name",):
            return rng.choice(RIVERS)
        if key in ("section_name",):
            return f"{place['township']}段"
        if key in ("crack_detail",):
            return rng.choice(("外墙斜向裂缝约1米", "窗角细微裂缝", "承重墙竖向裂缝"))
        if key in ("evacuation_route",):
            return f"沿{rng.choice(ROADS)}向{place['village']}广场撤离"
        return None

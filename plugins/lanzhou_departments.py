"""The functional departments (职能部门) of the demo city, Lanzhou.

A city's organisation chart is a plugin of its own, so another city swaps this one for its own list; each
department's business themes come from that department's plugin or theme files and refer to these keys.
"""
from minqing.core.hooks import hookimpl

MINQING_TITLE = "兰州市职能部门"  # what the admin page and `minqing plugins list` show
MINQING_DESCRIPTION = "演示城市兰州的职能部门名录。"

# key, full name, short name, kind
DEPARTMENTS = [
    ("police", "兰州市公安局", "公安", "government"),
    ("traffic_police", "兰州市公安局交通警察支队", "交警", "government"),
    ("civil_affairs", "兰州市民政局", "民政", "government"),
    ("justice", "兰州市司法局", "司法", "government"),
    ("human_resources", "兰州市人力资源和社会保障局", "人社", "government"),
    ("natural_resources", "兰州市自然资源局", "自然资源", "government"),
    ("ecology_environment", "兰州市生态环境局", "生态环境", "government"),
    ("housing_construction", "兰州市住房和城乡建设局", "住建", "government"),
    ("housing_security", "兰州市住房保障和房产管理局", "房管", "government"),
    ("urban_management", "兰州市城市管理局", "城管", "government"),
    ("landscaping", "兰州市园林局", "园林", "government"),
    ("transport", "兰州市交通运输局", "交通运输", "government"),
    ("water_affairs", "兰州市水务局", "水务", "government"),
    ("agriculture", "兰州市农业农村局", "农业农村", "government"),
    ("commerce", "兰州市商务局", "商务", "government"),
    ("culture_tourism", "兰州市文化和旅游局", "文旅", "government"),
    ("health", "兰州市卫生健康委员会", "卫健", "government"),
    ("veterans", "兰州市退役军人事务局", "退役军人", "government"),
    ("emergency", "兰州市应急管理局", "应急管理", "government"),
    ("market_regulation", "兰州市市场监督管理局", "市场监管", "government"),
    ("medical_insurance", "兰州市医疗保障局", "医保", "government"),
    ("petitions", "兰州市信访局", "信访", "government"),
    ("education", "兰州市教育局", "教育", "government"),
    ("forestry", "兰州市林业和草原局", "林草", "government"),
    ("fire_rescue", "兰州市消防救援支队", "消防救援", "government"),
    ("meteorology", "兰州市气象局", "气象", "government"),
    ("earthquake", "兰州市地震局", "地震", "government"),
    ("development_reform", "兰州市发展和改革委员会", "发改", "government"),
    ("industry_it", "兰州市工业和信息化局", "工信", "government"),
    ("finance", "兰州市财政局", "财政", "government"),
    ("statistics", "兰州市统计局", "统计", "government"),
    ("taxation", "国家税务总局兰州市税务局", "税务", "government"),
    ("ethnic_religious", "兰州市民族宗教事务委员会", "民宗", "government"),
    ("science_technology", "兰州市科学技术局", "科技", "government"),
    ("sports", "兰州市体育局", "体育", "government"),
    ("civil_air_defence", "兰州市人民防空办公室", "人防", "government"),
    ("grain_reserves", "兰州市粮食和物资储备局", "粮储", "government"),
    ("data_bureau", "兰州市数据局", "数据", "government"),
    ("government_services", "兰州市政务服务中心", "政务服务", "government"),
    ("hotline", "兰州市12345政务服务便民热线", "12345热线", "government"),
    ("political_legal", "中共兰州市委政法委员会", "政法委", "government"),
    ("cyberspace", "中共兰州市委网络安全和信息化委员会办公室", "网信", "government"),
    ("postal", "兰州市邮政管理局", "邮政管理", "government"),
    ("cultural_heritage", "兰州市文物局", "文物", "government"),
    ("rural_revitalisation", "兰州市乡村振兴局", "乡村振兴", "government"),
    ("disabled_persons", "兰州市残疾人联合会", "残联", "mass_organisation"),
    ("womens_federation", "兰州市妇女联合会", "妇联", "mass_organisation"),
    ("trade_union", "兰州市总工会", "总工会", "mass_organisation"),
    ("youth_league", "共青团兰州市委员会", "团市委", "mass_organisation"),
    ("red_cross", "兰州市红十字会", "红十字会", "mass_organisation"),
    ("gas", "兰州城市燃气有限公司", "燃气", "utility"),
    ("power_supply", "国网兰州供电公司", "供电", "utility"),
    ("water_supply", "兰州威立雅水务集团", "供水", "utility"),
    ("heating", "兰州市供热管理中心", "供热", "utility"),
    ("public_transit", "兰州公交集团", "公交", "utility"),
    ("metro", "兰州市轨道交通有限公司", "轨道交通", "utility"),
    ("telecom", "兰州市通信发展管理办公室", "通信", "utility"),
]


@hookimpl
def register_departments():
    return [{"key": key, "name": name, "short_name": short, "kind": kind}
            for key, name, short, kind in DEPARTMENTS]

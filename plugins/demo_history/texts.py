"""Report texts as people write them: several phrasings, colloquial words, the occasional typo."""
from __future__ import annotations

import random

PLACES = ("小区门口", "菜市场旁边", "学校对面", "公交站附近", "河边步道", "十字路口", "老家属院", "巷子里", "商铺门前",
          "桥下面", "村口", "广场东侧", "楼下", "地下通道口", "加油站旁")
OPENINGS = ("{place}{what}", "反映：{place}有{what}", "{place}又出现{what}了", "群众来电称{place}{what}",
            "网格员巡查发现{place}{what}", "{what}，位置在{place}", "我家{place}那块{what}，好几天了")
TAILS = ("麻烦尽快处理一下。", "已经不是第一次了，希望相关部门管管。", "影响居民出行。", "存在安全隐患。",
         "居民意见很大。", "请派人来看看。", "晚上尤其严重。", "老人孩子经过很危险。", "拍了照片。", "")
TYPOS = {"处理": "处里", "安全": "按全", "居民": "居明", "影响": "影向"}


def report_text(rng: random.Random, theme_title: str, category_title: str) -> tuple[str, str]:
    place = rng.choice(PLACES)
    what = category_title if rng.random() < 0.7 else f"{theme_title}问题"
    opening = rng.choice(OPENINGS).format(place=place, what=what)
    description = opening + "，" + rng.choice(TAILS)
    if rng.random() < 0.15:
        typo = rng.choice(list(TYPOS))
        description = description.replace(typo, TYPOS[typo])
    return f"{place}{category_title}"[:60], description

"""Plausible Chinese names and phone numbers for demo people, from a seeded random generator."""
from __future__ import annotations

import random

import numpy as np

# The most common surnames, roughly by frequency, with a few common in Gansu (马, 魏, 牛).
SURNAMES = ("王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎"
            "余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"
            "牛杭祁火")
SURNAME_WEIGHTS = [max(1, 60 - i) for i in range(len(SURNAMES))]
GIVEN_CHARS = ("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超霞平刚桂兰建华国红玉萍文辉鹏飞宇浩然子轩欣怡梓涵雨婷思远"
               "志强海燕晓东春梅永福德胜建国丽华亚楠佳琪雅静俊杰博文振华秋菊金凤学军红霞彦龙燕妮瑞雪天佑嘉怡")
MOBILE_PREFIXES = ("130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "153",
                   "155", "156", "157", "158", "159", "166", "177", "180", "181", "182", "183", "185", "186",
                   "187", "188", "189", "191", "198", "199")


def name(rng: random.Random) -> str:
    surname = rng.choices(SURNAMES, SURNAME_WEIGHTS)[0]
    given = "".join(rng.choice(GIVEN_CHARS) for _ in range(rng.choice((1, 2, 2, 2))))
    return surname + given


def mobile(rng: random.Random) -> str:
    return rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"


# The same distributions for thousands of people at once, from a numpy generator (base data: 200,000 residents).
_SURNAME_P = np.array(SURNAME_WEIGHTS, dtype=float) / sum(SURNAME_WEIGHTS)
_SURNAMES = np.array(list(SURNAMES))
_GIVEN = np.array(list(GIVEN_CHARS))


def names(generator: np.random.Generator, count: int) -> list[str]:
    """`count` names: a surname by frequency and one given character or (three times as often) two."""
    surnames = _SURNAMES[generator.choice(len(_SURNAMES), count, p=_SURNAME_P)]
    first = _GIVEN[generator.integers(0, len(_GIVEN), count)]
    second = _GIVEN[generator.integers(0, len(_GIVEN), count)]
    one_char = generator.integers(0, 4, count) == 0
    second[one_char] = ""
    return np.char.add(np.char.add(surnames, first), second).tolist()


def mobiles(generator: np.random.Generator, count: int) -> list[str]:
    """`count` mobile numbers."""
    prefixes = np.array(MOBILE_PREFIXES)[generator.integers(0, len(MOBILE_PREFIXES), count)].tolist()
    return [prefix + f"{number:08d}" for prefix, number in
            zip(prefixes, generator.integers(0, 10**8, count).tolist(), strict=True)]

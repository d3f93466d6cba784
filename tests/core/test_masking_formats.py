"""Finding 4 of the outside probe (issue 21): numbers written with a country code or separators were shown whole.
`core.masking` masks them in free text and in fields, leaves case numbers, dates, region codes and coordinates
alone, and does it in linear time (each pattern is bounded, so no text makes it backtrack)."""
from __future__ import annotations

import datetime as dt
import re
from re import _constants as sre, _parser

import pytest

from minqing.core.privacy import idcard, masking
from minqing.core.privacy.masking import mask_id_number, mask_phone, scrub_text, text_for

ID = idcard.make("620102", dt.date(1941, 5, 1), 815)
MOBILE, LANDLINE = "18617277861", "09318461537"
_NOT_DIGITS = re.compile(r"[^0-9Xx*]")

WRITTEN_IDS = [f"{ID[:6]} {ID[6:14]} {ID[14:]}", f"{ID[:6]}-{ID[6:14]}-{ID[14:]}",
               f"{ID[:6]} {ID[6:10]} {ID[10:14]} {ID[14:]}", ID, ID.lower(), f"{ID[:6]}.{ID[6:14]}.{ID[14:]}"]
WRITTEN_MOBILES = ["+8618617277861", "186 1727 7861", "186-1727-7861", "+86 186 1727 7861", "0086-186-1727-7861",
                   "0086 18617277861", "8618617277861", "(+86) 186 1727 7861", "+86-186-1727-7861", MOBILE,
                   "186.1727.7861", "+86.186.1727.7861"]
WRITTEN_LANDLINES = ["0931-8461537", "(0931) 8461 537", "(0931)8461537", "0931 8461537", "09318461537",
                     "+86 931 8461537", "0086-931-8461537", "+86 (0)931 8461537"]
# Numbers that are not personal data and must come through unchanged.
NOT_PERSONAL = ["案件编号 MQ20261206000123", "2026-12-06", "20261206", "2026-12-06 13:45:00", "2026/12/06",
                "2026-12-06T09:31:22+08:00", "区划 620102001001", "组 620102001001001", "区划 130102001001",
                "网格 G620102001001001", "坐标 103.13912345678,36.05312345678", "金额 13912.50 元",
                "共 15 20 30 40 50 60 户", "邮编 730030", "统一社会信用代码 91620102MA71234567",
                "面积 139.12345678 平方米", "比例 86.18617277861", "版本 2.1.3", "2026.12.06", "金额 186.1727 元"]


def _digits(text: str) -> str:
    return _NOT_DIGITS.sub("", text)


@pytest.mark.parametrize("written", WRITTEN_IDS)
def test_id_numbers_with_separators_are_masked_in_free_text(written):
    shown = scrub_text(f"居民身份证：{written}，请核对")
    assert shown == f"居民身份证：{ID[:6]}********{written[-4:]}，请核对"
    assert ID[6:14] not in _digits(shown)
    assert text_for(None, written) == scrub_text(written)


@pytest.mark.parametrize("written", WRITTEN_MOBILES)
def test_mobiles_with_country_code_and_separators_are_masked(written):
    shown = scrub_text(f"电话{written}。")
    assert MOBILE not in _digits(shown) and "186****7861" in shown
    assert scrub_text(written, keep_phones=True) == written   # roles that need phones read them whole
    assert mask_phone(written) == "186****7861"


def test_a_mobile_in_full_width_digits_is_masked():
    """A Chinese input method in full-width mode types １８６１７２７７８６１; it was shown whole."""
    written = MOBILE.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    assert scrub_text(f"电话{written}。") == "电话１８６****７８６１。"
    assert scrub_text(written, keep_phones=True) == written


@pytest.mark.parametrize("written", WRITTEN_LANDLINES)
def test_landlines_are_masked(written):
    shown = scrub_text(f"座机 {written}，工作日")
    assert "8461537" not in _digits(shown) and shown.endswith("****537，工作日")
    assert scrub_text(written, keep_phones=True) == written
    assert "8461537" not in _digits(mask_phone(written))


@pytest.mark.parametrize("text", NOT_PERSONAL)
def test_case_numbers_dates_codes_and_coordinates_are_left_alone(text):
    assert scrub_text(text, keep_addresses=True) == text


def test_id_number_fields_are_masked_however_written():
    for written in WRITTEN_IDS[:3]:
        assert mask_id_number(written) == f"{ID[:6]}********{ID[-4:]}"


def test_house_numbers_are_still_masked_and_other_text_kept():
    text = "住幸福巷47号楼3单元1502室，12  号院，共5户"
    assert scrub_text(text) == "住幸福巷*号楼*单元*室，*  号院，共5户"


def _repeats(items, found):
    for op, value in items:
        if op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT):
            found.append((op, value[1]))
            _repeats(value[2], found)
        elif op is sre.SUBPATTERN:
            _repeats(value[3], found)
        elif op in (sre.ASSERT, sre.ASSERT_NOT):
            _repeats(value[1], found)
        elif op is sre.BRANCH:
            for branch in value[1]:
                _repeats(branch, found)
    return found


@pytest.mark.parametrize("pattern", masking.FREE_TEXT_PATTERNS, ids=lambda p: p.pattern[:30])
def test_every_free_text_pattern_is_linear(pattern):
    """Structural, not timed: every repetition is bounded by a small number, or possessive (it never gives back
    what it took, so nothing is tried twice). The old house-number pattern `[0-9]+(?=…)` tried each position of a
    long run of digits against the rest of the run: 10,000 digits took 5 s, 100,000 about 8 minutes."""
    for op, high in _repeats(_parser.parse(pattern.pattern), []):
        assert op is sre.POSSESSIVE_REPEAT or high <= 8, pattern.pattern

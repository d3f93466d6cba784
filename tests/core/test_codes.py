"""Region codes, ID numbers, credit codes and masking: the small rules everything else leans on."""
import datetime as dt

import pytest

from minqing.core.privacy import idcard, masking, uscc
from minqing.core.geo import regions


@pytest.mark.parametrize("code, level, parent, problem", [
    ("620100000000", "city", None, None),
    ("620102000000", "county", "620100000000", None),
    ("620102001000", "township", "620102000000", None),
    ("620102001002", "village", "620102001000", None),
    ("620102001002003", "group", "620102001002", None),
    ("620103001000", "township", "620102000000", "前缀"),          # prefix of another county
    ("620102001002", "township", "620102000000", "不是乡镇(街道)一级"),  # a village code at township level
    ("62010200100", "village", "620102001000", "12位数字"),
    ("6201020010a2", "village", "620102001000", "12位数字"),
    ("620102001002", "village", "620102000000", "上级应为乡镇(街道)"),
    ("620102000000", "county", None, "必须有上级"),
    ("620102001002003", "group", "620102001003", "前缀"),
])
def test_region_code_must_match_its_parent(code, level, parent, problem):
    found = regions.code_problem(code, level, parent)
    if problem is None:
        assert found is None
    else:
        assert found is not None and problem in found


def test_region_prefix_by_level():
    assert regions.prefix("620100000000") == "6201"
    assert regions.prefix("620171000000") == "620171"
    assert regions.prefix("620102001000") == "620102001"
    assert regions.prefix("620102001002") == "620102001002"
    assert regions.prefix("620102001002003") == "620102001002003"


def test_id_number_checksum():
    number = idcard.make("620102", dt.date(1990, 1, 1), 123)
    assert len(number) == 18 and idcard.is_valid(number)
    assert idcard.sex(number) == "male" and idcard.birth_date(number) == dt.date(1990, 1, 1)
    wrong_check = number[:17] + ("0" if number[17] != "0" else "1")
    assert idcard.problem(wrong_check) == "身份证号校验位不正确"
    assert "出生日期" in idcard.problem("620102199002301234")
    assert "18位" in idcard.problem("62010219900101123")
    assert idcard.is_valid("11010519491231002X")  # the standard's own example


def test_credit_code_checksum():
    assert uscc.problem("91350100M000100Y43") is None  # a published valid code
    made = uscc.make("91", "620102", 4242)
    assert uscc.problem(made) is None
    assert uscc.problem(made[:17] + ("0" if made[17] != "0" else "1")) == "统一社会信用代码校验位不正确"
    assert "18位" in uscc.problem("9135")


def test_masks_hide_birth_date_and_middle_digits():
    assert masking.mask_id_number("620102199001011234") == "620102********1234"
    assert masking.mask_phone("13912345678") == "139****5678"
    assert masking.mask_address("城关区张掖路街道永昌路社区12号楼3单元502室") == "城关区张掖路街道永昌路社区*号楼*单元*室"
    text = "联系人身份证620102199001011234，电话13912345678"
    assert masking.scrub_text(text) == "联系人身份证620102********1234，电话139****5678"


def test_id_digest_is_keyed():
    a = masking.id_digest(b"key-a", "620102199001011234")
    assert a == masking.id_digest(b"key-a", "620102199001011234")
    assert a != masking.id_digest(b"key-b", "620102199001011234")
    assert "620102199001011234" not in a


def test_a_region_whose_code_does_not_fit_its_parent_is_refused(session):
    from minqing.core.geo.integrity import InvalidRegionCode
    from minqing.core.models import Region

    city = Region(code="620100000000", name="兰州市", level="city")
    session.add(city)
    session.flush()
    session.add(Region(code="620202000000", name="嘉峪关市某区", level="county", parent=city))
    with pytest.raises(InvalidRegionCode, match="前缀"):
        session.flush()
    session.rollback()

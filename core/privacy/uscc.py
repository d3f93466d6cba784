"""Unified social credit codes (统一社会信用代码, GB 32100-2015) of units: 18 characters with a check character."""
from __future__ import annotations

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # no I, O, S, V, Z
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def check_char(first17: str) -> str:
    total = sum(CHARSET.index(char) * weight for char, weight in zip(first17, WEIGHTS, strict=True))
    return CHARSET[(31 - total % 31) % 31]


def problem(code: str) -> str | None:
    """Why `code` is not a valid credit code, in Chinese; None when it is."""
    if len(code) != 18 or any(char not in CHARSET for char in code):
        return "统一社会信用代码应为18位数字或大写字母（不含I、O、S、V、Z）"
    if check_char(code[:17]) != code[17]:
        return "统一社会信用代码校验位不正确"
    return None


def make(registration_kind: str, area_code: str, serial: int) -> str:
    """A valid code: 2 registration characters (e.g. "91" enterprise), 6-digit area, 9-digit organisation code."""
    organisation = "".join(CHARSET[(serial // 31 ** i) % 31] for i in range(9))[::-1]
    first17 = registration_kind + area_code[:6] + organisation
    return first17 + check_char(first17)

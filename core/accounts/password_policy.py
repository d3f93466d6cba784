"""The password policy: what a new password must be and how long it may be used.

Two profiles, chosen with `PASSWORD_PROFILE` (web config, or `MINQING_PASSWORD_PROFILE`):

    dengbao3  等保 2.0 level-3 practice (the default): at least 8 characters of at least 3 of the 4 kinds
              (upper case, lower case, digits, symbols), changed every 90 days (`PASSWORD_MAX_AGE_DAYS`).
    asvs      OWASP ASVS: at least 12 characters (`PASSWORD_MIN_LENGTH`), any characters, no composition rule,
              no forced rotation.

Both refuse passwords on the common-password list (`core/data/common-passwords.txt.gz`, 19,646 from public breaches,
plus `core/data/common-passwords-zh.txt`), passwords that contain the user name, and anything over 128 characters.

    policy = policy_from(app.config)
    policy.problems("abc", username="worker")   # → ["密码至少需要8个字符（当前3个）", ...] — empty when acceptable
    policy.check(password, username=...)         # raises WeakPassword(problems)
    policy.expired(account.password_changed_at or account.created_at, now)
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import gzip
import os
from collections.abc import Mapping
from pathlib import Path

DENGBAO3 = "dengbao3"
ASVS = "asvs"
PROFILES = {
    DENGBAO3: {"min_length": 8, "min_kinds": 3, "max_age_days": 90},
    ASVS: {"min_length": 12, "min_kinds": 0, "max_age_days": None},
}
MAX_LENGTH = 128
DATA = Path(__file__).parent.parent / "data"   # core/data
KIND_NAMES = ("大写字母", "小写字母", "数字", "符号")


class WeakPassword(ValueError):
    """A password the policy refuses; `problems` are the Chinese reasons, one per rule broken."""

    def __init__(self, problems: list[str]):
        super().__init__("；".join(problems))
        self.problems = problems


@functools.cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common and breached passwords, lower case (read once per process)."""
    with gzip.open(DATA / "common-passwords.txt.gz", "rt", encoding="utf-8") as general:
        words = {line.strip() for line in general}
    for line in (DATA / "common-passwords-zh.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            words.add(line.strip())
    words.discard("")
    return frozenset(words)


def kinds_of(password: str) -> list[str]:
    """Which of the four kinds of character the password uses (a non-ASCII letter counts as a symbol)."""
    found = [any("A" <= c <= "Z" for c in password), any("a" <= c <= "z" for c in password),
             any(c.isdigit() for c in password), any(not (c.isascii() and c.isalnum()) for c in password)]
    return [name for name, present in zip(KIND_NAMES, found) if present]


@dataclasses.dataclass(frozen=True)
class PasswordPolicy:
    profile: str = DENGBAO3
    min_length: int = 8
    min_kinds: int = 3
    max_age_days: int | None = 90
    check_common: bool = True

    def problems(self, password: str, *, username: str | None = None) -> list[str]:
        """Every rule the password breaks, in Chinese; an empty list when it is acceptable."""
        found = []
        if len(password) < self.min_length:
            found.append(f"密码至少需要{self.min_length}个字符（当前{len(password)}个）")
        if len(password) > MAX_LENGTH:
            found.append(f"密码最多{MAX_LENGTH}个字符")
        kinds = kinds_of(password)
        if len(kinds) < self.min_kinds:
            missing = [name for name in KIND_NAMES if name not in kinds]
            found.append(f"密码需包含大写字母、小写字母、数字、符号中的至少{self.min_kinds}类"
                         f"（当前{len(kinds)}类，缺少{'、'.join(missing)}）")
        if self.check_common and password.strip().lower() in common_passwords():
            found.append("该密码属于常见或已泄露的弱密码，请换一个")
        if username and len(username) >= 3 and username.lower() in password.lower():
            found.append("密码不能包含用户名")
        return found

    def check(self, password: str, *, username: str | None = None) -> None:
        problems = self.problems(password, username=username)
        if problems:
            raise WeakPassword(problems)

    def expires_at(self, changed_at: dt.datetime | None) -> dt.datetime | None:
        if self.max_age_days is None or changed_at is None:
            return None
        return changed_at + dt.timedelta(days=self.max_age_days)

    def expired(self, changed_at: dt.datetime | None, now: dt.datetime) -> bool:
        """True when the password has reached its maximum age and must be changed before anything else."""
        expires = self.expires_at(changed_at)
        return expires is not None and expires <= now

    def describe(self) -> str:
        """The rules in one Chinese sentence, for the change-password page."""
        parts = [f"至少{self.min_length}个字符"]
        if self.min_kinds:
            parts.append(f"包含大写字母、小写字母、数字、符号中的至少{self.min_kinds}类")
        parts.append("不能是常见弱密码，不能包含用户名")
        if self.max_age_days:
            parts.append(f"每{self.max_age_days}天需更换一次")
        return "，".join(parts)


def _number(value, name: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a whole number, not {value!r}") from None


def policy_from(config: Mapping, prefix: str = "") -> PasswordPolicy:
    """The policy a configuration asks for: `PASSWORD_PROFILE` with optional `PASSWORD_MIN_LENGTH`,
    `PASSWORD_MAX_AGE_DAYS` (0 = never expires) and `PASSWORD_CHECK_COMMON` overriding the profile's values."""
    profile = str(config.get(f"{prefix}PASSWORD_PROFILE") or DENGBAO3).strip().lower()
    if profile not in PROFILES:
        raise ValueError(f"PASSWORD_PROFILE must be one of {', '.join(PROFILES)}, not {profile!r}")
    values = dict(PROFILES[profile])
    min_length = _number(config.get(f"{prefix}PASSWORD_MIN_LENGTH"), "PASSWORD_MIN_LENGTH")
    if min_length is not None:
        values["min_length"] = max(1, min_length)
    max_age = _number(config.get(f"{prefix}PASSWORD_MAX_AGE_DAYS"), "PASSWORD_MAX_AGE_DAYS")
    if max_age is not None:
        values["max_age_days"] = max_age or None
    common = config.get(f"{prefix}PASSWORD_CHECK_COMMON")
    check_common = str(common).strip().lower() not in ("0", "false", "no", "off") if common is not None else True
    return PasswordPolicy(profile=profile, check_common=check_common, **values)


def policy_from_environment() -> PasswordPolicy:
    """For the command line and workers: the same settings as the web, from `MINQING_PASSWORD_*`."""
    return policy_from(os.environ, prefix="MINQING_")

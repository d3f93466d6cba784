"""The theme builder's working copies: one draft per builder-owned theme key.

A draft is the theme document a department is editing in the browser. It may be invalid while work is in
progress; only publishing (``minqing.themes.authoring.publish_draft``) checks it in full and turns it into a
new `ThemeVersion`. `revision` is an optimistic lock: a save that was made from an older revision than the
stored one is refused, so two people editing the same theme never silently overwrite each other.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import AuthoredJSON, Base, utcnow


class ThemeDraft(Base):
    __tablename__ = "theme_drafts"

    id: Mapped[int] = mapped_column(primary_key=True)
    theme_key: Mapped[str] = mapped_column(String(80), unique=True)
    department_key: Mapped[str] = mapped_column(String(40), index=True)
    document: Mapped[dict] = mapped_column(AuthoredJSON)   # the author's field order kept (base.py)
    # Moved only by saves, with a conditional UPDATE (see themes/authoring/drafts.py), so of two saves made
    # from the same revision exactly one succeeds; publishing does not move it.
    revision: Mapped[int] = mapped_column(default=1)
    based_on_version: Mapped[int | None]          # the published version this draft continues, if any
    started_from: Mapped[str] = mapped_column(String(200), default="")  # "template:patrol", "copy:<key>", …
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(64), default="")
    updated_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

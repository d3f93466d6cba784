"""Cadres (干部): an account's post in a village or township, and the grids it is responsible for.

A cadre's account holds the role `cadre` (scoped to a village or township); `CadrePost` adds what that role
alone does not say: which post (村两委, 乡镇包村干部, 党组织书记, 自然村长/村民小组长), and the grids the cadre
answers for (走村不漏户: they visit the households of these grids; the key grids of party secretaries build on it).
"""
from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class Post(enum.StrEnum):
    VILLAGE_COMMITTEE = "village_committee"    # 村两委 (村党组织和村委会成员)
    TOWNSHIP_LIAISON = "township_liaison"      # 乡镇包村干部
    PARTY_SECRETARY = "party_secretary"        # 党组织书记
    GROUP_LEADER = "group_leader"              # 自然村长/村民小组长


POST_TITLES = {Post.VILLAGE_COMMITTEE: "村两委", Post.TOWNSHIP_LIAISON: "乡镇包村干部",
               Post.PARTY_SECRETARY: "党组织书记", Post.GROUP_LEADER: "自然村长/村民小组长"}


class CadrePost(Base):
    """One account's cadre post; the region is the village or township the post belongs to."""

    __tablename__ = "cadre_posts"
    __table_args__ = (
        CheckConstraint("post in ('village_committee','township_liaison','party_secretary','group_leader')",
                        name="post"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), unique=True)
    post: Mapped[str] = mapped_column(String(20))
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True)
    assigned_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    @property
    def title(self) -> str:
        return POST_TITLES.get(self.post, self.post)


class CadreGrid(Base):
    """A grid a cadre is responsible for (包网格)."""

    __tablename__ = "cadre_grids"

    cadre_post_id: Mapped[int] = mapped_column(ForeignKey("cadre_posts.id", ondelete="CASCADE"), primary_key=True)
    grid_id: Mapped[int] = mapped_column(ForeignKey("grids.id", ondelete="CASCADE"), primary_key=True, index=True)
    assigned_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

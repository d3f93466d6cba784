"""The demo city's own content beyond cases, as a built-in plugin answering `seed_demo` like any other: the
departments' policies and service guides (政策服务) that 小兰帮办 shows citizens (`core/publications.py`).

`minqing demo` builds the city, then calls `seed_demo` on every enabled plugin; nothing is seeded beside the hook,
so ``minqing plugins disable demo_publications`` builds a demo without them.
"""
from __future__ import annotations

from minqing.core.hooks import hookimpl

MINQING_TITLE = "演示政策与办事指南"  # what the admin page and `minqing plugins list` show
MINQING_DESCRIPTION = "演示城市的政策文件和办事指南，供小兰帮办展示。"


@hookimpl
def seed_demo(session):
    from minqing.core import publications
    from minqing.core.actors import system_actor

    publications.seed_demo(session, system_actor("demo"))

"""The 研判 brief and the hotspot layer on the demo city (Lanzhou scale, its cases seeded as `minqing demo` does):
the brief of this month in Word and HTML states the count a direct query gives, and the demo's planted hotspots
are on the map. All is rolled back, so the other tests of the shared demo city see it unchanged."""
from __future__ import annotations

import io

import docx
from sqlalchemy import bindparam, text

from minqing import themes
from minqing.core import city
from minqing.core.actors import system_actor
from minqing.core.models import UTCDateTime
from minqing.plugins import demo_history
from minqing.themes import layers
from minqing.workflows.briefs import archive, periods, plugin

ADMIN = system_actor("test")
COUNT = ("SELECT count(*) FROM cases c LEFT JOIN case_milestones m ON m.case_id = c.id WHERE c.created_at >= :s "
         "AND c.created_at < :e AND c.merged_into_id IS NULL AND coalesce(m.voided, false) = false")


def test_the_demo_brief_states_what_a_query_counts_and_its_hotspots_are_on_the_map(demo_platform):
    with demo_platform.db.session() as session:
        themes.sync_themes(demo_platform, session, ADMIN)            # as `minqing demo` does before the hook
        demo_history.seed_demo(demo_platform, session, 1)
        month = periods.parse(city.today(session).strftime("%Y-%m"))
        reported = session.execute(text(COUNT).bindparams(bindparam("s", type_=UTCDateTime()),
                                                          bindparam("e", type_=UTCDateTime())),
                                   {"s": month.start, "e": month.end}).scalar()
        documents = {}
        for format_ in ("docx", "html"):                              # PDF: tests/workflows/test_briefs.py
            figures, documents[format_] = archive.generate(demo_platform, session, ADMIN, month, format_,
                                                           region_code="620100000000")
            assert figures["totals"]["current"]["reported"] == reported > 0
        listed = {layer["key"] for group in layers.visible_layers(demo_platform, session, ADMIN)
                  for layer in group["layers"]}
        features = layers.layer_features(demo_platform, session, plugin.LAYER_KEY, ADMIN)
        session.rollback()
    word = docx.Document(io.BytesIO(documents["docx"]))
    assert f"本期共上报事件 {reported} 件" in "\n".join(paragraph.text for paragraph in word.paragraphs)
    assert f"本期共上报事件 {reported} 件" in documents["html"].decode("utf-8")
    assert plugin.LAYER_KEY in listed
    changes = {feature["properties"]["change"] for feature in features}
    assert {"grown", "new"} <= changes, changes                       # planted by plugins/demo_history/hotspots.py

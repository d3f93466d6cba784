"""The map's layer list in real Chromium: theme titles come from people (the theme builder). A title written as
HTML shows as the text typed and creates no element (the list is built from text nodes)."""
from sqlalchemy import select

from minqing.core.actors import actor_for
from minqing.core.models import Account
from minqing.themes import authoring as builder

HOSTILE = '<img src=x onerror="window.__mq_injected=1"><b>粗</b>'


def test_a_theme_title_written_as_html_shows_as_literal_text_in_the_layer_control(platform, server, open_page,
                                                                                     sign_in):
    with platform.db.session() as session:
        staff = actor_for(session, session.scalar(select(Account).where(Account.username == "chengguan")))
        draft = builder.start_draft(platform, session, staff, department="urban_management", slug="hostile_title",
                                    title=HOSTILE, template="event_report")
        builder.publish_draft(platform, session, staff, draft.theme_key)

    page, _requested = open_page()
    sign_in(page, "station")
    page.goto(f"{server}/map/")
    panel = page.locator("#layer-panel")
    panel.locator("#layer-groups .layer-item", has_text="onerror").wait_for(state="attached")
    page.fill("#layer-search", "onerror")                # the search opens the group holding it
    label = panel.locator("#layer-groups .layer-item", has_text="onerror")
    label.wait_for()
    assert HOSTILE in label.inner_text()
    assert panel.locator("img").count() == 0 and panel.locator("#layer-groups b").count() == 0
    assert page.evaluate("window.__mq_injected") is None

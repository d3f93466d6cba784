"""The builder says what its preview does: a field required only when shown is marked so, "copy from" offers
every theme (docs/builder.md), and no sentence shows an internal key."""
from __future__ import annotations

import re

from minqing import themes

from tests.fixtures.builder import KEY, draft_of, new_theme, save, with_fields


def _label(page: str, name: str) -> str:
    """The label (or legend) of the field named `name` in the details group."""
    block = page.split(f'data-mq-field="{name}"', 1)[1]
    return re.search(r'class="mq-label"[^>]*>(.*?)</(?:label|legend)>', block, re.S).group(1)


def test_a_field_required_only_when_shown_is_marked_in_the_preview(as_user, world, platform):
    chengguan = as_user("chengguan")
    new_theme(chengguan)
    draft = draft_of(platform)
    save(chengguan, with_fields(draft.document), draft.revision)
    page = chengguan.get(f"/builder/{KEY}/preview?form=report").get_data(as_text=True)
    damage = _label(page, "damage")                     # required when 井盖是否破损 is “yes”
    assert "破损情况" in damage and "mq-required-when-shown" in damage and "（显示时必填）" in damage
    always = _label(page, "has_damage")                 # always required: the plain star only
    assert 'class="mq-required"' in always and "显示时必填" not in always
    covers = _label(page, "covers")                     # optional, never required
    assert "mq-required" not in covers


def test_copy_from_offers_every_theme_by_department_without_internal_keys(as_user, world, platform):
    page = as_user("chengguan").get("/builder/new").get_data(as_text=True)
    select = page.split('id="copy_of"', 1)[1].split("</select>", 1)[0]
    with platform.db.session() as session:
        every = themes.themes(platform, session)
    others = [theme for theme in every if theme.department != "urban_management"]
    assert others, "the test world has themes of other departments"
    for theme in every:
        assert f'value="{theme.key}"' in select, theme.key
    assert "<optgroup" in select   # grouped by department, titles only
    assert not any(f">{theme.title}（{theme.key}）<" in select for theme in every)

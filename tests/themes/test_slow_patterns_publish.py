"""The theme builder refuses to publish a form whose field pattern backtracks for ever."""
import pytest

from minqing.themes import authoring as builder


def test_publishing_a_slow_pattern_is_refused_and_changes_nothing(platform, staff):
    gas = staff("gas")
    with platform.db.session() as session:
        draft = builder.start_draft(platform, session, gas, department="gas", slug="meters", title="燃气表",
                                    template="register")
        document = draft.document
        form = document["forms"]["report"]
        form["properties"]["meter_no"] = {"type": "string", "title": "表号", "pattern": "^(a+)+$"}
        builder.save_draft(platform, session, gas, draft.theme_key, document, revision=draft.revision)
        with pytest.raises(builder.DraftInvalid) as refused:
            builder.publish_draft(platform, session, gas, draft.theme_key)
        [problem] = refused.value.problems
        assert problem.path == "/forms/report/properties/meter_no/pattern"
        assert "表号" in problem.message and "极慢" in problem.message
        assert builder.list_drafts(session, gas)[0].based_on_version is None

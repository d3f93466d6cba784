"""The hotspot layer through the API: a request only reads, so the answer kept for the viewer's scope serves the
next request (workflows/briefs/layer.py); nothing the request does on its way in counts as a write."""
from __future__ import annotations

from minqing.workflows.briefs import layer, plugin


def test_the_second_request_for_the_hotspots_is_answered_from_the_kept_answer(api, as_user, monkeypatch):
    computed = []
    compute = layer._compute

    def counted(*args, **kwargs):
        computed.append(args[1].name)
        return compute(*args, **kwargs)

    monkeypatch.setattr(layer, "_compute", counted)
    for _ in range(2):
        response = api("leader").get(f"/layers/{plugin.LAYER_KEY}/features")
        assert response.status_code == 200 and response.get_json()["type"] == "FeatureCollection"
    assert len(computed) == 1
    page = as_user("leader")                                  # the map page's own requests, signed in by cookie
    for _ in range(2):
        response = page.get(f"/map/layers/{plugin.LAYER_KEY}.geojson")
        assert response.status_code == 200, response.get_data(as_text=True)
    assert len(computed) == 1

"""`case_transitioned` is for third parties and channel plugins (the 12345 hotline keeps its status back with it):
no plugin of the platform's own workflow implements it, because the platform's own reactions to a step (timeline,
audit record, deadlines, notifications) are part of the step itself, inside the workflow engine's transaction. This test plugin shows what a third party gets: every step, applied, by whom,
inside the step's transaction."""
from minqing.core.hooks import hookimpl

from tests.fixtures.workflow import report, step


class Watcher:
    def __init__(self):
        self.seen = []

    @hookimpl
    def case_transitioned(self, case, transition, actor, session):
        self.seen.append((transition, case.status, actor.name, session.in_transaction()))


def test_a_plugin_sees_every_step_after_it_was_applied(platform, city):
    watcher = Watcher()
    platform.plugins.register(watcher, "watcher")
    try:
        case_id = report(platform, city.worker)
        step(platform, case_id, "accept", city.station)
        step(platform, case_id, "dispatch", city.station, {"department": "water_affairs"})
    finally:
        platform.plugins.unregister("watcher")
    assert watcher.seen == [("report", "reported", "worker", True), ("accept", "registered", "station", True),
                            ("dispatch", "dispatched", "station", True)]
    with platform.db.session() as session:
        assert [name for name, _ in platform.plugins.implementations("case_transitioned", session)] == [
            "hotline_12345"]

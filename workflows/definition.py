"""Workflow documents: load, check against the published meta-schema, and look up states and transitions.

A document is JSON (or YAML) shaped by `workflow.schema.json`. Beyond the schema, `check` verifies what a
schema cannot: that transitions name existing states and that every form is itself a valid JSON Schema.
Every workflow comes from the `register_workflows` hook: the built-in workflows of `builtin/` too, which the
workflow engine's own plugin answers (last, so a plugin's workflow of the same key replaces a template).
"""
from __future__ import annotations

import dataclasses
import functools
import json
import threading
import weakref
from pathlib import Path

import jsonschema

from minqing.core import counters
from minqing.core.pluginhost.host import PLUGINS_COUNTER

from .errors import DefinitionInvalid, UnknownWorkflow

HERE = Path(__file__).parent
META_SCHEMA_PATH = HERE / "workflow.schema.json"
BUILTIN = HERE / "builtin"   # the built-in workflow documents (not Jinja pages, not theme starters)
PREVIOUS = "@previous"
URGENCIES = ("normal", "urgent", "critical")


@dataclasses.dataclass(frozen=True)
class TimeLimit:
    hours: dict[str, float]
    working: frozenset[str]          # urgency levels whose hours are working hours

    @classmethod
    def parse(cls, document: dict | None) -> TimeLimit | None:
        if not document:
            return None
        working = document.get("working", True)
        levels = frozenset(URGENCIES if working is True else () if working is False else working)
        return cls(hours={level: float(document[level]) for level in URGENCIES}, working=levels)


@dataclasses.dataclass(frozen=True)
class State:
    name: str
    title: str
    final: bool
    paused: bool
    time_limit: TimeLimit | None
    on_expiry: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class Transition:
    name: str
    title: str
    sources: tuple[str, ...]
    target: str
    roles: frozenset[str]
    form: dict | None
    effects: frozenset[str]


@dataclasses.dataclass(frozen=True)
class Rehandling:
    """重办: `limit` re-handlings go back to the department as they are; the next one also opens a 督办."""
    limit: int = 2
    supervision_hours: float = 24.0

    @classmethod
    def parse(cls, document: dict | None) -> Rehandling:
        document = document or {}
        return cls(limit=int(document.get("limit", cls.limit)),
                   supervision_hours=float(document.get("supervision_hours", cls.supervision_hours)))


@dataclasses.dataclass(frozen=True)
class Workflow:
    key: str
    title: str
    initial: str
    report_title: str
    due: TimeLimit | None
    states: dict[str, State]
    transitions: dict[str, Transition]
    document: dict
    rehandling: Rehandling = Rehandling()

    def state(self, name: str) -> State:
        return self.states[name]

    def available(self, status: str) -> list[Transition]:
        """Transitions that may leave `status`, in the document's order."""
        return [transition for transition in self.transitions.values() if status in transition.sources]

    def open_states(self) -> list[str]:
        return [name for name, state in self.states.items() if not state.final]


@functools.cache
def meta_schema() -> dict:
    return json.loads(META_SCHEMA_PATH.read_text(encoding="utf-8"))


def check(document: dict) -> list[str]:
    """Every problem of a workflow document, in Chinese; empty when it is usable."""
    validator = jsonschema.Draft202012Validator(meta_schema())
    problems = [f"{'/'.join(map(str, error.absolute_path)) or '(根)'}: {error.message}"
                for error in validator.iter_errors(document)]
    if problems:
        return problems
    return [message for _pointer, message in reference_problems(document)]


def reference_problems(document: dict) -> list[tuple[str, str]]:
    """(JSON pointer, Chinese message) for what the meta-schema cannot check: names of states, duplicate
    transitions, '@previous' only out of paused states, transition forms. The document must already pass the
    meta-schema."""
    problems: list[tuple[str, str]] = []
    states = document["states"]
    if document["initial"] not in states:
        problems.append(("/initial", f"初始状态“{document['initial']}”未定义"))
    names = set()
    for index, transition in enumerate(document["transitions"]):
        at, name = f"/transitions/{index}", transition["name"]
        if name in names:
            problems.append((f"{at}/name", f"流转“{name}”重复定义"))
        names.add(name)
        problems += [(f"{at}/from/{position}", f"流转“{name}”的起始状态“{source}”未定义")
                     for position, source in enumerate(transition["from"]) if source not in states]
        target = transition["to"]
        if target != PREVIOUS and target not in states:
            problems.append((f"{at}/to", f"流转“{name}”的目标状态“{target}”未定义"))
        if target == PREVIOUS and not all(states.get(source, {}).get("paused") for source in transition["from"]):
            problems.append((f"{at}/to", f"流转“{name}”返回上一状态（@previous），只能从暂停计时的状态出发"))
        if "form" in transition:
            from .forms import schema_problems

            problems += [(f"{at}/form", f"流转“{name}”的表单无效：{problem}")
                         for problem in schema_problems(transition["form"])]
    return problems


def parse(document: dict) -> Workflow:
    problems = check(document)
    if problems:
        raise DefinitionInvalid(document.get("key", "?"), problems)
    states = {name: State(name=name, title=body["title"], final=body.get("final", False),
                          paused=body.get("paused", False), time_limit=TimeLimit.parse(body.get("time_limit")),
                          on_expiry=tuple(body.get("on_expiry", ())))
              for name, body in document["states"].items()}
    transitions = {body["name"]: Transition(name=body["name"], title=body["title"], sources=tuple(body["from"]),
                                            target=body["to"], roles=frozenset(body["roles"]),
                                            form=body.get("form"), effects=frozenset(body.get("effects", ())))
                   for body in document["transitions"]}
    return Workflow(key=document["key"], title=document["title"], initial=document["initial"],
                    report_title=document.get("report_title", "上报"), due=TimeLimit.parse(document.get("due")),
                    states=states, transitions=transitions, document=document,
                    rehandling=Rehandling.parse(document.get("rehandling")))


def load_file(path: Path) -> Workflow:
    text = Path(path).read_text(encoding="utf-8")
    if Path(path).suffix in (".yaml", ".yml"):
        import yaml

        return parse(yaml.safe_load(text))
    return parse(json.loads(text))


@functools.cache
def builtin(key: str) -> Workflow:
    for suffix in (".json", ".yaml", ".yml"):
        path = BUILTIN / f"{key}{suffix}"
        if path.exists():
            return load_file(path)
    raise UnknownWorkflow(key)


def builtin_keys() -> list[str]:
    return sorted(path.stem for path in BUILTIN.iterdir() if path.suffix in (".json", ".yaml", ".yml"))


def get(platform, key: str, session=None) -> Workflow:
    """The workflow `key`: the first plugin's that registers it (`register_workflows`, the built-in templates
    among them), else the answer of the `resolve_workflow` hook (the inline workflow of a theme is known by the
    theme's key).

    Memoised per platform under the plugins change counter and the registered plugins (every case step and every
    row of a case list asks, and asking the plugins reads their switches): a switch made in any process is seen as
    the host sees it, once per session. A workflow the `resolve_workflow` hook answers is memoised under the
    themes counter too (publishing a theme version changes its inline workflow), read on each lookup. A lookup in
    which a plugin failed is not kept, nor is an unknown key."""
    generation = _generation(platform, session)
    resolved = None
    cached = _memoised(platform, generation, key)
    if cached is not None:
        workflow, under = cached
        if under is None:
            return workflow
        resolved = _counter(platform, session, RESOLVED_COUNTER)
        if under == resolved:
            return workflow
    failures_before = _last_failure(platform)
    workflow, from_hook = _lookup(platform, key, session)
    if generation is not None and _last_failure(platform) is failures_before:
        if from_hook and resolved is None:
            resolved = _counter(platform, session, RESOLVED_COUNTER)
        # Kept under the counter as committed, which is what `register_workflows` was asked under (it takes no
        # session): a session that has just switched a plugin, not yet committed, must not key the old answer.
        committed = _generation(platform, None) if session is not None else generation
        _memorise(platform, committed, key, (workflow, resolved if from_hook else None))
    return workflow


def _lookup(platform, key: str, session) -> tuple[Workflow, bool]:
    """(the workflow, whether the `resolve_workflow` hook answered it)."""
    for _plugin, document in platform.plugins.collect("register_workflows"):
        if isinstance(document, dict) and document.get("key") == key:
            return _parsed(document), False
    found = platform.plugins.call_first("resolve_workflow", key=key, platform=platform, session=session)
    if found is None or not isinstance(found[1], dict):
        raise UnknownWorkflow(key)
    # The answer's own "key" is only a name inside its document; cases know it by the key they asked for.
    return dataclasses.replace(_parsed_plugin_document(json.dumps(found[1], sort_keys=True, ensure_ascii=False)),
                               key=key), True


# platform -> (generation, {key: (workflow, RESOLVED_COUNTER's value for a hook's answer, else None)})
_memo: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_memo_lock = threading.Lock()
MEMO_SIZE = 256
RESOLVED_COUNTER = "themes"   # moved by publishing a theme version (minqing.themes.THEMES_COUNTER)


def _memoised(platform, generation, key: str):
    if generation is None:
        return None
    with _memo_lock:
        known = _memo.get(platform)
    return known[1].get(key) if known is not None and known[0] == generation else None


def _memorise(platform, generation, key: str, entry) -> None:
    with _memo_lock:
        known = _memo.get(platform)
        if known is None or known[0] != generation:
            known = _memo[platform] = (generation, {})
        if len(known[1]) < MEMO_SIZE or key in known[1]:
            known[1][key] = entry


def _generation(platform, session):
    """What the registered workflows depend on: the plugins counter as the host reads it (once per session) and
    the plugins registered. None when the platform cannot be memoised (no weak reference to it)."""
    try:
        weakref.ref(platform)
    except TypeError:
        return None
    host = platform.plugins
    if getattr(host, "database", None) is None:
        return (None, tuple(host.names()))
    if session is None:
        with host.database.session() as own:
            return (counters.value(own, PLUGINS_COUNTER), tuple(host.names()))
    return (counters.seen(session, PLUGINS_COUNTER), tuple(host.names()))


def _counter(platform, session, name: str) -> int | None:
    database = getattr(platform.plugins, "database", None)
    if session is not None:
        return counters.seen(session, name)
    if database is None:
        return None
    with database.session() as own:
        return counters.value(own, name)


def _last_failure(platform):
    """The host's newest recorded hook failure: a lookup during which it changed saw a plugin fail."""
    failures = getattr(platform.plugins, "failures", None) or [None]
    return failures[-1]


@functools.lru_cache(maxsize=64)
def _parsed_plugin_document(text: str) -> Workflow:
    return parse(json.loads(text))


_BY_IDENTITY: dict[int, tuple[dict, Workflow]] = {}
IDENTITY_CACHE_SIZE = 64


def _parsed(document: dict) -> Workflow:
    """A registered document, parsed. Every case step asks for its workflow: a plugin that answers the very same
    dict each time (the built-in templates are) skips even the JSON text that keys the cache. The entry keeps the
    dict alive, so its id cannot be reused by another while it is cached."""
    known = _BY_IDENTITY.get(id(document))
    if known is not None and known[0] is document:
        return known[1]
    workflow = _parsed_plugin_document(json.dumps(document, sort_keys=True, ensure_ascii=False))
    if len(_BY_IDENTITY) < IDENTITY_CACHE_SIZE:
        _BY_IDENTITY[id(document)] = (document, workflow)
    return workflow


def all_workflows(platform) -> list[Workflow]:
    """Every registered workflow, by key: the first plugin to register a key wins, as in `get` (the built-in
    templates are answered last, so a plugin's workflow replaces a template of the same key)."""
    found: dict[str, Workflow] = {}
    for _plugin, document in platform.plugins.collect("register_workflows"):
        if isinstance(document, dict) and "key" in document and document["key"] not in found:
            found[document["key"]] = _parsed(document)
    return list(found.values())


def final_states(platform) -> set[str]:
    return {name for workflow in all_workflows(platform) for name, state in workflow.states.items() if state.final}

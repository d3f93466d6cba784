"""When a field applies: `if`/`then`/`else` blocks and `dependentRequired`, at one object level.

A property is *gated* when a block's `then` names it (in `required` or `properties`) and its
`else` does not — it applies only while the `if` holds — or the other way round for `else`; and
when it is a dependent in `dependentRequired` — it applies once its trigger is present. A field
the parent lists in `required` is never gated. With several gates, any open gate makes it apply.

The browser (forms.js) evaluates the same rules from the `data-mq-when` JSON, with the same
fixed-point iteration, so what is hidden on the phone is exactly what the server drops.
"""
from __future__ import annotations

from collections import defaultdict

from jsonschema import Draft202012Validator


class Gate:
    """One reason a field applies. `rule` is JSON the browser evaluates too."""

    def __init__(self, rule: dict):
        self.rule = rule
        self._check = Draft202012Validator(rule["if"]).is_valid if "if" in rule else None

    def open(self, obj: dict) -> bool:
        if self._check is None:
            return self.rule["present"] in obj
        return self._check(obj) == self.rule["is"]


def blocks(schema: dict) -> list[dict]:
    """The if/then/else blocks of an object schema: its own and those in allOf."""
    own = [schema] if "if" in schema else []
    return own + [b for b in schema.get("allOf", []) if "if" in b]


def mentioned(branch: dict) -> set[str]:
    return set(branch.get("required", [])) | set(branch.get("properties", {}))


def object_gates(schema: dict) -> dict[str, list[Gate]]:
    gates: dict[str, list[Gate]] = defaultdict(list)
    for block in blocks(schema):
        then, other = mentioned(block.get("then", {})), mentioned(block.get("else", {}))
        for name in sorted(then - other):
            gates[name].append(Gate({"if": block["if"], "is": True}))
        for name in sorted(other - then):
            gates[name].append(Gate({"if": block["if"], "is": False}))
    for trigger, names in schema.get("dependentRequired", {}).items():
        for name in names:
            gates[name].append(Gate({"present": trigger}))
    return dict(gates)


def applicable(children, obj: dict) -> set[str]:
    """Names of the children that apply to `obj`.

    Starts from "everything applies" and re-evaluates with only applicable values until stable
    (a dropped value can close another gate). The iteration is capped so that contrived mutual
    conditions cannot loop; forms.js uses the same cap, so both sides agree even then.
    """
    names = {c.name for c in children}
    current = names
    for _ in range(len(names) + 1):
        view = {k: v for k, v in obj.items() if k in current or k not in names}
        nxt = {c.name for c in children if not c.gates or any(g.open(view) for g in c.gates)}
        if nxt == current:
            break
        current = nxt
    return current


def prune(children, obj: dict) -> dict:
    """`obj` without the values of fields that do not apply (stale values of hidden fields)."""
    if not any(c.gates for c in children):
        return obj
    keep = applicable(children, obj)
    names = {c.name for c in children}
    return {k: v for k, v in obj.items() if k in keep or k not in names}

"""XLSForm `relevant` cells <-> the gates of our forms engine (`if`/`then`/`else` blocks).

A relevant expression becomes a disjunction of *gates*; a gate is one `if` schema (a conjunction of
tests on sibling fields) with a polarity: the field applies while the `if` holds (then-branch) or
while it does not (else-branch). The forms engine opens a field when any of its gates is open, on
the phone (forms.js) and on the server alike, so `or` maps onto several gates.

    ${a} = 'v'                {"properties": {"a": {"const": "v"}}, "required": ["a"]}
    ${a} = 'x' or ${a} = 'y'  one test {"enum": ["x", "y"]}
    ${n} >= 18                {"minimum": 18} (>, <, <= likewise), the field required in the if
    selected(${m}, 'v')       {"contains": {"const": "v"}} (select_multiple)
    ${a} != ''                {"required": ["a"]}; ${a} = '' is its else-branch
    ${s} != 'v'               select fields: {"enum": [the other choices]}, not required (empty counts)
                              other fields: the else-branch of ${s} = 'v'
    not(...)                  the else-branch of one gate
    A and B                   the tests merged into one if (on different fields, or bounds of one)

XPath's empty-value semantics are kept: a comparison with an empty field is false, except `!=`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .xpath import Bin, Call, Num, Ref, Str, XPathError, literal, parse

_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "=", "!=": "!="}
_BOUNDS = {">=": "minimum", ">": "exclusiveMinimum", "<=": "maximum", "<": "exclusiveMaximum"}
_TRUE, _FALSE = {"true", "yes", "1", "ok"}, {"false", "no", "0"}
MAX_GATES = 16


@dataclass
class Sibling:
    """A field the condition may test: its name in our schema and what kind of value it holds."""
    name: str
    schema: dict
    checkbox: bool = False   # a boolean shown as a checkbox (XLSForm acknowledge): always stored

    @property
    def choices(self) -> list | None:
        item = self.schema
        if "oneOf" in item:
            return [o["const"] for o in item["oneOf"]]
        if "enum" in item:
            return list(item["enum"])
        if item.get("type") == "boolean" and not self.checkbox:
            return [True, False]
        return None


@dataclass
class Gate:
    tests: dict = field(default_factory=dict)      # our name -> test schema
    present: list = field(default_factory=list)    # our names that must have a value
    holds: bool = True                              # False: the else-branch

    def if_schema(self) -> dict:
        out = {}
        if self.tests:
            out["properties"] = self.tests
        if self.present:
            out["required"] = list(self.present)
        return out


def relevant_gates(text: str, scope: dict[str, Sibling]) -> list[Gate]:
    """The gates of a relevant cell; `scope` maps the XLSForm names of sibling fields."""
    return _Converter(scope).convert(parse(text))


class _Converter:
    def __init__(self, scope: dict[str, Sibling]):
        self.scope = scope

    def convert(self, tree) -> list[Gate]:
        if isinstance(tree, Bin) and tree.op == "or":
            return _merge_alternatives(self.convert(tree.left) + self.convert(tree.right))
        if isinstance(tree, Bin) and tree.op == "and":
            gates = [_both(a, b) for a in self.convert(tree.left) for b in self.convert(tree.right)]
            if len(gates) > MAX_GATES:
                raise XPathError("条件组合过多")
            return gates
        if isinstance(tree, Call) and tree.name == "not" and len(tree.args) == 1:
            inner = self.convert(tree.args[0])
            if len(inner) != 1:
                raise XPathError("not() 中只能是一组“且”条件")
            return [Gate(inner[0].tests, inner[0].present, not inner[0].holds)]
        if isinstance(tree, Call) and tree.name == "selected":
            return [self.selected(tree)]
        if isinstance(tree, Bin) and tree.op in _FLIP:
            return [self.comparison(tree)]
        raise XPathError("只支持题目与固定值的比较、selected()、not()、and 和 or")

    def sibling(self, ref) -> Sibling:
        if not isinstance(ref, Ref):
            raise XPathError("条件的一边应为 ${题目名}")
        if ref.name not in self.scope:
            raise XPathError(f"条件引用的“{ref.name}”不是同一分组中可转换的题目")
        return self.scope[ref.name]

    def selected(self, tree: Call) -> Gate:
        if len(tree.args) != 2 or not isinstance(tree.args[1], (Str, Num)):
            raise XPathError("selected() 应写作 selected(${题目名}, '选项')")
        target = self.sibling(tree.args[0])
        value = tree.args[1].value
        if target.schema.get("type") == "array":
            item = target.schema["items"]
            return Gate({target.name: {"contains": {"const": _coerce(value, item)}}}, [target.name])
        return Gate({target.name: {"const": self.value(target, value)}}, [target.name])

    def comparison(self, tree: Bin) -> Gate:
        left, op, right = tree.left, tree.op, tree.right
        if isinstance(left, (Str, Num)):
            left, op, right = right, _FLIP[op], left
        target = self.sibling(left)
        if not isinstance(right, (Str, Num)):
            raise XPathError("只能与固定值比较")
        name, value = target.name, right.value
        if target.schema.get("type") == "array" or target.schema.get("format") == "geo-point":
            if value == "" and op in ("=", "!="):
                return Gate({}, [name], op == "!=")
            raise XPathError("多选题请用 selected() 判断")
        if op in _BOUNDS:
            if target.schema["type"] not in ("integer", "number"):
                raise XPathError(f"“{name}”不是数字题，不能比较大小")
            return Gate({name: {_BOUNDS[op]: _number(value)}}, [name])
        if target.checkbox:
            truth = self.value(target, value) if value != "" else False
            return Gate({name: {"const": truth if op == "=" else not truth}}, [name])
        if value == "":
            return Gate({}, [name], op == "!=")
        const = self.value(target, value)
        if op == "=":
            return Gate({name: {"const": const}}, [name])
        choices = target.choices
        if choices is not None:
            others = [c for c in choices if not _same(c, const)]
            if not others:
                raise XPathError(f"“{name}”没有其他选项")
            return Gate({name: {"enum": others}}, [])
        return Gate({name: {"const": const}}, [name], holds=False)

    def value(self, target: Sibling, value):
        if target.schema.get("type") == "boolean":
            word = str(value).strip().lower()
            if word in _TRUE | _FALSE:
                return word in _TRUE
            raise XPathError(f"“{value}”不是是/否值")
        return _coerce(value, target.schema)


def _coerce(value, schema: dict):
    kind = schema.get("type")
    if kind in ("integer", "number"):
        number = _number(value)
        if kind == "integer" and isinstance(number, float):
            if not number.is_integer():
                raise XPathError(f"“{value}”不是整数")
            number = int(number)
        return number
    return value if isinstance(value, str) else literal(value)


def _number(value):
    if isinstance(value, (int, float)):
        return value
    try:
        return int(value)
    except ValueError:
        try:
            return float(value)
        except ValueError:
            raise XPathError(f"“{value}”不是数字") from None


def _same(a, b) -> bool:
    return a == b and isinstance(a, bool) == isinstance(b, bool)


def _both(a: Gate, b: Gate) -> Gate:
    if not (a.holds and b.holds):
        raise XPathError("“不等于”或 not() 不能与 and 组合（请改写为选项的“等于”）")
    tests = {k: dict(v) for k, v in a.tests.items()}
    for name, test in b.tests.items():
        mine = tests.setdefault(name, {})
        for key, value in test.items():
            if key in mine and mine[key] != value:
                raise XPathError(f"对“{name}”的两个条件相互重叠，无法合并")
            mine[key] = value
    return Gate(tests, a.present + [n for n in b.present if n not in a.present])


def _merge_alternatives(gates: list[Gate]) -> list[Gate]:
    """`${a} = 'x' or ${a} = 'y'` -> one gate with enum [x, y] (likewise for selected())."""
    out: list[Gate] = []
    for gate in gates:
        key = _equality(gate)
        twin = next((g for g in out if key and _equality(g) == key), None)
        if twin is None:
            out.append(Gate({k: dict(v) for k, v in gate.tests.items()}, list(gate.present), gate.holds))
            continue
        name, wrapper = key
        test = twin.tests[name]
        target = test[wrapper] if wrapper else test
        values = target.pop("enum", None) or [target.pop("const")]
        new = gate.tests[name][wrapper] if wrapper else gate.tests[name]
        values += [v for v in new.get("enum", [new.get("const")]) if not any(_same(v, w) for w in values)]
        target["enum"] = values
    return out


def _equality(gate: Gate):
    """(field, wrapper) when the gate is exactly one present-required equality/membership test."""
    if not gate.holds or len(gate.tests) != 1 or len(gate.present) != 1:
        return None
    name, test = next(iter(gate.tests.items()))
    if gate.present != [name] or len(test) != 1:
        return None
    wrapper = "contains" if "contains" in test else None
    inner = test["contains"] if wrapper else test
    return (name, wrapper) if len(inner) == 1 and ("const" in inner or "enum" in inner) else None


# -- the other way: gates -> a relevant cell -----------------------------------------------

def gate_text(if_schema: dict, holds: bool, siblings: dict[str, Sibling]) -> str:
    """The XPath of one gate; ValueError when the `if` has no XLSForm spelling."""
    present = if_schema.get("required", [])
    parts = []
    for name, test in if_schema.get("properties", {}).items():
        parts.append(_test_text(siblings[name], test, name in present))
    parts += [f"${{{n}}} != ''" for n in present if n not in if_schema.get("properties", {})]
    if not parts:
        raise ValueError("empty condition")
    text = " and ".join(parts)
    return text if holds else f"not({text})"


def relevant_text(gates: list[tuple[dict, bool]], siblings: dict[str, Sibling]) -> str:
    texts = [gate_text(if_schema, holds, siblings) for if_schema, holds in gates]
    if len(texts) == 1:
        return texts[0]
    return " or ".join(f"({t})" if " and " in t or " or " in t else t for t in texts)


def _test_text(target: Sibling, test: dict, present: bool) -> str:
    ref = f"${{{target.name}}}"
    if not present:
        choices = target.choices
        if set(test) != {"enum"} or choices is None:
            raise ValueError("a test on a field that may be empty")
        others = [c for c in choices if not any(_same(c, v) for v in test["enum"])]
        if not others:
            raise ValueError("no complement")
        return " and ".join(f"{ref} != {_value_text(target, c)}" for c in others)
    parts = []
    for key, value in test.items():
        if key == "const":
            parts.append(f"{ref} = {_value_text(target, value)}")
        elif key == "enum":
            alternatives = [f"{ref} = {_value_text(target, v)}" for v in value]
            parts.append(alternatives[0] if len(alternatives) == 1 else "(" + " or ".join(alternatives) + ")")
        elif key == "contains":
            values = [value["const"]] if "const" in value else value["enum"]
            calls = [f"selected({ref}, {literal(v if isinstance(v, str) else repr(v))})" for v in values]
            parts.append(calls[0] if len(calls) == 1 else "(" + " or ".join(calls) + ")")
        else:
            op = next(o for o, k in _BOUNDS.items() if k == key)
            parts.append(f"{ref} {op} {literal(value)}")
    return " and ".join(parts)


def _value_text(target: Sibling, value) -> str:
    if isinstance(value, bool):
        if target.checkbox:
            return "'OK'" if value else "''"
        return "'true'" if value else "'false'"
    return literal(value)

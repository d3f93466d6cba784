"""Benchmark: server-side validation of a realistic 15-field form (自建房安全排查).

    python benchmarks/forms.py            # ~15 s
    python benchmarks/forms.py --quick    # a smoke run (used by the tests)

`figures()` gives `python -m benchmarks` its figure: forms.validate() against the fairest hand-written equivalent,
a jsonschema Draft202012Validator compiled once and kept (every error, with paths), valid and invalid documents.

Measures, in one run, validations per second for valid and for invalid documents:
- jsonschema.validate() on every call (the uncompiled baseline: checks the schema, builds a validator),
- a jsonschema Draft202012Validator compiled once (every error, with paths),
- fastjsonschema compiled once (first error only; our draft-07 spelling of the schema),
- forms.validate(), our path: fastjsonschema verdict, jsonschema errors only when invalid,
  including the per-call version lookup and the mapping to Chinese FieldErrors,
and prints each figure's ratio to the uncompiled baseline.
"""
from __future__ import annotations

import argparse
import copy
import datetime as dt
import json
import time
from importlib import resources

import fastjsonschema
import jsonschema

from minqing import forms
from minqing.core.privacy import idcard
from minqing.forms import effective
from minqing.forms.compiled import compiled
from minqing.forms.formats import CHECKS, FORMAT_CHECKER, STRING_FORMATS

try:   # run by `python -m benchmarks` (a package) or as a script from benchmarks/
    from .harness import Figure, best_rates
except ImportError:
    from harness import Figure, best_rates


def load_schema() -> dict:
    text = (resources.files("minqing.forms") / "examples" / "self_built_house.json").read_text("utf-8")
    return json.loads(text)


def documents() -> tuple[list[dict], list[dict]]:
    owner = idcard.make("620102", dt.date(1968, 3, 9), 17)
    people = [{"name": f"住户{i}", "id_number": idcard.make("620103", dt.date(1980 + i, 1 + i % 12, 1 + i), i),
               "mobile": f"1390931{i:04d}", "relation": "家属"} for i in range(6)]
    valid = {
        "address": "兰州市城关区张掖路街道庆阳路社区18号", "owner": {"name": "马建国", "id_number": owner,
                                                           "mobile": "13909310001"},
        "floors": 3, "structure": "brick_concrete", "built_year": 1996, "usage": ["自住", "出租"],
        "has_cracks": True, "crack_description": "二层东墙窗下斜向裂缝约1.2米，宽2毫米",
        "photos": ["01HZX3K7R8A", "01HZX3K7R8B"], "inspection_date": "2024-05-20",
        "location": {"lon": 103.8343, "lat": 36.0611}, "risk_level": 3, "residents": people[:4],
        "note": "已告知产权人尽快委托鉴定",
    }
    no_cracks = dict(copy.deepcopy(valid), has_cracks=False, residents=people[:2])
    del no_cracks["crack_description"]
    other = dict(copy.deepcopy(valid), structure="other", structure_other="钢结构", residents=people)
    minimal = {k: copy.deepcopy(valid[k]) for k in
               ("address", "owner", "floors", "structure", "has_cracks", "crack_description", "photos",
                "inspection_date", "location", "risk_level")}
    valids = [valid, no_cracks, other, minimal]

    def broken(**changes):
        doc = copy.deepcopy(valid)
        for key, value in changes.items():
            if value is None:
                doc.pop(key, None)
            else:
                doc[key] = value
        return doc

    bad_owner = dict(valid["owner"], id_number=owner[:17] + ("0" if owner[17] != "0" else "1"))
    invalids = [
        broken(owner=bad_owner),                                      # checksum
        broken(crack_description=None),                               # conditional required
        broken(floors=0, built_year=1900),                            # ranges
        broken(location={"lon": 203.8, "lat": 36.0}),                 # geo-point
        broken(residents=people[:3] + [dict(people[3], mobile="1234")]),  # format in a row
        broken(address=None, risk_level=9, usage=[]),                 # several at once
    ]
    return valids, invalids


ROUNDS = 5


def rate(fn, docs: list[dict], seconds: float) -> float:
    """Calls per second of fn(doc), cycling through docs, measured for about `seconds`."""
    count, start = 0, time.perf_counter()
    deadline = start + seconds
    while True:
        for doc in docs:
            fn(doc)
        count += len(docs)
        now = time.perf_counter()
        if now >= deadline:
            return count / (now - start)


def figures(_url, scale) -> list[Figure]:
    """Validations per second of forms.validate() and of a cached compiled validator, interleaved."""
    schema = load_schema()
    valids, invalids = documents()
    compiled_once = jsonschema.Draft202012Validator(schema, format_checker=FORMAT_CHECKER)

    def side(check, docs):
        def run():
            for doc in docs:
                check(doc)
            return len(docs)
        return run

    found = []
    for label, docs in (("valid", valids), ("invalid", invalids)):
        rates = best_rates({"ours": side(lambda doc: forms.validate(schema, doc), docs),
                            "baseline": side(lambda doc: list(compiled_once.iter_errors(doc)), docs)}, scale.seconds)
        found.append(Figure(f"forms.validate, {label} documents", rates["ours"], rates["baseline"],
                            "validations/s", 0.5, True, note="baseline: jsonschema Draft202012Validator compiled "
                            "once (every error with its path); ours also maps the errors to Chinese FieldErrors"))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run of a few milliseconds per engine")
    seconds = 0.02 if parser.parse_args().quick else 1.5

    schema = load_schema()
    valids, invalids = documents()
    for doc in valids:
        assert forms.validate(schema, doc) == [], forms.validate(schema, doc)
    for doc in invalids:
        assert forms.validate(schema, doc), doc

    full = jsonschema.Draft202012Validator(schema, format_checker=FORMAT_CHECKER)
    custom = {n: (lambda v, c=c: c(v) is None) for n, c in CHECKS.items() if n in STRING_FORMATS}
    fast = fastjsonschema.compile(effective.for_fastjsonschema(schema), formats=custom, use_default=False)

    def uncompiled(doc):
        try:
            jsonschema.validate(doc, schema, format_checker=FORMAT_CHECKER)
        except jsonschema.ValidationError:
            pass

    def fast_first_error(doc):
        try:
            fast(doc)
        except fastjsonschema.JsonSchemaValueException:
            pass

    version = compiled(schema)
    engines = [
        ("jsonschema.validate() per call (uncompiled)", uncompiled),
        ("jsonschema Draft202012Validator, compiled", lambda doc: list(full.iter_errors(doc))),
        ("fastjsonschema, compiled (first error only)", fast_first_error),
        ("forms.validate() (ours)", lambda doc: forms.validate(schema, doc)),
        ("compiled(schema).validate() (ours, no lookup)", version.validate),
    ]
    print(f"自建房安全排查: {len(schema['properties'])} fields, schema version {forms.schema_version(schema)}")
    print(f"documents: {len(valids)} valid, {len(invalids)} invalid; ~{seconds:g} s per measurement\n")
    # Interleaved rounds, best of each: a busy machine slows one round, not one engine.
    best = {name: [0.0, 0.0] for name, _ in engines}
    for _ in range(ROUNDS):
        for name, fn in engines:
            best[name][0] = max(best[name][0], rate(fn, valids, seconds / ROUNDS))
            best[name][1] = max(best[name][1], rate(fn, invalids, seconds / ROUNDS))
    results = [(name, *best[name]) for name, _ in engines]
    _, base_valid, base_invalid = results[0]
    print(f"{'engine':48} {'valid/s':>10} {'invalid/s':>10} {'x valid':>8} {'x invalid':>9}")
    for name, valid_rate, invalid_rate in results:
        print(f"{name:48} {valid_rate:10,.0f} {invalid_rate:10,.0f} "
              f"{valid_rate / base_valid:8.1f} {invalid_rate / base_invalid:9.1f}")
    example = forms.validate(schema, invalids[-1])
    print("\nforms.validate() on the last invalid document:")
    for error in example:
        print(f"  {error.path:12} {error.code:10} {error.message}")


if __name__ == "__main__":
    main()

"""No city constant in code: the time zone, its offset and the map's centre are the city's settings (core/city.py,
`minqing init`). The one zone the code names is the documented default for a database without a city."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PARTS = ("core", "forms", "workflows", "themes", "plugins", "web", "benchmarks")
SUFFIXES = {".py", ".js", ".html", ".json"}
FIXED_CITY = {
    "a time zone by name": re.compile(r"ZoneInfo\(\s*[\"']"),
    "a fixed offset": re.compile(r"timezone\(\s*(dt\.)?timedelta\(\s*hours\s*=|timedelta\(hours=8\)\)"),
    "an offset inside SQL": re.compile(r"[+-]\s*\d+\s+hours[\"']|interval\s+'[+-]?\d+\s+hours?'", re.IGNORECASE),
    "a map centre": re.compile(r"CITY_CENTRE|CITY_ZONE|CITY_TIMEZONE|LOCAL_OFFSET_HOURS"),
}


def sources():
    for part in PARTS:
        for path in sorted((ROOT / part).rglob("*")):
            if path.suffix in SUFFIXES and path.is_file() and "vendor" not in path.parts:
                yield path, path.read_text(encoding="utf-8", errors="replace")


def test_only_the_documented_default_names_the_zone():
    mentions = [(str(path.relative_to(ROOT)), number) for path, text in sources()
                for number, line in enumerate(text.splitlines(), start=1) if "Asia/Shanghai" in line]
    assert [name for name, _ in mentions] == ["core/city.py"], mentions
    assert 'DEFAULT_TIMEZONE = "Asia/Shanghai"' in (ROOT / "core" / "city.py").read_text(encoding="utf-8")


def test_no_fixed_offset_or_map_centre_stays_in_code():
    found = [f"{path.relative_to(ROOT)}:{number}: {what}: {line.strip()}" for path, text in sources()
             for number, line in enumerate(text.splitlines(), start=1)
             for what, pattern in FIXED_CITY.items() if pattern.search(line)]
    assert found == [], "\n".join(found)

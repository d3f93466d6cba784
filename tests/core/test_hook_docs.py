"""Datasette's meta-tests: every hook of core/hooks.py is documented in docs/plugins.md with an example, and has a
test named for it (`test_hook_<name>`) that shows the platform calls it. The docs and the tests can then no longer
drift from the specs: a new hook fails here until it has both."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from minqing.core.pluginhost.host import hook_names

ROOT = Path(__file__).resolve().parents[2]
DOCS = (ROOT / "docs" / "plugins.md").read_text(encoding="utf-8")


def sections(markdown: str) -> dict[str, str]:
    """Heading line -> the text under it up to the next heading."""
    found, heading, lines = {}, None, []
    for line in markdown.splitlines():
        if line.startswith("#"):
            if heading is not None:
                found[heading] = "\n".join(lines)
            heading, lines = line, []
        else:
            lines.append(line)
    if heading is not None:
        found[heading] = "\n".join(lines)
    return found


def test_hooks_are_found():
    assert len(hook_names()) >= 19 and "route_case" in hook_names()


@pytest.mark.parametrize("hook_name", hook_names())
def test_every_hook_is_documented_with_an_example(hook_name):
    documented = [text for heading, text in sections(DOCS).items() if f"`{hook_name}(" in heading]
    assert documented, f"docs/plugins.md has no section whose heading names `{hook_name}(...)`"
    examples = [block for text in documented for block in re.findall(r"```python\n(.*?)```", text, re.S)]
    assert any("@hookimpl" in block and f"def {hook_name}(" in block for block in examples), \
        f"the section on {hook_name} in docs/plugins.md has no ```python example implementing it"


def test_every_hook_has_a_test_showing_it_is_called():
    source = "\n".join(path.read_text(encoding="utf-8") for path in (ROOT / "tests").rglob("test_*.py"))
    missing = [name for name in hook_names() if not re.search(rf"^def test_hook_{name}\(", source, re.M)]
    assert not missing, f"no test named test_hook_<name> under tests/ for: {', '.join(missing)}"

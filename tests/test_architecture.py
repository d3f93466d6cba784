"""The rules that keep the parts apart (docs/architecture.md), checked over the source tree with `ast`, so an
import inside a function counts as much as one at the top:

- core imports nothing of web, plugins, forms, workflows or themes;
- forms, workflows and themes never import web or plugins;
- a plugin imports only the modules docs/plugins.md lists under "What a plugin may import" (and its own package);
- no module grows past MAX_LINES, except today's few, which may not grow.
- a module of the suite never imports a test module or a conftest: what tests share lives in tests/fixtures/
  (tests/fixtures/__init__.py).
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PARTS = ("core", "forms", "workflows", "themes", "plugins", "web")
PLUGIN_DOCS = ROOT / "docs" / "plugins.md"
EXAMPLE_PLUGIN = ROOT / "tests" / "example_plugin"
# What the built-in department plugins share among themselves (helpers of the plugins package, no platform API).
PLUGIN_HELPERS = {"minqing.plugins.theme_files", "minqing.plugins.visit_reminders"}
MAX_LINES = 600
# Modules already longer than MAX_LINES, with their length when this test was written: they may shrink, not grow.
# Remove an entry once its module is split below MAX_LINES.
LONG_MODULES = {
    "plugins/demo_city/geography.py": 649,   # the demo city's geography in one pass (outlines, townships, villages, grids)
}


def module_of(path: Path, root: Path = ROOT) -> str:
    """minqing.core.scope for core/scope.py, minqing.workflows for workflows/__init__.py."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(["minqing", *parts])


def is_module(name: str) -> bool:
    parts = name.split(".")
    if parts[0] != "minqing" or len(parts) < 2:
        return False
    path = ROOT.joinpath(*parts[1:])
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def imports_of(path: Path, root: Path = ROOT) -> list[tuple[str, int]]:
    """The modules a file imports, as (dotted name, line): `from minqing.workflows import joint` is the module
    minqing.workflows.joint, `from minqing.workflows import report_case` the package minqing.workflows."""
    package = module_of(path, root)
    if path.name != "__init__.py":
        package = package.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            for alias in node.names:
                name = f"{base}.{alias.name}"
                found.append((name if is_module(name) else base, node.lineno))
    return found


def sources(*parts: str) -> list[Path]:
    return sorted(path for part in parts for path in (ROOT / part).rglob("*.py"))


def part_of(name: str) -> str | None:
    """Which part of Minqing a module belongs to (None outside Minqing)."""
    pieces = name.split(".")
    return pieces[1] if pieces[0] == "minqing" and len(pieces) > 1 and pieces[1] in PARTS else None


def violations(parts: tuple[str, ...], forbidden: set[str]) -> list[str]:
    return [f"{path.relative_to(ROOT)}:{line} imports {name}"
            for path in sources(*parts) for name, line in imports_of(path) if part_of(name) in forbidden]


def public_modules() -> list[str]:
    """The bullet list under "### What a plugin may import" in docs/plugins.md."""
    text = PLUGIN_DOCS.read_text(encoding="utf-8")
    section = text.split("### What a plugin may import", 1)[1].split("\n#", 1)[0]
    return re.findall(r"^- `(minqing[\w.]*)`", section, flags=re.MULTILINE)


def test_core_imports_no_outer_part():
    assert violations(("core",), {"web", "plugins", "forms", "workflows", "themes"}) == []


def test_forms_workflows_and_themes_never_import_web_or_plugins():
    assert violations(("forms", "workflows", "themes"), {"web", "plugins"}) == []


def test_the_public_list_names_real_modules():
    listed = public_modules()
    assert "minqing.core.hooks" in listed and len(listed) == len(set(listed))
    assert [name for name in listed if not is_module(name)] == []


def test_plugins_import_only_the_public_modules():
    public = set(public_modules())
    wrong = []
    for path in sources("plugins"):
        own = ".".join(module_of(path).split(".")[:3])     # minqing.plugins.<its package>
        wrong += [f"{path.relative_to(ROOT)}:{line} imports {name}" for name, line in imports_of(path)
                  if part_of(name) and name not in public | PLUGIN_HELPERS
                  and name != own and not name.startswith(own + ".")]
    for path in sorted(EXAMPLE_PLUGIN.rglob("*.py")):
        wrong += [f"{path.relative_to(ROOT)}:{line} imports {name}" for name, line in imports_of(path, EXAMPLE_PLUGIN)
                  if part_of(name) and name not in public]
    assert wrong == [], "not in docs/plugins.md's public list:\n" + "\n".join(wrong)


def test_no_module_grows_past_the_limit():
    lengths = {str(path.relative_to(ROOT)): len(path.read_text(encoding="utf-8").splitlines())
               for path in sources(*PARTS)}
    too_long = {name: length for name, length in lengths.items()
                if length > LONG_MODULES.get(name, MAX_LINES)}
    assert too_long == {}, f"split these modules (at most {MAX_LINES} lines): {too_long}"
    shrunk = [name for name, limit in LONG_MODULES.items() if lengths.get(name, 0) <= MAX_LINES]
    assert shrunk == [], f"remove from LONG_MODULES, now within {MAX_LINES} lines or gone: {shrunk}"


@pytest.mark.parametrize("source, expected", [
    ("def later():\n    from minqing.web import create_app\n", "minqing.web"),            # inside a function
    ("from ..web.auth import login\n", "minqing.web.auth"),                               # relative
    ("from minqing.workflows import joint\n", "minqing.workflows.joint"),                 # a module by name
    ("from minqing.workflows import report_case\n", "minqing.workflows"),                 # a name of a package
    ("import minqing.plugins.police\n", "minqing.plugins.police"),
])
def test_the_checker_sees_every_kind_of_import(tmp_path, source, expected):
    path = tmp_path / "core" / "probe.py"
    path.parent.mkdir()
    path.write_text(source, encoding="utf-8")
    assert [name for name, _line in imports_of(path, tmp_path)] == [expected]



def workflows_paths_of(path: Path, root: Path = ROOT) -> list[str]:
    """How a web module reaches into workflows other than by a name of `minqing.workflows.__all__`: an import of
    `minqing.workflows.<submodule>` (absolute or relative), a name imported from `minqing.workflows` that is not
    exported, or `workflows.<name>` read off the package where the name is not exported."""
    import minqing.workflows

    exported = set(minqing.workflows.__all__)
    package = module_of(path, root)
    if path.name != "__init__.py":
        package = package.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found, aliases = [], set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [f"{node.lineno}: import {alias.name}" for alias in node.names
                      if alias.name.startswith("minqing.workflows.")]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            if base.startswith("minqing.workflows."):
                found.append(f"{node.lineno}: from {base} import ...")
            elif base == "minqing.workflows":
                found += [f"{node.lineno}: {alias.name} is not in minqing.workflows.__all__"
                          for alias in node.names if alias.name not in exported]
            elif base == "minqing":
                aliases |= {alias.asname or alias.name for alias in node.names if alias.name == "workflows"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases \
                and node.attr not in exported:
            found.append(f"{node.lineno}: workflows.{node.attr} is not in minqing.workflows.__all__")
    return found


def test_web_reaches_workflows_only_through_its_exported_names():
    wrong = [f"{path.relative_to(ROOT)}:{line}" for path in sources("web") for line in workflows_paths_of(path)]
    assert wrong == [], "web must use the names of minqing.workflows.__all__ only:\n" + "\n".join(wrong)


@pytest.mark.parametrize("source, problem", [
    ("from minqing.workflows.duplicates import candidates\n", "from minqing.workflows.duplicates import"),
    ("import minqing.workflows.engine\n", "import minqing.workflows.engine"),
    ("from ..workflows.definition import final_states\n", "from minqing.workflows.definition import"),
    ("def later():\n    from minqing.workflows import check_actor\n", "check_actor is not in"),
    ("from minqing import workflows\nworkflows.engine.not_the_lead\n", "workflows.engine is not in"),
])
def test_the_workflows_path_check_sees_each_way_in(tmp_path, source, problem):
    path = tmp_path / "web" / "probe.py"
    path.parent.mkdir()
    path.write_text(source, encoding="utf-8")
    found = workflows_paths_of(path, tmp_path)
    assert any(problem in item for item in found), found
    assert workflows_paths_of(_written(tmp_path, "from minqing.workflows import joint, transition\n"), tmp_path) == []


def _written(root: Path, source: str) -> Path:
    path = root / "web" / "allowed.py"
    path.write_text(source, encoding="utf-8")
    return path


# -- the suite: shared helpers live in tests/fixtures -------------------------------------------------------------------

def _is_test_module(name: str) -> bool:
    pieces = name.split(".")
    return pieces[:2] != ["tests", "fixtures"] and any(
        piece == "conftest" or piece.startswith("test_") for piece in pieces)


def imported_test_modules(path: Path, root: Path = ROOT) -> list[str]:
    """The test modules and conftests a file of the suite imports, as "line: dotted name" (absolute or relative,
    `from tests.web import test_builder` as much as `from tests.web.test_builder import KEY`)."""
    package = ".".join(path.relative_to(root).parts[:-1])
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [f"{node.lineno}: {alias.name}" for alias in node.names if _is_test_module(alias.name)]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            if _is_test_module(base):
                found.append(f"{node.lineno}: {base}")
            else:
                found += [f"{node.lineno}: {base}.{alias.name}" for alias in node.names
                          if _is_test_module(f"{base}.{alias.name}")]
    return found


def test_tests_import_shared_helpers_only_from_the_fixtures():
    wrong = [f"{path.relative_to(ROOT)}:{found}" for path in sorted((ROOT / "tests").rglob("*.py"))
             for found in imported_test_modules(path)]
    assert wrong == [], ("a test module or conftest imported: move what is shared into tests/fixtures/ "
                         "(see tests/fixtures/__init__.py)\n" + "\n".join(wrong))


@pytest.mark.parametrize("source, expected", [
    ("from tests.web.test_builder import KEY, save\n", "tests.web.test_builder"),
    ("from .conftest import SUBMIT\n", "tests.web.e2e.conftest"),                       # relative
    ("from .. import test_manage\n", "tests.web.test_manage"),                         # a module by name
    ("from tests import test_authorization_matrix as matrix\n", "tests.test_authorization_matrix"),
    ("import tests.themes.conftest\n", "tests.themes.conftest"),
    ("def later():\n    from tests.themes.conftest import make_theme\n", "tests.themes.conftest"),
])
def test_the_suite_check_sees_every_kind_of_import(tmp_path, source, expected):
    path = tmp_path / "tests" / "web" / "e2e" / "test_probe.py"
    path.parent.mkdir(parents=True)
    path.write_text(source, encoding="utf-8")
    assert [found.split(": ", 1)[1] for found in imported_test_modules(path, tmp_path)] == [expected]
    allowed = path.with_name("test_allowed.py")
    allowed.write_text("from tests.fixtures import matrix\nfrom tests.fixtures.browser import PHONE\n"
                       "from ..faults import Server\nimport pytest\n", encoding="utf-8")
    assert imported_test_modules(allowed, tmp_path) == []

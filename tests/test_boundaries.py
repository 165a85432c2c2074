"""The layers keep to their lanes: the pure packages load no Django, no module borrows another's
private names, and the two edges (HTML views, REST API) do not import each other.

The checks read module names, not file names, so they hold for flat modules (`treatments/views.py`,
`views_mdt.py`) and for packages (`treatments/views/`, `treatments/api/`) alike.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("treatments", "netcare")

# Packages that must import nothing from Django, DRF or the rest of the app, with the other parts of
# the app each may use. A new pure package is checked by adding it here. The FHIR mapping validates
# what it maps with the engine's PatientProfile, so it may load the (pure) engine.
PURE_PACKAGES: dict[str, tuple[str, ...]] = {"treatments.rules": (), "treatments.fhir": ("treatments.rules",)}
FORBIDDEN_IN_PURE = ("django", "rest_framework", "drf_spectacular", "netcare")

# The edges, as module-name prefixes: `treatments.views` covers treatments.views, treatments.views.*
# and treatments.views_mdt; `treatments.api` covers treatments.api and treatments.api.*.
HTML_EDGE = "treatments.views"
API_EDGE = "treatments.api"


def _modules() -> dict[str, Path]:
    """Every first-party module by dotted name (packages by their __init__.py)."""
    found: dict[str, Path] = {}
    for source in SOURCES:
        for path in sorted((ROOT / source).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


MODULES = _modules()


def _imports(module: str, path: Path) -> Iterator[tuple[str, list[str], int]]:
    """(imported module, names taken from it, line) for each import statement, relative ones resolved."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, [], node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            yield target, [alias.name for alias in node.names], node.lineno


def _first_party_targets(target: str, names: list[str]) -> set[str]:
    """The first-party modules an import loads: the module, the submodules named, their packages."""
    named = {target} | {f"{target}.{name}" for name in names}
    parents = {
        ".".join(module.split(".")[:end]) for module in named for end in range(1, module.count(".") + 1)
    }
    return (named | parents) & MODULES.keys()


def _in(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith((f"{prefix}.", f"{prefix}_"))


@pytest.mark.parametrize("package", PURE_PACKAGES)
def test_a_pure_package_loads_no_django(package: str) -> None:
    """Imports every module of the package in a fresh interpreter and lists what came along."""
    script = f"""
import importlib, json, pkgutil, sys
package = importlib.import_module({package!r})
for info in pkgutil.walk_packages(package.__path__, {package!r} + "."):
    importlib.import_module(info.name)
print(json.dumps(sorted(sys.modules)))
"""
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    loaded = json.loads(done.stdout)
    forbidden = [name for name in loaded if any(_in(name, prefix) for prefix in FORBIDDEN_IN_PURE)]
    allowed = (package, *PURE_PACKAGES[package])
    others = [
        name
        for name in loaded
        if _in(name, "treatments") and name != "treatments" and not any(_in(name, ok) for ok in allowed)
    ]
    assert not forbidden, f"{package} loads {forbidden}"
    assert not others, f"{package} loads other parts of the app: {others}"


def test_no_module_imports_a_private_name_from_another() -> None:
    borrowed = [
        f"{path.relative_to(ROOT)}:{line}: from {target} import {name}"
        for module, path in MODULES.items()
        for target, names, line in _imports(module, path)
        if target != "__future__"
        for name in names
        if name.startswith("_") and not name.endswith("__")
    ]
    assert not borrowed, "private names imported from another module:\n" + "\n".join(borrowed)


def _reached_from(edge: str) -> dict[str, list[str]]:
    """Each first-party module the edge's modules import, directly or not, with one import chain."""
    chains = {module: [module] for module in MODULES if _in(module, edge)}
    todo = list(chains)
    while todo:
        module = todo.pop()
        for target, names, _ in _imports(module, MODULES[module]):
            for reached in sorted(_first_party_targets(target, names)):
                if reached not in chains:
                    chains[reached] = [*chains[module], reached]
                    todo.append(reached)
    return chains


@pytest.mark.parametrize(("edge", "other"), [(HTML_EDGE, API_EDGE), (API_EDGE, HTML_EDGE)])
def test_an_edge_does_not_import_the_other(edge: str, other: str) -> None:
    assert any(_in(module, edge) for module in MODULES), f"no module named {edge}*: update this test"
    crossings = [" -> ".join(chain) for module, chain in _reached_from(edge).items() if _in(module, other)]
    assert not crossings, f"{edge} imports {other}:\n" + "\n".join(crossings)

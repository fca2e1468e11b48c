"""Nobody calls another module's private name: a `_name` is its module's own business.

import-linter checks which package may import which; this checks the finer rule it cannot see,
over the product's own code (tests may reach into a module to check it)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("core", "grids", "search", "hits", "detection", "evidence", "crawlers", "jobs", "webmap", "samplesite")


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(dotted: str) -> bool:
    base = ROOT.joinpath(*dotted.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _ours(dotted: str) -> bool:
    return dotted.split(".")[0] in PACKAGES


def violations(path: Path, here: str | None = None) -> list[str]:
    """`here` is the module's dotted name (from its path under the project when not given)."""
    here = here or _module_name(path)
    where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found, modules = [], {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 and _ours(node.module):
            for alias in node.names:
                target = f"{node.module}.{alias.name}"
                if _is_module(target):
                    modules[alias.asname or alias.name] = target
                elif _private(alias.name) and node.module != here:
                    found.append(f"{where}:{node.lineno} imports {node.module}.{alias.name}")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if _ours(alias.name) and alias.asname:
                    modules[alias.asname] = alias.name
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _private(node.attr) and isinstance(node.value, ast.Name):
            target = modules.get(node.value.id)
            if target is not None and target != here:
                found.append(f"{where}:{node.lineno} uses {target}.{node.attr}")
    return found


def test_no_module_uses_another_modules_private_names():
    files = [p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))]
    assert len(files) > 100  # the scan really read the product
    found = [v for p in files for v in violations(p)]
    assert found == [], "\n".join(found)


def test_the_scan_sees_both_kinds_of_reach(tmp_path):
    """The check itself: a private import and a private attribute of an imported module are caught,
    and a module's use of its own private names is not."""
    probe = tmp_path / "probe.py"
    probe.write_text(
        "from core.db import _make_engine\nfrom webmap.services import map_page\nmap_page._leaflet\n", encoding="utf-8"
    )
    seen_from_core_db = violations(probe, here="core.db")  # core.db's own name is its business
    assert len(seen_from_core_db) == 1 and "map_page._leaflet" in seen_from_core_db[0]
    found = violations(probe, here="webmap.probe")
    assert len(found) == 2 and "core.db._make_engine" in found[0] and "map_page._leaflet" in found[1]

"""The core (everything outside ``ivcviewer._napari``) never imports napari, Qt or magicgui."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import ivcviewer

PACKAGE_DIR = Path(ivcviewer.__file__).resolve().parent

#: Top-level modules the core may not import (GUI stack).
FORBIDDEN = (
    "napari",
    "qtpy",
    "PyQt5",
    "PyQt6",
    "PySide2",
    "PySide6",
    "magicgui",
    "vispy",
    "superqt",
)

#: The napari layer of the package (and everything under it).
NAPARI_LAYER = "ivcviewer._napari"

_IMPORT_ALL_CORE = textwrap.dedent(
    """
    import importlib, json, pkgutil, sys

    import ivcviewer
    import ivcviewer.cli
    from ivcviewer.cli.main import build_parser

    build_parser()  # imports every subcommand module
    skip = {"ivcviewer._napari"}
    imported = []

    def walk(path, prefix):
        for info in pkgutil.iter_modules(path, prefix):
            name = info.name
            if name in skip or name.endswith(".__main__"):
                continue
            module = importlib.import_module(name)
            imported.append(name)
            if info.ispkg:
                walk(module.__path__, name + ".")

    walk(ivcviewer.__path__, "ivcviewer.")
    forbidden = FORBIDDEN_SET
    loaded = sorted(
        m for m in sys.modules
        if m.split(".")[0] in forbidden
        or m == "ivcviewer._napari"
        or m.startswith("ivcviewer._napari.")
    )
    print(json.dumps({"imported": imported, "loaded": loaded}))
    """
)


def test_importing_the_core_loads_no_gui_module() -> None:
    code = _IMPORT_ALL_CORE.replace("FORBIDDEN_SET", repr(set(FORBIDDEN)))
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    # the walk really imported the core: the geometry, io, dicom and cli modules at least
    for name in (
        "ivcviewer.geometry",
        "ivcviewer.io.volumes",
        "ivcviewer.cli.info",
        "ivcviewer.cli.open_cmd",
    ):
        assert name in result["imported"]
    assert result["loaded"] == [], f"core imports pulled in GUI modules: {result['loaded']}"


def _core_files() -> list[Path]:
    napari_dir = PACKAGE_DIR / "_napari"
    return sorted(p for p in PACKAGE_DIR.rglob("*.py") if napari_dir not in p.parents)


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE_DIR.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _resolve(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST, module: str, is_package: bool) -> list[tuple[str, int, bool]]:
    """``(imported module, line, inside a function)`` for every runtime import in ``tree``."""
    found: list[tuple[str, int, bool]] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                visit(child, in_function)
            return
        if isinstance(node, ast.Import):
            found.extend((a.name, node.lineno, in_function) for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(node, module, is_package)
            found.append((base, node.lineno, in_function))
            found.extend((f"{base}.{a.name}", node.lineno, in_function) for a in node.names)
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            fname = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            arg = node.args[0]
            if fname in {"import_module", "__import__", "import_optional_dependency"} and (
                isinstance(arg, ast.Constant) and isinstance(arg.value, str)
            ):
                found.append((arg.value, node.lineno, in_function))
        inner = in_function or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
        for child in ast.iter_child_nodes(node):
            visit(child, inner)

    visit(tree, False)
    return found


def test_no_core_source_imports_gui_modules() -> None:
    problems = []
    files = _core_files()
    assert PACKAGE_DIR / "geometry.py" in files and len(files) > 10
    for path in files:
        module = _module_name(path)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for name, line, in_function in _imports(tree, module, path.name == "__init__.py"):
            where = f"{path.relative_to(PACKAGE_DIR.parent)}:{line}"
            if name.split(".")[0] in FORBIDDEN:
                problems.append(f"{where} imports {name}")
            elif name == NAPARI_LAYER or name.startswith(NAPARI_LAYER + "."):
                # only the command line may reach the napari layer, and only inside a function
                if not (module.startswith("ivcviewer.cli.") and in_function):
                    problems.append(f"{where} imports {name} (outside a cli function)")
    assert problems == []


def test_static_check_catches_violations() -> None:
    """The checker itself: it sees module-level, relative and lazy imports."""
    src = textwrap.dedent(
        """
        from typing import TYPE_CHECKING
        import qtpy.QtWidgets
        from .._napari import reader
        if TYPE_CHECKING:
            import napari
        def f():
            import magicgui
            importlib.import_module("vispy")
        """
    )
    found = _imports(ast.parse(src), "ivcviewer.io.volumes", False)
    names = {(n, fn) for n, _, fn in found}
    assert ("qtpy.QtWidgets", False) in names
    assert ("ivcviewer._napari", False) in names
    assert ("magicgui", True) in names and ("vispy", True) in names
    assert not any(n == "napari" for n, _ in names)  # TYPE_CHECKING imports are not runtime


#: Layers of the core, lowest first; a module may import its own layer or lower ones only.
LAYERS: dict[str, int] = {
    "errors": 0,
    "report": 0,
    "_atomic": 0,
    "_deps": 0,
    "_child": 0,
    "_json": 0,
    "_shipped": 0,
    "_files": 0,
    "_lazy": 0,
    "_progress": 0,
    "failures": 0,
    "limits": 0,
    "_text": 0,
    "geometry": 1,
    "volume": 2,
    "dicom": 3,
    "io": 3,
    "annotations": 3,
    "measure": 3,
    "mesh": 3,
    "phantom": 3,
    "sample_data": 3,
    "public": 3,
    "export": 4,
    "interop": 4,
    "workflows": 5,
    "widget_models": 6,
    "cli": 6,
}

#: Entries of the package that are no layer: the package's own files and the napari layer.
NOT_LAYERS = {"__init__", "__main__", "_napari", "napari", "py", "data"}


def _top(module: str) -> str | None:
    """``ivcviewer.<top>...`` -> ``<top>``; None for anything outside the package."""
    parts = module.split(".")
    if parts[0] != "ivcviewer" or len(parts) < 2:
        return None
    return parts[1]


def _imported_modules(path: Path, package_dir: Path) -> list[str]:
    """Absolute names of every ivcviewer module a source file imports (lazy imports too)."""
    rel = path.relative_to(package_dir.parent).with_suffix("")
    package = list(rel.parts[:-1])
    out: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.extend(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            out.append(mod)
            out.extend(f"{mod}.{a.name}" for a in node.names)
    return out


def _upward_imports(package_dir: Path) -> list[str]:
    bad: list[str] = []
    for path in sorted(package_dir.rglob("*.py")):
        rel = path.relative_to(package_dir)
        top = rel.parts[0].removesuffix(".py")
        if top in NOT_LAYERS:  # __init__, __main__, the napari layer
            continue
        if top not in LAYERS:
            bad.append(f"{rel}: ivcviewer.{top} has no layer; add it to LAYERS")
            continue
        targets = {_top(mod) for mod in _imported_modules(path, package_dir)}
        for target in sorted(t for t in targets if t in LAYERS):
            if LAYERS[target] > LAYERS[top]:
                bad.append(f"{rel} imports ivcviewer.{target} (a layer above {top})")
    return bad


def test_core_imports_go_one_way() -> None:
    bad = _upward_imports(PACKAGE_DIR)
    assert not bad, "\n".join(bad)


def test_layer_check_sees_upward_imports(tmp_path: Path) -> None:
    pkg = tmp_path / "ivcviewer"
    (pkg / "annotations").mkdir(parents=True)
    (pkg / "measure.py").write_text("from .cli import main\n", encoding="utf-8")
    (pkg / "annotations" / "fit.py").write_text(
        "def f():\n    from ..export import seg\n", encoding="utf-8"
    )
    (pkg / "volume.py").write_text("from . import geometry\n", encoding="utf-8")
    bad = _upward_imports(pkg)
    assert len(bad) == 2
    assert any("measure.py imports ivcviewer.cli" in b for b in bad)
    assert any("fit.py imports ivcviewer.export" in b for b in bad)


def test_every_core_package_has_a_layer() -> None:
    tops = {
        p.name.removesuffix(".py")
        for p in PACKAGE_DIR.iterdir()
        if (p.is_dir() and (p / "__init__.py").exists()) or p.suffix == ".py"
    }
    assert sorted(tops - set(LAYERS) - NOT_LAYERS) == []


def _module_names(package_dir: Path) -> set[str]:
    out = set()
    for path in package_dir.rglob("*.py"):
        rel = path.relative_to(package_dir.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out.add(".".join(parts))
    return out


def _module_imports(path: Path, package_dir: Path, modules: set[str]) -> set[str]:
    """The ivcviewer modules a file imports: at run time, lazily, or for type checking only.

    Type-checking imports count: two modules that need each other's types belong together, or
    their shared types belong in a module below both.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"))
    rel = path.relative_to(package_dir.parent).with_suffix("")
    package = list(rel.parts[:-1])
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name in modules)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            for a in node.names:
                if f"{mod}.{a.name}" in modules:
                    out.add(f"{mod}.{a.name}")
                elif mod in modules:
                    out.add(mod)
    return out


def _import_cycles(package_dir: Path) -> list[list[str]]:
    """Strongly connected groups of modules (two or more) that import each other."""
    modules = _module_names(package_dir)
    graph: dict[str, set[str]] = {}
    for path in package_dir.rglob("*.py"):
        rel = path.relative_to(package_dir.parent).with_suffix("")
        parts = list(rel.parts)
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        # a package's __init__ only gathers names: its re-exports are not edges of a cycle
        if parts[-1] == "__init__":
            continue
        graph[name] = _module_imports(path, package_dir, modules) - {name}
    for name in graph:
        graph[name] = {t for t in graph[name] if t in graph}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    groups: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return groups


def test_no_import_cycles() -> None:
    cycles = _import_cycles(PACKAGE_DIR)
    assert cycles == [], "modules importing each other: " + "; ".join(
        " <-> ".join(c) for c in cycles
    )


def test_cycle_check_sees_a_cycle(tmp_path: Path) -> None:
    pkg = tmp_path / "ivcviewer"
    (pkg / "annotations").mkdir(parents=True)
    (pkg / "annotations" / "__init__.py").write_text("", encoding="utf-8")
    (pkg / "annotations" / "overlay.py").write_text(
        "def f():\n    from .report import g\n", encoding="utf-8"
    )
    (pkg / "annotations" / "report.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .overlay import f\n",
        encoding="utf-8",
    )
    (pkg / "annotations" / "levels.py").write_text("from .overlay import f\n", encoding="utf-8")
    assert _import_cycles(pkg) == [
        ["ivcviewer.annotations.overlay", "ivcviewer.annotations.report"]
    ]

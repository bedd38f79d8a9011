"""Only ivcviewer._napari may import napari, Qt or magicgui."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import ivcviewer

pytestmark = pytest.mark.napari

PACKAGE = Path(ivcviewer.__file__).resolve().parent
GUI_MODULES = ("napari", "qtpy", "magicgui", "PyQt5", "PyQt6", "PySide2", "PySide6", "vispy")
_TARGETS = "|".join([*GUI_MODULES, r"ivcviewer\._napari", r"\.+_napari"])
_IMPORT = re.compile(r"^\s*(?:from|import)\s+(" + _TARGETS + r")\b", re.MULTILINE)


def _core_files() -> list[Path]:
    files = sorted(PACKAGE.rglob("*.py"))
    return [p for p in files if "_napari" not in p.relative_to(PACKAGE).parts]


def test_no_core_source_imports_napari_qt_or_magicgui() -> None:
    files = _core_files()
    assert len(files) > 5
    offenders = {
        str(p.relative_to(PACKAGE)): m.group(0).strip()
        for p in files
        for m in _IMPORT.finditer(p.read_text(encoding="utf-8"))
    }
    assert offenders == {}


def test_importing_every_core_module_loads_no_gui_library() -> None:
    code = (
        "import importlib, pkgutil, sys\n"
        "import ivcviewer\n"
        "names = [m.name for m in pkgutil.walk_packages(ivcviewer.__path__, 'ivcviewer.')\n"
        "         if '_napari' not in m.name and not m.name.endswith('__main__')]\n"
        "for n in names:\n"
        "    importlib.import_module(n)\n"
        f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {GUI_MODULES!r})\n"
        "print(len(names), bad)\n"
        "sys.exit(1 if bad else 0)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert int(proc.stdout.split()[0]) > 5


def test_the_napari_package_imports_no_napari_until_used() -> None:
    code = "import sys, ivcviewer._napari\nsys.exit(1 if 'napari' in sys.modules else 0)\n"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr

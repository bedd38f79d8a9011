"""Package attributes imported on first use, so that importing a package stays cheap.

A package's ``__init__`` lists which submodule defines each public name; the submodule is
imported when the name is first read (PEP 562), then the value is kept on the package. The same
names are imported under ``typing.TYPE_CHECKING`` for type checkers and editors. This keeps
``ivcviewer --help`` and other light commands from importing numpy, pydicom or SimpleITK.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any


def lazy_exports(
    package: str, submodules: Mapping[str, Sequence[str]]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` of module ``package``: ``submodules`` maps ``.name`` -> names.

    Relative module names are resolved as the module's own relative imports are.

    >>> getattr_, dir_ = lazy_exports("json", {".decoder": ("JSONDecoder",)})
    >>> getattr_("JSONDecoder").__name__, "JSONDecoder" in dir_()
    ('JSONDecoder', True)
    """
    exports = {name: module for module, names in submodules.items() for name in names}

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module, sys.modules[package].__package__), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(exports))

    return __getattr__, __dir__

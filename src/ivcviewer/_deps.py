"""Optional dependencies: imported through one helper that says which feature needs them.

Each optional library is used by one module of the package only (SimpleITK by
:mod:`ivcviewer.io.sitk_backend`, nibabel by :mod:`ivcviewer.io.nifti_backend`, ...). Those
modules import it with :func:`import_optional_dependency`, so a missing library gives one clear
error naming the feature and the ``pip install`` command, never a bare ``ImportError`` from deep
inside a loader.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from .errors import OptionalDependencyError

#: Import name -> PyPI distribution name, where the two differ or are worth stating.
PIP_NAMES: dict[str, str] = {
    "SimpleITK": "SimpleITK",
    "nibabel": "nibabel",
    "highdicom": "highdicom",
    "pydicom": "pydicom",
    "pylibjpeg": "pylibjpeg",
    "openjpeg": "pylibjpeg-openjpeg",
    "libjpeg": "pylibjpeg-libjpeg",
    "rle": "pylibjpeg-rle",
    "skimage": "scikit-image",
    "scipy": "scipy",
}


def import_optional_dependency(name: str, feature: str) -> ModuleType:
    """Import module ``name`` or raise an error naming ``feature`` and the package to install.

    Parameters
    ----------
    name
        The import name, for example ``"SimpleITK"``.
    feature
        What needs it, in a few words (``"reading NRRD and MetaImage files"``).

    Returns
    -------
    ModuleType
        The imported module.

    Raises
    ------
    OptionalDependencyError
        When the module cannot be imported (also an ``ImportError``).

    Examples
    --------
    >>> import_optional_dependency("json", "reading label tables").__name__
    'json'
    >>> try:
    ...     import_optional_dependency("no_such_module_xyz", "testing")
    ... except OptionalDependencyError as exc:
    ...     print(str(exc).split(". ")[1])
    Install it with: pip install no_such_module_xyz
    """
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        pip_name = PIP_NAMES.get(name.split(".")[0], name.split(".")[0])
        raise OptionalDependencyError(
            f"Optional dependency {name!r} could not be imported but is required for {feature}. "
            f"Install it with: pip install {pip_name}"
        ) from exc

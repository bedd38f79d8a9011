"""Where the data files shipped with ivcviewer are: in the installed package or in the checkout.

The case files (``annotations/``) and the sample data (``sample_data/``) live at the top of the
source checkout. A wheel carries them inside the package, under ``ivcviewer/data/`` (see
``[tool.hatch.build.targets.wheel.force-include]`` in ``pyproject.toml``). An editable install
(``pip install -e .``), or ``src/`` on the path, imports the package from ``src/ivcviewer`` and
finds them in the checkout beside ``src/``.
"""

from __future__ import annotations

from pathlib import Path

from .errors import IvcviewerError

#: The installed package's folder.
PACKAGE_DIR = Path(__file__).resolve().parent

#: Folder of the shipped data inside the installed package.
PACKAGED_DATA_DIR = "data"


def shipped_dir(packaged: str, checkout: str, package_dir: Path = PACKAGE_DIR) -> Path:
    """The folder of one kind of shipped data files.

    Parameters
    ----------
    packaged
        Its folder under ``ivcviewer/data/`` in an installed wheel (``cases``, say).
    checkout
        Its folder at the top of a source checkout (``annotations``, say).
    package_dir
        The ``ivcviewer`` package folder (for tests).

    Returns
    -------
    Path
        ``<package>/data/<packaged>`` when it exists (an installed wheel), else
        ``<checkout root>/<checkout>`` when the package is ``src/ivcviewer`` of a checkout that
        has that folder (an editable install).

    Raises
    ------
    IvcviewerError
        When neither folder exists: the installation lacks its data files.

    Examples
    --------
    >>> shipped_dir("cases", "annotations").is_dir()
    True
    """
    installed = package_dir / PACKAGED_DATA_DIR / packaged
    if installed.is_dir():
        return installed
    source = package_dir.parent.parent / checkout
    if package_dir.parent.name == "src" and source.is_dir():
        return source
    raise IvcviewerError(
        f"The data files ivcviewer ships in '{checkout}/' are missing: neither {installed} "
        f"(an installed wheel) nor {source} (a source checkout) is a folder. Fix: reinstall "
        "ivcviewer (pip install --force-reinstall ivcviewer), or in a checkout run "
        f"'git checkout -- {checkout}' and 'pip install -e .'."
    )


__all__ = ["PACKAGED_DATA_DIR", "PACKAGE_DIR", "shipped_dir"]

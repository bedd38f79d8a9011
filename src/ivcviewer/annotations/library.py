"""Where the case files shipped with ivcviewer are found.

They live in ``annotations/`` at the top of the source checkout; a wheel carries them in
``ivcviewer/data/cases`` (see :mod:`ivcviewer._shipped`).
"""

from __future__ import annotations

from pathlib import Path

from .._shipped import shipped_dir

#: File name of the case this project started with.
DEFAULT_CASE = "retroperitoneal_leiomyosarcoma_ivc.yaml"

#: Folder of the case files inside the installed package (under ``ivcviewer/data``).
PACKAGED_CASES = "cases"

#: Folder of the case files at the top of the source checkout.
CHECKOUT_CASES = "annotations"


def packaged_cases_dir() -> Path:
    """Folder of the case files shipped with ivcviewer.

    ``ivcviewer/data/cases`` of an installed wheel, else the checkout's ``annotations/`` (an
    editable install, or ``src/`` on the path).

    Raises
    ------
    IvcviewerError
        When neither folder exists.
    """
    return shipped_dir(PACKAGED_CASES, CHECKOUT_CASES)


def default_case_path() -> Path:
    """The packaged case file of the retroperitoneal leiomyosarcoma invading the IVC."""
    return packaged_cases_dir() / DEFAULT_CASE


def packaged_cases() -> list[Path]:
    """All case files shipped with the package, sorted by name."""
    return sorted(packaged_cases_dir().glob("*.yaml"))

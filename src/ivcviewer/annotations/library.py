"""Where the case files shipped with ivcviewer are found."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

#: File name of the case this project started with.
DEFAULT_CASE = "retroperitoneal_leiomyosarcoma_ivc.yaml"


def packaged_cases_dir() -> Path:
    """Folder of the case files shipped inside the installed package."""
    return Path(str(resources.files("ivcviewer") / "data" / "cases"))


def default_case_path() -> Path:
    """The packaged case file of the retroperitoneal leiomyosarcoma invading the IVC."""
    return packaged_cases_dir() / DEFAULT_CASE


def packaged_cases() -> list[Path]:
    """All case files shipped with the package, sorted by name."""
    return sorted(packaged_cases_dir().glob("*.yaml"))

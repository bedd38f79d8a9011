"""Download into a hidden temporary folder; rename it into place only once complete."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from .._atomic import discard_dir, temp_dir_beside
from ._common import PublicDataError


def present(target: Path) -> bool:
    """Whether ``target`` is a folder that already holds files (a finished fetch)."""
    return target.is_dir() and any(target.iterdir())


@contextlib.contextmanager
def staging(target: Path, what: str) -> Iterator[Path]:
    """Yield a temporary folder beside ``target``; when the block succeeds, rename it there.

    On any error (cancel included) the temporary folder is removed, with the parent folders
    this call created, so nothing is left behind.

    Raises
    ------
    PublicDataError
        When ``target`` exists and is not an empty folder (refused before anything is fetched).
    """
    if target.exists() and not (target.is_dir() and not any(target.iterdir())):
        raise PublicDataError(
            f"{what}: {target} already exists and is not an empty folder. "
            "Fix: give another --to folder, or remove it."
        )
    created = []
    parent = target.parent
    while not parent.exists():
        created.append(parent)
        parent = parent.parent
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_dir_beside(target)
    try:
        yield tmp
        if target.is_dir():
            target.rmdir()  # empty: checked above
        os.replace(tmp, target)
    except BaseException:
        discard_dir(tmp)
        for folder in created:
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise


def copy_series(source: Path, target: Path, what: str) -> Path:
    """Copy a cached series folder to ``target`` (through a temporary folder)."""
    with staging(target, what) as tmp:
        for path in sorted(source.iterdir()):
            if path.is_file():
                shutil.copy2(path, tmp / path.name)
    return target

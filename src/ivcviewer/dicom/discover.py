"""Which files a scan reads: those under a folder, one file, or a DICOMDIR's references."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pydicom
from pydicom import uid as pduid
from pydicom.errors import InvalidDicomError

from ..report import ReportCode
from .records import SkippedFile


def candidate_files(root: Path, recursive: bool) -> Iterator[Path | SkippedFile]:
    """The files to read under ``root``, in a stable (sorted) order.

    Parameters
    ----------
    root
        A folder (its files, sub-folders too when ``recursive``), a DICOMDIR (the files it
        references) or any other file (itself).
    recursive
        Walk sub-folders.

    Yields
    ------
    Path or SkippedFile
        A file to read, or (for a DICOMDIR) a :class:`SkippedFile` for a DICOMDIR that cannot
        be read or for a referenced file that is missing (those come first).
    """
    if root.is_file():
        if _is_dicomdir(root):
            yield from _dicomdir_files(root)
        else:
            yield root
        return
    if recursive:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            for name in sorted(filenames):
                yield Path(dirpath) / name
    else:
        for p in sorted(root.iterdir()):
            if p.is_file():
                yield p


def _is_dicomdir(path: Path) -> bool:
    """A file named DICOMDIR, or one whose Media Storage SOP Class is a directory."""
    if path.name.upper() == "DICOMDIR":
        return True
    try:
        meta = pydicom.filereader.read_file_meta_info(path)
    except (InvalidDicomError, OSError, EOFError, ValueError, KeyError):
        return False
    return str(meta.get("MediaStorageSOPClassUID", "")) == pduid.MediaStorageDirectoryStorage


def _dicomdir_files(dicomdir: Path) -> list[Path | SkippedFile]:
    """The files a DICOMDIR lists but which are missing, then those it references (sorted)."""
    from pydicom.fileset import FileSet

    try:
        fs = FileSet(pydicom.dcmread(dicomdir))
    except (InvalidDicomError, OSError, EOFError, ValueError, KeyError, AttributeError) as exc:
        return [SkippedFile(dicomdir, ReportCode.UNREADABLE_FILE, f"unreadable DICOMDIR: {exc}")]
    files: list[Path] = []
    missing: list[Path | SkippedFile] = []
    for instance in fs:
        p = Path(instance.path)
        if p.is_file():
            files.append(p)
        else:
            missing.append(
                SkippedFile(
                    p, ReportCode.UNREADABLE_FILE, f"listed in {dicomdir} but the file is missing"
                )
            )
    return [*missing, *sorted(files)]

"""What kind of input a path is, and safe (atomic) writing of output files.

Pure standard library: no image library is imported here.
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Literal

from .._atomic import atomic_file
from ..errors import NoSeriesFoundError, VolumeFormatError

#: File-name endings of the volume formats, longest first, and the format each one means.
VOLUME_SUFFIXES: tuple[tuple[str, str], ...] = (
    (".nii.gz", "nifti"),
    (".nii", "nifti"),
    (".nrrd", "nrrd"),
    (".nhdr", "nrrd"),
    (".mha", "metaimage"),
    (".mhd", "metaimage"),
)

#: Endings :func:`ivcviewer.io.save_volume` can write atomically (single-file formats).
WRITABLE_SUFFIXES: tuple[str, ...] = (".nii.gz", ".nii", ".nrrd", ".mha")

#: What :func:`ivcviewer.io.open_path` accepts, for error messages.
ACCEPTED = (
    "a DICOM folder, a DICOMDIR, a DICOM file, or a volume file "
    "(.nii, .nii.gz, .nrrd, .nhdr, .mha, .mhd)"
)

PathKind = Literal["dicom", "volume"]


def volume_format(path: str | os.PathLike[str]) -> str | None:
    """The volume format a file name announces (``nifti``, ``nrrd``, ``metaimage``), or None.

    >>> volume_format("ct.NII.GZ"), volume_format("seg.nrrd"), volume_format("x.dcm")
    ('nifti', 'nrrd', None)
    """
    name = Path(path).name.lower()
    for suffix, fmt in VOLUME_SUFFIXES:
        if name.endswith(suffix):
            return fmt
    return None


def volume_suffix(path: str | os.PathLike[str]) -> str:
    """The volume ending of a file name (``.nii.gz`` counts as one), or ``""``.

    >>> volume_suffix("a/b/ct.nii.gz"), volume_suffix("ct.mha"), volume_suffix("ct.txt")
    ('.nii.gz', '.mha', '')
    """
    name = Path(path).name.lower()
    for suffix, _ in VOLUME_SUFFIXES:
        if name.endswith(suffix):
            return suffix
    return ""


def volume_stem(path: str | os.PathLike[str]) -> str:
    """The file name without its volume ending (``ct.nii.gz`` -> ``ct``).

    >>> volume_stem("/data/example_ct.nii.gz"), volume_stem("seg.nrrd"), volume_stem("notes.txt")
    ('example_ct', 'seg', 'notes')
    """
    p = Path(path)
    suffix = volume_suffix(p)
    if suffix:
        return p.name[: len(p.name) - len(suffix)]
    return p.stem


def is_dicom_file(path: str | os.PathLike[str]) -> bool:
    """True when ``path`` is a file named DICOMDIR or starts with the DICOM preamble.

    The preamble is 128 bytes followed by ``DICM``; file names may have no extension.
    Unreadable files give False.
    """
    p = Path(path)
    if not p.is_file():
        return False
    if p.name.upper() == "DICOMDIR":
        return True
    try:
        with open(p, "rb") as fh:
            head = fh.read(132)
    except OSError:
        return False
    return len(head) == 132 and head[128:132] == b"DICM"


def not_found(path: str | os.PathLike[str]) -> FileNotFoundError:
    """A ``FileNotFoundError`` for ``path`` with errno, message and file name set."""
    return FileNotFoundError(errno.ENOENT, "No such file or folder", str(path))


def path_kind(path: str | os.PathLike[str]) -> PathKind:
    """Say whether ``path`` is DICOM (folder, DICOMDIR, file) or a volume file.

    Raises
    ------
    FileNotFoundError
        When nothing exists at ``path``.
    NoSeriesFoundError
        When ``path`` is a file that is neither DICOM nor a known volume format.
    """
    p = Path(path)
    if not p.exists():
        raise not_found(p)
    if p.is_dir():
        return "dicom"
    if volume_format(p) is not None:
        return "volume"
    if is_dicom_file(p):
        return "dicom"
    raise NoSeriesFoundError(
        f"{p}: not an image this program reads (no DICOM preamble 'DICM' at byte 128 and no "
        f"known volume extension). Accepted: {ACCEPTED}."
    )


def check_output_path(
    path: str | os.PathLike[str],
    inputs: Iterable[str | os.PathLike[str]],
    suffixes: tuple[str, ...] = WRITABLE_SUFFIXES,
) -> Path:
    """Validate an output file path: a writable ending, and not inside an input folder.

    Parameters
    ----------
    path
        Where the output goes.
    inputs
        Files or folders the data came from. The output may not be written into the folder of
        any of them (nor into a folder below it), so inputs are never touched.
    suffixes
        Accepted file-name endings.

    Returns
    -------
    Path
        The resolved output path.

    Raises
    ------
    VolumeFormatError
        For an ending that is not accepted, or an output inside an input folder.
    """
    out = Path(path)
    name = out.name.lower()
    if not any(name.endswith(s) for s in suffixes):
        raise VolumeFormatError(
            f"{out}: cannot write this file type; the name must end with one of "
            f"{', '.join(suffixes)} (two-file formats .nhdr/.mhd are not written)."
        )
    target_dir = out.parent.resolve()
    seen: set[Path] = set()
    for item in inputs:
        src = Path(item)
        try:
            src_dir = src.resolve() if src.is_dir() else src.resolve().parent
        except OSError:
            continue
        if src_dir in seen:
            continue
        seen.add(src_dir)
        if target_dir == src_dir or src_dir in target_dir.parents:
            raise VolumeFormatError(
                f"{out}: refusing to write into {src_dir}, which holds the input {src}; "
                "choose an output folder outside the input folders."
            )
    return out.parent.resolve() / out.name


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success move it onto ``path`` atomically.

    The temporary file keeps the target's ending (``.nii.gz``, ``.nrrd``, ...) so writers
    choose the right format. On any error the temporary file is removed and ``path`` is
    left as it was.
    """
    out = Path(path)
    if not out.parent.is_dir():
        raise not_found(out.parent)
    with atomic_file(out, suffix=volume_suffix(out) or out.suffix) as tmp:
        yield tmp


def write_text_atomic(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` through a temporary file and ``os.replace``."""
    with atomic_output(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


__all__ = [
    "ACCEPTED",
    "PathKind",
    "VOLUME_SUFFIXES",
    "WRITABLE_SUFFIXES",
    "atomic_output",
    "check_output_path",
    "is_dicom_file",
    "not_found",
    "path_kind",
    "volume_format",
    "volume_stem",
    "volume_suffix",
    "write_text_atomic",
]

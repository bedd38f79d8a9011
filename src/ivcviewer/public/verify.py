"""Check a downloaded series before it is renamed into place: whole, readable, one series."""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ._common import PublicDataError

#: Words of pydicom's warnings that mean a file was cut short.
_CUT_SHORT = ("end of file", "truncat", "expected length", "premature")


def dicom_files(folder: Path) -> list[Path]:
    """Every regular file under ``folder``, sorted."""
    return sorted(p for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def _read(path: Path) -> Any:
    """Read a whole DICOM file; raise ``ValueError`` when it is cut short or lacks its UIDs."""
    import pydicom
    from pydicom.pixels.utils import get_expected_length

    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        ds = pydicom.dcmread(path)
        pixels = ds.get("PixelData")
    for w in seen:
        if any(word in str(w.message).lower() for word in _CUT_SHORT):
            raise ValueError(str(w.message).split(" in file ")[0])
    if not ds.get("SOPInstanceUID") or not ds.get("SeriesInstanceUID"):
        raise ValueError("its header is cut short or lacks its UIDs")
    if "Rows" in ds and pixels is None and "FloatPixelData" not in ds:
        raise ValueError("it is an image without its pixel data (cut short)")
    if pixels is not None and not ds.file_meta.TransferSyntaxUID.is_encapsulated:
        if len(pixels) < get_expected_length(ds):
            raise ValueError("its pixel data is shorter than its size says")
    return ds


def check_series(
    folder: Path,
    series_uids: Iterable[str],
    expected: int | None,
    what: str,
    sop_uids: Iterable[str] | None = None,
) -> int:
    """Check that ``folder`` holds the whole series (or study) and nothing else.

    Every file must be DICOM (read with pydicom, pixel data included, so a truncated file is
    caught), of one of ``series_uids`` (any series when empty), each SOPInstanceUID once;
    there must be ``expected`` of them when given, and every one of ``sop_uids`` when given.

    Returns
    -------
    int
        The number of instances.

    Raises
    ------
    PublicDataError
        Naming ``what`` and the first problem found.
    """
    from pydicom.errors import InvalidDicomError

    wanted = set(series_uids)
    seen: set[str] = set()
    for path in dicom_files(folder):
        try:
            ds = _read(path)
        except (InvalidDicomError, OSError, ValueError, EOFError) as exc:
            raise PublicDataError(
                f"{what}: downloaded file {path.name} is not readable DICOM ({exc}); "
                "nothing was kept. Fix: fetch again."
            ) from exc
        series = str(ds.get("SeriesInstanceUID", ""))
        if wanted and series not in wanted:
            raise PublicDataError(
                f"{what}: downloaded file {path.name} belongs to series {series!r}, not the one "
                "asked for; nothing was kept. Fix: check the UID and the server."
            )
        sop = str(ds.get("SOPInstanceUID", ""))
        if sop in seen:
            raise PublicDataError(
                f"{what}: downloaded file {path.name} repeats SOPInstanceUID {sop}; "
                "nothing was kept. Fix: fetch again."
            )
        seen.add(sop)
    missing = set(sop_uids or ()) - seen
    if not seen or (expected is not None and len(seen) != expected) or missing:
        want = expected if expected is not None else len(seen) + len(missing)
        raise PublicDataError(
            f"{what}: the download is incomplete ({len(seen)} of {want} instances arrived); "
            "nothing was kept. Fix: check the connection and fetch again."
        )
    return len(seen)

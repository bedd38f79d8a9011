"""Check a downloaded series before it is renamed into place: whole, readable, one series."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from ._common import PublicDataError


def dicom_files(folder: Path) -> list[Path]:
    """Every regular file under ``folder``, sorted."""
    return sorted(p for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


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
    import pydicom
    from pydicom.errors import InvalidDicomError

    wanted = set(series_uids)
    seen: set[str] = set()
    for path in dicom_files(folder):
        try:
            ds = pydicom.dcmread(path)
            _ = ds.get("PixelData")
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
        if not sop or sop in seen:
            raise PublicDataError(
                f"{what}: downloaded file {path.name} has a missing or repeated SOPInstanceUID; "
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

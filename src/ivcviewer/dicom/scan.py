"""Header-only discovery of DICOM image series in a folder tree, a file or a DICOMDIR.

:func:`scan` reads only the headers (``stop_before_pixels``), groups images by
SeriesInstanceUID, splits a UID that holds several stacks (orientations, image types,
acquisitions, matrix sizes), leaves out what is not a volume (localisers, secondary captures,
non-image objects, non-DICOM files) and reports every file it leaves out.

The steps live in their own modules: :mod:`~ivcviewer.dicom.discover` (which files),
:mod:`~ivcviewer.dicom.header` (one file's header), :mod:`~ivcviewer.dicom.series` (grouping
and splitting into stacks), with the record types in :mod:`~ivcviewer.dicom.records`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import DicomSeriesError, NoSeriesFoundError
from ..limits import Limits
from ..report import ReportCode
from .discover import candidate_files
from .header import TruncatedImage, read_header
from .records import (
    MULTI_FRAME_CLASSES,
    NATIVE_LE_SYNTAXES,
    SECONDARY_CAPTURE_CLASSES,
    SINGLE_FRAME_CLASSES,
    ImageHeader,
    ImageRecord,
    PixelFormat,
    SkippedFile,
)
from .series import SeriesInfo, build_series
from .stack import SPACING_TOLERANCE_MM

__all__ = [
    "MULTI_FRAME_CLASSES",
    "NATIVE_LE_SYNTAXES",
    "SECONDARY_CAPTURE_CLASSES",
    "SINGLE_FRAME_CLASSES",
    "ImageHeader",
    "ImageRecord",
    "PixelFormat",
    "ScanResult",
    "SeriesInfo",
    "SkippedFile",
    "scan",
]


@dataclass
class ScanResult:
    """The series found under a path and every file left out."""

    root: Path
    series: list[SeriesInfo] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)

    def get(self, series_uid: str) -> list[SeriesInfo]:
        """The stacks of one SeriesInstanceUID (several when the UID was split)."""
        return [s for s in self.series if s.series_uid == series_uid]

    def to_dict(self) -> dict[str, Any]:
        """JSON form ``{series: [...], skipped: [...]}``."""
        return {
            "series": [s.to_dict() for s in self.series],
            "skipped": [s.to_dict() for s in self.skipped],
        }


def scan(
    path: Path | str,
    *,
    recursive: bool = True,
    tolerance_mm: float = SPACING_TOLERANCE_MM,
    limits: Limits | None = None,
) -> ScanResult:
    """Find the image series under ``path`` by reading headers only.

    Parameters
    ----------
    path
        A folder (searched recursively unless ``recursive`` is false), one DICOM file, or a
        DICOMDIR (its referenced files are scanned).
    recursive
        Search sub-folders.
    tolerance_mm
        Position tolerance for the stack checks (see :mod:`ivcviewer.dicom.stack`).
    limits
        Depth and entry bounds of the folder walk (default:
        :func:`~ivcviewer.limits.default_limits`).

    Returns
    -------
    ScanResult
        Series sorted by study, series number and UID, and the stacks of one UID in the order
        :func:`~ivcviewer.dicom.split.split_stacks` gives (numbers as numbers); ``skipped``
        lists every file left out with its code (``localizer_skipped``, ``non_image_skipped``,
        ``secondary_capture_skipped``, ``unreadable_file``, ``mosaic``) and the reason.

    Raises
    ------
    NoSeriesFoundError
        When ``path`` does not exist.
    ResourceLimitError
        When the folder tree (or a DICOMDIR) holds more entries than ``limits`` allow.
    """
    root = Path(path)
    if not root.exists():
        raise NoSeriesFoundError(f"{root}: no such file or folder; give a DICOM folder or file.")
    result = ScanResult(root=root)
    headers: list[ImageHeader] = []
    unreadable_by_series: dict[str, list[SkippedFile]] = defaultdict(list)
    for file in candidate_files(root, recursive, limits):
        out = file if isinstance(file, SkippedFile) else read_header(file)
        if isinstance(out, SkippedFile):
            result.skipped.append(out)
        elif isinstance(out, TruncatedImage):
            result.skipped.append(out.skipped)
            unreadable_by_series[out.series_uid].append(out.skipped)
        else:
            headers.extend(out)

    by_uid: dict[str, list[ImageHeader]] = defaultdict(list)
    for h in headers:
        by_uid[h.series_uid].append(h)
    for uid, group in by_uid.items():
        try:
            result.series.extend(
                build_series(uid, group, unreadable_by_series.get(uid, []), tolerance_mm)
            )
        except DicomSeriesError as exc:  # a geometry no grid can hold: say so per file
            result.skipped.extend(
                SkippedFile(h.record.path, ReportCode.UNREADABLE_FILE, str(exc)) for h in group
            )
        except (ValueError, ArithmeticError, IndexError) as exc:
            why = f"the images of series {uid} cannot be stacked ({type(exc).__name__}: {exc})"
            result.skipped.extend(
                SkippedFile(h.record.path, ReportCode.UNREADABLE_FILE, why) for h in group
            )
    result.series.sort(
        key=lambda s: (
            s.study_uid,
            s.series_number if s.series_number is not None else 1 << 30,
            s.series_uid,
            s.stack_index,
        )
    )
    return result

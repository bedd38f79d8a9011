"""A stack without the file whose pixel data failed to decode: the rest of a series still loads.

A file whose header reads but whose compressed pixel data is truncated or damaged is only found
out when it is decoded. :func:`without_undecodable` rebuilds the stack without it, exactly as
if the scan had found it incomplete: the file is listed in ``SeriesInfo.unreadable`` with an
``unreadable_file`` report item, and the slot it leaves is a gap that the loader fills or
interpolates (``warn`` / ``resample``) and reports. :func:`load_leaving_out_undecodable` is
how :func:`~ivcviewer.dicom.load_dicom` loads each stack.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import DicomSeriesError
from ..limits import Limits
from ..report import ReportCode, ValidationMode
from .records import ImageHeader, SkippedFile
from .series import SeriesInfo, build_series
from .stack import SPACING_TOLERANCE_MM

#: Most files of one stack dropped this way before the load gives up with the decoder's error.
MAX_UNDECODABLE = 8

#: Report codes of a split stack that its rebuilt stack keeps.
_SPLIT_CODES = (ReportCode.SERIES_SPLIT, ReportCode.MIXED_ORIENTATION)


def without_undecodable(info: SeriesInfo, err: DicomSeriesError) -> SeriesInfo | None:
    """``info`` without the file ``err`` names (at its start), or ``None`` when it cannot be.

    Parameters
    ----------
    info
        The stack being loaded.
    err
        The error its pixel read raised: ``"<file>: pixel data cannot be decoded: ..."`` (or
        ``"<file>: pixel data ends after ..."`` for an uncompressed file cut since the scan);
        any other error (a missing decoder, an irregular stack) names no file to leave out.

    Returns
    -------
    SeriesInfo or None
        The stack rebuilt from its other images, or ``None`` when ``err`` names no file of the
        stack, no image would be left, or :data:`MAX_UNDECODABLE` files are already dropped.
    """
    text = str(err)
    bad = next((p for p in info.files if text.startswith(f"{p}: pixel data ")), None)
    if bad is None or len(info.unreadable) >= MAX_UNDECODABLE:
        return None
    keep = [r for r in info.images if r.path != bad]
    if not keep:
        return None
    reason = text[len(f"{bad}: ") :].split(". Fix:")[0]
    skipped = SkippedFile(bad, ReportCode.UNREADABLE_FILE, reason)
    headers = [
        ImageHeader(
            record=r,
            series_uid=info.series_uid,
            study_uid=info.study_uid,
            frame_of_reference_uid=info.frame_of_reference_uid,
            modality=info.modality,
            description=info.description,
            series_number=info.series_number,
            patient_id=info.patient_id,
        )
        for r in keep
    ]
    try:
        rebuilt = build_series(
            info.series_uid, headers, [*info.unreadable, skipped], SPACING_TOLERANCE_MM
        )
    except DicomSeriesError:
        return None
    if len(rebuilt) != 1:
        return None
    (rest,) = rebuilt
    rest.stack_label = info.stack_label
    rest.report.items[:0] = [i for i in info.report.items if i.code in _SPLIT_CODES]
    return rest


def load_leaving_out_undecodable(
    load: Callable[..., Any],
    info: SeriesInfo,
    on_irregular: ValidationMode | str,
    workers: int | None,
    limits: Limits | None,
) -> Any:
    """``load(info, ...)`` (:func:`~ivcviewer.dicom.load.load_series`), again without each file
    whose pixel data does not decode, unless ``on_irregular`` is ``raise``.

    Raises
    ------
    DicomSeriesError
        The decoder's error, in ``raise`` mode, when no image would be left, or after
        :data:`MAX_UNDECODABLE` files.
    """
    mode = ValidationMode(on_irregular)
    while True:
        try:
            return load(info, on_irregular=mode, workers=workers, limits=limits)
        except DicomSeriesError as err:
            rest = None if mode is ValidationMode.RAISE else without_undecodable(info, err)
            if rest is None:
                raise
            info = rest

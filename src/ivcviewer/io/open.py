"""One entry point for any input: DICOM (folder, DICOMDIR, file) or a volume file."""

from __future__ import annotations

import importlib
import os
import warnings
from pathlib import Path
from typing import Any

from ..errors import IvcviewerError, NoSeriesFoundError
from ..limits import Limits
from ..report import ReportCode, ReportItem, Severity, ValidationMode
from ..volume import Volume
from .formats import ACCEPTED, path_kind
from .volumes import load_volume


def _dicom_module() -> Any:
    """The DICOM loader package (imported on first use: volume files never need it)."""
    return importlib.import_module("ivcviewer.dicom")


def open_path(
    path: str | os.PathLike[str],
    *,
    series_uid: str | None = None,
    on_irregular: ValidationMode = ValidationMode.RAISE,
    limits: Limits | None = None,
) -> list[Volume]:
    """Open whatever ``path`` holds as a list of volumes (one per series).

    Parameters
    ----------
    path
        A DICOM folder (searched recursively), a DICOMDIR, a single DICOM file (recognised by
        its ``DICM`` preamble, with or without an extension), or a volume file (``.nii``,
        ``.nii.gz``, ``.nrrd``, ``.nhdr``, ``.mha``, ``.mhd``).
    series_uid
        For DICOM: load only this SeriesInstanceUID. Volume files hold one volume and accept
        only ``None`` or ``""``.
    on_irregular
        For DICOM: what to do with gaps, duplicate positions or uneven spacing.
    limits
        For volume files: the memory budget the declared size must fit (default:
        :func:`~ivcviewer.limits.default_limits`).

    Returns
    -------
    list of Volume
        One per series (a volume file gives one). When a DICOM path holds several series and
        some cannot be loaded (irregular under ``RAISE``, no decoder, over the memory budget),
        the others are returned: each returned volume's report names every series left out
        and why (``series_left_out``, the same error a load of that series alone raises), and
        one warning per series left out is issued.

    Raises
    ------
    FileNotFoundError
        When nothing exists at ``path``.
    NoSeriesFoundError
        When ``path`` is not one of the accepted inputs, holds no series, or has no series
        ``series_uid``.
    VolumeFormatError
        For a volume file that is damaged or not what its name says.
    ResourceLimitError
        For a volume file whose header declares more voxels than the memory budget allows.
    """
    p = Path(path)
    mode = ValidationMode(on_irregular)
    kind = path_kind(p)
    if kind == "volume":
        if series_uid:
            raise NoSeriesFoundError(
                f"{p}: a volume file holds one volume with no series UID; --series/series_uid "
                f"{series_uid!r} applies to DICOM input only. Leave it out."
            )
        return [load_volume(p, limits=limits)]
    left_out: list[tuple[Any, IvcviewerError]] = []
    volumes = _dicom_module().load_dicom(
        p, series_uid=series_uid, on_irregular=mode, left_out=left_out
    )
    if not volumes:
        raise NoSeriesFoundError(f"{p}: no image series found. Accepted: {ACCEPTED}.")
    _report_left_out(list(volumes), left_out)
    return list(volumes)


def _report_left_out(volumes: list[Volume], left_out: list[tuple[Any, IvcviewerError]]) -> None:
    """Add a ``series_left_out`` item per series left out to every volume; warn once for each."""
    total = len(volumes) + len(left_out)
    for info, exc in left_out:
        label = f", {info.stack_label}" if info.stack_label else ""
        text = (
            f"series {info.series_uid or '(no SeriesInstanceUID)'}{label} was left out "
            f"({len(volumes)} of {total} series loaded): {exc}"
        )
        item = ReportItem(ReportCode.SERIES_LEFT_OUT, Severity.WARNING, text)
        for vol in volumes:
            vol.report.items.append(item)
        warnings.warn(text, UserWarning, stacklevel=3)

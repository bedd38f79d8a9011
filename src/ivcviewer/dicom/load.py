"""Load a scanned DICOM stack as a :class:`~ivcviewer.volume.Volume` in HU.

The pixels are read into one preallocated array by :mod:`ivcviewer.dicom.fill` (threads for
uncompressed, JPEG 2000 and HTJ2K frames, helper processes for other compressed syntaxes); a
``progress`` callback sees the slices as they are filled, in order along the normal.
Irregular stacks (gaps, duplicates, uneven steps) follow the
:class:`~ivcviewer.report.ValidationMode` argument; a gantry tilt gives a sheared affine, or
an orthogonal resampled grid with ``ValidationMode.RESAMPLE``.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from pathlib import Path

from .._progress import ProgressCallback, default_progress
from ..errors import DicomSeriesError, IvcviewerError, NoSeriesFoundError
from ..failures import cut
from ..limits import MEMORY_BUDGET_ENV, Limits, default_limits
from ..report import GeometryReport, ReportCode, Severity, ValidationMode
from ..volume import ABDOMEN_WINDOW, Volume, VolumeMetadata
from . import pixels
from .fill import read_images, worker_count
from .irregular import SlotLayout, describe_irregularities, regularise, series_folder
from .scan import ScanResult, scan
from .series import SeriesInfo
from .stack import StackGeometry
from .undecodable import load_leaving_out_undecodable


def load_dicom(
    path: Path | str,
    *,
    series_uid: str | None = None,
    on_irregular: ValidationMode = ValidationMode.RAISE,
    workers: int | None = None,
    recursive: bool = True,
    limits: Limits | None = None,
    progress: ProgressCallback | None = None,
    left_out: list[tuple[SeriesInfo, IvcviewerError]] | None = None,
) -> list[Volume]:
    """Scan ``path`` and load every series found (or those of ``series_uid``).

    Parameters
    ----------
    path
        Folder, DICOM file or DICOMDIR.
    series_uid
        Load only the stacks of this SeriesInstanceUID.
    on_irregular
        What to do with gaps, duplicate positions and uneven steps (see :func:`load_series`).
    workers
        Threads/processes for reading and decoding (default: up to 2).
    recursive
        Search sub-folders.
    limits
        Walk bounds and memory budget (default: :func:`~ivcviewer.limits.default_limits`).
    progress
        Called as the images of each stack are read (see :func:`load_series`).
    left_out
        When given, a stack that cannot be loaded (a domain error: irregular under ``RAISE``,
        no decoder, over the memory budget) is appended here with its error and the others are
        still loaded; the error is raised when no stack loads.

    Returns
    -------
    list of Volume
        One per stack, in the order of :func:`scan`. Files left out by the scan are listed in
        each volume's ``metadata.extra["skipped"]``.

    Raises
    ------
    NoSeriesFoundError
        When no image series (or none with ``series_uid``) is found.
    ResourceLimitError
        When a series would need more memory than the budget of ``limits``.
    """
    limits = limits if limits is not None else default_limits()
    result = scan(path, recursive=recursive, limits=limits)
    chosen = result.get(series_uid) if series_uid else result.series
    if not chosen:
        raise NoSeriesFoundError(_no_series_message(path, series_uid, result))
    volumes = []
    failed: list[tuple[SeriesInfo, IvcviewerError]] = []
    for info in chosen:
        try:
            vol = load_scanned(
                result,
                info,
                on_irregular=on_irregular,
                workers=workers,
                limits=limits,
                progress=progress,
            )
        except IvcviewerError as exc:
            if left_out is None:
                raise
            failed.append((info, exc))
            continue
        volumes.append(vol)
    if failed and not volumes:
        raise failed[0][1]
    if left_out is not None:
        left_out.extend(failed)
    return volumes


def load_scanned(
    result: ScanResult,
    info: SeriesInfo,
    *,
    on_irregular: ValidationMode = ValidationMode.RAISE,
    workers: int | None = None,
    limits: Limits | None = None,
    progress: ProgressCallback | None = None,
) -> Volume:
    """Load one stack of a scan as :func:`load_dicom` does: files whose pixel data does not
    decode are left out (see :mod:`~ivcviewer.dicom.undecodable`) and the files the scan left
    out are listed in ``metadata.extra["skipped"]``.

    Raises
    ------
    IvcviewerError
        As :func:`load_series`.
    """
    load = partial(load_series, progress=progress)
    vol = load_leaving_out_undecodable(load, info, on_irregular, workers, limits)
    vol.metadata.extra["skipped"] = [s.to_dict() for s in result.skipped]
    return vol


#: Files left out, and series present, that a "no series found" message names one by one.
_LISTED = 3


def _cut_middle(name: str, chars: int) -> str:
    """``name`` with its middle cut out when longer than ``chars`` (file names differ at the end).

    >>> _cut_middle("CT.1.3.12.2.1107.5.1.4.60064.30000022120808113428000016573", 24)
    'CT.1.3.12....28000016573'
    """
    if len(name) <= chars:
        return name
    head = (chars - 3) // 2
    return f"{name[:head]}...{name[len(name) - (chars - 3 - head) :]}"


def _listing(items: Sequence[str]) -> str:
    """The first few ``items`` joined by "; ", then how many more there are."""
    shown = "; ".join(items[:_LISTED])
    more = len(items) - _LISTED
    return shown + (f"; and {more} more" if more > 0 else "")


def _files_left_out(result: ScanResult) -> str:
    """The files left out by the scan, grouped by reason: the first few, cut short."""
    groups: dict[str, list[str]] = {}
    for skipped in result.skipped:
        groups.setdefault(" ".join(str(skipped.reason).split()), []).append(skipped.path.name)
    shown = list(groups.items())[:_LISTED]
    reason_chars = min(90, 180 // max(len(shown), 1))  # about 200 characters in all
    items = []
    for reason, names in shown:
        others = (
            f" and {len(names) - 1} other file{'s' * (len(names) > 2)}" if len(names) > 1 else ""
        )
        items.append(f"{_cut_middle(names[0], 28)}{others}: {cut(reason, reason_chars)}")
    rest = sum(len(names) for names in list(groups.values())[_LISTED:])
    return "; ".join(items) + (f"; and {rest} more file{'s' * (rest > 1)}" if rest else "")


def _no_series_message(path: Path | str, series_uid: str | None, result: ScanResult) -> str:
    """One line saying that ``path`` holds no (wanted) series, with a few short reasons."""
    what = (
        f"no series with SeriesInstanceUID {cut(series_uid, 70)}"
        if series_uid
        else "no image series"
    )
    found = _listing([cut(s.series_uid, 70) for s in result.series]) or "none"
    left_out = _files_left_out(result)
    if series_uid and result.series:
        fix = "pick a SeriesInstanceUID the input holds"
    elif left_out:
        fix = "repair or remove the files left out, or point to another CT series"
    else:
        fix = "point to a folder holding a CT series"
    return (
        f"{path}: {what} found (series present: {found}"
        + (f"; files left out: {left_out}" if left_out else "")
        + f"). Fix: {fix}."
    )


def load_series(
    info: SeriesInfo,
    *,
    on_irregular: ValidationMode = ValidationMode.RAISE,
    workers: int | None = None,
    limits: Limits | None = None,
    progress: ProgressCallback | None = None,
) -> Volume:
    """Read the pixels of a scanned stack and return its HU volume with a geometry report.

    Parameters
    ----------
    info
        One stack from :func:`~ivcviewer.dicom.scan`.
    on_irregular
        ``RAISE``: refuse a stack with missing slices, duplicate positions, uneven steps or
        unreadable files (:class:`~ivcviewer.errors.DicomSeriesError` naming the files).
        ``WARN``: build the volume and say what is wrong: gaps become slices filled with the
        volume's minimum (listed in ``metadata.extra["filled_slices"]``), one image of each
        duplicate group is kept (the others named), uneven steps are placed on the uniform
        mean-step grid (the largest offset is reported). ``RESAMPLE``: interpolate linearly
        onto a regular grid along the normal (duplicates averaged) and, for a gantry tilt, onto
        an orthogonal grid; reported as ``resampled``.
    workers
        Threads (uncompressed) or processes (compressed) used to read the frames.
    limits
        The memory budget the volume must fit (default: :func:`~ivcviewer.limits.default_limits`).
    progress
        Called with a :class:`~ivcviewer._progress.LoadProgress` after each image (or file) is
        read, from the calling thread except for frames decoded by helper processes (then from
        the thread that collected them, one call at a time). Default: the callback of an
        enclosing :func:`~ivcviewer._progress.reporting_progress` block, if any.

    Returns
    -------
    Volume
        HU values ``(slice, row, col)``, int16 where they fit else float32; slices ordered
        along the image-plane normal.
    """
    mode = ValidationMode(on_irregular)
    g = _checked_stack(info, mode)
    slots = SlotLayout.of(g)
    limits = limits if limits is not None else default_limits()
    _check_memory(info, slots.n_rows, worker_count(workers), limits)
    array, rescaled = read_images(
        [info.images[i] for i in slots.load_order],
        slots.target_rows,
        slots.n_rows,
        info,
        workers,
        progress if progress is not None else default_progress(),
    )
    report = GeometryReport(list(info.report.items))
    metadata = series_metadata(info, rescaled=rescaled)
    if rescaled:
        slopes = {r.rescale for r in info.images if r.rescale is not None}
        text = ", ".join(f"slope {s:g}, intercept {b:g}" for s, b in sorted(slopes)[:3])
        report.add(
            ReportCode.RESCALE_APPLIED, Severity.INFO, f"HU = stored x slope + intercept ({text})."
        )

    array, affine = regularise(array, info, slots, mode, metadata, report, limits)
    if info.mosaic is not None:  # one mosaic image read: its tiles are the slices
        array = info.mosaic.unpack(array[0])
    return Volume(array, affine, metadata=metadata, report=report)


def _checked_stack(info: SeriesInfo, mode: ValidationMode) -> StackGeometry:
    """The stack's geometry, once it is known to load under ``mode`` with a decoder at hand.

    Raises
    ------
    DicomSeriesError
        For a stack without images, colour images, or (``RAISE``) an irregular stack.
    MissingDecoderError
        When the pixel data's decoder is not installed.
    """
    g = info.stack
    if g is None or not info.images:
        raise DicomSeriesError(f"Series {info.series_uid}: the stack holds no images.")
    fmt = info.pixel_format
    if fmt.samples_per_pixel != 1:
        raise DicomSeriesError(
            f"Series {info.series_uid} ({info.files[0]}): SamplesPerPixel "
            f"{fmt.samples_per_pixel} ({fmt.photometric}); only greyscale images make a volume."
        )
    problems = describe_irregularities(info)
    if problems and mode is ValidationMode.RAISE:
        raise DicomSeriesError(
            f"{series_folder(info)}: series {info.series_uid} "
            f"({cut(info.description or 'no description', 64)}) cannot be loaded as a regular "
            "volume: "
            + " ".join(problems)
            + " Fix: load with --on-irregular warn (on_irregular 'warn' in Python) to build a "
            "uniform grid with the problems reported, or 'resample' to interpolate onto one."
        )
    pixels.check_decoder(fmt.transfer_syntax, info.files[0])
    return g


def _check_memory(info: SeriesInfo, n_rows: int, n_workers: int, limits: Limits) -> None:
    """Refuse a stack whose array (and one decoded frame per worker) is over the memory budget.

    Raises
    ------
    ResourceLimitError
        Naming the first file, the declared sizes and the bytes they need.
    """
    fmt = info.pixel_format
    integral = all(
        r.rescale is None or (float(r.rescale[0]).is_integer() and float(r.rescale[1]).is_integer())
        for r in info.images
    )
    itemsize = 2 if integral and fmt.bits_allocated <= 16 else 4
    frame_bytes = fmt.rows * fmt.columns * fmt.samples_per_pixel * max(1, fmt.bits_allocated // 8)
    needed = n_rows * fmt.rows * fmt.columns * itemsize + (
        n_workers * frame_bytes if fmt.compressed else 0
    )
    limits.check_allocation(
        needed,
        f"{info.files[0]}: series {info.series_uid} of {n_rows} slice(s) of "
        f"{fmt.rows} x {fmt.columns} pixels ({fmt.bits_allocated} bit)",
        fix=(
            "check Rows, Columns and NumberOfFrames in the header (they may be damaged), or "
            f"raise the budget with {MEMORY_BUDGET_ENV} if the series is that large."
        ),
    )


def series_metadata(info: SeriesInfo, *, rescaled: bool = False) -> VolumeMetadata:
    """Provenance of a volume loaded from ``info`` (``rescaled``: HU from RescaleSlope/Intercept).

    The volume's window is the series' own, else :data:`~ivcviewer.volume.ABDOMEN_WINDOW`.
    """
    return VolumeMetadata(
        modality=info.modality,
        description=info.description,
        series_uid=info.series_uid,
        study_uid=info.study_uid,
        frame_of_reference_uid=info.frame_of_reference_uid,
        patient_id=info.patient_id,
        window=info.window if info.window is not None else ABDOMEN_WINDOW,
        source_files=list(info.files),
        source="dicom",
        rescale_applied=rescaled,
        extra={
            "transfer_syntax": info.pixel_format.transfer_syntax,
            "stack_label": info.stack_label,
            "sop_class_uid": info.sop_class_uid,
        },
    )

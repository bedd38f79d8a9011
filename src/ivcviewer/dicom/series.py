"""Group image headers into series: split a SeriesInstanceUID into stacks, describe each.

One SeriesInstanceUID may hold several stacks (orientations, matrix sizes, image types, echoes,
phases, acquisitions, mosaics; see :mod:`~ivcviewer.dicom.split`); :func:`build_series` splits
them and describes each stack as a :class:`SeriesInfo`: its images sorted along the normal, its
grid (shape, spacing, affine) and a geometry report of what is wrong with it (gaps, duplicates,
uneven steps, tilt, no rescale).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pydicom import uid as pduid

from .. import geometry
from ..errors import DicomSeriesError, GeometryError
from ..report import GeometryReport, ReportCode, ReportItem, Severity
from .mosaic import MosaicLayout
from .records import ImageHeader, ImageRecord, PixelFormat, SkippedFile
from .split import SplitPart, split_stacks, split_summary
from .stack import StackGeometry, analyse_stack


@dataclass
class SeriesInfo:
    """One stack of parallel images that loads as one volume.

    ``files`` are sorted along the slice normal; ``shape``, ``spacing_mm`` and ``affine``
    describe the stack as stored (gaps count as slices of the regular grid; duplicates once).
    A stack split off a SeriesInstanceUID has its ``stack_index`` among the UID's stacks and
    its ``description`` ends with what sets it apart (``(echo 2)``). A ``mosaic`` stack is one
    vendor mosaic image whose tiles are the slices: ``shape`` and ``affine`` are those of the
    unpacked slices.
    """

    series_uid: str
    modality: str
    description: str
    files: list[Path]
    n_images: int
    shape: tuple[int, int, int]
    spacing_mm: tuple[float, float, float]
    affine: NDArray[np.float64]
    report: GeometryReport
    window: tuple[float, float] | None
    study_uid: str = ""
    frame_of_reference_uid: str = ""
    patient_id: str = ""
    series_number: int | None = None
    sop_class_uid: str = ""
    stack_label: str = ""
    stack_index: int = 0
    mosaic: MosaicLayout | None = None
    images: list[ImageRecord] = field(default_factory=list, repr=False)
    stack: StackGeometry | None = field(default=None, repr=False)
    unreadable: list[SkippedFile] = field(default_factory=list)

    @property
    def grid(self) -> geometry.Grid:
        """The stack's voxel grid (shape and affine) as stored."""
        return geometry.Grid(self.shape, self.affine)

    @property
    def pixel_format(self) -> PixelFormat:
        """The stack's pixel encoding (that of its first image)."""
        return self.images[0].pixel_format

    def to_dict(self) -> dict[str, Any]:
        """JSON form used by ``ivcviewer info --json``."""
        return {
            "series_uid": self.series_uid,
            "modality": self.modality,
            "description": self.description,
            "stack_label": self.stack_label,
            "n_images": self.n_images,
            "shape": list(self.shape),
            "spacing_mm": [float(v) for v in self.spacing_mm],
            "affine_lps": self.affine.tolist(),
            "window": list(self.window) if self.window else None,
            "transfer_syntax": self.pixel_format.transfer_syntax,
            "report": self.report.to_list(),
        }


def build_series(
    uid: str, headers: list[ImageHeader], unreadable: list[SkippedFile], tolerance_mm: float
) -> list[SeriesInfo]:
    """Split the images of one SeriesInstanceUID into stacks and describe each.

    Parameters
    ----------
    uid
        The SeriesInstanceUID.
    headers
        Its images.
    unreadable
        Its files whose pixel data is incomplete: every stack reports them (``unreadable_file``)
        and lists them in ``SeriesInfo.unreadable``.
    tolerance_mm
        Position tolerance of the stack checks.

    Returns
    -------
    list of SeriesInfo
        One per stack; a split stack carries a ``stack_label`` saying what sets it apart and a
        ``series_split`` report item (and ``mixed_orientation`` when orientations differ).

    Raises
    ------
    DicomSeriesError
        When a stack's geometry cannot make a voxel grid.
    """
    stacks = split_stacks(headers)
    summary = split_summary([parts for _, parts in stacks])
    out = []
    for i, (group, parts) in enumerate(stacks):
        info = _stack_info(uid, group, tolerance_mm)
        info.stack_index = i
        if len(stacks) > 1:
            info.stack_label = f"stack {i + 1} of {len(stacks)}: " + ", ".join(
                p.long for p in parts
            )
            what = ", ".join(p.short for p in parts)
            info.description = f"{info.description} ({what})" if info.description else what
            info.report.items[:0] = _split_items(uid, info, len(stacks), parts, summary)
        if unreadable:
            info.unreadable = list(unreadable)
            info.report.items.append(_unreadable_item(unreadable))
        out.append(info)
    return out


def _split_items(
    uid: str, info: SeriesInfo, n_stacks: int, parts: list[SplitPart], summary: str
) -> list[ReportItem]:
    """Report items saying that a SeriesInstanceUID was split, and why."""
    items = [
        ReportItem(
            ReportCode.SERIES_SPLIT,
            Severity.INFO,
            f"SeriesInstanceUID {uid} holds {n_stacks} stacks ({summary}); this one is "
            f"{info.stack_label} ({info.n_images} images).",
        )
    ]
    if any(p.attribute == "orientation" for p in parts):
        items.append(
            ReportItem(
                ReportCode.MIXED_ORIENTATION,
                Severity.WARNING,
                f"SeriesInstanceUID {uid} mixes image orientations; each orientation "
                "was loaded as its own stack.",
            )
        )
    return items


def _unreadable_item(unreadable: list[SkippedFile]) -> ReportItem:
    """The report item naming a series' files whose pixel data is incomplete."""
    names = ", ".join(str(s.path) for s in unreadable[:5])
    more = f" and {len(unreadable) - 5} more" if len(unreadable) > 5 else ""
    return ReportItem(
        ReportCode.UNREADABLE_FILE,
        Severity.ERROR,
        f"{len(unreadable)} file(s) of this series cannot be read and are left out: "
        f"{names}{more} ({unreadable[0].reason}).",
    )


def _stack_info(uid: str, headers: list[ImageHeader], tolerance_mm: float) -> SeriesInfo:
    """Sort one stack along its normal and describe its grid and what is wrong with it."""
    if len(headers) == 1 and headers[0].record.mosaic is not None:
        return _mosaic_info(uid, headers[0], tolerance_mm)
    headers = sorted(
        headers, key=lambda h: (h.record.instance_number, str(h.record.path), h.record.frame)
    )
    records = [h.record for h in headers]
    first = headers[0]
    iop = tuple(np.mean([r.orientation for r in records], axis=0))
    positions = np.array([r.position for r in records])
    g = analyse_stack(positions, iop, tolerance_mm)
    images = [records[i] for i in g.order]
    slice_vector, single_slice = _slice_vector(g, images[0])
    first_image = images[0]
    try:
        affine = geometry.affine_from_dicom(
            iop, first_image.position, first_image.pixel_spacing, [float(v) for v in slice_vector]
        )
    except GeometryError as exc:
        raise DicomSeriesError(
            "a zero spacing or parallel axes in the slice geometry give no volume grid "
            f"(series {uid or '(no SeriesInstanceUID)'}, {first_image.path}; {exc})"
        ) from exc
    report = GeometryReport(
        single_slice + _grid_items(g, images, tolerance_mm) + _value_items(first.modality, images)
    )
    fmt = first_image.pixel_format
    return _info(
        uid,
        first,
        images,
        g,
        shape=(max(g.n_slots, 1), fmt.rows, fmt.columns),
        slice_step_mm=float(np.linalg.norm(slice_vector)),
        affine=affine,
        report=report,
    )


def _mosaic_info(uid: str, header: ImageHeader, tolerance_mm: float) -> SeriesInfo:
    """Describe one vendor mosaic image as the stack of its tiles."""
    r = header.record
    layout = r.mosaic
    if layout is None:
        raise DicomSeriesError(f"{r.path}: internal error, the image is no mosaic.")
    g = analyse_stack([r.position], r.orientation, tolerance_mm)
    item = ReportItem(ReportCode.MOSAIC, Severity.INFO, layout.describe())
    report = GeometryReport(
        [item, *_grid_items(g, [r], tolerance_mm), *_value_items(header.modality, [r])]
    )
    return _info(
        uid,
        header,
        [r],
        g,
        shape=(layout.n_slices, layout.tile_rows, layout.tile_cols),
        slice_step_mm=layout.step_mm,
        affine=layout.affine(r.orientation, r.position, r.pixel_spacing),
        report=report,
        mosaic=layout,
    )


def _info(
    uid: str,
    first: ImageHeader,
    images: list[ImageRecord],
    g: StackGeometry,
    *,
    shape: tuple[int, int, int],
    slice_step_mm: float,
    affine: NDArray[np.float64],
    report: GeometryReport,
    mosaic: MosaicLayout | None = None,
) -> SeriesInfo:
    """The :class:`SeriesInfo` of a described stack whose first header is ``first``."""
    row_sp, col_sp = images[0].pixel_spacing
    return SeriesInfo(
        series_uid=uid,
        modality=first.modality,
        description=first.description,
        files=list(dict.fromkeys(r.path for r in images)),
        n_images=len(images),
        shape=shape,
        spacing_mm=(slice_step_mm, float(row_sp), float(col_sp)),
        affine=affine,
        report=report,
        window=next((r.window for r in images if r.window is not None), None),
        study_uid=first.study_uid,
        frame_of_reference_uid=first.frame_of_reference_uid,
        patient_id=first.patient_id,
        series_number=first.series_number,
        sop_class_uid=images[0].sop_class_uid,
        mosaic=mosaic,
        images=images,
        stack=g,
    )


def _slice_vector(
    g: StackGeometry, first_image: ImageRecord
) -> tuple[NDArray[np.float64], list[ReportItem]]:
    """The step between slices in LPS mm; for a single slice, its thickness along the normal.

    The list holds the ``single_slice`` item of a stack with one position (else it is empty).
    """
    if len(g.unique) != 1:
        return g.slice_vector, []
    thickness = first_image.slice_thickness
    step = float(thickness) if thickness and thickness > 0 else 1.0
    item = ReportItem(
        ReportCode.SINGLE_SLICE,
        Severity.INFO,
        f"one slice position; SliceThickness {thickness} mm used as spacing ({step} mm)."
        if thickness
        else "one slice position and no SliceThickness: 1 mm used as spacing.",
    )
    return g.normal * step, [item]


def _grid_items(
    g: StackGeometry, images: list[ImageRecord], tolerance_mm: float
) -> list[ReportItem]:
    """Duplicates, gaps, irregular steps, gantry tilt and obliquity of an analysed stack."""
    items = []
    for grp in g.duplicates:
        names = ", ".join(images[i].describe() for i in grp)
        items.append(
            ReportItem(
                ReportCode.DUPLICATE_POSITIONS,
                Severity.WARNING,
                f"{len(grp)} images share the position {g.distances[grp[0]]:.3f} mm along the "
                f"normal: {names}.",
            )
        )
    if g.missing_slots:
        items.append(
            ReportItem(
                ReportCode.MISSING_SLICES,
                Severity.WARNING,
                f"{len(g.missing_slots)} slice(s) missing from a {g.step_mm:.4g} mm grid of "
                f"{g.n_slots} (grid indices {g.missing_slots[:20]}); the gap follows "
                f"{_gap_neighbours(g, images)}.",
            )
        )
    if g.irregular:
        items.append(_irregular_item(g, images, tolerance_mm))
    if g.tilted:
        items.append(
            ReportItem(
                ReportCode.GANTRY_TILT,
                Severity.WARNING,
                f"the stack is tilted {g.tilt_deg:.2f} degrees from the image-plane normal "
                "(gantry tilt): the affine is sheared (resample to get an orthogonal grid).",
            )
        )
    if abs(np.max(np.abs(g.normal))) < 0.99:
        items.append(
            ReportItem(
                ReportCode.OBLIQUE,
                Severity.INFO,
                f"the image plane is oblique (normal {np.round(g.normal, 4).tolist()} LPS).",
            )
        )
    return items


def _irregular_item(g: StackGeometry, images: list[ImageRecord], tolerance_mm: float) -> ReportItem:
    """The ``irregular_spacing`` item: the range of steps and where they first go wrong."""
    d = g.distances[g.unique]
    steps = np.diff(d)
    first_odd = int(g.unique[_first_odd(steps, tolerance_mm)])
    return ReportItem(
        ReportCode.IRREGULAR_SPACING,
        Severity.WARNING,
        f"the steps between slices vary from {steps.min():.4g} to {steps.max():.4g} mm "
        f"(tolerance {tolerance_mm} mm; mean {g.step_mm:.4g} mm; largest offset from a "
        f"uniform grid {g.max_deviation_mm:.3g} mm)"
        + (", and the positions do not lie on one line" if g.off_line else "")
        + f"; first irregular step after {images[first_odd].describe()}.",
    )


def _value_items(modality: str, images: list[ImageRecord]) -> list[ReportItem]:
    """What the stack says about its values: modality, rescale, window, compression."""
    items = []
    if modality != "CT":
        items.append(
            ReportItem(
                ReportCode.NOT_CT,
                Severity.WARNING,
                f"modality is {modality or 'missing'}: values may not be HU.",
            )
        )
    without_rescale = [r for r in images if r.rescale is None]
    if modality == "CT" and without_rescale:
        items.append(
            ReportItem(
                ReportCode.NO_RESCALE,
                Severity.WARNING,
                f"{len(without_rescale)} of {len(images)} images have no "
                "RescaleSlope/RescaleIntercept: stored values taken as HU "
                f"(e.g. {without_rescale[0].path}).",
            )
        )
    if all(r.window is None for r in images):
        items.append(
            ReportItem(
                ReportCode.DEFAULT_WINDOW,
                Severity.INFO,
                "no window in the series: abdomen 400/40 used.",
            )
        )
    fmt = images[0].pixel_format
    if fmt.compressed:
        items.append(
            ReportItem(
                ReportCode.COMPRESSED,
                Severity.INFO,
                f"pixel data compressed with {pduid.UID(fmt.transfer_syntax).name}.",
            )
        )
    return items


def _first_odd(steps: NDArray[np.float64], tolerance_mm: float) -> int:
    """Index of the first step that differs from the first one."""
    odd = np.flatnonzero(np.abs(steps - steps[0]) > tolerance_mm)
    return int(odd[0]) if len(odd) else 0


def _gap_neighbours(g: StackGeometry, images: list[ImageRecord]) -> str:
    """The images after which a regular grid has gaps (at most five)."""
    if g.slots is None:
        return "an irregular step"
    jumps = np.flatnonzero(np.diff(g.slots) > 1)
    return "; ".join(images[int(g.unique[j])].describe() for j in jumps[:5])

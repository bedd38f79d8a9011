"""Irregular stacks: what is wrong with them, and how ``WARN`` and ``RESAMPLE`` mend them.

A stack is read through its :class:`SlotLayout`: one row per slot of its regular grid (gaps
left unfilled) and, after them, one row per extra image at a duplicated position.
:func:`regularise` then keeps or averages the duplicates, fills the gaps, puts uneven steps on
a regular grid and removes a gantry tilt, as the :class:`~ivcviewer.report.ValidationMode`
asks, and reports each step. Tilted or unevenly spaced stacks are resampled physically onto an
orthogonal grid that holds every source voxel (:mod:`~ivcviewer.dicom.orthogonal`).
:func:`describe_irregularities` gives the sentences of the error raised under ``RAISE``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..limits import Limits, default_limits
from ..report import GeometryReport, ReportCode, Severity, ValidationMode
from ..volume import VolumeMetadata
from .orthogonal import OrthogonalGrid, grid_size, orthogonal_grid, resample_onto
from .series import SeriesInfo
from .stack import SPACING_TOLERANCE_MM, StackGeometry


def regularise(
    array: NDArray[Any],
    info: SeriesInfo,
    slots: SlotLayout,
    mode: ValidationMode,
    metadata: VolumeMetadata,
    report: GeometryReport,
    limits: Limits | None = None,
) -> tuple[NDArray[Any], NDArray[np.float64]]:
    """Mend the duplicates, gaps, uneven steps and tilt of a stack read with ``slots``.

    Parameters
    ----------
    array
        The stack as read: ``slots.n_rows`` rows (the grid, then the extra duplicates).
    info
        The scanned stack (its images, geometry and affine).
    slots
        Where each image was read to.
    mode
        ``WARN``: keep one image per duplicate position, fill gaps with the volume's minimum,
        leave uneven steps on the mean-step grid and a tilt as a sheared affine. ``RESAMPLE``:
        average differing duplicates and interpolate gaps linearly; a tilted or unevenly
        spaced stack is resampled onto an orthogonal grid extended to hold every source voxel
        (bilinear in each slice's plane, linear along the normal by physical distance).
    metadata
        Receives ``filled_slices`` and ``slice_positions_mm`` in its ``extra``.
    report
        Receives one item per step taken.
    limits
        The memory budget a resampled array must fit (default:
        :func:`~ivcviewer.limits.default_limits`).

    Returns
    -------
    tuple
        The array on the regular grid (a view of ``array`` when nothing was resampled) and
        its affine.
    """
    affine = info.affine.copy()
    g = info.stack
    if g is None:
        return array, affine
    main = array[: slots.n_slots]
    if g.duplicates:
        _resolve_duplicates(
            info, main, array, g.duplicates, slots.first_of_slot, slots.extra_rows, mode, report
        )
    array = main  # the rows after n_slots held the extra duplicates (a view: no copy)
    physical = mode is ValidationMode.RESAMPLE and (g.tilted or g.irregular)
    if g.missing_slots and not physical:
        _fill_gaps(array, g, slots, mode, metadata, report)
    if g.irregular:
        d = g.distances[g.unique]
        metadata.extra["slice_positions_mm"] = [float(v) for v in d - d[0]]
    if physical:
        array, affine = _resample_physically(array, info, g, slots, report, limits)
    return array, affine


def _mm(value: float, fmt: str = ".3f") -> str:
    """A distance in mm as ``fmt`` gives it, or in 4 significant digits when absurdly large.

    >>> _mm(12.5), _mm(1e308), _mm(float("inf"))
    ('12.500', '1e+308', 'inf')
    """
    return format(value, fmt) if abs(value) < 1e6 else format(value, ".4g")


def series_folder(info: SeriesInfo) -> Path:
    """The folder holding every file of ``info`` (the file itself for a one-file series)."""
    if not info.files:
        return Path()
    return Path(os.path.commonpath([str(f) for f in info.files]))


def describe_irregularities(info: SeriesInfo) -> list[str]:
    """Sentences naming what makes a stack irregular (empty when regular).

    Files are named relative to :func:`series_folder`, which a message names first.
    """
    g = info.stack
    out: list[str] = []
    if g is None:
        return out
    folder = series_folder(info)

    def name(index: int) -> str:
        image = info.images[int(index)]
        path = image.path
        shown = path.relative_to(folder) if path != folder and folder in path.parents else path
        return str(shown) + (f" frame {image.frame + 1}" if image.n_frames > 1 else "")

    for grp in g.duplicates[:3]:
        names = ", ".join(name(i) for i in grp[:4]) + (
            f" and {len(grp) - 4} more" if len(grp) > 4 else ""
        )
        out.append(f"Duplicate position {_mm(g.distances[grp[0]])} mm along the normal: {names}.")
    if len(g.duplicates) > 3:
        out.append(f"({len(g.duplicates) - 3} more duplicate groups.)")
    if g.missing_slots and g.slots is not None:
        jumps = np.flatnonzero(np.diff(g.slots) > 1)[:3]
        where = "; ".join(f"between {name(g.unique[j])} and {name(g.unique[j + 1])}" for j in jumps)
        out.append(
            f"{len(g.missing_slots)} slice(s) missing from the {_mm(g.step_mm, '.4g')} mm grid "
            f"({where})."
        )
    if g.irregular:
        d = g.distances[g.unique]
        steps = np.diff(d)
        odd = int(np.argmax(np.abs(steps - np.median(steps))))
        out.append(
            f"Uneven steps between slices ({steps.min():.4g} to {steps.max():.4g} mm, "
            f"tolerance {SPACING_TOLERANCE_MM} mm), e.g. {steps[odd]:.4g} mm between "
            f"{name(g.unique[odd])} and {name(g.unique[odd + 1])}"
            + ("; the positions do not lie on one line." if g.off_line else ".")
        )
    if info.unreadable:
        out.append(
            f"{len(info.unreadable)} file(s) cannot be read: "
            + "; ".join(f"{s.path.name} ({s.reason})" for s in info.unreadable[:3])
            + "."
        )
    return out


@dataclass(frozen=True)
class SlotLayout:
    """Which image fills each slot of the regular grid, and where duplicates are read to.

    The array is read with ``n_rows`` rows: the ``n_slots`` slots of the grid (gaps stay
    unfilled), then one extra row per duplicate image beyond the first at its position.
    """

    present_slots: list[int]
    """Grid slot of each distinct position, in order along the normal."""
    n_slots: int
    first_of_slot: dict[int, int]
    """Slot -> index (into the sorted images) of the first image at that slot."""
    extra_rows: dict[int, int]
    """Image index of each extra duplicate -> its row after the grid."""
    load_order: list[int]
    target_rows: list[int]

    @property
    def n_rows(self) -> int:
        """Rows to read: the grid, then the extra duplicates."""
        return self.n_slots + len(self.extra_rows)

    @classmethod
    def of(cls, g: StackGeometry) -> SlotLayout:
        """The layout of an analysed stack."""
        slots = g.slots if g.slots is not None else np.arange(len(g.unique))
        n_slots = int(slots[-1]) + 1 if len(slots) else 1
        first_of_slot = {int(s): int(u) for s, u in zip(slots, g.unique, strict=True)}
        extra_images = [i for grp in g.duplicates for i in grp[1:]]
        present = sorted(first_of_slot)
        return cls(
            present_slots=[int(s) for s in slots],
            n_slots=n_slots,
            first_of_slot=first_of_slot,
            extra_rows={img: n_slots + j for j, img in enumerate(extra_images)},
            load_order=[first_of_slot[s] for s in present] + extra_images,
            target_rows=present + list(range(n_slots, n_slots + len(extra_images))),
        )


def _fill_gaps(
    array: NDArray[Any],
    g: StackGeometry,
    slots: SlotLayout,
    mode: ValidationMode,
    metadata: VolumeMetadata,
    report: GeometryReport,
) -> None:
    """Fill the missing slices in place: interpolated (RESAMPLE) or the minimum (WARN)."""
    if mode is ValidationMode.RESAMPLE:
        _interpolate_gaps(array, slots.present_slots)
        report.add(
            ReportCode.RESAMPLED,
            Severity.WARNING,
            f"missing slice(s) at grid indices {g.missing_slots[:20]} interpolated linearly "
            "from their neighbours.",
        )
        return
    present = sorted(slots.first_of_slot)
    fill = array[present].min() if array.size else 0
    array[g.missing_slots] = fill
    metadata.extra["filled_slices"] = list(g.missing_slots)
    report.add(
        ReportCode.MISSING_SLICES,
        Severity.WARNING,
        f"slices {g.missing_slots[:20]} hold no image and are filled with {fill} "
        "(the volume's minimum).",
    )


def _resolve_duplicates(
    info: SeriesInfo,
    main: NDArray[Any],
    array: NDArray[Any],
    groups: list[list[int]],
    first_of_slot: dict[int, int],
    extra_rows: dict[int, int],
    mode: ValidationMode,
    report: GeometryReport,
) -> None:
    """Keep (WARN) or average (RESAMPLE) the images of each duplicate group, saying which."""
    slot_of_image = {img: slot for slot, img in first_of_slot.items()}
    for grp in groups:
        kept = grp[0]
        slot = slot_of_image[kept]
        others = [extra_rows[i] for i in grp[1:]]
        identical = all(np.array_equal(main[slot], array[row]) for row in others)
        names = ", ".join(info.images[i].describe() for i in grp[1:])
        if identical:
            report.add(
                ReportCode.DUPLICATE_POSITIONS,
                Severity.WARNING,
                f"{info.images[kept].describe()} kept; {names} at the same position hold identical "
                "pixel values and were left out.",
            )
        elif mode is ValidationMode.RESAMPLE:
            stack = np.stack([main[slot]] + [array[row] for row in others]).astype(np.float64)
            avg = stack.mean(axis=0)
            main[slot] = np.rint(avg) if main.dtype == np.int16 else avg
            report.add(
                ReportCode.RESAMPLED,
                Severity.WARNING,
                f"{len(grp)} different images at one position averaged: "
                f"{info.images[kept].describe()}, {names}.",
            )
        else:
            report.add(
                ReportCode.DUPLICATE_POSITIONS,
                Severity.WARNING,
                f"{info.images[kept].describe()} kept (lowest InstanceNumber); {names} at the same "
                "position hold different pixel values and were left out.",
            )


def _interpolate_gaps(array: NDArray[Any], present_slots: list[int]) -> None:
    """Fill the slots between present ones by linear interpolation, in place."""
    for a, b in zip(present_slots[:-1], present_slots[1:], strict=True):
        if b - a < 2:
            continue
        lo = array[a].astype(np.float32)
        hi = array[b].astype(np.float32)
        for k in range(a + 1, b):
            w = (k - a) / (b - a)
            val = (1 - w) * lo + w * hi
            array[k] = np.rint(val) if array.dtype == np.int16 else val


def _resample_physically(
    array: NDArray[Any],
    info: SeriesInfo,
    g: StackGeometry,
    slots: SlotLayout,
    report: GeometryReport,
    limits: Limits | None,
) -> tuple[NDArray[Any], NDArray[np.float64]]:
    """Resample a tilted, unevenly spaced or gapped stack onto an orthogonal grid holding it.

    Each present slice is placed by its own ImagePositionPatient; see
    :mod:`~ivcviewer.dicom.orthogonal` for the interpolation.
    """
    present = slots.present_slots
    positions = np.array([info.images[slots.first_of_slot[s]].position for s in present])
    d = g.distances[g.unique]
    step = g.step_mm if not g.irregular else _even_step(d - d[0])
    steps = (info.affine[:3, 1], info.affine[:3, 2])
    rows_cols = (int(array.shape[1]), int(array.shape[2]))
    lateral = g.tilted or g.off_line
    n, r, c = grid_size(positions, steps, rows_cols, step, lateral)
    nbytes = n * r * c * array.dtype.itemsize
    what = "unevenly spaced slices" if g.irregular else "slices"
    (limits or default_limits()).check_allocation(
        int(nbytes) if np.isfinite(nbytes) and nbytes < 2.0**62 else 2**62,
        f"resampling {len(d)} {what} onto an orthogonal {step:.4g} mm grid of {n:,.4g} x "
        f"{r:,.4g} x {c:,.4g} voxels",
        fix="check ImagePositionPatient of the series (a position may be damaged), or load "
        "with on_irregular 'warn' to keep the slices as they are.",
    )
    grid = orthogonal_grid(positions, steps, rows_cols, step, lateral)
    fill = min(float(array[s].min()) for s in present) if array.size else 0.0
    out = resample_onto(array, grid, fill, rows=present)
    _report_resampling(report, g, grid, len(d), slots.n_slots, fill)
    return out, grid.affine


def _even_step(t: NDArray[np.float64]) -> float:
    """The step of the regular grid for slices at distances ``t`` (from 0, sorted).

    The median step, shortened so that a whole number of steps spans the stack: the grid's
    first and last slices are the stack's, and no step is longer than the median.

    >>> _even_step(np.array([0.0, 2.0, 4.0, 7.0, 9.0, 11.0]))  # 6 steps of 11/6 mm
    1.8333333333333333
    """
    median = float(np.median(np.diff(t)))
    with np.errstate(all="ignore"):
        intervals = float(np.ceil(t[-1] / median - 1e-6))
    if not np.isfinite(intervals) or intervals > 2.0**53:
        return median  # absurd positions: the memory budget refuses the grid
    return float(t[-1] / max(1.0, intervals))


def _report_resampling(
    report: GeometryReport,
    g: StackGeometry,
    grid: OrthogonalGrid,
    n_source: int,
    n_slots: int,
    fill: float,
) -> None:
    """The ``resampled`` items of a physical resampling; ``grid_extended`` when the grid grew."""
    how = (
        "each slice sampled at the target point's own in-plane position (bilinear), then the "
        "two slices bracketing it blended by their distances along the normal"
    )
    if g.irregular:
        steps = np.diff(grid.distances_mm)
        report.add(
            ReportCode.RESAMPLED,
            Severity.WARNING,
            f"{n_source} unevenly spaced slices ({steps.min():.4g} to {steps.max():.4g} mm apart) "
            f"interpolated onto a regular {grid.step_mm:.4g} mm grid of {grid.shape[0]} slices "
            f"({how}).",
        )
    if g.missing_slots:
        report.add(
            ReportCode.RESAMPLED,
            Severity.WARNING,
            f"missing slice(s) at grid indices {g.missing_slots[:20]} interpolated along the "
            f"normal from their neighbours ({how}).",
        )
    if g.tilted:
        report.add(
            ReportCode.RESAMPLED,
            Severity.WARNING,
            f"the {g.tilt_deg:.2f} degree gantry tilt was removed by resampling onto an "
            f"orthogonal grid ({how}); points outside the source slices hold {fill:g} (the "
            "stack's lowest value: its air or padding).",
        )
    before, after = grid.added_before, grid.added_after
    if any(before) or any(after):
        rows_cols = grid.source_rows_cols
        spacing = np.linalg.norm(grid.affine[:3, 1:3], axis=0)
        parts = [
            f"{b} {name}(s) before the first and {a} after the last ({(a + b) * sp:.4g} mm)"
            for name, b, a, sp in zip(("row", "column"), before, after, spacing, strict=True)
            if a or b
        ]
        shift = ", ".join(f"{v:.4g}" for v in grid.origin_shift_mm)
        report.add(
            ReportCode.GRID_EXTENDED,
            Severity.WARNING,
            f"the grid was extended from {n_slots} x {rows_cols[0]} x {rows_cols[1]} to "
            f"{' x '.join(str(v) for v in grid.shape)} (slice, row, col) so that every source "
            f"voxel is inside it: {'; '.join(parts)}; voxel (0, 0, 0) moved by ({shift}) mm "
            "LPS from the first slice's first pixel.",
        )

"""Irregular stacks: what is wrong with them, and how ``WARN`` and ``RESAMPLE`` mend them.

A stack is read through its :class:`SlotLayout`: one row per slot of its regular grid (gaps
left unfilled) and, after them, one row per extra image at a duplicated position.
:func:`regularise` then keeps or averages the duplicates, fills the gaps, puts uneven steps on
a regular grid and removes a gantry tilt, as the :class:`~ivcviewer.report.ValidationMode`
asks, and reports each step. :func:`describe_irregularities` gives the sentences of the error
raised under ``RAISE``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .. import geometry
from ..limits import Limits, default_limits
from ..report import GeometryReport, ReportCode, Severity, ValidationMode
from ..volume import VolumeMetadata
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
        average differing duplicates and interpolate gaps, uneven steps and tilt linearly.
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
    if g.missing_slots:
        _fill_gaps(array, g, slots, mode, metadata, report)
    if g.irregular:
        array, affine = _even_out_steps(array, affine, g, mode, metadata, report, limits)
    if g.tilted and mode is ValidationMode.RESAMPLE:
        array, affine = _deskew(array, affine, g.normal)
        report.add(
            ReportCode.RESAMPLED,
            Severity.WARNING,
            f"the {g.tilt_deg:.2f} degree gantry tilt was removed by shifting each slice in its "
            "plane (linear interpolation): the grid is now orthogonal.",
        )
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


def _even_out_steps(
    array: NDArray[Any],
    affine: NDArray[np.float64],
    g: StackGeometry,
    mode: ValidationMode,
    metadata: VolumeMetadata,
    report: GeometryReport,
    limits: Limits | None,
) -> tuple[NDArray[Any], NDArray[np.float64]]:
    """Record the slice positions of an unevenly spaced stack; resample it (RESAMPLE)."""
    d = g.distances[g.unique]
    metadata.extra["slice_positions_mm"] = [float(v) for v in d - d[0]]
    if mode is not ValidationMode.RESAMPLE:
        return array, affine
    step = float(np.median(np.diff(d)))
    n = int(np.floor((d[-1] - d[0]) / step + 1e-6)) + 1
    (limits or default_limits()).check_allocation(
        n * int(np.prod(array.shape[1:])) * array.dtype.itemsize,
        f"resampling {len(d)} unevenly spaced slices onto a {step:.4g} mm grid of {n:,} slices",
        fix="check ImagePositionPatient of the series (a position may be damaged), or load "
        "with on_irregular 'warn' to keep the slices as they are.",
    )
    array, step = _resample_uneven(array, d - d[0])
    affine = affine.copy()
    # same direction (tilt included), ``step`` mm along the normal
    affine[:3, 0] = affine[:3, 0] / float(affine[:3, 0] @ g.normal) * step
    report.add(
        ReportCode.RESAMPLED,
        Severity.WARNING,
        f"{len(d)} unevenly spaced slices interpolated linearly onto a regular "
        f"{step:.4g} mm grid of {array.shape[0]} slices.",
    )
    return array, affine


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


def _resample_uneven(array: NDArray[Any], t: NDArray[np.float64]) -> tuple[NDArray[Any], float]:
    """Linear interpolation of slices at distances ``t`` (from 0) onto a regular grid.

    The step is the median step; the grid spans ``t[0]..t[-1]``.
    """
    step = float(np.median(np.diff(t)))
    n = int(np.floor(t[-1] / step + 1e-6)) + 1
    out = np.empty((n,) + array.shape[1:], dtype=array.dtype)
    for j in range(n):
        tj = j * step
        i = int(np.clip(np.searchsorted(t, tj, side="right") - 1, 0, len(t) - 2))
        w = float(np.clip((tj - t[i]) / (t[i + 1] - t[i]), 0.0, 1.0))
        val = (1 - w) * array[i].astype(np.float32) + w * array[i + 1].astype(np.float32)
        out[j] = np.rint(val) if array.dtype == np.int16 else val
    return out, step


def _deskew(
    array: NDArray[Any], affine: NDArray[np.float64], normal: NDArray[np.float64]
) -> tuple[NDArray[Any], NDArray[np.float64]]:
    """Shift each slice in its plane so that the slice axis follows the normal."""
    from scipy import ndimage

    slice_vec = affine[:3, 0]
    step = float(slice_vec @ normal)
    lateral = slice_vec - step * normal
    col_step, row_step = affine[:3, 1], affine[:3, 2]
    # lateral offset per slice, in (row, col) pixel units
    per_slice = np.array(
        [lateral @ col_step / (col_step @ col_step), lateral @ row_step / (row_step @ row_step)]
    )
    fill = float(array.min()) if array.size else 0.0
    out = np.empty_like(array)
    for k in range(array.shape[0]):
        shifted = ndimage.shift(
            array[k].astype(np.float32), k * per_slice, order=1, mode="constant", cval=fill
        )
        out[k] = np.rint(shifted) if array.dtype == np.int16 else shifted
    new_affine = affine.copy()
    new_affine[:3, 0] = normal * step
    return out, geometry.as_affine(new_affine)

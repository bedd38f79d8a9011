"""Geometry of a stack of parallel images: order, step, gaps, duplicates and tilt.

Pure numpy. Slices are ordered by their distance along the image-plane normal
(``ImagePositionPatient . (row x col)``), never by InstanceNumber, SliceLocation or file name.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .. import geometry

#: Default tolerance (mm) on slice positions: steps closer than this are equal, positions
#: closer than this along the normal are duplicates.
SPACING_TOLERANCE_MM = 0.01

#: A regular grid may hold at most this many slots per image; positions that would need more
#: (two slices a kilometre apart on a 1 mm step) are treated as uneven steps, not as gaps.
MAX_GRID_SLOTS_PER_IMAGE = 64


@dataclass
class StackGeometry:
    """What the positions of a stack say about its grid.

    Attributes
    ----------
    order
        Indices of the input images sorted along the normal (ties keep the input order).
    distances
        Distance of each sorted image along the normal, mm.
    normal
        Unit normal of the image plane (row direction x column direction).
    unique
        Index into the sorted images of the first image at each distinct position.
    duplicates
        Groups of sorted indices that share one position (only groups of two or more).
    step_mm
        Nominal step along the normal between neighbouring grid slots (0 for one position).
    slots
        Grid slot of each distinct position (``None`` when the spacing is irregular).
    missing_slots
        Slots of a regular grid that hold no image (gaps).
    irregular
        The steps are not whole multiples of ``step_mm`` (or positions leave the line).
    max_deviation_mm
        Largest distance between a position and the uniform grid used for it.
    slice_vector
        Step from one grid slot to the next in LPS mm (includes the tilt's in-plane shift).
    tilt_deg
        Angle between the slice vector and the normal (gantry tilt), degrees.
    tilted
        The in-plane drift over the stack exceeds the tolerance.
    """

    order: NDArray[np.intp]
    distances: NDArray[np.float64]
    normal: NDArray[np.float64]
    unique: NDArray[np.intp]
    duplicates: list[list[int]] = field(default_factory=list)
    step_mm: float = 0.0
    slots: NDArray[np.intp] | None = None
    missing_slots: list[int] = field(default_factory=list)
    irregular: bool = False
    max_deviation_mm: float = 0.0
    slice_vector: NDArray[np.float64] = field(default_factory=lambda: np.zeros(3))
    tilt_deg: float = 0.0
    tilted: bool = False
    off_line: bool = False

    @property
    def n_slots(self) -> int:
        """Number of slices of the regular grid spanning the stack (gaps included)."""
        if self.slots is None:
            return int(len(self.unique))
        return int(self.slots[-1]) + 1 if len(self.slots) else 0


def analyse_stack(
    positions_lps: ArrayLike,
    image_orientation: Sequence[float],
    tolerance_mm: float = SPACING_TOLERANCE_MM,
) -> StackGeometry:
    """Sort a stack along its normal and find its step, gaps, duplicates and tilt.

    Parameters
    ----------
    positions_lps
        ``(n, 3)`` ImagePositionPatient of each image.
    image_orientation
        The stack's ImageOrientationPatient.
    tolerance_mm
        Positions or steps that differ by less than this are equal.

    Examples
    --------
    >>> g = analyse_stack([[0, 0, 4.0], [0, 0, 0.0], [0, 0, 2.0], [0, 0, 8.0]], [1, 0, 0, 0, 1, 0])
    >>> g.order.tolist(), g.step_mm, g.missing_slots, g.irregular
    ([1, 2, 0, 3], 2.0, [3], False)
    >>> g.slice_vector.tolist()
    [0.0, 0.0, 2.0]
    """
    pos = np.asarray(positions_lps, dtype=float).reshape(-1, 3)
    normal = geometry.slice_normal(image_orientation)
    d_all = pos @ normal
    order = np.argsort(d_all, kind="stable")
    d = d_all[order]
    p = pos[order]
    n = len(d)

    # distinct positions (runs closer than the tolerance are one position)
    new_run = np.ones(n, dtype=bool)
    if n > 1:
        new_run[1:] = np.diff(d) > tolerance_mm
    unique = np.flatnonzero(new_run)
    run_id = np.cumsum(new_run) - 1
    duplicates = [
        [int(i) for i in np.flatnonzero(run_id == r)]
        for r in range(len(unique))
        if np.count_nonzero(run_id == r) > 1
    ]
    g = StackGeometry(
        order=order.astype(np.intp),
        distances=d,
        normal=normal,
        unique=unique.astype(np.intp),
        duplicates=duplicates,
    )
    if len(unique) < 2:
        g.slots = np.zeros(len(unique), dtype=np.intp)
        return g

    du = d[unique]
    pu = p[unique]
    steps = np.diff(du)
    base = _modal_step(steps, tolerance_mm)
    slots = np.rint((du - du[0]) / base).astype(np.intp)
    # least-squares step on those slots, then the residual against that grid
    fitted = float(slots @ (du - du[0]) / (slots @ slots))
    dev = np.abs(du - du[0] - slots * fitted)
    regular = bool(np.all(np.diff(slots) >= 1) and dev.max() <= tolerance_mm)
    # a grid mostly made of gaps is no stack: its positions are treated as uneven steps
    regular = regular and int(slots[-1]) + 1 <= MAX_GRID_SLOTS_PER_IMAGE * len(du)

    # in-plane drift: positions = p0 + t * (normal + w_lat), t = distance along the normal
    t = du - du[0]
    lateral = (pu - pu[0]) - t[:, None] * normal[None, :]
    w_lat = (t @ lateral) / float(t @ t)
    off_line_dev = float(np.max(np.linalg.norm(lateral - t[:, None] * w_lat[None, :], axis=1)))
    drift = float(np.linalg.norm(w_lat) * t[-1])
    g.off_line = off_line_dev > tolerance_mm
    g.tilted = drift > tolerance_mm
    direction = normal + (w_lat if g.tilted else 0.0)
    g.tilt_deg = float(np.degrees(np.arctan(np.linalg.norm(w_lat)))) if g.tilted else 0.0

    if regular and not g.off_line:
        g.step_mm = fitted
        g.slots = slots
        g.missing_slots = sorted(set(range(int(slots[-1]) + 1)) - {int(s) for s in slots})
        g.max_deviation_mm = float(dev.max())
    else:
        g.irregular = True
        g.step_mm = float(t[-1] / (len(du) - 1))
        uniform = np.arange(len(du)) * g.step_mm
        g.max_deviation_mm = max(float(np.max(np.abs(t - uniform))), off_line_dev)
    g.slice_vector = direction * g.step_mm
    return g


def _modal_step(steps: NDArray[np.float64], tolerance_mm: float) -> float:
    """The most frequent step (within the tolerance); the smallest among equally frequent.

    >>> _modal_step(np.array([2.0, 2.0, 4.0, 2.0, 3.0]), 0.01)
    2.0
    """
    s = np.sort(steps)
    best, best_count = float(s[0]), 0
    i = 0
    while i < len(s):
        j = int(np.searchsorted(s, s[i] + tolerance_mm, side="right"))
        if j - i > best_count:
            best, best_count = float(np.mean(s[i:j])), j - i
        i = j
    return best

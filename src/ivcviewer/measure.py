"""Measurements of labelled regions in millimetres, millilitres and HU.

Every figure is computed in LPS millimetres through the volume's 4x4 affine, so it is exact on
anisotropic, oblique and sheared grids. Each voxel stands for its *cell*: the parallelepiped
centred on the voxel centre and spanned by the affine's three columns. Extents and oriented box
sizes are the span of the voxel centres plus one voxel step, and point-to-point lengths
(maximum diameter, RECIST axes) run between the outer edges of the cells, so that a box of
``N`` voxels along a grid axis measures ``N * spacing`` (not ``(N - 1) * spacing``). The
definitions, with their error bounds, are written out in ``docs/measurement.md``.

Each region is cropped to its bounding box before anything else is computed, and every length
is taken on the few voxels that can be extreme (the first and last voxel of each grid line, then
the vertices of their convex hull), so that measuring is fast on full-size CT.

Examples
--------
>>> from ivcviewer.geometry import affine_from_dicom
>>> from ivcviewer.volume import Volume
>>> axial = affine_from_dicom([1, 0, 0, 0, 1, 0], [0, 0, 0], [0.7, 0.7], [0, 0, 2.5])
>>> labels = np.zeros((6, 10, 10), np.uint8)
>>> labels[1:5, 2:8, 3:6] = 1
>>> vol = Volume(labels, axial)
>>> (m,) = measure_labels(vol, {1: "box"})
>>> m.name, m.n_voxels, {k: round(v, 6) for k, v in m.extents_mm.items()}
('box', 72, {'lr': 2.1, 'ap': 4.2, 'cc': 10.0})
>>> round(m.volume_ml, 6)
0.0882
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import ndimage
from scipy.spatial import ConvexHull, QhullError
from scipy.spatial.distance import cdist

from . import geometry
from .errors import GeometryError, MeasurementError
from .volume import Volume

#: Patient axes in the order of the LPS components: left-right (x), antero-posterior (y),
#: cranio-caudal (z).
PATIENT_AXES: tuple[str, str, str] = ("lr", "ap", "cc")

#: Percentiles reported by :class:`HUStatistics`.
HU_PERCENTILES: tuple[int, ...] = (5, 25, 75, 95)

#: Default relative tolerance of :func:`compare_extents` (the absolute floor is one voxel).
DEFAULT_TOLERANCE_REL = 0.02

#: Two grids whose affines differ by less than this (mm, or direction cosine) are the same grid.
GRID_ATOL = 1e-3

_LPS_UNIT = np.eye(3)
_PAIR_BLOCK = 2048
_HULL_FIRST = 1500


# ---------------------------------------------------------------------------------------------
# Result types
# ---------------------------------------------------------------------------------------------


def _vec(v: ArrayLike) -> list[float]:
    return [float(x) for x in np.asarray(v, dtype=float).ravel()]


@dataclass(frozen=True)
class OrientedBox:
    """Oriented bounding box of a region along its principal axes.

    Attributes
    ----------
    sizes_mm
        The box's three edge lengths, largest first.
    axes_lps
        Unit LPS direction of each edge (rows, same order as ``sizes_mm``).
    center_lps
        LPS mm of the box centre.
    """

    sizes_mm: tuple[float, float, float]
    axes_lps: NDArray[np.float64]
    center_lps: NDArray[np.float64]

    def to_dict(self) -> dict[str, Any]:
        """JSON form: ``sizes_mm``, ``axes_lps`` (3 unit vectors), ``center_lps``."""
        return {
            "sizes_mm": list(self.sizes_mm),
            "axes_lps": [_vec(a) for a in self.axes_lps],
            "center_lps": _vec(self.center_lps),
        }


@dataclass(frozen=True)
class Segment:
    """A straight measurement between two LPS points."""

    length_mm: float
    start_lps: NDArray[np.float64]
    end_lps: NDArray[np.float64]

    def to_dict(self) -> dict[str, Any]:
        """JSON form: ``length_mm``, ``start_lps``, ``end_lps``."""
        return {
            "length_mm": self.length_mm,
            "start_lps": _vec(self.start_lps),
            "end_lps": _vec(self.end_lps),
        }


@dataclass(frozen=True)
class RecistAxes:
    """Long axis and perpendicular short axis on the section where the long axis is largest.

    Attributes
    ----------
    long_axis
        The largest in-plane diameter over all sections of the region.
    short_axis
        The longest chord perpendicular to the long axis on the same section.
    section_axis
        The voxel axis (0 slice, 1 row, 2 col) the sections are taken across: the one whose
        direction is closest to cranio-caudal, so sections are the grid's (near) axial images.
    section_index
        Index of the section along ``section_axis`` in the full grid.
    """

    long_axis: Segment
    short_axis: Segment
    section_axis: int
    section_index: int

    @property
    def long_mm(self) -> float:
        """Long-axis length, mm."""
        return self.long_axis.length_mm

    @property
    def short_mm(self) -> float:
        """Short-axis length, mm."""
        return self.short_axis.length_mm

    def to_dict(self) -> dict[str, Any]:
        """JSON form of both axes and the section they lie on."""
        return {
            "long_axis": self.long_axis.to_dict(),
            "short_axis": self.short_axis.to_dict(),
            "section_axis": self.section_axis,
            "section_index": self.section_index,
        }


@dataclass(frozen=True)
class HUStatistics:
    """Statistics of the CT values inside a region.

    ``std`` is the population standard deviation (``ddof=0``); the median and percentiles use
    linear interpolation between order statistics (numpy's default).
    """

    n_voxels: int
    mean: float
    std: float
    min: float
    max: float
    median: float
    percentiles: dict[int, float]

    def to_dict(self) -> dict[str, Any]:
        """JSON form: ``n_voxels, mean, std, min, max, median, p5, p25, p75, p95``."""
        out: dict[str, Any] = {
            "n_voxels": self.n_voxels,
            "mean": self.mean,
            "std": self.std,
            "min": self.min,
            "max": self.max,
            "median": self.median,
        }
        out.update({f"p{q}": v for q, v in self.percentiles.items()})
        return out


@dataclass(frozen=True)
class RegionMeasurements:
    """Everything measured on one region.

    Lengths are in mm, the volume in mL, coordinates in LPS mm. ``voxel_extent_mm`` is the size
    of one voxel projected on each patient axis: the resolution of ``extents_mm`` and the
    absolute tolerance floor of :func:`compare_extents`.
    """

    label: int
    name: str
    n_voxels: int
    volume_ml: float
    centroid_lps: NDArray[np.float64]
    extents_mm: dict[str, float]
    voxel_extent_mm: dict[str, float]
    obb: OrientedBox
    max_diameter: Segment
    recist: RecistAxes
    bbox_ijk: tuple[tuple[int, int], tuple[int, int], tuple[int, int]]
    hu: HUStatistics | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON form (mm, mL, LPS mm); ``hu`` is ``None`` without a CT."""
        return {
            "label": self.label,
            "name": self.name,
            "n_voxels": self.n_voxels,
            "volume_ml": self.volume_ml,
            "centroid_lps": _vec(self.centroid_lps),
            "extents_mm": dict(self.extents_mm),
            "voxel_extent_mm": dict(self.voxel_extent_mm),
            "obb": self.obb.to_dict(),
            "max_diameter": self.max_diameter.to_dict(),
            "recist": self.recist.to_dict(),
            "bbox_ijk": [list(b) for b in self.bbox_ijk],
            "hu": None if self.hu is None else self.hu.to_dict(),
        }


@dataclass(frozen=True)
class AxisComparison:
    """One measured length beside one reported length.

    ``difference_mm`` is measured minus reported; ``passed`` means
    ``abs(difference_mm) <= tolerance_mm``.
    """

    measured_axis: str
    reported_axis: str
    measured_mm: float
    reported_mm: float
    difference_mm: float
    relative_difference: float
    tolerance_mm: float
    passed: bool

    def to_dict(self) -> dict[str, Any]:
        """JSON form (all fields)."""
        return {
            "measured_axis": self.measured_axis,
            "reported_axis": self.reported_axis,
            "measured_mm": self.measured_mm,
            "reported_mm": self.reported_mm,
            "difference_mm": self.difference_mm,
            "relative_difference": self.relative_difference,
            "tolerance_mm": self.tolerance_mm,
            "passed": self.passed,
        }


@dataclass(frozen=True)
class ExtentComparison:
    """Measured extents against reported ones, axis by axis and order-free.

    ``by_axis`` pairs each reported axis with the same measured axis; ``order_free`` pairs the
    sorted triples (largest with largest), for reports that do not say which axis is which.
    """

    by_axis: tuple[AxisComparison, ...]
    order_free: tuple[AxisComparison, ...]
    tolerance_rel: float = DEFAULT_TOLERANCE_REL

    @property
    def passed_by_axis(self) -> bool:
        """Every axis-by-axis pair is within its tolerance."""
        return all(c.passed for c in self.by_axis)

    @property
    def passed_order_free(self) -> bool:
        """Every sorted pair is within its tolerance."""
        return all(c.passed for c in self.order_free)

    def to_dict(self) -> dict[str, Any]:
        """JSON form: both lists, their verdicts and the relative tolerance."""
        return {
            "tolerance_rel": self.tolerance_rel,
            "passed_by_axis": self.passed_by_axis,
            "passed_order_free": self.passed_order_free,
            "by_axis": [c.to_dict() for c in self.by_axis],
            "order_free": [c.to_dict() for c in self.order_free],
        }


# ---------------------------------------------------------------------------------------------
# Small public helpers
# ---------------------------------------------------------------------------------------------


def _point(p: ArrayLike, name: str) -> NDArray[np.float64]:
    try:
        a = np.asarray(p, dtype=float)
    except (TypeError, ValueError):
        a = np.full(1, np.nan)
    if a.shape != (3,) or not np.all(np.isfinite(a)):
        raise MeasurementError(
            f"Argument {name!r} must be one finite LPS point (x, y, z) in mm, got {p!r}."
        )
    return a


def line_length_mm(p_lps: ArrayLike, q_lps: ArrayLike) -> float:
    """Euclidean distance in mm between two LPS points.

    Points given in voxel indices must first go through the affine
    (:func:`ivcviewer.geometry.voxel_to_lps`); that is where anisotropy and obliquity enter.

    >>> line_length_mm([0, 0, 0], [3, 4, 12])
    13.0
    """
    return float(np.linalg.norm(_point(q_lps, "q_lps") - _point(p_lps, "p_lps")))


def _unit(direction_lps: ArrayLike) -> NDArray[np.float64]:
    u = np.asarray(direction_lps, dtype=float)
    norm = float(np.linalg.norm(u)) if u.shape == (3,) else 0.0
    if not math.isfinite(norm) or norm == 0.0:
        raise MeasurementError(
            f"Argument 'direction_lps' must be a non-zero LPS vector, got {direction_lps!r}."
        )
    return np.asarray(u / norm, dtype=float)


def voxel_step_mm(affine: ArrayLike, direction_lps: ArrayLike) -> float:
    """One voxel's length along an LPS direction, mm: the voxel step in that direction.

    It is the length of the segment through a voxel centre, along the direction, inside that
    voxel's cell: ``1 / max_k |(A^-1 u)_k|`` for the unit direction ``u`` and the affine's
    linear part ``A``. Along a grid axis it is that axis's spacing. Extents and oriented box
    sizes add one such step to the span of the voxel centres.

    >>> voxel_step_mm(np.diag([0.7, 0.7, 2.5, 1.0]), [0, 0, 1])
    2.5
    >>> round(voxel_step_mm(np.diag([0.7, 0.7, 2.5, 1.0]), [1, 1, 0]), 6)  # in-plane diagonal
    0.989949
    """
    u = _unit(direction_lps)
    inv = np.linalg.inv(geometry.as_affine(affine)[:3, :3])
    return float(1.0 / np.abs(inv @ u).max())


def voxel_projection_mm(affine: ArrayLike, direction_lps: ArrayLike) -> float:
    """Length of one voxel cell's shadow on an LPS direction, mm: ``sum_k |a_k . u|``.

    This is the widest a voxel is along the direction, and the bound of the discretisation
    error of a length measured along it. It equals :func:`voxel_step_mm` along a grid axis and
    exceeds it along any other direction.

    >>> round(voxel_projection_mm(np.diag([0.7, 0.7, 2.5, 1.0]), [1, 1, 0]), 6)
    0.989949
    >>> round(voxel_projection_mm(np.diag([0.7, 0.7, 2.5, 1.0]), [1, 0, 1]), 6)
    2.262742
    """
    u = _unit(direction_lps)
    return float(np.abs(u @ geometry.as_affine(affine)[:3, :3]).sum())


def _steps(lin: NDArray[np.float64], dirs: NDArray[np.float64]) -> NDArray[np.float64]:
    """Voxel step (mm) along each unit direction (rows of ``dirs``)."""
    return np.asarray(1.0 / np.abs(dirs @ np.linalg.inv(lin).T).max(axis=1), dtype=float)


def patient_axis_voxel_mm(affine: ArrayLike) -> dict[str, float]:
    """One voxel's step along each patient axis (``lr``, ``ap``, ``cc``), mm.

    On a grid aligned with the patient axes these are its spacings.

    >>> patient_axis_voxel_mm(np.diag([2.5, 0.7, 0.8, 1.0]))
    {'lr': 2.5, 'ap': 0.7, 'cc': 0.8}
    """
    steps = _steps(geometry.as_affine(affine)[:3, :3], _LPS_UNIT)
    return {ax: float(v) for ax, v in zip(PATIENT_AXES, steps, strict=True)}


# ---------------------------------------------------------------------------------------------
# Geometry kernels (internal)
# ---------------------------------------------------------------------------------------------


def _hull_subset(points: NDArray[np.float64]) -> NDArray[np.intp]:
    """Indices of rows of ``points`` (n, d) that include every vertex of their convex hull.

    Degenerate sets (all on a plane or a line) are handled by their rank, so qhull only ever
    sees full-dimensional input.
    """
    n, d = points.shape
    if n <= d + 1:
        return np.arange(n)
    centred = points - points.mean(axis=0)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    rank = int(np.sum(s > max(float(s[0]), 1.0) * 1e-9))
    if rank == 0:
        return np.arange(1)
    if rank == 1:
        t = centred @ vt[0]
        return np.unique([int(np.argmin(t)), int(np.argmax(t))])
    proj = centred @ vt[:rank].T
    # "Q0" (no merging of near-coplanar facets) is fastest on lattice points and returns a
    # superset of the strict vertices; merging is the fallback on a precision error.
    for options in ("Q0", None):
        try:
            return np.asarray(ConvexHull(proj, qhull_options=options).vertices, dtype=np.intp)
        except QhullError:  # pragma: no cover - rare precision failures of qhull
            continue
    return np.arange(n)  # pragma: no cover


def _cell_diagonals(vectors: NDArray[np.float64]) -> NDArray[np.float64]:
    """All ``sum_k s_k a_k`` with signs ``s_k = +-1``: the cell's corner-to-corner vectors."""
    k = vectors.shape[0]
    signs = np.array(list(itertools.product((-1.0, 1.0), repeat=k)))
    return np.asarray(signs @ vectors, dtype=float)


def _min_width(vectors: NDArray[np.float64]) -> float:
    """Smallest width of the cell spanned by 2 or 3 vectors (rows): its thinnest projection."""
    if len(vectors) == 3:
        vol = abs(float(np.linalg.det(vectors)))
        faces = [
            np.linalg.norm(np.cross(vectors[i], vectors[j])) for i, j in ((0, 1), (0, 2), (1, 2))
        ]
        return vol / float(max(faces))
    area = float(np.linalg.norm(np.cross(vectors[0], vectors[1])))
    return area / float(max(np.linalg.norm(vectors, axis=1)))


def _lower_bound_pair(centres: NDArray[np.float64]) -> float:
    """A quick lower bound of the largest centre distance: extremes along 13 directions."""
    dirs = np.array(
        [v for v in itertools.product((-1.0, 0.0, 1.0), repeat=3) if v > (0.0, 0.0, 0.0)]
    )
    proj = centres @ dirs.T
    ends = np.unique(np.concatenate([proj.argmin(axis=0), proj.argmax(axis=0)]))
    pts = centres[ends]
    best = float(cdist(pts, pts).max())
    # Two rounds of "farthest point from the current end" tighten it further.
    far = centres[int(np.argmax(np.linalg.norm(centres - pts[0], axis=1)))]
    for _ in range(2):
        d = np.linalg.norm(centres - far, axis=1)
        k = int(np.argmax(d))
        best = max(best, float(d[k]))
        far = centres[k]
    return best


def _farthest_pair(
    centres: NDArray[np.float64], vectors: NDArray[np.float64]
) -> tuple[float, NDArray[np.float64], NDArray[np.float64]]:
    """Diameter of the union of cells centred at ``centres`` (m, 3) and its two end points.

    The union's convex hull is the hull of the centres grown by one cell, so its diameter is
    ``max |c_i - c_j + w|`` over centre pairs and the cell's corner-to-corner vectors ``w``
    (``vectors`` are the cell's edge vectors, rows). Every centre pair is visited (in blocks,
    to bound memory); a pair can only win if its centre distance is within ``max |w|`` of the
    answer, which is at least a quick lower bound plus the cell's thinnest width.
    """
    diagonals = _cell_diagonals(vectors)
    wlen = np.linalg.norm(diagonals, axis=1)
    wmax = float(wlen.max())
    m = len(centres)
    if m == 1:
        w = diagonals[int(np.argmax(wlen))]
        return wmax, centres[0] - w / 2, centres[0] + w / 2
    floor = _lower_bound_pair(centres) + _min_width(vectors) - wmax - 1e-9
    # A point can only end a pair of length >= floor if |p - c| + max_q |q - c| >= floor for
    # every reference point c: this drops most points of elongated shapes.
    keep = np.ones(m, dtype=bool)
    for c in (centres.mean(axis=0), (centres.min(axis=0) + centres.max(axis=0)) / 2):
        dist = np.linalg.norm(centres - c, axis=1)
        keep &= dist + dist.max() >= floor
    orig = np.flatnonzero(keep)
    if len(orig) > _HULL_FIRST:  # round shapes: keep the 3D hull vertices only
        orig = orig[_hull_subset(centres[orig])]
    pts = centres[orig]
    cand_i: list[NDArray[np.intp]] = []
    cand_j: list[NDArray[np.intp]] = []
    for start in range(0, len(pts), _PAIR_BLOCK):
        d = cdist(pts[start : start + _PAIR_BLOCK], pts[start:])
        i, j = np.nonzero(d >= floor)
        cand_i.append(orig[i + start])
        cand_j.append(orig[j + start])
    ii = np.concatenate(cand_i)
    jj = np.concatenate(cand_j)
    v = centres[ii] - centres[jj]
    lens = np.linalg.norm(v[:, None, :] + diagonals[None, :, :], axis=2)
    flat = int(np.argmax(lens))
    c, k = divmod(flat, lens.shape[1])
    w = diagonals[k]
    return float(lens[c, k]), centres[jj[c]] - w / 2, centres[ii[c]] + w / 2


def _extent_along(
    centres: NDArray[np.float64], lin: NDArray[np.float64], dirs: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Ends of the span of the voxel centres, grown by half a voxel step, along unit ``dirs``."""
    proj = centres @ dirs.T
    half = 0.5 * _steps(lin, dirs)
    return proj.min(axis=0) - half, proj.max(axis=0) + half


def _section_axis(affine: NDArray[np.float64]) -> int:
    """The voxel axis whose direction is closest to cranio-caudal."""
    d = geometry.direction_from_affine(affine)
    return int(np.argmax(np.abs(d[2])))


@dataclass(frozen=True)
class _Sections:
    """The region cut across one voxel axis, with each section's 2D convex hull vertices.

    ``ijk`` holds the crop indices of every section's hull vertices, grouped by section
    (``index[n]`` is section ``n``'s position along ``axis``; its rows are
    ``ijk[bounds[n]:bounds[n + 1]]``). A vertex of the region's 3D hull is a vertex of its
    section's 2D hull, so these rows also feed the 3D hull.
    """

    axis: int
    plane_axes: tuple[int, int]
    index: NDArray[np.intp]
    bounds: NDArray[np.intp]
    ijk: NDArray[np.float64]


def _convex_chain(
    sec: NDArray[np.intp], r: NDArray[np.intp], c: NDArray[np.intp], side: int
) -> NDArray[np.intp]:
    """Indices of the points of monotone chains that are vertices of their convex hull.

    The points ``(r, c)`` are sorted by section ``sec`` then by ``r`` (strictly increasing within
    a section); ``side`` is +1 for a chain of row minima, -1 for row maxima. A point that does
    not turn the right way against its neighbours lies inside the hull and is dropped; dropping
    is repeated until every remaining point turns the right way (strict hull vertices never
    fail the test). Integer arithmetic, exact, all sections at once.
    """
    idx = np.arange(len(r))
    while len(idx) >= 3:
        s, rr, cc = sec[idx], r[idx], c[idx]
        interior = (s[1:-1] == s[:-2]) & (s[1:-1] == s[2:])
        cross = (cc[2:] - cc[:-2]) * (rr[1:-1] - rr[:-2]) - (cc[1:-1] - cc[:-2]) * (
            rr[2:] - rr[:-2]
        )
        drop = np.flatnonzero(interior & (side * cross <= 0))
        if drop.size == 0:
            break
        idx = np.delete(idx, drop + 1)
    return idx


def _sections(mask: NDArray[np.bool_], axis: int) -> _Sections:
    plane = [a for a in range(3) if a != axis]
    m = np.moveaxis(mask, axis, 0)
    # Lines along the longer in-plane axis (fewer lines, fewer candidate points).
    if m.shape[1] > m.shape[2]:
        m = m.swapaxes(1, 2)
        plane = plane[::-1]
    has = m.any(axis=2)
    first = m.argmax(axis=2)
    last = m.shape[2] - 1 - m[:, :, ::-1].argmax(axis=2)
    sec, row = np.nonzero(has)
    f, lst = first[sec, row].astype(np.intp), last[sec, row].astype(np.intp)
    left = _convex_chain(sec, row, f, 1)
    right = _convex_chain(sec, row, lst, -1)
    right = right[(lst[right] != f[right]) | ~np.isin(right, left)]  # one-voxel rows once
    pts = np.concatenate(
        [
            np.stack([sec[left], row[left], f[left]], axis=1),
            np.stack([sec[right], row[right], lst[right]], axis=1),
        ]
    )
    pts = pts[np.argsort(pts[:, 0], kind="stable")]
    ijk = np.empty(pts.shape, dtype=float)
    ijk[:, axis] = pts[:, 0]
    ijk[:, plane[0]] = pts[:, 1]
    ijk[:, plane[1]] = pts[:, 2]
    starts = np.flatnonzero(np.r_[True, pts[1:, 0] != pts[:-1, 0]])
    return _Sections(
        axis=axis,
        plane_axes=(plane[0], plane[1]),
        index=pts[starts, 0].astype(np.intp),
        bounds=np.r_[starts, len(pts)].astype(np.intp),
        ijk=ijk,
    )


class _Region:
    """A region cropped to its bounding box, with the affine of the crop."""

    def __init__(self, mask: NDArray[np.bool_], affine: NDArray[np.float64], offset: Any) -> None:
        self.mask = mask
        self.offset = tuple(int(o) for o in offset)
        self.full_affine = affine
        shifted = affine.copy()
        shifted[:3, 3] = geometry.apply_affine(affine, self.offset)
        self.affine = shifted
        self.lin = affine[:3, :3]
        self._hull: NDArray[np.float64] | None = None
        self._sections: _Sections | None = None
        self._moments: tuple[int, NDArray[np.float64], NDArray[np.float64]] | None = None

    @classmethod
    def from_mask(cls, mask: ArrayLike, affine: ArrayLike, name: str = "mask") -> _Region:
        m = np.asarray(mask)
        if m.ndim != 3:
            raise MeasurementError(
                f"Argument {name!r} must be a 3D (slice, row, col) mask, got shape {m.shape}."
            )
        m = m.astype(bool, copy=False)
        aff = geometry.as_affine(affine)
        sl = ndimage.find_objects(m.view(np.uint8))
        if not sl or sl[0] is None:
            raise MeasurementError(
                f"Argument {name!r} holds no voxel: an empty region has no measurements."
            )
        return cls(m[sl[0]], aff, [s.start for s in sl[0]])

    @property
    def n_voxels(self) -> int:
        return self.moments()[0]

    @property
    def bbox_ijk(self) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]]:
        o, s = self.offset, self.mask.shape
        return ((o[0], o[0] + s[0]), (o[1], o[1] + s[1]), (o[2], o[2] + s[2]))

    def sections(self) -> _Sections:
        """Sections across the voxel axis closest to cranio-caudal (cached)."""
        if self._sections is None:
            self._sections = _sections(self.mask, _section_axis(self.full_affine))
        return self._sections

    def hull_centres(self) -> NDArray[np.float64]:
        """LPS centres of a superset of the region's convex hull vertices (cached).

        These are the vertices of every section's 2D hull: a vertex of the 3D hull is a vertex
        of its section's hull. Every linear extreme (extents, box sizes) is among them.
        """
        if self._hull is None:
            self._hull = geometry.apply_affine(self.affine, self.sections().ijk)
        return self._hull

    def moments(self) -> tuple[int, NDArray[np.float64], NDArray[np.float64]]:
        """Voxel count, mean index and index covariance, from the three 2D projections."""
        if self._moments is not None:
            return self._moments
        m = self.mask
        p01 = np.count_nonzero(m, axis=2).astype(float)
        p02 = np.count_nonzero(m, axis=1).astype(float)
        p12 = np.count_nonzero(m, axis=0).astype(float)
        i, j, k = (np.arange(n, dtype=float) for n in m.shape)
        ci, cj, ck = p01.sum(axis=1), p01.sum(axis=0), p02.sum(axis=0)
        n = float(ci.sum())
        mean = np.array([ci @ i, cj @ j, ck @ k]) / n
        second = np.array(
            [
                [ci @ i**2, i @ p01 @ j, i @ p02 @ k],
                [0.0, cj @ j**2, j @ p12 @ k],
                [0.0, 0.0, ck @ k**2],
            ]
        )
        second = np.triu(second) + np.triu(second, 1).T
        cov = second / n - np.outer(mean, mean)
        self._moments = (int(n), mean, cov)
        return self._moments

    def centroid_lps(self) -> NDArray[np.float64]:
        return geometry.apply_affine(self.affine, self.moments()[1])

    def volume_ml(self) -> float:
        return self.n_voxels * float(abs(np.linalg.det(self.lin))) / 1000.0

    def extents_mm(self) -> dict[str, float]:
        lo, hi = _extent_along(self.hull_centres(), self.lin, _LPS_UNIT)
        return {ax: float(v) for ax, v in zip(PATIENT_AXES, hi - lo, strict=True)}

    def obb(self) -> OrientedBox:
        _, _, cov_ijk = self.moments()
        cov = self.lin @ cov_ijk @ self.lin.T
        _, vecs = np.linalg.eigh(cov)
        axes = vecs.T.copy()
        for a in axes:
            if a[int(np.argmax(np.abs(a)))] < 0:
                a *= -1.0
        lo, hi = _extent_along(self.hull_centres(), self.lin, axes)
        sizes = hi - lo
        order = np.argsort(-sizes, kind="stable")
        center = ((lo + hi) / 2) @ axes
        s = sizes[order]
        return OrientedBox((float(s[0]), float(s[1]), float(s[2])), axes[order], center)

    def max_diameter(self) -> Segment:
        length, p, q = _farthest_pair(self.hull_centres(), self.lin.T)
        return Segment(length, p, q)

    def recist(self) -> RecistAxes:
        return _recist(self)


def _recist(region: _Region) -> RecistAxes:
    secs = region.sections()
    k = secs.axis
    a1 = region.lin[:, secs.plane_axes[0]]
    a2 = region.lin[:, secs.plane_axes[1]]
    edges = np.stack([a1, a2])
    centres = geometry.apply_affine(region.affine, secs.ijk)
    groups = [slice(int(a), int(b)) for a, b in zip(secs.bounds[:-1], secs.bounds[1:], strict=True)]

    # Upper bound of each section's in-plane diameter from its widths (cells included) along
    # 16 directions: the diameter's direction is within pi/32 of one of them.
    e1 = a1 / np.linalg.norm(a1)
    e2 = a2 - (a2 @ e1) * e1
    e2 /= np.linalg.norm(e2)
    theta = np.arange(16) * np.pi / 16
    dirs = np.cos(theta)[:, None] * e1 + np.sin(theta)[:, None] * e2
    proj = centres @ dirs.T
    starts = secs.bounds[:-1]
    widths = np.maximum.reduceat(proj, starts, axis=0) - np.minimum.reduceat(proj, starts, axis=0)
    widths += np.abs(dirs @ a1) + np.abs(dirs @ a2)
    bounds = widths.max(axis=1) / np.cos(np.pi / 32)

    counts = np.count_nonzero(np.moveaxis(region.mask, k, 0)[secs.index], axis=(1, 2))
    centre_sec = float(np.average(secs.index, weights=counts))
    best_len = -1.0
    found: list[tuple[float, int, Segment]] = []
    for n in np.argsort(-bounds, kind="stable"):
        if bounds[n] < best_len - 1e-6:
            break
        length, p, q = _farthest_pair(centres[groups[n]], edges)
        if length >= best_len - 1e-6:
            best_len = max(best_len, length)
            found.append((length, int(secs.index[n]), Segment(length, p, q)))
    # Ties (a prism has the same long axis on every section): the section nearest the centroid.
    _, s, long_seg = min(
        (f for f in found if f[0] >= best_len - 1e-6), key=lambda f: abs(f[1] - centre_sec)
    )
    section = np.take(region.mask, s, axis=k)
    rr, cc = np.nonzero(section)
    ijk = np.empty((len(rr), 3))
    ijk[:, k] = s
    rest = [a for a in range(3) if a != k]
    ijk[:, rest[0]] = rr
    ijk[:, rest[1]] = cc
    short_seg = _short_axis(
        section,
        geometry.apply_affine(region.affine, ijk),
        long_seg,
        region.lin[:, rest[0]],
        region.lin[:, rest[1]],
    )
    return RecistAxes(long_seg, short_seg, k, int(s + region.offset[k]))


def _short_axis(
    section: NDArray[np.bool_],
    centres_all: NDArray[np.float64],
    long_seg: Segment,
    a1: NDArray[np.float64],
    a2: NDArray[np.float64],
) -> Segment:
    """Longest chord of the section's cells perpendicular to the long axis.

    A chord runs, on a line perpendicular to the long axis, from the first to the last cell the
    line crosses (exact line/cell intersections; gaps between cells are spanned). Its length is
    piecewise linear in the line's position and its maxima lie where the line passes through a
    cell corner, so those positions are the only ones tried; and only boundary cells (a missing
    4-neighbour) can hold a chord's ends.
    """
    normal = np.cross(a1, a2)
    normal /= np.linalg.norm(normal)
    u = long_seg.end_lps - long_seg.start_lps
    u = u / np.linalg.norm(u)
    v = np.cross(normal, u)
    v /= np.linalg.norm(v)

    padded = np.pad(section, 1)
    interior = (
        padded[1:-1, 1:-1]
        & padded[:-2, 1:-1]
        & padded[2:, 1:-1]
        & padded[1:-1, :-2]
        & padded[1:-1, 2:]
    )
    centres = centres_all[(section & ~interior)[section]]
    plane_offset = float(centres[0] @ normal)
    cu, cv = centres @ u, centres @ v
    order = np.argsort(cu, kind="stable")
    cu, cv = cu[order], cv[order]
    inv = np.linalg.inv(np.array([[a1 @ u, a2 @ u], [a1 @ v, a2 @ v]]))
    hu = 0.5 * (abs(a1 @ u) + abs(a2 @ u))
    corners = 0.5 * np.array([s1 * (a1 @ u) + s2 * (a2 @ u) for s1 in (-1, 1) for s2 in (-1, 1)])
    ts = np.unique(np.round((cu[:, None] + corners[None, :]).ravel(), 9))

    eps = 1e-9
    start = np.searchsorted(cu, ts - hu - eps, side="left")
    stop = np.searchsorted(cu, ts + hu + eps, side="right")
    width = int((stop - start).max())
    idx = start[:, None] + np.arange(width)[None, :]
    inside = idx < stop[:, None]
    idx = np.minimum(idx, len(cu) - 1)
    dt = ts[:, None] - cu[idx]
    cvv = cv[idx]
    lo = np.full(dt.shape, -np.inf)
    hi = np.full(dt.shape, np.inf)
    for m0, m1 in inv:
        # cell coordinate m0 * dt + m1 * (s - cv) must lie in [-1/2, 1/2]
        if abs(m1) > 1e-12:
            s1 = cvv + (-0.5 - m0 * dt) / m1
            s2 = cvv + (0.5 - m0 * dt) / m1
            lo = np.maximum(lo, np.minimum(s1, s2))
            hi = np.minimum(hi, np.maximum(s1, s2))
        else:
            out = np.abs(m0 * dt) > 0.5 + eps
            lo[out], hi[out] = np.inf, -np.inf
    valid = inside & (lo <= hi + eps)
    lo_v = np.where(valid, lo, np.inf).min(axis=1)
    hi_v = np.where(valid, hi, -np.inf).max(axis=1)
    lengths = np.where(np.isfinite(lo_v) & np.isfinite(hi_v), hi_v - lo_v, -1.0)
    n = int(np.argmax(lengths))
    base = ts[n] * u + plane_offset * normal
    return Segment(float(max(lengths[n], 0.0)), base + lo_v[n] * v, base + hi_v[n] * v)


# ---------------------------------------------------------------------------------------------
# Public per-measurement functions (mask on a grid + its affine)
# ---------------------------------------------------------------------------------------------


def extents_mm(mask: ArrayLike, affine: ArrayLike) -> dict[str, float]:
    """Extents of a region along the patient axes, mm.

    The extent along an axis is ``max - min`` of the voxel-centre coordinates along it plus one
    voxel step along it (:func:`voxel_step_mm`), so that a box of ``N`` voxels along a grid axis
    measures ``N * spacing``.

    Here the slice axis points left (a sagittal stack):

    >>> m = np.zeros((5, 5, 5), bool); m[1:4, 2, 1:3] = True
    >>> {k: round(v, 9) for k, v in extents_mm(m, np.diag([2.5, 0.7, 0.5, 1.0])).items()}
    {'lr': 7.5, 'ap': 0.7, 'cc': 1.0}
    """
    return _Region.from_mask(mask, affine).extents_mm()


def oriented_bounding_box(mask: ArrayLike, affine: ArrayLike) -> OrientedBox:
    """Bounding box of a region along its principal axes (PCA of the voxel-centre LPS points).

    Sizes follow the same convention as :func:`extents_mm` (span of the voxel centres along each
    axis plus one voxel step), largest first.
    """
    return _Region.from_mask(mask, affine).obb()


def max_diameter(mask: ArrayLike, affine: ArrayLike) -> Segment:
    """Largest distance between two points of the region's voxel cells, with its end points.

    Computed exactly on the convex hull of the boundary voxels grown by one cell.

    >>> m = np.zeros((3, 3, 3), bool); m[1, 1, 1] = True
    >>> round(max_diameter(m, np.diag([2.0, 3.0, 6.0, 1.0])).length_mm, 9)
    7.0
    """
    return _Region.from_mask(mask, affine).max_diameter()


def recist_axes(mask: ArrayLike, affine: ArrayLike) -> RecistAxes:
    """RECIST-style long axis and perpendicular short axis on the (near) axial sections.

    Sections are the grid's planes across the voxel axis closest to cranio-caudal. The long
    axis is the largest in-plane diameter over all sections; the short axis is the longest chord
    perpendicular to it on that same section (from the first to the last cell it crosses).
    """
    return _Region.from_mask(mask, affine).recist()


def volume_ml(mask: ArrayLike, affine: ArrayLike) -> float:
    """Region volume in mL: voxel count times ``|det(affine)|`` / 1000.

    >>> volume_ml(np.ones((4, 10, 10), bool), np.diag([2.5, 1.0, 1.0, 1.0]))
    1.0
    """
    return _Region.from_mask(mask, affine).volume_ml()


def centroid_lps(mask: ArrayLike, affine: ArrayLike) -> NDArray[np.float64]:
    """Mean LPS position of the region's voxel centres, mm."""
    return _Region.from_mask(mask, affine).centroid_lps()


def _integer_stats(v: NDArray[np.integer[Any]]) -> HUStatistics:
    """Exact statistics of integer values from their histogram (no sort): O(n)."""
    vmin = int(v.min())
    counts = np.bincount((v.astype(np.int64) - vmin).ravel())
    x = np.arange(vmin, vmin + len(counts), dtype=float)
    n = int(v.size)
    mean = float(counts @ x) / n
    std = math.sqrt(float(counts @ (x - mean) ** 2) / n)
    cum = np.cumsum(counts)

    def order_stat(k: NDArray[np.int64]) -> NDArray[np.float64]:
        return np.asarray(x[np.searchsorted(cum, k, side="right")], dtype=float)

    qs = np.array([50, *HU_PERCENTILES], dtype=float)
    pos = qs / 100.0 * (n - 1)
    lo = np.floor(pos).astype(np.int64)
    frac = pos - lo
    a = order_stat(lo)
    b = order_stat(np.minimum(lo + 1, n - 1))
    vals = a + (b - a) * frac
    return HUStatistics(
        n_voxels=n,
        mean=mean,
        std=std,
        min=float(vmin),
        max=float(x[len(counts) - 1]),
        median=float(vals[0]),
        percentiles={q: float(p) for q, p in zip(HU_PERCENTILES, vals[1:], strict=True)},
    )


def hu_statistics(values: ArrayLike) -> HUStatistics:
    """Statistics of CT values (HU), usually ``ct.array[mask]``.

    Integer values (CT is ``int16``) are counted in a histogram, which gives the same exact
    figures as sorting, in linear time.

    >>> s = hu_statistics([-10, 0, 10, 20, 30])
    >>> s.mean, s.median, s.min, s.max, s.percentiles[25]
    (10.0, 10.0, -10.0, 30.0, 0.0)
    >>> hu_statistics(np.array([-10, 0, 10, 20, 30], np.int16)) == s
    True
    """
    arr = np.asarray(values)
    if arr.size == 0:
        raise MeasurementError("HU statistics need at least one value; the region is empty.")
    if arr.dtype.kind in "iu" and int(arr.max()) - int(arr.min()) < 1 << 20:
        return _integer_stats(arr)
    v = arr.astype(float).ravel()
    if not np.all(np.isfinite(v)):
        raise MeasurementError("HU values must be finite; the CT holds NaN or infinite values.")
    qs = np.percentile(v, [50, *HU_PERCENTILES])
    return HUStatistics(
        n_voxels=int(v.size),
        mean=float(v.mean()),
        std=float(v.std()),
        min=float(v.min()),
        max=float(v.max()),
        median=float(qs[0]),
        percentiles={q: float(x) for q, x in zip(HU_PERCENTILES, qs[1:], strict=True)},
    )


# ---------------------------------------------------------------------------------------------
# Regions of a label map
# ---------------------------------------------------------------------------------------------


def _label_array(labels: Volume) -> NDArray[np.integer[Any]]:
    arr = labels.array
    if arr.dtype == bool:
        return arr.view(np.uint8)
    if np.issubdtype(arr.dtype, np.integer):
        return arr
    if np.issubdtype(arr.dtype, np.floating):
        finite = np.isfinite(arr)
        if not np.all(finite) or not np.array_equal(arr, np.round(arr)):
            raise MeasurementError(
                f"Label map values must be whole numbers, got dtype {arr.dtype} with "
                "fractional or non-finite values; load a label map, not an image."
            )
        return arr.astype(np.int32)
    raise MeasurementError(f"Label map dtype must be integer, got {arr.dtype}.")


def check_same_grid(labels: Volume, ct: Volume, names: tuple[str, str] = ("labels", "ct")) -> None:
    """Raise :class:`GeometryError` unless two volumes share one voxel grid."""
    if labels.shape != ct.shape or not np.allclose(labels.affine, ct.affine, atol=GRID_ATOL):
        raise GeometryError(
            f"The {names[1]} grid (shape {ct.shape}, affine {np.round(ct.affine, 4).tolist()}) "
            f"does not match the {names[0]} grid (shape {labels.shape}, affine "
            f"{np.round(labels.affine, 4).tolist()}); resample one onto the other first."
        )


#: Label maps whose largest value exceeds this are renumbered compactly before their regions'
#: bounding boxes are found (which allocates per value up to the largest one).
COMPACT_LABELS_ABOVE = 65535


def _label_slices(arr: NDArray[np.integer[Any]]) -> dict[int, tuple[slice, slice, slice]]:
    """Bounding box of every positive label value, found in the union box of all labels.

    Memory follows the number of labels present, not the largest value:

    >>> a = np.zeros((2, 3, 4), np.int64); a[1, 1:, 2] = 5_000_000_000; a[0, 0, 0] = 2
    >>> {v: [(s.start, s.stop) for s in sl] for v, sl in _label_slices(a).items()}
    {2: [(0, 1), (0, 1), (0, 1)], 5000000000: [(1, 2), (1, 3), (2, 3)]}
    """
    nz_slices = np.flatnonzero(arr.reshape(arr.shape[0], -1).max(axis=1) > 0)
    if nz_slices.size == 0:
        return {}
    s0, s1 = int(nz_slices[0]), int(nz_slices[-1]) + 1
    plane = arr[s0:s1].max(axis=0) > 0
    rows = np.flatnonzero(plane.any(axis=1))
    cols = np.flatnonzero(plane.any(axis=0))
    r0, r1, c0, c1 = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
    sub = arr[s0:s1, r0:r1, c0:c1]
    if sub.dtype.kind == "u" and sub.dtype.itemsize > 4:
        sub = sub.astype(np.int64)
    # find_objects allocates one entry per value up to the largest: with large label values,
    # number the values present 1..n first, so that memory follows the labels present.
    values: NDArray[Any] | None = None
    if int(sub.max()) > COMPACT_LABELS_ABOVE:
        pos = sub > 0
        values = np.unique(sub[pos])
        compact = np.zeros(sub.shape, dtype=np.int32 if len(values) < 2**31 - 1 else np.int64)
        compact[pos] = np.searchsorted(values, sub[pos]) + 1
        sub = compact
    out: dict[int, tuple[slice, slice, slice]] = {}
    for index, sl in enumerate(ndimage.find_objects(sub), start=1):
        if sl is not None:
            value = index if values is None else int(values[index - 1])
            out[value] = (
                slice(sl[0].start + s0, sl[0].stop + s0),
                slice(sl[1].start + r0, sl[1].stop + r0),
                slice(sl[2].start + c0, sl[2].stop + c0),
            )
    return out


def _measure(
    region: _Region, label: int, name: str, ct_values: NDArray[Any] | None
) -> RegionMeasurements:
    n, mean, _ = region.moments()
    return RegionMeasurements(
        label=label,
        name=name,
        n_voxels=n,
        volume_ml=n * float(abs(np.linalg.det(region.lin))) / 1000.0,
        centroid_lps=geometry.apply_affine(region.affine, mean),
        extents_mm=region.extents_mm(),
        voxel_extent_mm=patient_axis_voxel_mm(region.full_affine),
        obb=region.obb(),
        max_diameter=region.max_diameter(),
        recist=region.recist(),
        bbox_ijk=region.bbox_ijk,
        hu=None if ct_values is None else hu_statistics(ct_values),
    )


def measure_region(
    labels: Volume,
    region: int | ArrayLike,
    name: str | None = None,
    ct: Volume | None = None,
) -> RegionMeasurements:
    """Measure one region of a grid: a label value of ``labels``, or a boolean mask on its grid.

    Parameters
    ----------
    labels
        The label map (or any volume whose grid the mask lives on).
    region
        A label value, or a boolean array of ``labels.shape``.
    name
        Name to report; defaults to ``label_<value>`` (``mask`` for a mask).
    ct
        CT on the same grid, for HU statistics.

    Raises
    ------
    MeasurementError
        The region is empty or the mask has the wrong shape.
    GeometryError
        ``ct`` is on another grid.
    """
    if ct is not None:
        check_same_grid(labels, ct)
    if isinstance(region, (int, np.integer)):
        value = int(region)
        mask = _label_array(labels) == value
        default = f"label_{value}"
    else:
        value = 0
        mask = np.asarray(region, dtype=bool)
        default = "mask"
        if mask.shape != labels.shape:
            raise MeasurementError(
                f"Argument 'region' mask has shape {mask.shape}, not the grid's {labels.shape}."
            )
    reg = _Region.from_mask(mask, labels.affine, name=name or default)
    values = None
    if ct is not None:
        sl = tuple(slice(a, b) for a, b in reg.bbox_ijk)
        values = ct.array[sl][reg.mask]
    return _measure(reg, value, name or default, values)


def measure_labels(
    labels: Volume,
    names: Mapping[int, str] | None = None,
    ct: Volume | None = None,
) -> list[RegionMeasurements]:
    """Measure every positive label value present in a label map, in increasing order.

    Parameters
    ----------
    labels
        Label map; value 0 (and negative values) is background.
    names
        Name of each label value; missing ones are called ``label_<value>``.
    ct
        CT on the same grid, for HU statistics.

    Raises
    ------
    GeometryError
        ``ct`` is on another grid; the message gives both shapes and affines.
    """
    if ct is not None:
        check_same_grid(labels, ct)
    arr = _label_array(labels)
    names = dict(names or {})
    out: list[RegionMeasurements] = []
    for value, sl in _label_slices(arr).items():
        mask = arr[sl] == value
        reg = _Region(mask, labels.affine, [s.start for s in sl])
        values = None if ct is None else ct.array[sl][mask]
        out.append(_measure(reg, value, names.get(value, f"label_{value}"), values))
    return out


# ---------------------------------------------------------------------------------------------
# Comparison with reported figures
# ---------------------------------------------------------------------------------------------


def _axis_dict(d: Mapping[str, float], name: str, require_all: bool) -> dict[str, float]:
    out: dict[str, float] = {}
    for key, value in d.items():
        if key not in PATIENT_AXES:
            raise MeasurementError(
                f"Argument {name!r} has axis {key!r}; axes are {list(PATIENT_AXES)}."
            )
        v = float(value)
        if not math.isfinite(v) or v <= 0:
            raise MeasurementError(
                f"Argument {name!r} must hold positive lengths in mm, got {key}={value!r}."
            )
        out[key] = v
    missing = [a for a in PATIENT_AXES if a not in out]
    if (require_all and missing) or not out:
        raise MeasurementError(
            f"Argument {name!r} lacks axes {missing or list(PATIENT_AXES)}; give 'lr', 'ap', 'cc'."
        )
    return out


def _compare_one(
    measured_axis: str,
    reported_axis: str,
    measured: float,
    reported: float,
    voxel: float,
    tolerance_rel: float,
) -> AxisComparison:
    diff = measured - reported
    tol = max(voxel, tolerance_rel * reported)
    return AxisComparison(
        measured_axis=measured_axis,
        reported_axis=reported_axis,
        measured_mm=measured,
        reported_mm=reported,
        difference_mm=diff,
        relative_difference=diff / reported,
        tolerance_mm=tol,
        passed=bool(abs(diff) <= tol + 1e-9),
    )


def compare_extents(
    measured: Mapping[str, float],
    reported: Mapping[str, float],
    voxel_mm: Mapping[str, float] | float,
    tolerance_rel: float = DEFAULT_TOLERANCE_REL,
) -> ExtentComparison:
    """Compare measured extents (mm) with reported ones, axis by axis and order-free.

    The tolerance of each pair is the larger of one voxel along the measured axis and
    ``tolerance_rel`` times the reported length.

    Parameters
    ----------
    measured
        ``{'lr', 'ap', 'cc'}`` in mm (all three).
    reported
        Some or all of ``{'lr', 'ap', 'cc'}`` in mm. The order-free comparison pairs the reported
        lengths, largest first, with the same number of largest measured lengths.
    voxel_mm
        One voxel's size along each axis (``RegionMeasurements.voxel_extent_mm``), or one value
        for all axes.
    tolerance_rel
        Relative tolerance (default 2%).

    Examples
    --------
    >>> c = compare_extents({"lr": 104, "ap": 90, "cc": 131},
    ...                     {"lr": 105, "ap": 89, "cc": 132}, 0.7)
    >>> c.passed_by_axis, [round(x.tolerance_mm, 2) for x in c.by_axis]
    (True, [2.1, 1.78, 2.64])
    >>> compare_extents({"lr": 131, "ap": 90, "cc": 104},
    ...                 {"lr": 105, "ap": 89, "cc": 132}, 0.7).passed_order_free
    True
    """
    meas = _axis_dict(measured, "measured", require_all=True)
    rep = _axis_dict(reported, "reported", require_all=False)
    if isinstance(voxel_mm, Mapping):
        vox = {a: float(voxel_mm[a]) for a in PATIENT_AXES if a in voxel_mm}
        if set(vox) != set(PATIENT_AXES):
            raise MeasurementError(
                f"Argument 'voxel_mm' must give 'lr', 'ap' and 'cc', got {sorted(voxel_mm)}."
            )
    else:
        vox = dict.fromkeys(PATIENT_AXES, float(voxel_mm))
    if any(not math.isfinite(v) or v < 0 for v in vox.values()):
        raise MeasurementError(f"Argument 'voxel_mm' must be >= 0, got {vox}.")
    if not math.isfinite(tolerance_rel) or tolerance_rel < 0:
        raise MeasurementError(f"Argument 'tolerance_rel' must be >= 0, got {tolerance_rel}.")

    by_axis = tuple(
        _compare_one(a, a, meas[a], rep[a], vox[a], tolerance_rel) for a in PATIENT_AXES if a in rep
    )
    meas_sorted = sorted(meas.items(), key=lambda kv: -kv[1])
    rep_sorted = sorted(rep.items(), key=lambda kv: -kv[1])
    order_free = tuple(
        _compare_one(ma, ra, mv, rv, vox[ma], tolerance_rel)
        for (ma, mv), (ra, rv) in zip(meas_sorted, rep_sorted, strict=False)
    )
    return ExtentComparison(by_axis, order_free, tolerance_rel)


__all__ = [
    "DEFAULT_TOLERANCE_REL",
    "HU_PERCENTILES",
    "PATIENT_AXES",
    "AxisComparison",
    "ExtentComparison",
    "HUStatistics",
    "OrientedBox",
    "RecistAxes",
    "RegionMeasurements",
    "Segment",
    "centroid_lps",
    "check_same_grid",
    "compare_extents",
    "extents_mm",
    "hu_statistics",
    "line_length_mm",
    "max_diameter",
    "measure_labels",
    "measure_region",
    "oriented_bounding_box",
    "patient_axis_voxel_mm",
    "recist_axes",
    "voxel_projection_mm",
    "voxel_step_mm",
]

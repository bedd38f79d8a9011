"""The largest diameter of a region: the farthest pair of points of its voxel cells.

The pair search visits few points: the vertices of the region's hull (found from its
sections), thinned by a quick lower bound of the answer; the same kernel gives each section's
in-plane diameter for the RECIST long axis.
"""

from __future__ import annotations

import itertools

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.spatial import ConvexHull, QhullError
from scipy.spatial.distance import cdist

from .cropped import CroppedRegion
from .lengths import Segment

_PAIR_BLOCK = 2048
_HULL_FIRST = 1500


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


def farthest_pair(
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


def max_diameter_of(region: CroppedRegion) -> Segment:
    """Largest distance between two points of a cropped region's cells, with its end points."""
    length, p, q = farthest_pair(region.hull_centres(), region.lin.T)
    return Segment(length, p, q)


def max_diameter(mask: ArrayLike, affine: ArrayLike) -> Segment:
    """Largest distance between two points of the region's voxel cells, with its end points.

    Computed exactly on the convex hull of the boundary voxels grown by one cell.

    >>> m = np.zeros((3, 3, 3), bool); m[1, 1, 1] = True
    >>> round(max_diameter(m, np.diag([2.0, 3.0, 6.0, 1.0])).length_mm, 9)
    7.0
    """
    return max_diameter_of(CroppedRegion.from_mask(mask, affine))


__all__ = ["farthest_pair", "max_diameter", "max_diameter_of"]

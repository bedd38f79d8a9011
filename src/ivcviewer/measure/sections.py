"""A region cut into sections across one voxel axis, with each section's 2D hull vertices.

The vertices of every section's 2D convex hull are a superset of the vertices of the region's
3D hull, so every linear extreme (extents, box sizes, diameters) is found among these few
points; and the sections themselves are the planes the RECIST axes are measured on.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .. import geometry


def section_axis(affine: NDArray[np.float64]) -> int:
    """The voxel axis whose direction is closest to cranio-caudal.

    >>> section_axis(np.diag([2.5, 0.7, 0.7, 1.0]))  # voxel axis 2 runs along LPS z
    2
    """
    d = geometry.direction_from_affine(affine)
    return int(np.argmax(np.abs(d[2])))


@dataclass(frozen=True)
class Sections:
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


def convex_chain(
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


def sections_of(mask: NDArray[np.bool_], axis: int) -> Sections:
    """The sections of a (cropped) mask across voxel axis ``axis``, with their hull vertices.

    Each grid line of a section contributes its first and last voxel; :func:`convex_chain`
    keeps those that are vertices of the section's 2D hull.

    >>> m = np.zeros((2, 3, 4), bool); m[0, :, :] = True; m[1, 1, 1:3] = True
    >>> s = sections_of(m, 0)
    >>> s.index.tolist(), np.diff(s.bounds).tolist()
    ([0, 1], [4, 2])
    """
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
    left = convex_chain(sec, row, f, 1)
    right = convex_chain(sec, row, lst, -1)
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
    return Sections(
        axis=axis,
        plane_axes=(plane[0], plane[1]),
        index=pts[starts, 0].astype(np.intp),
        bounds=np.r_[starts, len(pts)].astype(np.intp),
        ijk=ijk,
    )


__all__ = ["Sections", "convex_chain", "section_axis", "sections_of"]

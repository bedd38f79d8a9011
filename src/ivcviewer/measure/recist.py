"""RECIST-style long and short axes of a region on its (near) axial sections.

The long axis is the largest in-plane diameter over all sections (cells included); the short
axis is the longest chord perpendicular to it on the same section, from the first to the last
cell the chord crosses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .. import geometry
from .cropped import CroppedRegion
from .diameter import farthest_pair
from .lengths import Segment


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


def recist_of(region: CroppedRegion) -> RecistAxes:
    """RECIST axes of a cropped region (see :func:`recist_axes`).

    Sections are visited largest bound first, so the exact in-plane diameter is computed only
    on the few sections that can hold the longest one; of equal ones, the section nearest the
    region's centroid is taken.
    """
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
        length, p, q = farthest_pair(centres[groups[n]], edges)
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


def recist_axes(mask: ArrayLike, affine: ArrayLike) -> RecistAxes:
    """RECIST-style long axis and perpendicular short axis on the (near) axial sections.

    Sections are the grid's planes across the voxel axis closest to cranio-caudal. The long
    axis is the largest in-plane diameter over all sections; the short axis is the longest chord
    perpendicular to it on that same section (from the first to the last cell it crosses).
    """
    return recist_of(CroppedRegion.from_mask(mask, affine))


__all__ = ["RecistAxes", "recist_axes", "recist_of"]

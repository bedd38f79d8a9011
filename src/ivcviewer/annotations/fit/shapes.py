"""Shapes of the fit: a lobulated ellipsoid for a solid finding, a tube for one inside a vessel.

Both live in LPS mm and are tested at LPS points, so they rasterise on any grid
(:mod:`..rasterise`).

Examples
--------
>>> m = SolidModel(np.zeros(3), (50.0, 40.0, 60.0), lobulation=0.0)
>>> z = np.zeros((1, 1, 1), np.float32); y = z.copy()
>>> x = np.array([[[0.0, 49.0, 51.0]]], np.float32)
>>> m.inside(x, y, z).ravel().tolist()
[True, True, False]
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ... import geometry
from ...errors import AnatomyError
from ..rasterise import (
    Arr,
    CroppedMask,
    GridBox,
    block_coords,
    box_of_lps,
    rasterise_inside,
)
from .kinds import DEFAULT_LOBULATION

F32 = np.float32


@dataclass(frozen=True)
class SolidModel:
    """A lobulated ellipsoid with axes along LPS x, y, z.

    The surface is ``n = 1 + lobulation * h(u)`` in the ellipsoid's normalised coordinates
    ``q = ((x - cx) / a, (y - cy) / b, (z - cz) / c)``, ``n = |q|``, ``u = q / n``, with
    ``h(u) = 4 (ux^2 uy^2 + uy^2 uz^2 + uz^2 ux^2) cos(3 theta + p0) cos(2 psi + p1)``
    (``theta``, ``psi`` the direction's azimuth and elevation, ``p0``, ``p1`` phases). ``h``
    vanishes to second order at the six ends of the axes, so for ``lobulation < 1/8`` the
    extents along x, y and z stay ``2a``, ``2b``, ``2c`` exactly.

    Attributes
    ----------
    centre_lps
        Centre, LPS mm.
    semi_axes_mm
        ``(a, b, c)``: half the extents along x (left-right), y (antero-posterior), z
        (cranio-caudal).
    lobulation
        Amplitude of the surface's bumps (fraction of the radius), 0 for a smooth ellipsoid.
    phases
        The two phases of the bumps (radians).
    exponent
        2 for the ellipsoid; 4 for a rounded box (the superellipsoid ``|qx|^4 + |qy|^4 +
        |qz|^4 <= 1``, drawn without bumps). Either keeps the extents ``2a``, ``2b``, ``2c``.
    """

    centre_lps: NDArray[np.float64]
    semi_axes_mm: tuple[float, float, float]
    lobulation: float = DEFAULT_LOBULATION
    phases: tuple[float, float] = (0.0, 0.0)
    exponent: float = 2.0

    def __post_init__(self) -> None:
        if self.exponent not in (2.0, 4.0):
            raise AnatomyError(
                f"Argument 'exponent' must be 2 (ellipsoid) or 4 (rounded box), got "
                f"{self.exponent}."
            )
        if not 0.0 <= self.lobulation < 0.125:
            raise AnatomyError(
                f"Argument 'lobulation' must lie in [0, 0.125) (above it the bumps would change "
                f"the extents), got {self.lobulation}."
            )
        if any(not s > 0 for s in self.semi_axes_mm):
            raise AnatomyError(
                f"Argument 'semi_axes_mm' must be 3 positive lengths, got {self.semi_axes_mm}."
            )

    def bounds_lps(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """``(lo, hi)`` LPS corners of the bounding box (the ellipsoid's: bumps stay inside)."""
        s = np.asarray(self.semi_axes_mm, dtype=float)
        c = np.asarray(self.centre_lps, dtype=float)
        return c - s, c + s

    def normalised(self, x: Arr, y: Arr, z: Arr) -> tuple[Arr, Arr, Arr]:
        """The normalised coordinates ``q`` (broadcast arrays)."""
        c = self.centre_lps
        a, b, cc = self.semi_axes_mm
        return (
            (x - F32(c[0])) * F32(1.0 / a),
            (y - F32(c[1])) * F32(1.0 / b),
            (z - F32(c[2])) * F32(1.0 / cc),
        )

    def inside(self, x: Arr, y: Arr, z: Arr) -> NDArray[np.bool_]:
        """Whether LPS points lie inside (broadcast arrays in, boolean array out)."""
        qx, qy, qz = self.normalised(x, y, z)
        qx2, qy2, qz2 = qx * qx, qy * qy, qz * qz
        if self.exponent == 4.0:
            return np.asarray(qx2 * qx2 + qy2 * qy2 + qz2 * qz2 <= F32(1.0))
        n2 = qx2 + qy2 + qz2
        eps = float(self.lobulation)
        if eps == 0.0:
            return np.asarray(n2 <= F32(1.0))
        hmax = 4.0 / 3.0
        out = np.asarray(n2 <= F32((1.0 - eps * hmax) ** 2))
        shell = (~out) & (n2 <= F32((1.0 + eps * hmax) ** 2))
        if shell.any():
            sx = np.broadcast_to(qx, n2.shape)[shell]
            sy = np.broadcast_to(qy, n2.shape)[shell]
            sz = np.broadcast_to(qz, n2.shape)[shell]
            s2 = n2[shell]
            sx2, sy2, sz2 = sx * sx, sy * sy, sz * sz
            pair = (sx2 * sy2 + sy2 * sz2 + sz2 * sx2) / (s2 * s2)
            theta = np.arctan2(sy, sx)
            psi = np.arctan2(sz, np.sqrt(sx2 + sy2))
            p0, p1 = self.phases
            h = (
                F32(4.0)
                * pair
                * np.cos(F32(3.0) * theta + F32(p0))
                * np.cos(F32(2.0) * psi + F32(p1))
            )
            limit = F32(1.0) + F32(eps) * h
            out[shell] = s2 <= limit * limit
        return out

    def rasterise(self, shape: tuple[int, int, int], affine: ArrayLike) -> CroppedMask:
        """The voxels of a grid whose centres lie inside."""
        lo, hi = self.bounds_lps()
        return rasterise_inside(shape, affine, lo, hi, self.inside)

    def normalised_distance(self, point_lps: ArrayLike) -> float:
        """``|q|`` of a point (the p-norm of the shape's exponent): below 1 inside the smooth
        shape, 1 on it."""
        p = np.asarray(point_lps, dtype=float)
        q = (p - self.centre_lps) / np.asarray(self.semi_axes_mm)
        return float(np.sum(np.abs(q) ** self.exponent) ** (1.0 / self.exponent))

    def volume_ml(self) -> float:
        """Volume of the smooth shape, mL (the bumps change it by well under 1 %)."""
        a, b, c = self.semi_axes_mm
        p = self.exponent
        unit = 8.0 * math.gamma(1.0 + 1.0 / p) ** 3 / math.gamma(1.0 + 3.0 / p)
        return unit * a * b * c / 1000.0

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        common = {
            "centre_lps": [round(float(v), 3) for v in self.centre_lps],
            "semi_axes_mm": {
                k: round(float(v), 3)
                for k, v in zip(("lr", "ap", "cc"), self.semi_axes_mm, strict=True)
            },
        }
        if self.exponent == 4.0:
            return {
                "shape": "rounded box",
                **common,
                "exponent": 4,
                "volume_ml": round(self.volume_ml(), 3),
            }
        return {
            "shape": "lobulated ellipsoid",
            **common,
            "lobulation": self.lobulation,
            "ellipsoid_volume_ml": round(self.volume_ml(), 3),
        }


@dataclass(frozen=True)
class TubeModel:
    """A tube around a polyline, with a radius varying linearly along each segment.

    Joints between segments are rounded (the union of capsules); the two ends are flat,
    across the tube's direction over about one radius from each end (:meth:`end_planes`).

    Attributes
    ----------
    points_lps
        ``(N, 3)`` LPS mm, N >= 2, from the lower end to the upper end.
    radii_mm
        ``(N,)`` radius at each point, mm.
    """

    points_lps: NDArray[np.float64]
    radii_mm: NDArray[np.float64]

    def __post_init__(self) -> None:
        p = np.asarray(self.points_lps, dtype=float)
        r = np.asarray(self.radii_mm, dtype=float)
        if p.ndim != 2 or p.shape[1] != 3 or p.shape[0] < 2 or r.shape != (p.shape[0],):
            raise AnatomyError(
                f"A tube needs N >= 2 points (N, 3) and N radii, got {p.shape} and {r.shape}."
            )
        if np.any(r <= 0) or not np.all(np.isfinite(p)):
            raise AnatomyError("A tube needs finite points and positive radii.")

    def bounds_lps(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """``(lo, hi)`` LPS corners of the bounding box."""
        r = float(np.max(self.radii_mm))
        return self.points_lps.min(axis=0) - r, self.points_lps.max(axis=0) + r

    def end_planes(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Unit normals of the two flat ends, pointing along the tube (lower end -> upper end).

        Each is the tube's direction over about one radius from its end, so that very short
        end segments do not tilt the ends.
        """
        p = np.asarray(self.points_lps, dtype=float)
        out = []
        for end, sign in ((0, 1.0), (len(p) - 1, -1.0)):
            # the first point (walking from this end) at least one end radius away, else the
            # other end; found in one pass, so that dense centrelines cost linear time
            order = p[1:] if sign > 0 else p[-2::-1]
            reach = float(self.radii_mm[end])
            far = np.flatnonzero(np.linalg.norm(order - p[end], axis=1) >= reach)
            d = (order[far[0] if far.size else -1] - p[end]) * sign
            n = float(np.linalg.norm(d))
            out.append(d / n if n > 0 else np.array([0.0, 0.0, 1.0]))
        return out[0], out[1]

    def _segment_inside(self, k: int, x: Arr, y: Arr, z: Arr) -> NDArray[np.bool_]:
        p0, p1 = self.points_lps[k], self.points_lps[k + 1]
        r0, r1 = float(self.radii_mm[k]), float(self.radii_mm[k + 1])
        d = p1 - p0
        dd = float(d @ d)
        ax, ay, az = x - F32(p0[0]), y - F32(p0[1]), z - F32(p0[2])
        if dd > 0:
            t = (ax * F32(d[0]) + ay * F32(d[1]) + az * F32(d[2])) * F32(1.0 / dd)
        else:
            t = np.zeros(np.broadcast_shapes(ax.shape, ay.shape, az.shape), F32)
        tc = np.clip(t, F32(0.0), F32(1.0))
        ex = ax - tc * F32(d[0])
        ey = ay - tc * F32(d[1])
        ez = az - tc * F32(d[2])
        rad = F32(r0) + tc * F32(r1 - r0)
        return np.asarray(ex * ex + ey * ey + ez * ez <= rad * rad)

    def between_ends(
        self,
        x: Arr,
        y: Arr,
        z: Arr,
        ends: tuple[NDArray[np.float64], NDArray[np.float64]] | None = None,
    ) -> NDArray[np.bool_]:
        """Whether LPS points lie between the tube's two flat ends (:meth:`end_planes`, or
        ``ends`` when the caller has them already)."""
        n0, n1 = self.end_planes() if ends is None else ends
        a, b = self.points_lps[0], self.points_lps[-1]
        s0 = (
            (x - F32(a[0])) * F32(n0[0])
            + (y - F32(a[1])) * F32(n0[1])
            + (z - F32(a[2])) * F32(n0[2])
        )
        s1 = (
            (x - F32(b[0])) * F32(n1[0])
            + (y - F32(b[1])) * F32(n1[1])
            + (z - F32(b[2])) * F32(n1[2])
        )
        return np.asarray((s0 >= F32(0.0)) & (s1 <= F32(0.0)))

    def inside(self, x: Arr, y: Arr, z: Arr) -> NDArray[np.bool_]:
        """Whether LPS points lie inside (broadcast arrays in, boolean array out)."""
        shape = np.broadcast_shapes(x.shape, y.shape, z.shape)
        out = np.zeros(shape, dtype=bool)
        for k in range(len(self.points_lps) - 1):
            out |= self._segment_inside(k, x, y, z)
        return np.asarray(out & self.between_ends(x, y, z))

    def rasterise(
        self, shape: tuple[int, int, int], affine: ArrayLike, within: GridBox | None = None
    ) -> CroppedMask:
        """The voxels of a grid whose centres lie inside, each segment tested in its own box.

        ``within`` restricts the result to a box of the grid (the result's box is then that
        box's overlap with the tube's).
        """
        lo, hi = self.bounds_lps()
        box = box_of_lps(shape, affine, lo, hi)
        if within is not None:
            box = box.intersect(within)
        out = CroppedMask.empty_on(box)
        if box.empty:
            return out
        ends = self.end_planes()
        for k in range(len(self.points_lps) - 1):
            seg = self.points_lps[k : k + 2]
            r = float(max(self.radii_mm[k], self.radii_mm[k + 1]))
            sub = box_of_lps(shape, affine, seg.min(axis=0) - r, seg.max(axis=0) + r).intersect(box)
            if sub.empty:
                continue
            x, y, z = block_coords(affine, sub)
            part = self._segment_inside(k, x, y, z) & self.between_ends(x, y, z, ends)
            out.mask[sub.relative_to(box)] |= np.broadcast_to(part, sub.shape)
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON form (the end points and the radius range)."""
        return {
            "shape": "tube along the vessel centreline (flat ends)",
            "lower_end_lps": [round(float(v), 3) for v in self.points_lps[0]],
            "upper_end_lps": [round(float(v), 3) for v in self.points_lps[-1]],
            "n_points": int(len(self.points_lps)),
            "radius_mm": {
                "min": round(float(self.radii_mm.min()), 3),
                "max": round(float(self.radii_mm.max()), 3),
            },
        }


def model_leaves_grid(
    model: SolidModel | TubeModel, shape: tuple[int, int, int], affine: ArrayLike
) -> bool:
    """Whether a shape reaches beyond the grid's field of view (its outside part is not drawn).

    Tested on the shape's extreme points: a solid's six axis ends; a tube's polyline points
    moved by their radius along x and y.
    """
    if isinstance(model, SolidModel):
        s = np.diag(np.asarray(model.semi_axes_mm, dtype=float))
        pts = np.vstack([model.centre_lps + s, model.centre_lps - s])
    else:
        p, r = model.points_lps, model.radii_mm[:, None]
        ex, ey = np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0])
        pts = np.vstack([p, p + r * ex, p - r * ex, p + r * ey, p - r * ey])
    ijk = geometry.lps_to_voxel(affine, pts)
    hi = np.asarray(shape, dtype=float) - 0.5
    return bool(np.any(ijk < -0.5) or np.any(ijk > hi))

"""Signed-distance primitives evaluated on blocks of a voxel grid.

Every shape of the phantom is a signed distance function (SDF) in millimetres: negative inside,
positive outside, close to the Euclidean distance near the surface. A voxel's partial-volume
fraction is then :func:`coverage` of its signed distance, a linear ramp one voxel wide centred
on the surface, which is what averaging the shape over a voxel gives for a locally flat surface.

Coordinates come as broadcastable ``float32`` arrays: ``z`` of shape ``(nz, 1, 1)``, ``y`` of
shape ``(1, ny, 1)`` and ``x`` of shape ``(1, 1, nx)`` (LPS mm), so no full-size coordinate
grid is ever built. Approximations (an ellipsoid's distance, a box's) are exact on the surface
and first-order correct near it, which is all a one-voxel ramp or a thin shell needs.

Examples
--------
>>> z = np.zeros((1, 1, 1), np.float32)
>>> x = np.array([[[0.0, 9.0, 10.0, 12.0]]], np.float32)
>>> y = z.copy()
>>> ellipsoid_sd(x, y, z, (0, 0, 0), (10, 10, 10)).round(3).ravel().tolist()
[-10.0, -1.0, 0.0, 2.0]
>>> coverage(np.array([-1.0, 0.0, 1.0], np.float32), 2.0).tolist()
[1.0, 0.5, 0.0]
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

F32 = np.float32
Arr = NDArray[np.float32]

#: Signed distance used for "far outside" (mm).
FAR = np.float32(1.0e4)


@dataclass(frozen=True)
class Box:
    """An axis-aligned box in LPS mm: ``(xmin, xmax, ymin, ymax, zmin, zmax)``."""

    xmin: float
    xmax: float
    ymin: float
    ymax: float
    zmin: float
    zmax: float

    def grow(self, margin: float) -> Box:
        """The box enlarged by ``margin`` mm on every side."""
        m = float(margin)
        return Box(
            self.xmin - m, self.xmax + m, self.ymin - m, self.ymax + m, self.zmin - m, self.zmax + m
        )

    def union(self, other: Box) -> Box:
        """The smallest box holding both."""
        return Box(
            min(self.xmin, other.xmin),
            max(self.xmax, other.xmax),
            min(self.ymin, other.ymin),
            max(self.ymax, other.ymax),
            min(self.zmin, other.zmin),
            max(self.zmax, other.zmax),
        )

    def intersect(self, other: Box) -> Box:
        """The overlap of both (may be empty: min > max)."""
        return Box(
            max(self.xmin, other.xmin),
            min(self.xmax, other.xmax),
            max(self.ymin, other.ymin),
            min(self.ymax, other.ymax),
            max(self.zmin, other.zmin),
            min(self.zmax, other.zmax),
        )

    @staticmethod
    def of_points(points: ArrayLike, margin: float = 0.0) -> Box:
        """The box of ``(n, 3)`` points, enlarged by ``margin``."""
        p = np.asarray(points, dtype=float).reshape(-1, 3)
        lo, hi = p.min(axis=0), p.max(axis=0)
        return Box(lo[0], hi[0], lo[1], hi[1], lo[2], hi[2]).grow(margin)


def coverage(sd: Arr, width: float) -> Arr:
    """Partial-volume fraction of a voxel of size ``width`` whose centre is ``sd`` from a surface.

    A linear ramp from 1 (``sd <= -width/2``) to 0 (``sd >= width/2``).
    """
    out = np.multiply(sd, F32(-1.0 / width), dtype=F32)
    out += F32(0.5)
    np.clip(out, 0.0, 1.0, out=out)
    return out


def _rot_coords(
    x: Arr, y: Arr, z: Arr, centre: Sequence[float], rot: NDArray[np.float64] | None
) -> tuple[Arr, Arr, Arr]:
    dx, dy, dz = x - F32(centre[0]), y - F32(centre[1]), z - F32(centre[2])
    if rot is None:
        return dx, dy, dz
    r = np.asarray(rot, dtype=F32)
    # local coordinate k = (axis k) . d, axis k = column k of rot (LPS components)
    u = r[0, 0] * dx + r[1, 0] * dy + r[2, 0] * dz
    v = r[0, 1] * dx + r[1, 1] * dy + r[2, 1] * dz
    w = r[0, 2] * dx + r[1, 2] * dy + r[2, 2] * dz
    return u, v, w


def ellipsoid_sd(
    x: Arr,
    y: Arr,
    z: Arr,
    centre: Sequence[float],
    semi: Sequence[float],
    rot: NDArray[np.float64] | None = None,
) -> Arr:
    """Approximate signed distance to an ellipsoid (exact on the surface and for a sphere).

    ``rot`` is a 3x3 matrix whose columns are the ellipsoid's axes in LPS (None: axis-aligned).
    """
    u, v, w = _rot_coords(x, y, z, centre, rot)
    a, b, c = (F32(s) for s in semi)
    k0 = np.sqrt((u / a) ** 2 + (v / b) ** 2 + (w / c) ** 2)
    k1 = np.sqrt((u / (a * a)) ** 2 + (v / (b * b)) ** 2 + (w / (c * c)) ** 2)
    centre = k1 < F32(1e-9)
    np.maximum(k1, F32(1e-9), out=k1)
    out = k0 * (k0 - F32(1.0)) / k1
    # the formula's limit at the centre depends on the direction: take the smallest semi-axis
    return np.asarray(np.where(centre, -min(a, b, c), out), dtype=F32)


def ellipse_sd(dx: Arr, dy: Arr, a: ArrayLike, b: ArrayLike) -> Arr:
    """Approximate in-plane signed distance to an axis-aligned ellipse with semi-axes ``a``, ``b``.

    ``a`` and ``b`` may vary per slice (shape ``(nz, 1, 1)``).
    """
    a32 = np.asarray(a, dtype=F32)
    b32 = np.asarray(b, dtype=F32)
    k0 = np.sqrt((dx / a32) ** 2 + (dy / b32) ** 2)
    k1 = np.sqrt((dx / (a32 * a32)) ** 2 + (dy / (b32 * b32)) ** 2)
    centre = k1 < F32(1e-9)
    np.maximum(k1, F32(1e-9), out=k1)
    out = k0 * (k0 - F32(1.0)) / k1
    return np.asarray(np.where(centre, -np.minimum(a32, b32), out), dtype=F32)


def superellipse_radial_sd(dx: Arr, dy: Arr, a: ArrayLike, b: ArrayLike, n: float) -> Arr:
    """Signed distance to a superellipse ``|x/a|^n + |y/b|^n = 1`` measured along the ray from
    its centre (exact where the surface is perpendicular to the ray, longer elsewhere).

    ``b`` may be an array that differs front and back (an asymmetric outline).
    """
    a32 = np.asarray(a, dtype=F32)
    b32 = np.asarray(b, dtype=F32)
    rho = ((np.abs(dx) / a32) ** F32(n) + (np.abs(dy) / b32) ** F32(n)) ** F32(1.0 / n)
    r = np.sqrt(dx * dx + dy * dy)
    np.maximum(rho, F32(1e-6), out=rho)
    return np.asarray(r - r / rho, dtype=F32)


def box_sd(
    x: Arr,
    y: Arr,
    z: Arr,
    centre: Sequence[float],
    half: Sequence[float],
    rot: NDArray[np.float64] | None = None,
) -> Arr:
    """Signed distance to a box (exact outside its edges and inside; Chebyshev-like at corners)."""
    u, v, w = _rot_coords(x, y, z, centre, rot)
    du = np.abs(u) - F32(half[0])
    dv = np.abs(v) - F32(half[1])
    dw = np.abs(w) - F32(half[2])
    outside = np.sqrt(
        np.maximum(du, F32(0)) ** 2 + np.maximum(dv, F32(0)) ** 2 + np.maximum(dw, F32(0)) ** 2
    )
    inside = np.minimum(np.maximum(np.maximum(du, dv), dw), F32(0))
    return np.asarray(outside + inside, dtype=F32)


def smooth_min(a: Arr, b: Arr, k: float) -> Arr:
    """Smooth union of two SDFs (polynomial smooth minimum, blend width ``k`` mm)."""
    if k <= 0:
        return np.minimum(a, b)
    kk = F32(k)
    h = np.clip(F32(0.5) + F32(0.5) * (b - a) / kk, 0.0, 1.0)
    return np.asarray(b + (a - b) * h - kk * h * (F32(1.0) - h), dtype=F32)


def smooth_max(a: Arr, b: Arr, k: float) -> Arr:
    """Smooth intersection of two SDFs (blend width ``k`` mm)."""
    return -smooth_min(-a, -b, k)


def _index_range(coords: NDArray[np.float32], lo: float, hi: float) -> tuple[int, int]:
    """Index range ``[i0, i1)`` of sorted coordinates within ``[lo, hi]``."""
    i0 = int(np.searchsorted(coords, lo, side="left"))
    i1 = int(np.searchsorted(coords, hi, side="right"))
    return i0, i1


_Slices3 = tuple[slice, slice, slice]


def _segment_boxes(
    xs: Arr, ys: Arr, zs: Arr, points: NDArray[np.float64], margin: float
) -> Iterator[tuple[int, _Slices3, Arr, Arr, Arr]]:
    """Each polyline segment's bounding box (grown by ``margin`` mm) on the sorted grid axes.

    Yields the segment index, the ``(z, y, x)`` slices of the box and the box's coordinates
    shaped to broadcast over it; segments whose box misses the grid are skipped.
    """
    for k in range(len(points) - 1):
        p0, p1 = points[k], points[k + 1]
        lo = np.minimum(p0, p1) - margin
        hi = np.maximum(p0, p1) + margin
        i0, i1 = _index_range(zs, lo[2], hi[2])
        j0, j1 = _index_range(ys, lo[1], hi[1])
        k0, k1 = _index_range(xs, lo[0], hi[0])
        if i0 >= i1 or j0 >= j1 or k0 >= k1:
            continue
        zz = zs[i0:i1].reshape(-1, 1, 1)
        yy = ys[j0:j1].reshape(1, -1, 1)
        xx = xs[k0:k1].reshape(1, 1, -1)
        yield k, (slice(i0, i1), slice(j0, j1), slice(k0, k1)), xx, yy, zz


def _segment_offsets(
    xx: Arr, yy: Arr, zz: Arr, p0: NDArray[np.float64], d: NDArray[np.float32], dd: float
) -> tuple[Arr, Arr, Arr, Arr]:
    """Position ``t`` in [0, 1] along a segment and the offset from its nearest point.

    ``p0`` is the segment start, ``d`` its direction (float32) and ``dd`` its squared length.
    Returns ``t`` and the x, y, z components of the offset.
    """
    ax, ay, az = xx - F32(p0[0]), yy - F32(p0[1]), zz - F32(p0[2])
    if dd > 0:
        t = (ax * d[0] + ay * d[1] + az * d[2]) * F32(1.0 / dd)
        np.clip(t, 0.0, 1.0, out=t)
    else:
        t = np.zeros(np.broadcast_shapes(ax.shape, ay.shape, az.shape), F32)
    return t, ax - t * d[0], ay - t * d[1], az - t * d[2]


def polyline_tube_sd(
    x: Arr,
    y: Arr,
    z: Arr,
    points: NDArray[np.float64],
    radii: NDArray[np.float64],
    scale_xy: tuple[float, float] = (1.0, 1.0),
) -> Arr:
    """Signed distance to a tube around a polyline whose radius varies linearly along segments.

    Each segment is evaluated only inside its own bounding box, so long tubes cost little.
    ``scale_xy`` stretches the section (an oval vein): distances in x and y are divided by it
    before the radius is subtracted (approximate away from the surface).
    """
    shape = np.broadcast_shapes(x.shape, y.shape, z.shape)
    out = np.full(shape, FAR, dtype=F32)
    xs, ys, zs = x.ravel(), y.ravel(), z.ravel()
    p = np.asarray(points, dtype=float)
    r = np.asarray(radii, dtype=float)
    sx, sy = (float(s) for s in scale_xy)
    margin = 2.0 + float(np.max(r)) * max(sx, sy, 1.0)
    for k, box, xx, yy, zz in _segment_boxes(xs, ys, zs, p, margin):
        d = (p[k + 1] - p[k]).astype(F32)
        t, ex, ey, ez = _segment_offsets(xx, yy, zz, p[k], d, float(d @ d))
        ex = ex / F32(sx)
        ey = ey / F32(sy)
        sd = np.sqrt(ex * ex + ey * ey + ez * ez) - (F32(r[k]) + t * F32(r[k + 1] - r[k]))
        sub = out[box]
        np.minimum(sub, sd, out=sub)
    return out


def polyline_ribbon_sd(
    x: Arr,
    y: Arr,
    z: Arr,
    points: NDArray[np.float64],
    thin: NDArray[np.float64],
    tall: NDArray[np.float64],
    axis_xy: tuple[float, float] = (0.0, 0.0),
) -> Arr:
    """Approximate signed distance to a flattened tube round a polyline (a rib).

    The section is an ellipse: semi-axis ``thin`` along the direction from the body axis
    ``axis_xy`` (in the axial plane, made perpendicular to the segment), ``tall`` across it;
    both vary linearly along each segment. Exact on the surface's principal directions and for
    a round section (``thin == tall``), first-order correct near the surface elsewhere.
    """
    shape = np.broadcast_shapes(x.shape, y.shape, z.shape)
    out = np.full(shape, FAR, dtype=F32)
    xs, ys, zs = x.ravel(), y.ravel(), z.ravel()
    p = np.asarray(points, dtype=float)
    rn = np.asarray(thin, dtype=float)
    rt = np.asarray(tall, dtype=float)
    margin = 2.0 + float(max(rn.max(), rt.max()))
    for k, box, xx, yy, zz in _segment_boxes(xs, ys, zs, p, margin):
        p0, p1 = p[k], p[k + 1]
        d = p1 - p0
        dd = float(d @ d)
        dn = d / np.sqrt(dd) if dd > 0 else np.array([0.0, 0.0, 1.0])
        mid = (p0 + p1) / 2
        radial = np.array([mid[0] - axis_xy[0], mid[1] - axis_xy[1], 0.0])
        radial -= dn * (radial @ dn)
        nr = float(np.linalg.norm(radial))
        radial = radial / nr if nr > 1e-9 else np.array([1.0, 0.0, 0.0])
        t, ex, ey, ez = _segment_offsets(xx, yy, zz, p0, d.astype(F32), dd)
        e_n = ex * F32(radial[0]) + ey * F32(radial[1]) + ez * F32(radial[2])
        e_t2 = np.maximum(ex * ex + ey * ey + ez * ez - e_n * e_n, F32(0.0))
        a = F32(rn[k]) + t * F32(rn[k + 1] - rn[k])
        b = F32(rt[k]) + t * F32(rt[k + 1] - rt[k])
        k0_ = np.sqrt((e_n / a) ** 2 + e_t2 / (b * b))
        k1_ = np.sqrt((e_n / (a * a)) ** 2 + e_t2 / (b * b * b * b))
        np.maximum(k1_, F32(1e-9), out=k1_)
        sd = np.where(k0_ < F32(1e-6), -np.minimum(a, b), k0_ * (k0_ - F32(1.0)) / k1_)
        sub = out[box]
        np.minimum(sub, sd.astype(F32), out=sub)
    return out


def catmull_rom(points: ArrayLike, samples_per_segment: int = 8) -> NDArray[np.float64]:
    """A smooth curve through control points (centripetal-free uniform Catmull-Rom).

    >>> catmull_rom([[0, 0, 0], [1, 0, 0], [2, 0, 0]], 2).tolist()
    [[0.0, 0.0, 0.0], [0.5, 0.0, 0.0], [1.0, 0.0, 0.0], [1.5, 0.0, 0.0], [2.0, 0.0, 0.0]]
    """
    p = np.asarray(points, dtype=float)
    if len(p) < 3:
        return p.copy()
    ext = np.vstack([2 * p[0] - p[1], p, 2 * p[-1] - p[-2]])
    out = []
    t = np.linspace(0.0, 1.0, samples_per_segment, endpoint=False)[:, None]
    for i in range(1, len(ext) - 2):
        p0, p1, p2, p3 = ext[i - 1], ext[i], ext[i + 1], ext[i + 2]
        seg = 0.5 * (
            2 * p1
            + (-p0 + p2) * t
            + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t**2
            + (-p0 + 3 * p1 - 3 * p2 + p3) * t**3
        )
        out.append(seg)
    out.append(p[-1:])
    return np.vstack(out)


def rotation(
    yaw_deg: float = 0.0, pitch_deg: float = 0.0, roll_deg: float = 0.0
) -> NDArray[np.float64]:
    """Rotation matrix (columns: the rotated axes in LPS): about z, then y, then x (degrees).

    >>> np.allclose(rotation(90)[:, 0], [0, 1, 0])
    True
    """
    cz, sz = np.cos(np.radians(yaw_deg)), np.sin(np.radians(yaw_deg))
    cy, sy = np.cos(np.radians(pitch_deg)), np.sin(np.radians(pitch_deg))
    cx, sx = np.cos(np.radians(roll_deg)), np.sin(np.radians(roll_deg))
    rz = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]])
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rx = np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]])
    return np.asarray(rz @ ry @ rx, dtype=float)


def ellipsoid_box(
    centre: Sequence[float], semi: Sequence[float], rot: NDArray[np.float64] | None = None
) -> Box:
    """The exact axis-aligned bounding box of an (optionally rotated) ellipsoid."""
    s = np.asarray(semi, dtype=float)
    r = np.eye(3) if rot is None else np.asarray(rot, dtype=float)
    half = np.sqrt(((r * s[None, :]) ** 2).sum(axis=1))
    c = np.asarray(centre, dtype=float)
    return Box(
        c[0] - half[0],
        c[0] + half[0],
        c[1] - half[1],
        c[1] + half[1],
        c[2] - half[2],
        c[2] + half[2],
    )

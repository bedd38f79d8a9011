"""Building blocks of the anatomy's shapes (LPS mm).

* profiles along z: :func:`linear_profile`, :func:`smooth_profile`;
* shapes along a course: :class:`Extrusion` (an elliptic tube along z), :class:`Tube` (round,
  along a smoothed polyline), :class:`Ribbon` (flattened, along a smoothed polyline);
* operations on signed-distance fields (:data:`~ivcviewer.phantom.raster.FieldFn`):
  :func:`offset`, :func:`intersection`, :func:`union`, :func:`difference`, :func:`bent`,
  :func:`bent_away_from`, and the elementary fields :func:`shared_field`, :func:`ellipsoid`,
  :func:`box_shape`, :func:`halfspace_y_below`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.interpolate import PchipInterpolator

from ..raster import Block, FieldFn
from ..sdf import (
    F32,
    Arr,
    Box,
    box_sd,
    catmull_rom,
    ellipse_sd,
    ellipsoid_sd,
    polyline_ribbon_sd,
    polyline_tube_sd,
)


def linear_profile(z: Arr, zs: ArrayLike, vs: ArrayLike) -> Arr:
    """Piecewise-linear profile of z (held constant beyond the ends), shape of ``z``."""
    za, va = np.asarray(zs, dtype=float), np.asarray(vs, dtype=float)
    return np.interp(z.ravel(), za, va).astype(F32).reshape(z.shape)


def smooth_profile(z: Arr, zs: ArrayLike, vs: ArrayLike) -> Arr:
    """Monotone cubic profile of z (held constant beyond the ends)."""
    za, va = np.asarray(zs, dtype=float), np.asarray(vs, dtype=float)
    zz = np.clip(z.ravel(), za[0], za[-1])
    return np.asarray(PchipInterpolator(za, va)(zz), dtype=F32).reshape(z.shape)


@dataclass(frozen=True)
class Extrusion:
    """An elliptic tube along z: centre, semi-axes and rotation interpolated between control
    rows ``(z, x, y, a, b)``; flat ends at the first and last z (or at ``z_lo``/``z_hi``)."""

    rows: tuple[tuple[float, float, float, float, float], ...]
    z_lo: float | None = None
    z_hi: float | None = None
    smooth: bool = True

    @cached_property
    def _profiles(self) -> Callable[[NDArray[np.float64]], NDArray[np.float64]]:
        r = np.asarray(self.rows, dtype=float)
        if self.smooth and len(r) > 2:
            return PchipInterpolator(r[:, 0], r[:, 1:5], axis=0)

        def lin(z: NDArray[np.float64]) -> NDArray[np.float64]:
            return np.stack([np.interp(z, r[:, 0], r[:, k]) for k in range(1, 5)], axis=-1)

        return lin

    def params(self, z: Arr) -> tuple[Arr, Arr, Arr, Arr]:
        """Centre x, y and semi-axes a, b at heights z (held constant beyond the ends)."""
        r0, r1 = self.rows[0][0], self.rows[-1][0]
        v = self._profiles(np.clip(z.ravel().astype(float), r0, r1)).astype(F32)
        shape = z.shape
        return (
            v[:, 0].reshape(shape),
            v[:, 1].reshape(shape),
            v[:, 2].reshape(shape),
            v[:, 3].reshape(shape),
        )

    def sd(self, b: Block) -> Arr:
        """Signed distance on a block."""
        cx, cy, a, bb = self.params(b.z)
        s = ellipse_sd(b.x - cx, b.y - cy, a, bb)
        lo = self.z_lo if self.z_lo is not None else self.rows[0][0]
        hi = self.z_hi if self.z_hi is not None else self.rows[-1][0]
        cap = np.maximum(F32(lo) - b.z, b.z - F32(hi))
        return np.asarray(np.maximum(s, cap), dtype=F32)

    def box(self, margin: float = 2.0) -> Box:
        """A box holding the tube."""
        r = np.asarray(self.rows, dtype=float)
        lo = self.z_lo if self.z_lo is not None else r[0, 0]
        hi = self.z_hi if self.z_hi is not None else r[-1, 0]
        half = r[:, 3:5].max(axis=0)
        return Box(
            float(r[:, 1].min() - half[0]),
            float(r[:, 1].max() + half[0]),
            float(r[:, 2].min() - half[1]),
            float(r[:, 2].max() + half[1]),
            float(lo),
            float(hi),
        ).grow(margin + 2.0)


@dataclass(frozen=True)
class Tube:
    """A tube around a smoothed polyline (Catmull-Rom through control points) with radii."""

    points: tuple[tuple[float, float, float], ...]
    radii: tuple[float, ...]
    samples: int = 6

    @cached_property
    def _curve(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        p = catmull_rom(self.points, self.samples)
        s_ctrl = np.linspace(0.0, 1.0, len(self.points))
        s = np.linspace(0.0, 1.0, len(p))
        return p, np.interp(s, s_ctrl, np.asarray(self.radii, dtype=float))

    def curve(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Dense centreline points and radii."""
        return self._curve

    def sd(self, b: Block) -> Arr:
        """Signed distance on a block."""
        p, r = self.curve()
        return polyline_tube_sd(b.x, b.y, b.z, p, r)

    def box(self, margin: float = 2.0) -> Box:
        """A box holding the tube."""
        p, r = self.curve()
        return Box.of_points(p, float(r.max()) + margin)


@dataclass(frozen=True)
class Ribbon:
    """A flattened tube round a smoothed polyline (a rib): thin towards the body axis, tall
    across it (:func:`~ivcviewer.phantom.sdf.polyline_ribbon_sd`)."""

    points: tuple[tuple[float, float, float], ...]
    thin: tuple[float, ...]
    tall: tuple[float, ...]
    samples: int = 4

    @cached_property
    def _curve(self) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        p = catmull_rom(self.points, self.samples)
        s_ctrl = np.linspace(0.0, 1.0, len(self.points))
        s = np.linspace(0.0, 1.0, len(p))
        return (
            p,
            np.interp(s, s_ctrl, np.asarray(self.thin, dtype=float)),
            np.interp(s, s_ctrl, np.asarray(self.tall, dtype=float)),
        )

    def sd(self, b: Block) -> Arr:
        """Signed distance on a block."""
        p, rn, rt = self._curve
        return polyline_ribbon_sd(b.x, b.y, b.z, p, rn, rt)

    def box(self, margin: float = 2.0) -> Box:
        """A box holding the ribbon."""
        p, rn, rt = self._curve
        return Box.of_points(p, float(max(rn.max(), rt.max())) + margin)


def offset(f: FieldFn, d: float) -> FieldFn:
    """The shape shrunk by ``d`` mm (grown when negative)."""
    dd = F32(d)

    def g(b: Block) -> Arr:
        return np.asarray(f(b) + dd, dtype=F32)

    return g


def _fold(combine: Callable[[Arr, Arr], Arr], fs: tuple[FieldFn, ...]) -> FieldFn:
    """The field that combines the fields ``fs`` pairwise, left to right, with ``combine``."""

    def g(b: Block) -> Arr:
        out = fs[0](b)
        for f in fs[1:]:
            out = combine(out, f(b))
        return np.asarray(out, dtype=F32)

    return g


def intersection(*fs: FieldFn) -> FieldFn:
    """Intersection of shapes."""
    return _fold(np.maximum, fs)


def union(*fs: FieldFn) -> FieldFn:
    """Union of shapes."""
    return _fold(np.minimum, fs)


def difference(f: FieldFn, h: FieldFn) -> FieldFn:
    """``f`` without ``h``."""

    def g(b: Block) -> Arr:
        return np.asarray(np.maximum(f(b), -h(b)), dtype=F32)

    return g


def bent(f: FieldFn, amp: float) -> FieldFn:
    """The shape with its surface moved by up to a few ``amp`` mm by the smooth ``tex_shape``
    field (a deterministic, low-frequency irregularity: no perfect ellipsoids)."""
    a = F32(amp)

    def g(b: Block) -> Arr:
        return np.asarray(f(b) + a * b.field("tex_shape"), dtype=F32)

    return g


def bent_away_from(
    f: FieldFn, amp: float, centre: ArrayLike, direction: ArrayLike, length: float
) -> FieldFn:
    """Like :func:`bent`, fading to nothing towards ``direction`` from ``centre`` (for a
    kidney: its hilum stays in place, the convex border is irregular)."""
    c = np.asarray(centre, dtype=float)
    d = np.asarray(direction, dtype=float)
    a = F32(amp)

    def g(b: Block) -> Arr:
        t = (
            (b.x - F32(c[0])) * F32(d[0])
            + (b.y - F32(c[1])) * F32(d[1])
            + (b.z - F32(c[2])) * F32(d[2])
        ) / F32(length)
        w = np.clip(F32(0.5) - t, 0.0, 1.0)
        return np.asarray(f(b) + a * w * b.field("tex_shape"), dtype=F32)

    return g


def shared_field(name: str) -> FieldFn:
    def g(b: Block) -> Arr:
        return b.field(name)

    return g


def ellipsoid(c: ArrayLike, s: ArrayLike, rot: NDArray[np.float64] | None = None) -> FieldFn:
    cc = tuple(float(v) for v in np.asarray(c, dtype=float))
    ss = tuple(float(v) for v in np.asarray(s, dtype=float))

    def g(b: Block) -> Arr:
        return ellipsoid_sd(b.x, b.y, b.z, cc, ss, rot)

    return g


def box_shape(
    c: Sequence[float], h: Sequence[float], rot: NDArray[np.float64] | None = None
) -> FieldFn:
    def g(b: Block) -> Arr:
        return box_sd(b.x, b.y, b.z, c, h, rot)

    return g


def halfspace_y_below(level: float) -> FieldFn:
    """``y < level`` (the anterior side of a horizontal air-fluid level, supine)."""
    lv = F32(level)

    def g(b: Block) -> Arr:
        return np.asarray(b.y - lv, dtype=F32) + np.zeros_like(b.z)

    return g

"""The normal anatomy of the phantom: analytic shapes in LPS mm, painted in order.

Frame: DICOM patient coordinates, supine, +x patient's left, +y posterior, +z superior. The
origin is on the midline, ``z = 0`` at the L1-L2 disc (where the renal veins join the IVC).
Levels (body top and bottom, mm): L1 5..31, T12 39..63, T11 70..93, T10 99..121, T9 127..148,
T8 154..174; L2 -32..-5, L3 -70..-42, L4 -109..-81, L5 -148..-121, sacrum below -159.

Every structure is a signed distance function (see :mod:`.sdf`); shapes that share a boundary
are built from shared fields (the body outline and its layers, the diaphragm surface), so that
skin, fat, muscle wall, lung, diaphragm and liver fit together without gaps.

The only geometry that differs between the normal phantom and the case (``case=True``) is the
mass effect of the tumour: the right kidney pushed backwards and laterally against the posterior
abdominal wall and rotated about its long axis (hilum turned forwards and laterally), with the
right renal vessels rerouted round it, and the infrarenal IVC pushed forwards and flattened.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.interpolate import PchipInterpolator

from .labels import RIBS, UPPER_RIBS
from .raster import HU, Block, FieldFn, Structure
from .sdf import (
    F32,
    Arr,
    Box,
    box_sd,
    catmull_rom,
    ellipse_sd,
    ellipsoid_box,
    ellipsoid_sd,
    polyline_ribbon_sd,
    polyline_tube_sd,
    rotation,
    smooth_max,
    superellipse_radial_sd,
)

#: z of the renal-vein confluence (the L1-L2 disc), mm.
Z_RENAL = 0.0
#: z where the hepatic veins join the IVC, mm (just below the diaphragm).
Z_HEPATIC = 150.0
#: z of the cavo-atrial junction (upper end of the IVC), mm.
Z_CAVOATRIAL = 165.0

#: Vertebral bodies: name -> (bottom z, top z, semi-axis LR, semi-axis AP), mm.
BODIES: dict[str, tuple[float, float, float, float]] = {
    "T7": (180.0, 200.0, 17.0, 14.0),
    "T8": (154.0, 174.0, 17.0, 14.0),
    "T9": (127.0, 148.0, 17.5, 14.5),
    "T10": (99.0, 121.0, 18.5, 15.0),
    "T11": (70.0, 93.0, 19.5, 15.5),
    "T12": (39.0, 63.0, 21.0, 16.0),
    "L1": (5.0, 31.0, 22.5, 16.5),
    "L2": (-32.0, -5.0, 23.5, 17.0),
    "L3": (-70.0, -42.0, 24.5, 17.5),
    "L4": (-109.0, -81.0, 25.0, 17.5),
    "L5": (-148.0, -121.0, 26.0, 17.0),
}
#: Top of the sacrum (S1 body) and its semi-axes.
SACRUM = (-240.0, -159.0, 26.0, 16.0)


def spine_y(z: NDArray[np.float32] | float) -> NDArray[np.float32]:
    """y of the vertebral bodies' centre at height z (a gentle lumbar lordosis), mm.

    >>> round(float(spine_y(140.0)), 1), round(float(spine_y(-60.0)), 1)
    (27.9, 18.0)
    """
    zz = np.asarray(z, dtype=F32)
    return np.asarray(F32(28.0) - F32(10.0) * np.exp(-(((zz + F32(60.0)) / F32(90.0)) ** 2)), F32)


#: Posterior elements per vertebra: (transverse process length mm, spinous process slope
#: below the horizontal, degrees). Lumbar transverse processes are longest at L3; thoracic
#: spinous processes slope down steeply, lumbar ones run almost straight back.
POSTERIOR: dict[str, tuple[float, float]] = {
    "T7": (16.0, 55.0),
    "T8": (16.0, 55.0),
    "T9": (16.0, 50.0),
    "T10": (15.0, 42.0),
    "T11": (12.0, 32.0),
    "T12": (9.0, 20.0),
    "L1": (14.0, 8.0),
    "L2": (19.0, 6.0),
    "L3": (24.0, 4.0),
    "L4": (21.0, 2.0),
    "L5": (18.0, 0.0),
    "S1": (8.0, 0.0),
}

#: Spinal canal along z: rows (z, semi-axis LR, semi-axis AP), mm: round in the thorax,
#: wider and triangular-oval in the lumbar spine.
CANAL_ROWS = (
    (-240.0, 12.0, 6.5),
    (-150.0, 12.0, 8.0),
    (-60.0, 11.5, 8.5),
    (10.0, 10.5, 8.0),
    (60.0, 8.5, 7.5),
    (260.0, 8.0, 7.5),
)

#: Depth (mm) of the concavity of a vertebral body's posterior border.
BODY_DENT_MM = 4.0


def canal_params(z: Arr) -> tuple[Arr, Arr, Arr]:
    """Semi-axes of the spinal canal and its centre's depth behind the vertebral bodies' centre
    (``y - spine_y``) at heights z, mm.

    >>> a, b, v = canal_params(np.array([[[-60.0]]], np.float32))
    >>> round(float(a.ravel()[0]), 1), round(float(v.ravel()[0]), 1)
    (11.5, 22.3)
    """
    r = np.asarray(CANAL_ROWS)
    ca = _interp(z, r[:, 0], r[:, 1])
    cb = _interp(z, r[:, 0], r[:, 2])
    zs = [(v[0] + v[1]) / 2 for v in BODIES.values()][::-1]
    bs = [v[3] for v in BODIES.values()][::-1]
    body_b = _interp(z, zs, bs)
    return ca, cb, np.asarray(body_b - F32(BODY_DENT_MM) + cb + F32(0.3), F32)


def _body_section(u: Arr, v: Arr, a: ArrayLike, b: ArrayLike) -> Arr:
    """Axial section of a vertebral body (or disc): an ellipse whose posterior border is made
    concave by a large circle behind it (a kidney shape)."""
    s = ellipse_sd(u, v, a, b)
    aa = np.asarray(a, F32)
    rr = F32(0.9) * aa
    notch = np.sqrt(u * u + (v - (np.asarray(b, F32) + rr - F32(BODY_DENT_MM))) ** 2) - rr
    return np.asarray(smooth_max(np.asarray(s, F32), -np.asarray(notch, F32), 2.5), F32)


# ----------------------------------------------------------------------------- helpers


def _interp(z: Arr, zs: ArrayLike, vs: ArrayLike) -> Arr:
    """Piecewise-linear profile of z (held constant beyond the ends), shape of ``z``."""
    za, va = np.asarray(zs, dtype=float), np.asarray(vs, dtype=float)
    return np.interp(z.ravel(), za, va).astype(F32).reshape(z.shape)


def _smooth_interp(z: Arr, zs: ArrayLike, vs: ArrayLike) -> Arr:
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


def _offset(f: FieldFn, d: float) -> FieldFn:
    """The shape shrunk by ``d`` mm (grown when negative)."""
    dd = F32(d)

    def g(b: Block) -> Arr:
        return np.asarray(f(b) + dd, dtype=F32)

    return g


def _inter(*fs: FieldFn) -> FieldFn:
    """Intersection of shapes."""

    def g(b: Block) -> Arr:
        out = fs[0](b)
        for f in fs[1:]:
            out = np.maximum(out, f(b))
        return np.asarray(out, dtype=F32)

    return g


def _union(*fs: FieldFn) -> FieldFn:
    """Union of shapes."""

    def g(b: Block) -> Arr:
        out = fs[0](b)
        for f in fs[1:]:
            out = np.minimum(out, f(b))
        return np.asarray(out, dtype=F32)

    return g


def _minus(f: FieldFn, h: FieldFn) -> FieldFn:
    """``f`` without ``h``."""

    def g(b: Block) -> Arr:
        return np.asarray(np.maximum(f(b), -h(b)), dtype=F32)

    return g


def _bent(f: FieldFn, amp: float) -> FieldFn:
    """The shape with its surface moved by up to a few ``amp`` mm by the smooth ``tex_shape``
    field (a deterministic, low-frequency irregularity: no perfect ellipsoids)."""
    a = F32(amp)

    def g(b: Block) -> Arr:
        return np.asarray(f(b) + a * b.field("tex_shape"), dtype=F32)

    return g


def _bent_away_from(
    f: FieldFn, amp: float, centre: ArrayLike, direction: ArrayLike, length: float
) -> FieldFn:
    """Like :func:`_bent`, fading to nothing towards ``direction`` from ``centre`` (for a
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


def _field(name: str) -> FieldFn:
    def g(b: Block) -> Arr:
        return b.field(name)

    return g


def _ellipsoid(c: ArrayLike, s: ArrayLike, rot: NDArray[np.float64] | None = None) -> FieldFn:
    cc = tuple(float(v) for v in np.asarray(c, dtype=float))
    ss = tuple(float(v) for v in np.asarray(s, dtype=float))

    def g(b: Block) -> Arr:
        return ellipsoid_sd(b.x, b.y, b.z, cc, ss, rot)

    return g


def _box(c: Sequence[float], h: Sequence[float], rot: NDArray[np.float64] | None = None) -> FieldFn:
    def g(b: Block) -> Arr:
        return box_sd(b.x, b.y, b.z, c, h, rot)

    return g


def _halfspace_y_below(level: float) -> FieldFn:
    """``y < level`` (the anterior side of a horizontal air-fluid level, supine)."""
    lv = F32(level)

    def g(b: Block) -> Arr:
        return np.asarray(b.y - lv, dtype=F32) + np.zeros_like(b.z)

    return g


# ----------------------------------------------------------------------------- body


#: Body outline: rows (z, semi-axis LR, semi-axis anterior, semi-axis posterior), mm.
BODY_ROWS = (
    (-240.0, 172.0, 112.0, 108.0),
    (-165.0, 170.0, 114.0, 106.0),
    (-100.0, 166.0, 120.0, 104.0),
    (0.0, 160.0, 122.0, 104.0),
    (100.0, 156.0, 120.0, 104.0),
    (190.0, 150.0, 116.0, 104.0),
    (260.0, 148.0, 114.0, 104.0),
)
#: Superellipse exponents of the outline in front and behind (the back, lying on the table,
#: is flatter).
BODY_EXPONENT = 2.3
BODY_EXPONENT_BACK = 3.4
SKIN_MM = 3.0


def _outline_rho(
    x: NDArray[np.float32], y: NDArray[np.float32], z: NDArray[np.float32]
) -> NDArray[np.float32]:
    """Normalised radius of points with respect to the body outline (1 on the skin).

    A superellipse with its own semi-axes and exponents in front and behind, a shallow groove
    along the back's midline (between the paraspinal muscles), and a gentle low-order
    waviness that changes along z (no two sections alike).
    """
    r = np.asarray(BODY_ROWS)
    a = _interp(z, r[:, 0], r[:, 1])
    ant = _interp(z, r[:, 0], r[:, 2])
    post = _interp(z, r[:, 0], r[:, 3])
    back = y > 0
    groove = F32(1.0) - F32(0.035) * np.exp(-((x / F32(22.0)) ** 2))
    bb = np.where(back, post * groove, ant)
    n = np.where(back, F32(BODY_EXPONENT_BACK), F32(BODY_EXPONENT))
    rho = ((np.abs(x) / a) ** n + (np.abs(y) / bb) ** n) ** (F32(1.0) / n)
    rr = np.maximum(np.sqrt(x * x + y * y), F32(1e-3))
    c, sn = x / rr, y / rr
    c2, s2 = c * c - sn * sn, F32(2.0) * c * sn
    c3, s3 = c * (F32(4.0) * c * c - F32(3.0)), sn * (F32(3.0) - F32(4.0) * sn * sn)
    p2 = z / F32(170.0) + F32(0.6)
    p3 = F32(1.9) - z / F32(120.0)
    wave = F32(0.016) * (c2 * np.cos(p2) - s2 * np.sin(p2))
    wave = wave + F32(0.011) * (c3 * np.cos(p3) - s3 * np.sin(p3))
    return np.asarray(rho / (F32(1.0) + wave), F32)


def body_sd(b: Block) -> Arr:
    """Signed distance to the skin surface (radial approximation), with a low-frequency
    deterministic irregularity (``tex_shape``, about 2 mm)."""
    rho = np.maximum(_outline_rho(b.x, b.y, b.z), F32(1e-6))
    rr = b.field("radius")
    return np.asarray(rr - rr / rho + F32(1.0) * b.field("tex_shape"), dtype=F32)


def radius_field(b: Block) -> Arr:
    """``(1, ny, nx)``: distance from the body axis (x = y = 0)."""
    x, y = b.x[0], b.y[0]
    return np.sqrt(x * x + y * y)[None].astype(F32)


def _angles(b: Block) -> tuple[Arr, Arr]:
    """``(sin, cos)`` of the angle round the body axis (0 = patient's left, +90 posterior), 2D."""
    x = b.x[0] + np.zeros_like(b.y[0])
    y = b.y[0] + np.zeros_like(b.x[0])
    r = np.sqrt(x * x + y * y)
    np.maximum(r, F32(1e-3), out=r)
    return np.asarray(y / r, F32), np.asarray(x / r, F32)


def fat_mm(s: ArrayLike, c: ArrayLike, z: ArrayLike) -> NDArray[np.float32]:
    """Subcutaneous fat thickness (mm) at the angle whose sine is ``s`` (+1 behind) and cosine
    ``c`` round the body axis, at height ``z``: thick in front (more so low down) and on the
    flanks, thin on the back."""
    s32, c32, z32 = (np.asarray(v, F32) for v in (s, c, z))
    front = np.maximum(-s32, F32(0))
    low = np.clip((F32(-30.0) - z32) / F32(110.0), 0.0, 1.0)
    t = F32(15.0) + (F32(13.0) + F32(9.0) * low) * front**2 + F32(8.0) * c32 * c32
    t -= F32(5.0) * np.maximum(s32, F32(0)) ** 2
    return np.asarray(t, F32)


def muscle_mm(x: ArrayLike, s: ArrayLike, c: ArrayLike, z: ArrayLike) -> NDArray[np.float32]:
    """Muscle-wall thickness (mm): the two recti either side of a thin linea alba in front,
    thinning at their lateral borders; the three flat muscles (obliques, transversus) on the
    flanks, thinner over the lower ribs; a thin latissimus behind."""
    x32, s32, c32, z32 = (np.asarray(v, F32) for v in (x, s, c, z))
    front = np.maximum(-s32, F32(0)) ** 1.5
    back = np.maximum(s32, F32(0)) ** 2
    lat = np.maximum(F32(1.0) - front - back, F32(0.0))
    ax = np.abs(x32)
    rectus = np.exp(-(((ax - F32(40.0)) / F32(30.0)) ** 4))
    alba = F32(1.0) - np.exp(-((x32 / F32(6.0)) ** 2))
    t_front = F32(2.5) + F32(9.5) * rectus * alba
    thorax = np.clip((z32 - F32(50.0)) / F32(70.0), 0.0, 1.0)
    t_lat = F32(14.0) - F32(6.0) * thorax
    return np.asarray(front * t_front + lat * t_lat + back * F32(5.0), F32)


def fat_thickness(b: Block) -> Arr:
    """Subcutaneous fat thickness (mm) on the block, with a little low-frequency variation."""
    s, c = _angles(b)
    t = fat_mm(s[None], c[None], b.z) + F32(1.5) * b.field("tex_shape")
    return np.asarray(np.maximum(t, F32(4.0)), F32)


def muscle_thickness(b: Block) -> Arr:
    """Muscle-wall thickness (mm) on the block (:func:`muscle_mm`)."""
    s, c = _angles(b)
    t = muscle_mm(b.x[0][None], s[None], c[None], b.z)
    return np.asarray(np.maximum(t, F32(2.5)), F32)


def fat_sd(b: Block) -> Arr:
    """Below the skin."""
    return np.asarray(b.field("body_sd") + F32(SKIN_MM), F32)


def muscle_sd(b: Block) -> Arr:
    """Below skin and subcutaneous fat."""
    return np.asarray(b.field("body_sd") + (F32(SKIN_MM) + b.field("fat_t")), F32)


def cavity_sd(b: Block) -> Arr:
    """Inside the muscle wall (the abdominal and thoracic cavities)."""
    return np.asarray(
        b.field("body_sd") + (F32(SKIN_MM) + b.field("fat_t") + b.field("muscle_t")), F32
    )


# ----------------------------------------------------------------------------- diaphragm


#: Domes: (peak z, centre x, centre y, radius medial, radius lateral, radius anterior,
#: radius posterior) for the right and the left hemidiaphragm.
DOMES = (
    (180.0, -78.0, 10.0, 115.0, 62.0, 115.0, 78.0),
    (172.0, 78.0, 10.0, 115.0, 62.0, 115.0, 78.0),
    (150.0, 0.0, -30.0, 95.0, 95.0, 95.0, 70.0),
)


def diaphragm_height(x: NDArray[np.float32], y: NDArray[np.float32]) -> NDArray[np.float32]:
    """z (mm) of the upper surface of the diaphragm over ``(x, y)`` (2D arrays).

    Two domes and the central tendon between them (where the heart lies), flat on top and
    falling steeply into the costophrenic recesses at the wall.

    >>> z = diaphragm_height(np.array([[-24.0]], np.float32), np.array([[-6.0]], np.float32))
    >>> 158 < float(z[0, 0]) < 166
    True
    """
    out = None
    for z0, cx, cy, rmed, rlat, rant, rpost in DOMES:
        dx = x - F32(cx)
        medial = (dx * F32(-1.0 if cx > 0 else 1.0)) > 0
        rx = np.where(medial, F32(rmed), F32(rlat))
        dy = y - F32(cy)
        ry = np.where(dy < 0, F32(rant), F32(rpost))
        q = np.sqrt((dx / rx) ** 2 + (dy / ry) ** 2)
        h = F32(z0) - F32(72.0) * q * q - F32(320.0) * np.maximum(q - F32(0.72), F32(0)) ** F32(1.5)
        out = h if out is None else smooth_max(out, h, 12.0)
    if out is None:  # pragma: no cover
        raise ValueError("no dome")
    return np.asarray(out, F32)


def diaphragm_field(b: Block) -> Arr:
    """``(1, ny, nx)``: the diaphragm height over the block's plane."""
    x = b.x[0] + np.zeros_like(b.y[0])
    y = b.y[0] + np.zeros_like(b.x[0])
    return diaphragm_height(x, y)[None]


def diaphragm_norm(b: Block) -> Arr:
    """``(1, ny, nx)``: ``sqrt(1 + |grad D|^2)`` (turns a height difference into a distance)."""
    d = b.field("diaphragm")[0]
    dy = float(b.slab.grid.spacing[1])
    dx = float(b.slab.grid.spacing[2])
    gy, gx = np.gradient(d, dy, dx)
    return np.sqrt(F32(1.0) + gx * gx + gy * gy).astype(F32)[None]


DIAPHRAGM_MM = 6.0


def below_diaphragm_sd(b: Block) -> Arr:
    """Below the diaphragm's lower surface."""
    return np.asarray(
        (b.z - (b.field("diaphragm") - F32(DIAPHRAGM_MM))) / b.field("diaphragm_n"), F32
    )


def above_diaphragm_sd(b: Block) -> Arr:
    """Above the diaphragm's upper surface."""
    return np.asarray((b.field("diaphragm") - b.z) / b.field("diaphragm_n"), F32)


def diaphragm_sheet_sd(b: Block) -> Arr:
    """The muscular sheet of the diaphragm inside the body wall."""
    mid = b.field("diaphragm") - F32(DIAPHRAGM_MM / 2)
    d = np.abs(b.z - mid) / b.field("diaphragm_n") - F32(DIAPHRAGM_MM / 2)
    return np.asarray(np.maximum(d, b.field("cavity_sd") - F32(2.0)), F32)


# ----------------------------------------------------------------------------- anatomy


@dataclass(frozen=True)
class KidneyGeometry:
    """A kidney: centre, semi-axes (long, width towards the hilum, thickness), axes."""

    centre: tuple[float, float, float]
    semi: tuple[float, float, float]
    long_axis: tuple[float, float, float]
    hilum_dir: tuple[float, float]

    def rotation(self) -> NDArray[np.float64]:
        """Columns: long axis, width axis (towards the hilum), thickness axis."""
        long = np.asarray(self.long_axis, float)
        long /= np.linalg.norm(long)
        w = np.array([self.hilum_dir[0], self.hilum_dir[1], 0.0])
        w -= long * (w @ long)
        w /= np.linalg.norm(w)
        t = np.cross(long, w)
        return np.stack([long, w, t], axis=1)

    def hilum(self) -> NDArray[np.float64]:
        """The hilum (entry of the renal vessels) in LPS mm."""
        r = self.rotation()
        return np.asarray(self.centre) + r[:, 1] * self.semi[1]


@dataclass(frozen=True)
class AnatomyParams:
    """The geometry that the case's mass effect changes."""

    kidney_right: KidneyGeometry
    kidney_left: KidneyGeometry
    ivc_rows: tuple[tuple[float, float, float, float, float], ...]
    ivc_infrarenal_hu: float


def anatomy_params(case: bool) -> AnatomyParams:
    """Normal geometry, or the geometry displaced by the case's mass."""
    left = KidneyGeometry((74.0, 42.0, 10.0), (55.0, 30.0, 20.0), (-0.22, 0.18, 1.0), (-0.8, -0.6))
    infra: tuple[tuple[float, float, float, float, float], ...]
    if case:
        # pushed backwards and laterally into the fat between the mass and the posterior
        # abdominal wall, flattened (3.2 cm thick), and rotated about its long axis: the mass
        # presses its medial lip backwards, so the hilum faces forwards and laterally; the
        # kidney abuts the mass without entering it (its sinus stays 10 mm away)
        right = KidneyGeometry(
            (-87.0, 62.5, -8.0), (50.0, 25.0, 16.0), (0.15, 0.12, 1.0), (-0.866, -0.5)
        )
        infra = (
            (-125.0, -10.0, 10.0, 11.0, 9.0),
            (-100.0, -13.0, 0.0, 11.5, 8.0),
            (-70.0, -13.0, -14.0, 13.0, 6.5),
            (-40.0, -12.0, -21.0, 14.0, 6.0),
            (-18.0, -13.0, -22.0, 14.0, 6.5),
            (-7.0, -19.0, -16.0, 13.0, 8.0),
        )
        hu = 95.0
    else:
        right = KidneyGeometry(
            (-74.0, 44.0, -10.0), (55.0, 30.0, 20.0), (0.22, 0.18, 1.0), (0.8, -0.6)
        )
        infra = (
            (-125.0, -10.0, 10.0, 11.0, 9.0),
            (-100.0, -16.0, 4.0, 11.5, 8.5),
            (-60.0, -21.0, -3.0, 12.0, 8.5),
            (-25.0, -23.0, -8.0, 12.5, 9.0),
        )
        hu = 110.0
    supra = (
        (0.0, -24.0, -10.0, 12.5, 9.0),
        (30.0, -24.0, -10.0, 12.5, 9.5),
        (60.0, -23.0, -8.0, 12.5, 10.0),
        (100.0, -22.0, -6.0, 12.5, 10.5),
        (135.0, -22.0, -7.0, 13.0, 11.0),
        (150.0, -23.0, -11.0, 14.0, 12.0),
        (165.0, -27.0, -20.0, 14.0, 12.0),
    )
    return AnatomyParams(right, left, infra + supra, hu)


@dataclass(frozen=True)
class IliacWing:
    """A curved, flaring plate at the flank below the iliac crests: the iliac wing, or a layer
    beside it (``inner`` mm towards the pelvis, negative outwards) of half-thickness ``thick``
    mm. In each axial section it is an arc from the sacroiliac joint (back) round the flank to
    the anterior superior iliac spine; the arc's radius grows upwards (the wing flares out
    towards the crest, whose top is highest on the flank). For the bone (``bone=True``) the
    plate is thick behind (the iliac tuberosity, at the sacroiliac joint) and thin in the iliac
    fossa."""

    side: float
    inner: float = 0.0
    thick: float = 5.0
    centre_x: float = 38.0
    centre_y: float = -12.0
    bone: bool = False
    taper: bool = False

    def sd(self, b: Block) -> Arr:
        """Signed distance on a block."""
        dx = (b.x - F32(self.side * self.centre_x)) * F32(self.side)
        dy = b.y - F32(self.centre_y)
        r = np.sqrt(dx * dx + dy * dy)
        ang = np.arctan2(dy, dx)  # 0 lateral, +pi/2 posterior, -pi/2 anterior
        flare = F32(ILIAC_FLARE) * (b.z - F32(-110.0))
        radius = F32(84.0) - F32(6.0) * np.sin(ang) + flare
        half = F32(self.thick)
        if self.bone:
            t = np.clip((ang - F32(0.45)) / F32(0.95), 0.0, 1.0)
            half = half * (F32(0.55) + F32(1.1) * t * t * (F32(3.0) - F32(2.0) * t))
        if self.taper:  # a muscle belly: thinning towards both ends of the arc
            end = np.minimum(ang + F32(0.35), F32(1.40) - ang)
            half = half * np.clip(F32(0.25) + end / F32(0.45), 0.25, 1.0)
        d = np.abs(r - radius + F32(self.inner)) - half
        ang_out = np.maximum(ang - F32(1.40), F32(-0.35) - ang) * r
        crest = F32(-102.0) - F32(55.0) * (ang - F32(0.5)) ** 2
        return np.asarray(np.maximum(np.maximum(d, ang_out), b.z - crest), F32)


#: How fast the iliac wing's radius grows upwards (mm per mm of z): the wing's flare.
ILIAC_FLARE = 0.42


#: Erector spinae (with multifidus): rows (z, centre |x|, centre depth behind the vertebral
#: bodies' centre, semi-axis LR, semi-axis AP), mm. Its section is a rounded box filling the
#: gutter between the spinous processes and the transverse processes or ribs, under the fat of
#: the back; bone painted later carves the laminae and processes out of it.
ERECTOR_ROWS = (
    (-240.0, 24.0, 44.0, 24.0, 22.0),
    (-140.0, 30.0, 46.0, 30.0, 26.0),
    (-60.0, 32.0, 47.0, 31.0, 27.0),
    (20.0, 30.0, 46.0, 29.0, 25.0),
    (100.0, 27.0, 45.0, 25.0, 21.0),
    (260.0, 26.0, 44.0, 24.0, 20.0),
)


@dataclass(frozen=True)
class _ErectorSpinae:
    side: float

    def sd(self, b: Block) -> Arr:
        r = np.asarray(ERECTOR_ROWS)
        cx = _interp(b.z, r[:, 0], r[:, 1])
        cy = _interp(b.z, r[:, 0], r[:, 2]) + spine_y(b.z)
        a = _interp(b.z, r[:, 0], r[:, 3])
        bb = _interp(b.z, r[:, 0], r[:, 4])
        s = superellipse_radial_sd(b.x - F32(self.side) * cx, b.y - cy, a, bb, 2.6)
        medial = F32(0.8) - F32(self.side) * b.x
        return np.asarray(np.maximum(s, medial), F32)

    def box(self) -> Box:
        r = np.asarray(ERECTOR_ROWS)
        x1 = float((r[:, 1] + r[:, 3]).max()) + 2.0
        lo, hi = (0.0, x1) if self.side > 0 else (-x1, 0.0)
        return Box(lo, hi, 0.0, 110.0, -300.0, 300.0)


def paraspinal_sd(b: Block) -> Arr:
    """The region behind the posterior chest wall next to the spine (erector spinae, rib necks,
    transverse processes), which the lungs do not enter."""
    yv = spine_y(b.z)
    return superellipse_radial_sd(b.x, b.y - yv - F32(45.0), F32(60.0), F32(30.0), 2.2)


class Anatomy:
    """Builds the structures of the normal anatomy (optionally with the case's mass effect)."""

    def __init__(self, case: bool = False) -> None:
        self.case = case
        self.p = anatomy_params(case)
        self.ivc = Extrusion(self.p.ivc_rows, smooth=True)

    # -- shared fields --------------------------------------------------------------------

    @staticmethod
    def fields() -> dict[str, FieldFn]:
        """Fields shared by several structures (computed once per slab)."""
        return {
            "radius": radius_field,
            "fat_t": fat_thickness,
            "muscle_t": muscle_thickness,
            "body_sd": body_sd,
            "muscle_sd": muscle_sd,
            "cavity_sd": cavity_sd,
            "diaphragm": diaphragm_field,
            "diaphragm_n": diaphragm_norm,
        }

    # -- the list -------------------------------------------------------------------------

    def structures(self) -> dict[str, list[Structure]]:
        """Structures grouped by painting stage (the findings are inserted between stages)."""
        return {
            "wall": self.table() + self.body_wall(),
            "thorax": self.thorax(),
            "viscera": self.liver_spleen() + self.gut() + self.pancreas_gb(),
            "retroperitoneum": self.back_muscles()
            + self.ribs()
            + self.pelvis()
            + self.kidneys()
            + self.psoas(),
            "spine": self.spine(),
            "vessels": self.arteries() + self.veins(),
        }

    # -- body wall ------------------------------------------------------------------------

    FOV = Box(-260.0, 260.0, -260.0, 260.0, -300.0, 300.0)

    def table(self) -> list[Structure]:
        """The scanner table under the patient (HU only, no label)."""

        def shell(b: Block) -> Arr:
            # a shallow cradle: top at y = 107 on the midline, curving up at the sides
            top = F32(107.0) - (b.x * b.x) / F32(2500.0)
            s = np.maximum(top - b.y, b.y - (top + F32(14.0)))
            s = np.maximum(s, np.abs(b.x) - F32(215.0))
            return np.asarray(s + np.zeros_like(b.z), F32)

        box = Box(-230, 230, 80, 130, -300, 300)
        return [
            Structure("table_shell", None, shell, box, HU(150.0)),
            Structure("table_core", None, _offset(shell, 2.5), box, HU(-880.0)),
        ]

    def body_wall(self) -> list[Structure]:
        """Skin, subcutaneous fat, muscle wall, and the fat filling the cavities."""
        box = self.FOV
        return [
            Structure("skin", "skin", _field("body_sd"), box, HU(48.0, fine=3)),
            Structure(
                "subcutaneous_fat", "subcutaneous_fat", fat_sd, box, HU(-102.0, coarse=4, fine=6)
            ),
            Structure(
                "abdominal_wall_muscle",
                "abdominal_wall_muscle",
                _field("muscle_sd"),
                box,
                HU(52.0, fine=4),
            ),
            Structure(
                "torso_fat", "torso_fat", _field("cavity_sd"), box, HU(-96.0, coarse=6, fine=6)
            ),
        ]

    def ribs(self) -> list[Structure]:
        """Ribs 5-12 on both sides (flattened sections, descending round the wall), with the
        costal cartilages of ribs 5-10."""
        out: list[Structure] = []
        cart: list[Ribbon] = []
        ends = {5: 2.45, 6: 2.4, 7: 2.35, 8: 2.25, 9: 2.1, 10: 1.95, 11: 1.65, 12: 1.25}
        # small fixed differences between ribs (mm): no two intercostal spaces alike
        jitter = {5: 1.0, 6: -1.5, 7: 2.0, 8: 0.0, 9: -2.0, 10: 1.5, 11: -1.0, 12: 2.5}
        upper = {6: (206.0, 226.0), 5: (232.0, 252.0)}  # T6, T5 (above the field of view)
        for r in UPPER_RIBS + RIBS:
            name = f"T{r}"
            zb, zt = BODIES[name][:2] if name in BODIES else upper[r]
            z0 = (zb + zt) / 2 + 4.0
            for side, sname in ((1.0, "left"), (-1.0, "right")):
                j = jitter[r] * (1.0 if side > 0 else -0.6)
                pts, thin, tall = self._rib_path(side, z0 + j, ends[r], 1.0 + 0.02 * j)
                rib = Ribbon(tuple(map(tuple, pts)), tuple(thin), tuple(tall))
                label = f"rib_{sname}_{r}"
                out.append(
                    Structure(f"{label}_cortex", label, rib.sd, rib.box(), HU(750.0, fine=40))
                )
                out.append(
                    Structure(
                        f"{label}_marrow",
                        label,
                        _offset(rib.sd, 1.3),
                        rib.box(),
                        HU(260.0, fine=30),
                    )
                )
                if r <= 10:
                    cp, cr = self._cartilage_path(side, pts[-1], r)
                    n = len(cp)
                    cart.append(
                        Ribbon(tuple(map(tuple, cp)), (3.0,) * n, tuple(float(v) for v in cr))
                    )
        for i, t in enumerate(cart):
            out.insert(
                0,
                Structure(
                    f"costal_cartilage_{i}", "costal_cartilages", t.sd, t.box(), HU(130.0, fine=15)
                ),
            )
        return out

    @staticmethod
    def _wall_radius(z: float, phi: float) -> tuple[float, float]:
        """x, y of the middle of the muscle wall at angle phi (0 at the back, pi in front)."""
        r = np.asarray(BODY_ROWS)
        a = float(np.interp(z, r[:, 0], r[:, 1]))
        ant = float(np.interp(z, r[:, 0], r[:, 2]))
        post = float(np.interp(z, r[:, 0], r[:, 3]))
        sx, cy = np.sin(phi), np.cos(phi)
        bb = post if cy > 0 else ant
        dx, dy = a * sx, bb * cy
        norm = float(np.hypot(dx, dy))
        ux, uy = abs(dx) / norm, dy / norm
        zz = np.array([z], dtype=F32)
        rho = float(_outline_rho(np.array([ux], F32), np.array([uy], F32), zz)[0])
        outline = 1.0 / rho
        depth = (
            SKIN_MM
            + float(fat_mm(uy, ux, zz)[0])
            + 0.5 * float(muscle_mm(outline * ux, uy, ux, zz)[0])
        )
        k = outline - depth
        return ux * k, uy * k

    def _rib_path(
        self, side: float, z0: float, phi_end: float, drop_scale: float = 1.0
    ) -> tuple[NDArray[np.float64], list[float], list[float]]:
        """Control points of a rib (head at the vertebra, angle, then round the wall while
        descending) and its thin and tall semi-axes."""
        yv = float(spine_y(z0))
        pts = [(side * 24.0, yv + 20.0, z0), (side * 42.0, yv + 34.0, z0 - 5.0)]
        for phi in np.linspace(0.55, phi_end, 12):
            drop = 62.0 * drop_scale * ((phi - 0.45) / 1.6) ** 1.2
            z = z0 - 6.0 - drop
            x, y = self._wall_radius(z, float(phi))
            pts.append((side * abs(x), y, z))
        n = len(pts)
        thin = [4.6, 4.2] + list(np.linspace(3.4, 2.6, n - 2))
        tall = [4.6, 5.6] + list(np.linspace(6.6, 5.4, n - 2))
        return np.asarray(pts), thin, tall

    def _cartilage_path(
        self, side: float, start: NDArray[np.float64], rib: int
    ) -> tuple[NDArray[np.float64], list[float]]:
        z1 = float(start[2]) + 6.0 + (10 - rib) * 6.0
        pts = [tuple(start)]
        for phi in np.linspace(2.45, 2.95, 4):
            x, y = self._wall_radius(z1, float(phi))
            zz = float(start[2]) + (z1 - float(start[2])) * (phi - 2.3) / 0.65
            pts.append((side * abs(x) * 0.95, y + 2.0, zz))
        return np.asarray(pts), [5.0] * len(pts)

    def back_muscles(self) -> list[Structure]:
        """Erector spinae and quadratus lumborum."""
        out = []
        for side, sname in ((1.0, "left"), (-1.0, "right")):
            ys = lambda z: float(spine_y(z))  # noqa: E731
            es = _ErectorSpinae(side)
            out.append(
                Structure(
                    f"autochthon_{sname}",
                    f"autochthon_{sname}",
                    _inter(es.sd, _offset(_field("muscle_sd"), -1.0)),
                    es.box(),
                    HU(50.0, coarse=3, fine=4),
                )
            )
            ql = Extrusion(
                tuple(
                    (z, side * x, ys(z) + dy, a, b)
                    for z, x, dy, a, b in (
                        (-118.0, 74.0, 28.0, 10.0, 7.0),
                        (-100.0, 70.0, 30.0, 17.0, 10.0),
                        (-40.0, 64.0, 34.0, 16.0, 9.0),
                        (20.0, 58.0, 36.0, 12.0, 8.0),
                        (48.0, 52.0, 36.0, 6.0, 5.0),
                    )
                )
            )
            out.append(
                Structure(
                    f"quadratus_lumborum_{sname}",
                    f"quadratus_lumborum_{sname}",
                    ql.sd,
                    ql.box(),
                    HU(50.0, coarse=3, fine=4),
                )
            )
        return out

    def pelvis(self) -> list[Structure]:
        """Iliac wings with the iliacus inside and the gluteus medius outside."""
        out = []
        for side, sname in ((1.0, "left"), (-1.0, "right")):
            box = Box(
                min(side * 20.0, side * 150.0),
                max(side * 20.0, side * 150.0),
                -85.0,
                100.0,
                -300.0,
                -95.0,
            )
            hip = f"hip_{sname}"
            glut = _inter(
                IliacWing(side, -19.0, 14.0, taper=True).sd, _offset(_field("body_sd"), 20.0)
            )
            muscle = HU(50.0, coarse=3, fine=4)
            out += [
                Structure(
                    f"gluteus_medius_{sname}", f"gluteus_medius_{sname}", glut, box.grow(30), muscle
                ),
                Structure(
                    f"iliacus_{sname}",
                    f"iliopsoas_{sname}",
                    IliacWing(side, 18.0, 12.0, taper=True).sd,
                    box,
                    muscle,
                ),
                Structure(
                    f"{hip}_cortex",
                    hip,
                    IliacWing(side, 0.0, 4.0, bone=True).sd,
                    box,
                    HU(800.0, fine=40),
                ),
                Structure(
                    f"{hip}_marrow",
                    hip,
                    _offset(IliacWing(side, 0.0, 4.0, bone=True).sd, 1.5),
                    box,
                    HU(230.0, fine=30),
                ),
            ]
        return out

    # -- thorax ---------------------------------------------------------------------------

    def thorax(self) -> list[Structure]:
        """Lung bases, diaphragm and crura, heart with the right atrium, oesophagus."""
        lung_box = Box(-170, 170, -130, 110, 20, 300)

        def lung(side: float) -> FieldFn:
            def g(b: Block) -> Arr:
                s = np.maximum(b.field("cavity_sd"), above_diaphragm_sd(b))
                s = np.maximum(s, -paraspinal_sd(b))
                return np.asarray(
                    np.maximum(s, F32(-side) * b.x + F32(2.0) + np.zeros_like(b.z)), F32
                )

            return g

        def lung_hu(b: Block) -> Arr:
            t = b.field("tex_fine")
            vessels = np.maximum(t - F32(2.0), F32(0)) * F32(450.0)
            return np.asarray(F32(-866.0) + F32(18.0) * b.field("tex_coarse") + vessels, F32)

        out = [
            Structure("lung_left", "lung_left", lung(1.0), lung_box, lung_hu),
            Structure("lung_right", "lung_right", lung(-1.0), lung_box, lung_hu),
            Structure(
                "diaphragm",
                "diaphragm",
                diaphragm_sheet_sd,
                Box(-170, 170, -130, 110, 20, 200),
                HU(54.0, fine=4),
            ),
        ]
        # crura: from the front of L2/L3 up round the aorta into the dome
        for k, pts in enumerate(
            (
                (
                    (-9.0, 8.0, -45.0),
                    (-14.0, 2.0, -10.0),
                    (-17.0, -3.0, 25.0),
                    (-16.0, -8.0, 55.0),
                    (-18.0, -14.0, 95.0),
                    (-22.0, -18.0, 140.0),
                ),
                (
                    (8.0, 10.0, -25.0),
                    (21.0, 6.0, 5.0),
                    (27.0, 2.0, 35.0),
                    (27.0, -2.0, 65.0),
                    (26.0, -6.0, 100.0),
                    (30.0, -10.0, 135.0),
                ),
            )
        ):
            t = Tube(pts, (4.0, 5.0, 5.5, 5.5, 5.0, 4.5))
            out.append(
                Structure(
                    f"crus_{k}",
                    "diaphragm",
                    _inter(t.sd, below_diaphragm_sd),
                    t.box(),
                    HU(54.0, fine=4),
                )
            )
        heart_rot = rotation(-30.0, 0.0, 20.0)
        heart_c, heart_s = (18.0, -52.0, 222.0), (82.0, 58.0, 64.0)
        heart = _bent(_ellipsoid(heart_c, heart_s, heart_rot), 3.0)
        ra_c, ra_s = (-36.0, -24.0, 194.0), (30.0, 27.0, 31.0)
        ra = _ellipsoid(ra_c, ra_s)
        above = _offset(above_diaphragm_sd, 1.0)
        hbox = ellipsoid_box(heart_c, heart_s, heart_rot).grow(12)
        out += [
            Structure(
                "pericardial_fat",
                "torso_fat",
                _inter(_offset(_union(heart, ra), -5.0), above),
                hbox,
                HU(-90.0, fine=6),
            ),
            Structure("heart", "heart", _inter(heart, above), hbox, HU(135.0, coarse=8, fine=5)),
            Structure(
                "heart_atrium_right",
                "heart_atrium_right",
                _inter(ra, above),
                ellipsoid_box(ra_c, ra_s).grow(3),
                HU(150.0, coarse=3),
            ),
        ]
        eso = Tube(
            (
                (24.0, 18.0, 260.0),
                (24.0, 16.0, 190.0),
                (30.0, 12.0, 160.0),
                (42.0, 6.0, 142.0),
                (54.0, 8.0, 134.0),
            ),
            (8.0, 8.0, 8.0, 8.5, 10.0),
        )
        out.append(Structure("esophagus", "esophagus", eso.sd, eso.box(), HU(45.0, fine=5)))
        return out

    # -- abdominal organs -----------------------------------------------------------------

    @staticmethod
    def liver_sd(b: Block) -> Arr:
        """The liver: under the right dome, above an oblique lower surface, left lobe in front."""
        x, y, z = b.x, b.y, b.z
        # lower surface: lowest at the right lateral tip (about L1-L2), rising to the left
        low = F32(76.0) + F32(0.58) * x + F32(0.08) * (y + F32(40.0))
        low = low + F32(0.0025) * (y + F32(35.0)) ** 2
        s_low = (low - z) / F32(1.2)
        # left edge: the left lobe reaches across in front, the caudate lobe to the IVC's left
        xl = F32(4.0) + F32(66.0) / (F32(1.0) + np.exp((y + F32(45.0)) / F32(14.0)))
        s_left = np.asarray((x - xl) / F32(1.3), F32)
        # posterior limit at low levels (the right kidney lies behind the liver below T12)
        yp = F32(10.0) + F32(1.3) * (z - F32(10.0))
        s_post = np.asarray((y - yp) / F32(1.6), F32)
        s = smooth_max(smooth_max(np.asarray(s_low, F32), s_left, 10.0), s_post, 8.0)
        s = np.maximum(s, below_diaphragm_sd(b))
        s = np.maximum(s + F32(3.5) * b.field("tex_shape"), b.field("cavity_sd"))
        return np.asarray(s, F32)

    def liver_spleen(self) -> list[Structure]:
        """Liver and spleen."""
        spl_c, spl_s = (98.0, 42.0, 105.0), (58.0, 42.0, 20.0)
        spl_rot = rotation(52.0, 0.0, 0.0) @ rotation(0.0, 0.0, 0.0)
        # long axis: from posterior-superior to anterior-inferior along the ribs
        long = np.array([0.15, -0.55, -0.82])
        long /= np.linalg.norm(long)
        radial = np.array([0.7, 0.7, 0.0])
        radial -= long * (radial @ long)
        radial /= np.linalg.norm(radial)
        spl_rot = np.stack([long, np.cross(radial, long), radial], axis=1)
        # the visceral surface is concave: a larger ellipsoid on the hilum's side is cut out
        hilum_c = np.asarray(spl_c) - spl_rot[:, 2] * (spl_s[2] + 26.0)
        notch = _ellipsoid(hilum_c, (spl_s[0] * 1.3, spl_s[1] * 1.3, 34.0), spl_rot)
        spleen = _inter(
            _bent(_minus(_ellipsoid(spl_c, spl_s, spl_rot), notch), 3.0),
            below_diaphragm_sd,
            _field("cavity_sd"),
        )
        return [
            Structure(
                "liver",
                "liver",
                self.liver_sd,
                Box(-170, 110, -130, 100, -20, 200),
                HU(110.0, coarse=4, fine=2),
            ),
            Structure(
                "spleen",
                "spleen",
                spleen,
                ellipsoid_box(spl_c, spl_s, spl_rot).grow(11),
                HU(116.0, coarse=4, fine=2),
            ),
        ]

    def gut(self) -> list[Structure]:
        """Stomach, colon and small bowel, with gas in front (supine)."""
        out: list[Structure] = []
        stomach = Tube(
            (
                (52.0, 22.0, 152.0),
                (66.0, -4.0, 128.0),
                (60.0, -40.0, 104.0),
                (40.0, -62.0, 80.0),
                (8.0, -68.0, 60.0),
                (-18.0, -56.0, 48.0),
            ),
            (34.0, 33.0, 28.0, 22.0, 16.0, 10.0),
        )
        st = _inter(_bent(stomach.sd, 3.0), below_diaphragm_sd, _field("cavity_sd"))
        lumen = _offset(st, 4.0)
        sbox = stomach.box(11.0)
        out += [
            Structure("stomach_wall", "stomach", st, sbox, HU(80.0, fine=5)),
            Structure("stomach_content", "stomach", lumen, sbox, HU(18.0, coarse=5, fine=4)),
            Structure(
                "stomach_gas",
                "bowel_gas",
                _inter(lumen, _halfspace_y_below(-52.0)),
                sbox,
                HU(-1000.0),
            ),
        ]
        colon = Tube(
            (
                (-98.0, -40.0, -150.0),
                (-110.0, -52.0, -110.0),
                (-114.0, -58.0, -45.0),
                (-110.0, -62.0, 10.0),
                (-88.0, -72.0, 38.0),
                (-42.0, -90.0, 26.0),
                (0.0, -96.0, 12.0),
                (42.0, -90.0, 22.0),
                (82.0, -68.0, 48.0),
                (108.0, -32.0, 70.0),
                (118.0, 2.0, 48.0),
                (118.0, 10.0, 0.0),
                (114.0, 8.0, -60.0),
                (106.0, -4.0, -112.0),
                (80.0, -26.0, -150.0),
                (45.0, -42.0, -180.0),
                (10.0, -40.0, -215.0),
            ),
            (
                27.0,
                25.0,
                23.0,
                23.0,
                22.0,
                21.0,
                21.0,
                21.0,
                21.0,
                20.0,
                19.0,
                18.0,
                17.0,
                17.0,
                17.0,
                16.0,
                16.0,
            ),
        )
        cl = _inter(_bent(colon.sd, 2.5), _field("cavity_sd"))
        clum = _offset(cl, 2.5)
        cbox = colon.box(10.0)
        out += [
            Structure("colon_wall", "colon", cl, cbox, HU(70.0, fine=5)),
            Structure("colon_content", "colon", clum, cbox, self._faeces_hu),
        ]
        # gas pockets: anterior part of the lumen below horizontal air-fluid levels
        for k, (box, level) in enumerate(
            (
                (Box(-140, -80, -100, -20, -130, 20), -66.0),
                (Box(-110, 100, -125, -50, 0, 60), -100.0),
                (Box(70, 140, -70, 30, 30, 90), -40.0),
                (Box(90, 140, -20, 40, -100, 30), -3.0),
            )
        ):
            out.append(
                Structure(
                    f"colon_gas_{k}",
                    "bowel_gas",
                    _inter(clum, _halfspace_y_below(level)),
                    box,
                    HU(-1000.0),
                )
            )
        for k, (kind, loop) in enumerate(small_bowel_loops()):
            t = Tube(tuple(map(tuple, loop[:, :3])), tuple(loop[:, 3]), samples=5)
            sb = _inter(t.sd, _field("cavity_sd"))
            box = t.box()
            if kind == "collapsed":  # no content: thick mucosal folds, soft tissue
                parts = [
                    Structure(f"small_bowel_{k}_wall", "small_bowel", sb, box, HU(92.0, fine=6)),
                    Structure(
                        f"small_bowel_{k}_folds",
                        "small_bowel",
                        _offset(sb, 2.0),
                        box,
                        HU(62.0, coarse=8, fine=14),
                    ),
                ]
            elif kind == "fluid":  # unopacified fluid with an enhancing wall
                parts = [
                    Structure(f"small_bowel_{k}_wall", "small_bowel", sb, box, HU(105.0, fine=6)),
                    Structure(
                        f"small_bowel_{k}_lumen",
                        "small_bowel",
                        _offset(sb, 2.5),
                        box,
                        HU(16.0, coarse=4, fine=4),
                    ),
                ]
            else:  # positive oral contrast, of varying density, with a feathery fold pattern
                dense = 150.0 + 70.0 * ((k * 0.618) % 1.0)
                parts = [
                    Structure(f"small_bowel_{k}_wall", "small_bowel", sb, box, HU(95.0, fine=5)),
                    Structure(
                        f"small_bowel_{k}_lumen",
                        "small_bowel",
                        _offset(sb, 2.5),
                        box,
                        HU(dense, coarse=22, fine=16),
                    ),
                ]
            out += parts
        return out

    @staticmethod
    def _faeces_hu(b: Block) -> Arr:
        """Mottled faeces: soft tissue with small gas bubbles."""
        t = b.field("tex_fine")
        bubbles = np.maximum(t - F32(1.4), F32(0)) * F32(-900.0)
        return np.asarray(
            F32(-5.0)
            + F32(25.0) * b.field("tex_coarse")
            + F32(12.0) * t
            + np.maximum(bubbles, F32(-1000.0)),
            F32,
        )

    def pancreas_gb(self) -> list[Structure]:
        """Pancreas (head to tail) and gallbladder."""
        panc = Tube(
            (
                (-30.0, -46.0, -2.0),
                (-22.0, -48.0, 16.0),
                (-2.0, -54.0, 30.0),
                (30.0, -46.0, 40.0),
                (60.0, -28.0, 50.0),
                (86.0, 2.0, 62.0),
            ),
            (15.0, 14.0, 11.0, 11.0, 10.0, 8.5),
        )
        gb_c, gb_s = (-52.0, -64.0, 34.0), (17.0, 16.0, 36.0)
        gb_rot = rotation(0.0, 0.0, -25.0)
        gb = _bent(_ellipsoid(gb_c, gb_s, gb_rot), 2.0)
        return [
            Structure(
                "pancreas",
                "pancreas",
                _bent(panc.sd, 2.5),
                panc.box(3.0),
                HU(102.0, coarse=8, fine=5),
            ),
            Structure(
                "gallbladder_wall",
                "gallbladder",
                gb,
                ellipsoid_box(gb_c, gb_s, gb_rot).grow(8),
                HU(60.0),
            ),
            Structure(
                "gallbladder",
                "gallbladder",
                _offset(gb, 2.0),
                ellipsoid_box(gb_c, gb_s, gb_rot).grow(8),
                HU(10.0, fine=2),
            ),
        ]

    # -- retroperitoneum ------------------------------------------------------------------

    def kidneys(self) -> list[Structure]:
        """Kidneys: parenchyma, then the renal sinus (fat) and pelvis opening at the hilum."""
        out = []
        for kg, sname in ((self.p.kidney_left, "left"), (self.p.kidney_right, "right")):
            rot = kg.rotation()
            c = np.asarray(kg.centre)
            body = _bent_away_from(
                _ellipsoid(kg.centre, kg.semi, rot), 2.0, c, rot[:, 1], kg.semi[1]
            )
            sinus_c = c + rot[:, 1] * (kg.semi[1] * 0.58)
            sinus_s = (kg.semi[0] * 0.58, kg.semi[1] * 0.5, kg.semi[2] * 0.5)
            pelvis_c = c + rot[:, 1] * (kg.semi[1] * 0.75)
            pelvis_s = (kg.semi[0] * 0.22, kg.semi[1] * 0.3, kg.semi[2] * 0.3)
            box = ellipsoid_box(kg.centre, kg.semi, rot).grow(6)
            out += [
                Structure(
                    f"kidney_{sname}", f"kidney_{sname}", body, box, HU(176.0, coarse=5, fine=3)
                ),
                Structure(
                    f"renal_sinus_{sname}",
                    f"renal_sinus_{sname}",
                    _ellipsoid(sinus_c, sinus_s, rot),
                    box.grow(10),
                    HU(-70.0, fine=10),
                ),
                Structure(
                    f"renal_pelvis_{sname}",
                    f"renal_sinus_{sname}",
                    _ellipsoid(pelvis_c, pelvis_s, rot),
                    box.grow(10),
                    HU(8.0),
                ),
            ]
        return out

    @staticmethod
    def psoas_rows(side: float) -> tuple[tuple[float, float, float, float, float], ...]:
        """Control rows ``(z, x, y, a, b)`` of a psoas: small at T12, growing downwards."""
        rows = (
            (46.0, 25.0, 24.0, 5.0, 6.0),
            (20.0, 29.0, 28.0, 9.0, 10.0),
            (0.0, 31.0, 30.0, 11.0, 12.5),
            (-40.0, 39.0, 27.0, 15.5, 16.0),
            (-80.0, 47.0, 23.0, 19.0, 19.0),
            (-120.0, 55.0, 17.0, 21.0, 21.0),
            (-165.0, 63.0, 8.0, 22.0, 21.0),
            (-240.0, 72.0, -5.0, 22.0, 20.0),
        )
        return tuple((z, side * x, y, a, b) for z, x, y, a, b in reversed(rows))

    def psoas(self) -> list[Structure]:
        """Both psoas muscles."""
        out = []
        for side, sname in ((1.0, "left"), (-1.0, "right")):
            e = Extrusion(self.psoas_rows(side))
            out.append(
                Structure(
                    f"psoas_{sname}",
                    f"iliopsoas_{sname}",
                    _bent(e.sd, 1.2),
                    e.box(4.0),
                    HU(50.0, coarse=3, fine=4),
                )
            )
        return out

    # -- spine ----------------------------------------------------------------------------

    def spine(self) -> list[Structure]:
        """Vertebrae T7-L5 and the top of the sacrum, discs, and the spinal canal's contents.

        Each vertebra: a kidney-shaped body (waisted, posterior border concave) with a thin
        cortical rim, a cancellous core and the basivertebral vein; pedicles and laminae that
        close a ring round the canal only at the level of the pedicles; superior and inferior
        articular processes meeting the neighbours' at the facet joints; thin transverse
        processes; a spinous process sloping down steeply in the thorax.
        """
        out: list[Structure] = []
        names = list(BODIES)
        for i, name in enumerate(names):
            zb, zt, a, b = BODIES[name]
            label = f"vertebrae_{name}"
            out += self._vertebra(label, name, zb, zt, a, b)
            if i + 1 < len(names):
                zb2, zt2, a2, b2 = BODIES[names[i + 1]]
                out += self._disc(zt2, zb, (a + a2) / 2 + 0.8, (b + b2) / 2 + 0.8)
        out += self._disc(SACRUM[1], BODIES["L5"][0], 26.5, 17.5)
        out += self._vertebra("sacrum", "S1", SACRUM[0], SACRUM[1], SACRUM[2], SACRUM[3])
        out += self._sacral_alae()

        def canal(b: Block) -> Arr:
            ca, cb, cv = canal_params(b.z)
            return ellipse_sd(b.x, b.y - spine_y(b.z) - cv, ca, cb)

        def sac(b: Block) -> Arr:
            ca, cb, cv = canal_params(b.z)
            lumbar = np.clip((F32(40.0) - b.z) / F32(40.0), 0.0, 1.0)
            return ellipse_sd(
                b.x,
                b.y - spine_y(b.z) - cv + F32(0.8) * lumbar,
                ca - F32(1.2) - F32(1.6) * lumbar,
                cb - F32(1.0) - F32(1.4) * lumbar,
            )

        def cord(b: Block) -> Arr:
            _, _, cv = canal_params(b.z)
            s = ellipse_sd(b.x, b.y - spine_y(b.z) - cv + F32(0.5), F32(4.6), F32(3.6))
            return np.asarray(np.maximum(s, F32(8.0) - b.z), F32)  # the conus ends at L1

        cbox = Box(-16, 16, 20, 80, -300, 300)
        out += [
            Structure("spinal_canal_fat", "torso_fat", canal, cbox, HU(-75.0, fine=8)),
            Structure("spinal_canal", "spinal_canal", sac, cbox, HU(9.0, fine=3)),
            Structure("spinal_cord", "spinal_canal", cord, cbox, HU(30.0, fine=3)),
        ]
        return out

    @staticmethod
    def _disc(z_lo: float, z_hi: float, a: float, b: float) -> list[Structure]:
        def sd(bk: Block) -> Arr:
            yv = spine_y(bk.z)
            s = _body_section(bk.x, bk.y - yv, a, b)
            return np.asarray(np.maximum(s, np.maximum(F32(z_lo) - bk.z, bk.z - F32(z_hi))), F32)

        box = Box(-a - 3, a + 3, 10 - b, 32 + b, z_lo - 1, z_hi + 1)
        return [
            Structure(f"disc_{z_lo:.0f}", "intervertebral_discs", sd, box, HU(92.0, fine=4)),
            Structure(
                f"disc_nucleus_{z_lo:.0f}",
                "intervertebral_discs",
                _offset(sd, 7.0),
                box,
                HU(78.0, fine=4),
            ),
        ]

    @staticmethod
    def _vertebra(
        label: str, level: str, zb: float, zt: float, a: float, b: float
    ) -> list[Structure]:
        sacrum = level == "S1"
        h = zt - zb
        zc = (zb + zt) / 2 if not sacrum else zt - 14.0
        if sacrum:
            h = 28.0
        tp_len, slope_deg = POSTERIOR[level]
        lumbar = level.startswith("L") or sacrum
        t_ped = 6.0 if lumbar else 5.0  # pedicle thickness round the canal
        t_lam = 5.0 if lumbar else 4.5  # lamina thickness
        sp_len = 28.0 if lumbar else 32.0
        sp_half_w = 3.2 if lumbar else 2.8
        sp_half_h = 0.3 * h if lumbar else 4.5
        slope = np.radians(slope_deg)
        d_sp = np.array([0.0, np.cos(slope), -np.sin(slope)])
        rot_sp = np.stack([np.array([1.0, 0.0, 0.0]), d_sp, np.cross([1.0, 0.0, 0.0], d_sp)], 1)
        ca0, cb0, cv0 = (float(v.ravel()[0]) for v in canal_params(np.array([[[zc]]], F32)))
        j_sp = np.array([0.0, cv0 + cb0 + t_lam - 2.0, zc - (3.0 if lumbar else 1.0)])
        c_sp = j_sp + d_sp * (sp_len / 2.0)
        beta = np.radians(12.0 if lumbar else 38.0)
        z_tp = zc + 0.12 * h

        def body(bk: Block) -> Arr:
            yv = spine_y(bk.z)
            q = (bk.z - F32(zc)) / F32(h / 2)
            waist = F32(1.0) - F32(0.06) * (F32(1.0) - np.minimum(q * q, F32(1.0)))
            s = _body_section(bk.x, bk.y - yv, a * waist, b * (F32(0.5) + F32(0.5) * waist))
            return np.asarray(np.maximum(s, np.maximum(F32(zb) - bk.z, bk.z - F32(zt))), F32)

        def basivertebral(bk: Block) -> Arr:
            yv = spine_y(bk.z)
            s = ellipse_sd(bk.x, bk.y - yv - F32(b - 6.0), F32(2.2), F32(4.5))
            return np.asarray(np.maximum(s, np.abs(bk.z - F32(zc)) - F32(0.22 * h)), F32)

        def zcap(z: Arr, lo: float, hi: float) -> Arr:
            return np.asarray(np.maximum(F32(lo) - z, z - F32(hi)), F32)

        def arch(bk: Block) -> Arr:
            yv = spine_y(bk.z)
            u, v, z = bk.x, bk.y - yv, bk.z
            ca, cb, cv = canal_params(z)
            vc = v - cv
            hole = ellipse_sd(u, vc, ca, cb)
            ped = np.maximum(ellipse_sd(u, vc, ca + F32(t_ped), cb + F32(t_ped)), -hole)
            ped = np.maximum(ped, vc - F32(1.5))
            ped = np.maximum(ped, zcap(z, zc - 0.05 * h, zt - 1.5))
            lam = np.maximum(ellipse_sd(u, vc, ca + F32(t_lam), cb + F32(t_lam)), -hole)
            lam = np.maximum(lam, F32(-1.5) - vc)
            lam = np.maximum(lam, zcap(z, zb - 4.0, zt - 6.0))
            s = np.minimum(ped, lam)
            # spinous process: a rounded plate from the laminae's junction, backwards and down
            sp = box_sd(
                u, v, z, tuple(c_sp), (sp_half_w - 1.5, sp_len / 2, sp_half_h - 1.5), rot_sp
            ) - F32(1.5)
            s = np.minimum(s, sp)
            for side in (-1.0, 1.0):
                # transverse process: thin, from the pedicle-lamina junction, tilted backwards
                d = np.array([side * np.cos(beta), np.sin(beta), 0.0])
                rot = np.stack([d, np.cross([0.0, 0.0, 1.0], d), [0.0, 0.0, 1.0]], 1)
                c = np.array([side * (ca0 + t_ped - 2.0), cv0 - 1.0, z_tp]) + d * (tp_len / 2)
                tp = box_sd(
                    u,
                    v,
                    z,
                    tuple(c),
                    (tp_len / 2, 1.6 if lumbar else 2.6, 3.0 if lumbar else 4.0),
                    rot,
                ) - F32(1.5)
                s = np.minimum(s, tp)
                # articular processes: superior (up to the disc above), inferior (down to the one
                # below, behind the superior one of the vertebra below: the facet joint)
                sap = ellipsoid_sd(
                    u, v, z, (side * (ca0 + t_ped + 1.5), cv0 + 1.0, zt + 1.0), (4.0, 5.5, 8.5)
                )
                iap = ellipsoid_sd(
                    u,
                    v,
                    z,
                    (side * (ca0 + t_ped - 2.5), cv0 + cb0 + 3.0, zb - 1.0),
                    (4.0, 4.5, 8.5),
                )
                s = np.minimum(s, np.minimum(sap, iap))
            return np.asarray(s, F32)

        w = a + 45.0
        yv0 = float(spine_y(zc))
        box = Box(-w, w, yv0 - 5.0, yv0 + 95.0, zb - 40.0, zt + 12.0)
        bbox = Box(-a - 2, a + 2, yv0 - b - 2, yv0 + b + 2, zb - 1, zt + 1)
        return [
            Structure(
                f"{label}_arch", label, arch, box, HU(760.0, fine=40), region="posterior_elements"
            ),
            Structure(
                f"{label}_arch_marrow",
                label,
                _offset(arch, 1.5),
                box,
                HU(290.0, coarse=10, fine=30),
                region="posterior_elements",
            ),
            Structure(
                f"{label}_cortex", label, body, bbox, HU(1050.0, fine=40), region="vertebral_cortex"
            ),
            Structure(
                f"{label}_cancellous",
                label,
                _offset(body, 1.3),
                bbox,
                HU(228.0, coarse=14, fine=34),
                region="vertebral_cancellous",
            ),
            Structure(f"{label}_basivertebral", label, basivertebral, bbox, HU(150.0, fine=10)),
        ]

    @staticmethod
    def _sacral_alae() -> list[Structure]:
        """The alae of S1: wide wings from the body out to the sacroiliac joints."""
        zb, zt, a, b = SACRUM

        def ala(bk: Block) -> Arr:
            yv = spine_y(bk.z)
            v = bk.y - yv
            out = None
            for side in (-1.0, 1.0):
                s = ellipsoid_sd(bk.x, v, bk.z, (side * 34.0, 12.0, zt - 20.0), (26.0, 15.0, 16.0))
                out = s if out is None else np.minimum(out, s)
            if out is None:  # pragma: no cover
                raise ValueError("no side")
            return np.asarray(np.maximum(out, bk.z - F32(zt - 3.0)), F32)

        box = Box(-62, 62, 0, 60, zb, zt)
        return [
            Structure("sacrum_ala", "sacrum", ala, box, HU(700.0, fine=40)),
            Structure("sacrum_ala_marrow", "sacrum", _offset(ala, 1.5), box, HU(260.0, fine=30)),
        ]

    # -- vessels --------------------------------------------------------------------------

    def arteries(self) -> list[Structure]:
        """Aorta, common iliac arteries, coeliac trunk, SMA and renal arteries."""
        aorta = Extrusion(
            (
                (-96.0, 8.0, -2.0, 8.8, 8.8),
                (-60.0, 10.0, -4.0, 9.6, 9.6),
                (0.0, 12.0, -6.0, 10.5, 10.5),
                (50.0, 13.0, -3.0, 11.0, 11.0),
                (100.0, 16.0, 4.0, 11.5, 11.5),
                (150.0, 20.0, 12.0, 12.0, 12.0),
                (260.0, 24.0, 18.0, 12.5, 12.5),
            )
        )
        out = [Structure("aorta", "aorta", aorta.sd, aorta.box(), HU(176.0, fine=3))]
        for side, sname in ((1.0, "left"), (-1.0, "right")):
            t = Tube(
                (
                    (8.0, -2.0, -88.0),
                    (8.0 + side * 14.0, 0.0, -112.0),
                    (side * 36.0 + 4.0, 6.0, -140.0),
                    (side * 48.0, 12.0, -170.0),
                    (side * 58.0, 16.0, -210.0),
                ),
                (8.0, 7.0, 6.5, 6.0, 6.0),
            )
            out.append(
                Structure(
                    f"iliac_artery_{sname}",
                    f"iliac_artery_{sname}",
                    t.sd,
                    t.box(),
                    HU(176.0, fine=3),
                )
            )
        kr, kl = self.p.kidney_right.hilum(), self.p.kidney_left.hilum()
        # the right renal artery passes behind the IVC to the hilum (in the case, round the
        # rotated kidney's anterior lip, like the vein)
        right_renal = (
            Tube(
                ((10.0, -4.0, 6.0), (-24.0, 8.0, 2.0), *self.displaced_renal_path(None, 6.0)[::-1]),
                (3.0, 3.0, 2.8, 2.8, 2.8, 2.8),
            )
            if self.case
            else Tube(
                ((10.0, -4.0, 6.0), (-24.0, 8.0, 2.0), (kr[0] + 8.0, kr[1] + 2.0, kr[2] + 2.0)),
                (3.0, 3.0, 2.8),
            )
        )
        branches = (
            Tube(((12.0, -14.0, 40.0), (11.0, -30.0, 45.0), (14.0, -36.0, 48.0)), (4.0, 3.5, 3.0)),
            Tube(
                (
                    (11.0, -15.0, 24.0),
                    (10.0, -34.0, 14.0),
                    (8.0, -44.0, -10.0),
                    (6.0, -50.0, -60.0),
                ),
                (4.0, 3.5, 3.2, 2.8),
            ),
            right_renal,
            Tube(((16.0, -2.0, 9.0), (kl[0] - 8.0, kl[1] + 2.0, kl[2] + 2.0)), (3.0, 2.8)),
        )
        for k, t in enumerate(branches):
            out.append(
                Structure(f"aortic_branch_{k}", "aortic_branches", t.sd, t.box(), HU(182.0, fine=3))
            )
        for k, t in enumerate(mesenteric_branches(artery=True)):
            out.append(
                Structure(
                    f"jejunal_ileal_artery_{k}", "aortic_branches", t.sd, t.box(), HU(180.0, fine=3)
                )
            )
        return out

    def veins(self) -> list[Structure]:
        """Portal system, renal and iliac veins, the IVC, hepatic veins."""
        out: list[Structure] = []
        portal = (
            Tube(
                ((88.0, 12.0, 66.0), (62.0, -14.0, 52.0), (30.0, -34.0, 40.0), (0.0, -38.0, 32.0)),
                (4.5, 4.5, 4.5, 5.0),
            ),
            Tube(
                (
                    (0.0, -38.0, 32.0),
                    (-2.0, -47.0, 10.0),
                    (-4.0, -53.0, -20.0),
                    (-6.0, -56.0, -60.0),
                ),
                (5.5, 5.0, 4.5, 4.0),
            ),
            Tube(((0.0, -38.0, 32.0), (-14.0, -32.0, 50.0), (-30.0, -26.0, 64.0)), (6.5, 7.0, 6.5)),
            Tube(
                ((-30.0, -26.0, 64.0), (-58.0, -16.0, 74.0), (-90.0, -8.0, 84.0)), (6.0, 5.0, 3.5)
            ),
            Tube(((-30.0, -26.0, 64.0), (-16.0, -46.0, 80.0), (4.0, -62.0, 94.0)), (5.0, 4.0, 3.0)),
        )
        for k, t in enumerate(portal):
            out.append(
                Structure(
                    f"portal_{k}", "portal_vein_and_splenic_vein", t.sd, t.box(), HU(172.0, fine=3)
                )
            )
        for k, t in enumerate(mesenteric_branches(artery=False)):
            out.append(
                Structure(
                    f"jejunal_ileal_vein_{k}",
                    "portal_vein_and_splenic_vein",
                    t.sd,
                    t.box(),
                    HU(165.0, fine=3),
                )
            )
        kr, kl = self.p.kidney_right.hilum(), self.p.kidney_left.hilum()
        ivc_at = self.ivc.params(np.array([[[Z_RENAL]]], F32))
        ix, iy = float(ivc_at[0].ravel()[0]), float(ivc_at[1].ravel()[0])
        lrv = Tube(
            (
                (kl[0] + 6.0, kl[1] + 2.0, kl[2]),
                (34.0, 2.0, 8.0),
                (12.0, -23.0, 5.0),
                (ix + 6.0, iy - 4.0, Z_RENAL + 2.0),
            ),
            (5.0, 5.0, 4.5, 6.0),
        )
        rrv_end = (ix - 5.0, iy + 1.0, Z_RENAL - 1.0)
        if self.case:
            # from the rotated kidney's hilum round its anterior lip into the mass, which
            # encases it from there on (the findings cut it there); slow flow behind the
            # encasement: less opacified than the left renal vein
            rrv = Tube(tuple(self.displaced_renal_path(rrv_end, 0.0)), (5.0, 5.5, 5.5, 6.0, 6.5))
            rrv_hu = HU(140.0, fine=3)
        else:
            rrv_mid = ((kr[0] + ix) / 2, (kr[1] + iy) / 2 + 4.0, (kr[2] + Z_RENAL) / 2 + 1.0)
            rrv = Tube(((kr[0] - 6.0, kr[1] + 2.0, kr[2]), rrv_mid, rrv_end), (5.5, 5.5, 6.5))
            rrv_hu = HU(155.0, fine=3)
        out += [
            Structure("renal_vein_left", "renal_vein_left", lrv.sd, lrv.box(), HU(155.0, fine=3)),
            Structure("renal_vein_right", "renal_vein_right", rrv.sd, rrv.box(), rrv_hu),
        ]
        z0 = self.p.ivc_rows[0][0]
        for side, sname in ((1.0, "left"), (-1.0, "right")):
            t = Tube(
                (
                    (-10.0, 10.0, z0 + 2.0),
                    (-10.0 + side * 22.0, 14.0 + (4.0 if side > 0 else 6.0), z0 - 18.0),
                    (side * 42.0 - 4.0, 20.0, -165.0),
                    (side * 54.0, 24.0, -210.0),
                ),
                (10.0, 8.5, 8.0, 8.0),
            )
            out.append(
                Structure(
                    f"iliac_vena_{sname}", f"iliac_vena_{sname}", t.sd, t.box(), HU(108.0, fine=3)
                )
            )
        out.append(
            Structure(
                "inferior_vena_cava",
                "inferior_vena_cava",
                self.ivc.sd,
                self.ivc.box(),
                self._ivc_hu,
                supersample=4,
            )
        )
        hv = (
            Tube(
                (
                    (-112.0, -2.0, 108.0),
                    (-72.0, -6.0, 130.0),
                    (-34.0, -11.0, 148.0),
                    (-26.0, -11.0, 150.0),
                ),
                (3.5, 5.0, 6.0, 6.5),
            ),
            Tube(
                (
                    (-44.0, -78.0, 104.0),
                    (-36.0, -48.0, 128.0),
                    (-27.0, -20.0, 148.0),
                    (-24.0, -14.0, 150.0),
                ),
                (3.0, 4.5, 5.5, 6.0),
            ),
            Tube(
                (
                    (18.0, -84.0, 116.0),
                    (0.0, -54.0, 134.0),
                    (-14.0, -22.0, 149.0),
                    (-20.0, -14.0, 151.0),
                ),
                (3.0, 4.0, 5.0, 5.5),
            ),
        )
        for k, t in enumerate(hv):
            out.append(
                Structure(
                    f"hepatic_vein_{k}",
                    "hepatic_veins",
                    _inter(t.sd, self.liver_sd_grown),
                    t.box(),
                    HU(146.0, fine=3),
                )
            )
        return out

    def displaced_renal_path(
        self, end: tuple[float, float, float] | None, lift: float
    ) -> list[tuple[float, float, float]]:
        """Case only: control points of a right renal vessel from the rotated kidney's sinus out
        of its hilum (facing forwards and laterally), round the kidney's anterior lip to the
        mass's surface and then forwards and medially towards the IVC at the renal-vein level,
        ending at ``end`` (None: about 2 cm inside the mass on that course). ``lift`` moves the
        hilum end along the kidney's long axis (mm; the artery enters above the vein). The mass
        cuts the part inside it (:meth:`ivcviewer.phantom.findings.Findings.encase`)."""
        kg = self.p.kidney_right
        rot = kg.rotation()
        w, long = rot[:, 1], rot[:, 0]
        h = kg.hilum() + lift * long
        ivc_at = self.ivc.params(np.array([[[Z_RENAL]]], F32))
        ivc = np.array([float(ivc_at[0].ravel()[0]), float(ivc_at[1].ravel()[0]), Z_RENAL])
        out1 = h + 8.0 * w
        fwd = ivc - out1
        fwd[2] *= 0.3
        fwd /= np.linalg.norm(fwd)
        lip = out1 + 14.0 * fwd
        into = lip + 26.0 * fwd
        pts = [h - 7.0 * w, out1, lip, into]
        if end is not None:
            pts.append(np.asarray(end, dtype=float))
        return [(float(p[0]), float(p[1]), float(p[2])) for p in pts]

    def liver_sd_grown(self, b: Block) -> Arr:
        """The liver grown by 3 mm (hepatic veins stay inside it)."""
        return np.asarray(self.liver_sd(b) - F32(3.0), F32)

    def _ivc_hu(self, b: Block) -> Arr:
        """Less enhanced below the renal veins (unopacified leg return), brighter above."""
        t = np.clip((b.z - F32(Z_RENAL - 6.0)) / F32(10.0), 0.0, 1.0)
        base = F32(self.p.ivc_infrarenal_hu) + (F32(136.0) - F32(self.p.ivc_infrarenal_hu)) * t
        return np.asarray(base + F32(3.0) * b.field("tex_fine"), F32)


#: Content of the small-bowel loops, in turn: positive oral contrast in most, some with
#: unopacified fluid, some collapsed.
SMALL_BOWEL_KINDS: tuple[str, ...] = (
    "contrast",
    "fluid",
    "contrast",
    "collapsed",
    "contrast",
    "contrast",
    "fluid",
    "contrast",
    "collapsed",
    "contrast",
    "fluid",
)

#: Radius (mm) of a small-bowel loop of each kind.
SMALL_BOWEL_RADIUS: dict[str, float] = {"contrast": 11.5, "fluid": 12.5, "collapsed": 7.5}


def small_bowel_loops() -> list[tuple[str, NDArray[np.float64]]]:
    """Deterministic small-bowel loops: (kind, ``(n, 4)`` x, y, z, radius in mm), in the lower
    abdomen away from the right retroperitoneum (where the case's mass lies).

    Each loop is a random walk that keeps a few mm of mesenteric fat between itself and the
    loops already laid (and between its own non-adjacent turns).
    """
    rng = np.random.default_rng(1234)
    loops: list[tuple[str, NDArray[np.float64]]] = []
    starts = (
        (40.0, -70.0, -20.0),
        (70.0, -40.0, -60.0),
        (10.0, -75.0, -70.0),
        (-30.0, -75.0, -110.0),
        (50.0, -60.0, -120.0),
        (-10.0, -60.0, -150.0),
        (85.0, -45.0, -10.0),
        (50.0, -60.0, 25.0),
        (80.0, -45.0, 15.0),
        (30.0, -82.0, 5.0),
        (-45.0, -85.0, -60.0),
    )
    placed = np.zeros((0, 4))

    def free(q: NDArray[np.float64], r: float) -> bool:
        if not _bowel_ok(q):
            return False
        if not len(placed):
            return True
        gap = np.linalg.norm(placed[:, :3] - q, axis=1) - placed[:, 3] - r
        return bool(gap.min() >= 4.0)

    for n, start in enumerate(starts):
        kind = SMALL_BOWEL_KINDS[n % len(SMALL_BOWEL_KINDS)]
        r = SMALL_BOWEL_RADIUS[kind]
        p = np.array(start)
        for _try in range(200):
            if free(p, r):
                break
            p = np.array(start) + rng.uniform(-45.0, 45.0, size=3)
        d = rng.normal(size=3)
        d /= np.linalg.norm(d)
        pts = [p.copy()]
        for _ in range(22):
            for _try in range(40):
                nd = d + 0.9 * rng.normal(size=3)
                nd /= np.linalg.norm(nd)
                q = p + 12.0 * nd
                if not free(q, r):
                    continue
                own = np.asarray(pts[:-3]) if len(pts) > 3 else np.zeros((0, 3))
                if len(own) and (np.linalg.norm(own - q, axis=1) - 2 * r).min() < 3.0:
                    continue
                d, p = nd, q
                break
            if not np.array_equal(p, pts[-1]):
                pts.append(p.copy())
        arr = np.asarray(pts)
        if len(arr) < 3:
            continue
        loop = np.hstack([arr, np.full((len(arr), 1), r)])
        loops.append((kind, loop))
        placed = np.vstack([placed, loop])
    return loops


def mesenteric_branches(artery: bool) -> list[Tube]:
    """Jejunal and ileal branches of the superior mesenteric artery (``artery``) or vein: thin
    vessels fanning out from the trunk through the mesenteric fat towards the small-bowel
    loops, stopping short of them."""
    out = []
    for k, (_, loop) in enumerate(small_bowel_loops()):
        target = loop[len(loop) // 2, :3]
        z0 = float(np.clip(target[2] + 40.0, -55.0, -10.0))
        # the trunks run down in front of the aorta: the SMA on the left of the SMV
        start = (
            np.array([7.0, -46.0 - 0.08 * (z0 + 10.0), z0])
            if artery
            else np.array([-4.0, -52.0 - 0.05 * (z0 + 20.0), z0])
        )
        d = target - start
        dist = float(np.linalg.norm(d))
        if dist < 30.0:
            continue
        end = start + d * (dist - 16.0) / dist
        bend = np.array([4.0 if k % 2 else -4.0, -3.0, 0.0]) + (0.0 if artery else 3.5)
        mid = start + (end - start) * 0.55 + bend
        out.append(Tube((tuple(start), tuple(mid), tuple(end)), (2.6, 2.1, 1.7)))
    return out


def _bowel_ok(q: NDArray[np.float64]) -> bool:
    """Where a small-bowel loop may run: the anterior abdomen and pelvis, not in the right
    retroperitoneum, not in the spine or great vessels."""
    x, y, z = q
    z_max = 40.0 if x > 18.0 else 0.0
    if not (-165.0 < z < z_max and -100.0 < y < -12.0 and -75.0 < x < 98.0):
        return False
    # keep out of the case's mass (right retroperitoneum) and the vessels in front of the spine
    if ((x + 70.0) / 66.0) ** 2 + (y / 58.0) ** 2 + (z / 80.0) ** 2 < 1.0:
        return False
    if abs(x) < 35.0 and y > -40.0:
        return False
    return ((x / 120.0) ** 2 + ((y + 30.0) / 80.0) ** 2) < 1.0

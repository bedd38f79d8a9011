"""The body outline and its layers (skin, subcutaneous fat, muscle wall, the cavity inside),
as shared fields, and the structures of the body wall (with the scanner table under it).

The outline is a superellipse along z (:data:`BODY_ROWS`); the layers are offsets of its signed
distance by thicknesses that vary round the body (:func:`fat_mm`, :func:`muscle_mm`), so that
skin, fat, muscle and what lies inside fit together without gaps.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..raster import HU, Block, Structure
from ..sdf import F32, Arr, Box
from .shapes import linear_profile, offset, shared_field

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
    a = linear_profile(z, r[:, 0], r[:, 1])
    ant = linear_profile(z, r[:, 0], r[:, 2])
    post = linear_profile(z, r[:, 0], r[:, 3])
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


#: A box holding the whole field of view (mm): the body wall's layers are evaluated in it.
FOV = Box(-260.0, 260.0, -260.0, 260.0, -300.0, 300.0)


def wall_point(z: float, phi: float) -> tuple[float, float]:
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
        SKIN_MM + float(fat_mm(uy, ux, zz)[0]) + 0.5 * float(muscle_mm(outline * ux, uy, ux, zz)[0])
    )
    k = outline - depth
    return ux * k, uy * k


def table() -> list[Structure]:
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
        Structure("table_core", None, offset(shell, 2.5), box, HU(-880.0)),
    ]


def body_wall() -> list[Structure]:
    """Skin, subcutaneous fat, muscle wall, and the fat filling the cavities."""
    box = FOV
    return [
        Structure("skin", "skin", shared_field("body_sd"), box, HU(48.0, fine=3)),
        Structure(
            "subcutaneous_fat", "subcutaneous_fat", fat_sd, box, HU(-102.0, coarse=4, fine=6)
        ),
        Structure(
            "abdominal_wall_muscle",
            "abdominal_wall_muscle",
            shared_field("muscle_sd"),
            box,
            HU(52.0, fine=4),
        ),
        Structure(
            "torso_fat", "torso_fat", shared_field("cavity_sd"), box, HU(-96.0, coarse=6, fine=6)
        ),
    ]

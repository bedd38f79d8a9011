"""The diaphragm as a surface over the axial plane (two domes and the central tendon), the
shared fields made of it, and the signed distances above, below and inside its sheet."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ..raster import Block
from ..sdf import F32, Arr, smooth_max

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

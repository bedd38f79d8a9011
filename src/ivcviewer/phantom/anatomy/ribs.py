"""The ribs: ribs 5-12 on both sides, flattened in section and descending round the wall, and
the costal cartilages of ribs 5-10."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ..labels import RIBS, UPPER_RIBS
from ..raster import HU, Structure
from .body_wall import wall_point
from .levels import BODIES, spine_y
from .shapes import Ribbon, offset


def ribs() -> list[Structure]:
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
            pts, thin, tall = _rib_path(side, z0 + j, ends[r], 1.0 + 0.02 * j)
            rib = Ribbon(tuple(map(tuple, pts)), tuple(thin), tuple(tall))
            label = f"rib_{sname}_{r}"
            out.append(Structure(f"{label}_cortex", label, rib.sd, rib.box(), HU(750.0, fine=40)))
            out.append(
                Structure(
                    f"{label}_marrow",
                    label,
                    offset(rib.sd, 1.3),
                    rib.box(),
                    HU(260.0, fine=30),
                )
            )
            if r <= 10:
                cp, cr = _cartilage_path(side, pts[-1], r)
                n = len(cp)
                cart.append(Ribbon(tuple(map(tuple, cp)), (3.0,) * n, tuple(float(v) for v in cr)))
    for i, t in enumerate(cart):
        out.insert(
            0,
            Structure(
                f"costal_cartilage_{i}", "costal_cartilages", t.sd, t.box(), HU(130.0, fine=15)
            ),
        )
    return out


def _rib_path(
    side: float, z0: float, phi_end: float, drop_scale: float = 1.0
) -> tuple[NDArray[np.float64], list[float], list[float]]:
    """Control points of a rib (head at the vertebra, angle, then round the wall while
    descending) and its thin and tall semi-axes."""
    yv = float(spine_y(z0))
    pts = [(side * 24.0, yv + 20.0, z0), (side * 42.0, yv + 34.0, z0 - 5.0)]
    for phi in np.linspace(0.55, phi_end, 12):
        drop = 62.0 * drop_scale * ((phi - 0.45) / 1.6) ** 1.2
        z = z0 - 6.0 - drop
        x, y = wall_point(z, float(phi))
        pts.append((side * abs(x), y, z))
    n = len(pts)
    thin = [4.6, 4.2] + list(np.linspace(3.4, 2.6, n - 2))
    tall = [4.6, 5.6] + list(np.linspace(6.6, 5.4, n - 2))
    return np.asarray(pts), thin, tall


def _cartilage_path(
    side: float, start: NDArray[np.float64], rib: int
) -> tuple[NDArray[np.float64], list[float]]:
    """Control points of the costal cartilage from the end of ``rib`` towards the sternum and
    its radii."""
    z1 = float(start[2]) + 6.0 + (10 - rib) * 6.0
    pts = [tuple(start)]
    for phi in np.linspace(2.45, 2.95, 4):
        x, y = wall_point(z1, float(phi))
        zz = float(start[2]) + (z1 - float(start[2])) * (phi - 2.3) / 0.65
        pts.append((side * abs(x) * 0.95, y + 2.0, zz))
    return np.asarray(pts), [5.0] * len(pts)

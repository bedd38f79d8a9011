"""The muscles of the back and of the posterior abdominal wall: erector spinae, quadratus
lumborum and psoas."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..raster import HU, Block, Structure
from ..sdf import F32, Arr, Box, superellipse_radial_sd
from .levels import spine_y
from .shapes import Extrusion, bent, intersection, linear_profile, offset, shared_field

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
        cx = linear_profile(b.z, r[:, 0], r[:, 1])
        cy = linear_profile(b.z, r[:, 0], r[:, 2]) + spine_y(b.z)
        a = linear_profile(b.z, r[:, 0], r[:, 3])
        bb = linear_profile(b.z, r[:, 0], r[:, 4])
        s = superellipse_radial_sd(b.x - F32(self.side) * cx, b.y - cy, a, bb, 2.6)
        medial = F32(0.8) - F32(self.side) * b.x
        return np.asarray(np.maximum(s, medial), F32)

    def box(self) -> Box:
        r = np.asarray(ERECTOR_ROWS)
        x1 = float((r[:, 1] + r[:, 3]).max()) + 2.0
        lo, hi = (0.0, x1) if self.side > 0 else (-x1, 0.0)
        return Box(lo, hi, 0.0, 110.0, -300.0, 300.0)


def back_muscles() -> list[Structure]:
    """Erector spinae and quadratus lumborum."""
    out = []
    for side, sname in ((1.0, "left"), (-1.0, "right")):
        ys = lambda z: float(spine_y(z))  # noqa: E731
        es = _ErectorSpinae(side)
        out.append(
            Structure(
                f"autochthon_{sname}",
                f"autochthon_{sname}",
                intersection(es.sd, offset(shared_field("muscle_sd"), -1.0)),
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


def psoas() -> list[Structure]:
    """Both psoas muscles."""
    out = []
    for side, sname in ((1.0, "left"), (-1.0, "right")):
        e = Extrusion(psoas_rows(side))
        out.append(
            Structure(
                f"psoas_{sname}",
                f"iliopsoas_{sname}",
                bent(e.sd, 1.2),
                e.box(4.0),
                HU(50.0, coarse=3, fine=4),
            )
        )
    return out

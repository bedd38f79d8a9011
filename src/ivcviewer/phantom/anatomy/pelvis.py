"""The pelvis: the iliac wings, with the iliacus inside and the gluteus medius outside."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..raster import HU, Block, Structure
from ..sdf import F32, Arr, Box
from .shapes import intersection, offset, shared_field


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


def pelvis() -> list[Structure]:
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
        glut = intersection(
            IliacWing(side, -19.0, 14.0, taper=True).sd, offset(shared_field("body_sd"), 20.0)
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
                offset(IliacWing(side, 0.0, 4.0, bone=True).sd, 1.5),
                box,
                HU(230.0, fine=30),
            ),
        ]
    return out

"""The lower thorax: the lung bases, the diaphragm's sheet and crura, the heart with the right
atrium and the pericardial fat, and the oesophagus."""

from __future__ import annotations

import numpy as np

from ..raster import HU, Block, FieldFn, Structure
from ..sdf import F32, Arr, Box, ellipsoid_box, rotation, superellipse_radial_sd
from .diaphragm import above_diaphragm_sd, below_diaphragm_sd, diaphragm_sheet_sd
from .levels import spine_y
from .shapes import Tube, bent, ellipsoid, intersection, offset, union


def paraspinal_sd(b: Block) -> Arr:
    """The region behind the posterior chest wall next to the spine (erector spinae, rib necks,
    transverse processes), which the lungs do not enter."""
    yv = spine_y(b.z)
    return superellipse_radial_sd(b.x, b.y - yv - F32(45.0), F32(60.0), F32(30.0), 2.2)


def thorax() -> list[Structure]:
    """Lung bases, diaphragm and crura, heart with the right atrium, oesophagus."""
    lung_box = Box(-170, 170, -130, 110, 20, 300)

    def lung(side: float) -> FieldFn:
        def g(b: Block) -> Arr:
            s = np.maximum(b.field("cavity_sd"), above_diaphragm_sd(b))
            s = np.maximum(s, -paraspinal_sd(b))
            return np.asarray(np.maximum(s, F32(-side) * b.x + F32(2.0) + np.zeros_like(b.z)), F32)

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
                intersection(t.sd, below_diaphragm_sd),
                t.box(),
                HU(54.0, fine=4),
            )
        )
    heart_rot = rotation(-30.0, 0.0, 20.0)
    heart_c, heart_s = (18.0, -52.0, 222.0), (82.0, 58.0, 64.0)
    heart = bent(ellipsoid(heart_c, heart_s, heart_rot), 3.0)
    ra_c, ra_s = (-36.0, -24.0, 194.0), (30.0, 27.0, 31.0)
    ra = ellipsoid(ra_c, ra_s)
    above = offset(above_diaphragm_sd, 1.0)
    hbox = ellipsoid_box(heart_c, heart_s, heart_rot).grow(12)
    out += [
        Structure(
            "pericardial_fat",
            "torso_fat",
            intersection(offset(union(heart, ra), -5.0), above),
            hbox,
            HU(-90.0, fine=6),
        ),
        Structure("heart", "heart", intersection(heart, above), hbox, HU(135.0, coarse=8, fine=5)),
        Structure(
            "heart_atrium_right",
            "heart_atrium_right",
            intersection(ra, above),
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

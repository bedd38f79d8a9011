"""The solid abdominal organs: liver, spleen, pancreas, gallbladder and kidneys."""

from __future__ import annotations

import numpy as np

from ..raster import HU, Block, Structure
from ..sdf import F32, Arr, Box, ellipsoid_box, rotation, smooth_max
from .diaphragm import below_diaphragm_sd
from .mass_effect import AnatomyParams
from .shapes import (
    Tube,
    bent,
    bent_away_from,
    difference,
    ellipsoid,
    intersection,
    offset,
    shared_field,
)


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


def liver_sd_grown(b: Block) -> Arr:
    """The liver grown by 3 mm (hepatic veins stay inside it)."""
    return np.asarray(liver_sd(b) - F32(3.0), F32)


def liver_spleen() -> list[Structure]:
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
    notch = ellipsoid(hilum_c, (spl_s[0] * 1.3, spl_s[1] * 1.3, 34.0), spl_rot)
    spleen = intersection(
        bent(difference(ellipsoid(spl_c, spl_s, spl_rot), notch), 3.0),
        below_diaphragm_sd,
        shared_field("cavity_sd"),
    )
    return [
        Structure(
            "liver",
            "liver",
            liver_sd,
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


def pancreas_gb() -> list[Structure]:
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
    gb = bent(ellipsoid(gb_c, gb_s, gb_rot), 2.0)
    return [
        Structure(
            "pancreas",
            "pancreas",
            bent(panc.sd, 2.5),
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
            offset(gb, 2.0),
            ellipsoid_box(gb_c, gb_s, gb_rot).grow(8),
            HU(10.0, fine=2),
        ),
    ]


def kidneys(params: AnatomyParams) -> list[Structure]:
    """Kidneys: parenchyma, then the renal sinus (fat) and pelvis opening at the hilum."""
    out = []
    for kg, sname in ((params.kidney_left, "left"), (params.kidney_right, "right")):
        rot = kg.rotation()
        c = np.asarray(kg.centre)
        body = bent_away_from(ellipsoid(kg.centre, kg.semi, rot), 2.0, c, rot[:, 1], kg.semi[1])
        sinus_c = c + rot[:, 1] * (kg.semi[1] * 0.58)
        sinus_s = (kg.semi[0] * 0.58, kg.semi[1] * 0.5, kg.semi[2] * 0.5)
        pelvis_c = c + rot[:, 1] * (kg.semi[1] * 0.75)
        pelvis_s = (kg.semi[0] * 0.22, kg.semi[1] * 0.3, kg.semi[2] * 0.3)
        box = ellipsoid_box(kg.centre, kg.semi, rot).grow(6)
        out += [
            Structure(f"kidney_{sname}", f"kidney_{sname}", body, box, HU(176.0, coarse=5, fine=3)),
            Structure(
                f"renal_sinus_{sname}",
                f"renal_sinus_{sname}",
                ellipsoid(sinus_c, sinus_s, rot),
                box.grow(10),
                HU(-70.0, fine=10),
            ),
            Structure(
                f"renal_pelvis_{sname}",
                f"renal_sinus_{sname}",
                ellipsoid(pelvis_c, pelvis_s, rot),
                box.grow(10),
                HU(8.0),
            ),
        ]
    return out

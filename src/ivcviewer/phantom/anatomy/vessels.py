"""The vessels: aorta and its branches, the iliac arteries and veins, the portal system, the
renal veins, the IVC and the hepatic veins.

In the case the right renal artery and vein leave the rotated kidney round its anterior lip
(:func:`~.mass_effect.displaced_renal_path`); the findings cut them where the mass encases them.
"""

from __future__ import annotations

import numpy as np

from ..raster import HU, Block, FieldFn, Structure
from ..sdf import F32, Arr
from .gut import small_bowel_loops
from .levels import Z_RENAL
from .mass_effect import AnatomyParams, displaced_renal_path
from .shapes import Extrusion, Tube, intersection
from .solid_organs import liver_sd_grown


def arteries(params: AnatomyParams, ivc: Extrusion, case: bool) -> list[Structure]:
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
    kr, kl = params.kidney_right.hilum(), params.kidney_left.hilum()
    # the right renal artery passes behind the IVC to the hilum (in the case, round the
    # rotated kidney's anterior lip, like the vein)
    right_renal = (
        Tube(
            (
                (10.0, -4.0, 6.0),
                (-24.0, 8.0, 2.0),
                *displaced_renal_path(params, ivc, None, 6.0)[::-1],
            ),
            (3.0, 3.0, 2.8, 2.8, 2.8, 2.8),
        )
        if case
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


def veins(params: AnatomyParams, ivc: Extrusion, case: bool) -> list[Structure]:
    """Portal system, renal and iliac veins, the IVC, hepatic veins."""
    return (
        portal_veins()
        + renal_veins(params, ivc, case)
        + iliac_veins(params)
        + [
            Structure(
                "inferior_vena_cava",
                "inferior_vena_cava",
                ivc.sd,
                ivc.box(),
                ivc_hu(params.ivc_infrarenal_hu),
                supersample=4,
            )
        ]
        + hepatic_veins()
    )


def portal_veins() -> list[Structure]:
    """Portal, splenic and superior mesenteric veins, and the jejunal and ileal veins."""
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
        Tube(((-30.0, -26.0, 64.0), (-58.0, -16.0, 74.0), (-90.0, -8.0, 84.0)), (6.0, 5.0, 3.5)),
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
    return out


def renal_veins(params: AnatomyParams, ivc: Extrusion, case: bool) -> list[Structure]:
    """The left renal vein (in front of the aorta) and the right one (in the case: round the
    rotated kidney's anterior lip into the mass)."""
    kr, kl = params.kidney_right.hilum(), params.kidney_left.hilum()
    ivc_at = ivc.params(np.array([[[Z_RENAL]]], F32))
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
    if case:
        # from the rotated kidney's hilum round its anterior lip into the mass, which
        # encases it from there on (the findings cut it there); slow flow behind the
        # encasement: less opacified than the left renal vein
        rrv = Tube(
            tuple(displaced_renal_path(params, ivc, rrv_end, 0.0)), (5.0, 5.5, 5.5, 6.0, 6.5)
        )
        rrv_hu = HU(140.0, fine=3)
    else:
        rrv_mid = ((kr[0] + ix) / 2, (kr[1] + iy) / 2 + 4.0, (kr[2] + Z_RENAL) / 2 + 1.0)
        rrv = Tube(((kr[0] - 6.0, kr[1] + 2.0, kr[2]), rrv_mid, rrv_end), (5.5, 5.5, 6.5))
        rrv_hu = HU(155.0, fine=3)
    return [
        Structure("renal_vein_left", "renal_vein_left", lrv.sd, lrv.box(), HU(155.0, fine=3)),
        Structure("renal_vein_right", "renal_vein_right", rrv.sd, rrv.box(), rrv_hu),
    ]


def iliac_veins(params: AnatomyParams) -> list[Structure]:
    """The common iliac veins, joining at the IVC's lower end."""
    out = []
    z0 = params.ivc_rows[0][0]
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
    return out


def hepatic_veins() -> list[Structure]:
    """The right, middle and left hepatic veins, kept inside the liver."""
    out = []
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
                intersection(t.sd, liver_sd_grown),
                t.box(),
                HU(146.0, fine=3),
            )
        )
    return out


def ivc_hu(infrarenal_hu: float) -> FieldFn:
    """The IVC's attenuation: less enhanced below the renal veins (unopacified leg return,
    ``infrarenal_hu``), brighter above."""

    def hu(b: Block) -> Arr:
        t = np.clip((b.z - F32(Z_RENAL - 6.0)) / F32(10.0), 0.0, 1.0)
        base = F32(infrarenal_hu) + (F32(136.0) - F32(infrarenal_hu)) * t
        return np.asarray(base + F32(3.0) * b.field("tex_fine"), F32)

    return hu


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

"""The spine: vertebrae T7-L5 and the top of the sacrum, the discs, and the spinal canal.

Each vertebra: a kidney-shaped body (waisted, posterior border concave) with a thin cortical
rim, a cancellous core and the basivertebral vein; pedicles and laminae that close a ring round
the canal only at the level of the pedicles; superior and inferior articular processes meeting
the neighbours' at the facet joints; thin transverse processes; a spinous process sloping down
steeply in the thorax. The levels of the bodies are :data:`~.levels.BODIES`.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ..raster import HU, Block, FieldFn, Structure
from ..sdf import F32, Arr, Box, box_sd, ellipse_sd, ellipsoid_sd, smooth_max
from .levels import BODIES, SACRUM, spine_y
from .shapes import linear_profile, offset

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
    ca = linear_profile(z, r[:, 0], r[:, 1])
    cb = linear_profile(z, r[:, 0], r[:, 2])
    zs = [(v[0] + v[1]) / 2 for v in BODIES.values()][::-1]
    bs = [v[3] for v in BODIES.values()][::-1]
    body_b = linear_profile(z, zs, bs)
    return ca, cb, np.asarray(body_b - F32(BODY_DENT_MM) + cb + F32(0.3), F32)


def _body_section(u: Arr, v: Arr, a: ArrayLike, b: ArrayLike) -> Arr:
    """Axial section of a vertebral body (or disc): an ellipse whose posterior border is made
    concave by a large circle behind it (a kidney shape)."""
    s = ellipse_sd(u, v, a, b)
    aa = np.asarray(a, F32)
    rr = F32(0.9) * aa
    notch = np.sqrt(u * u + (v - (np.asarray(b, F32) + rr - F32(BODY_DENT_MM))) ** 2) - rr
    return np.asarray(smooth_max(np.asarray(s, F32), -np.asarray(notch, F32), 2.5), F32)


def spine() -> list[Structure]:
    """Vertebrae T7-L5 and the top of the sacrum (each as the module describes), the discs
    between them, and the spinal canal's contents."""
    out: list[Structure] = []
    names = list(BODIES)
    for i, name in enumerate(names):
        zb, zt, a, b = BODIES[name]
        label = f"vertebrae_{name}"
        out += _vertebra(label, name, zb, zt, a, b)
        if i + 1 < len(names):
            zb2, zt2, a2, b2 = BODIES[names[i + 1]]
            out += _disc(zt2, zb, (a + a2) / 2 + 0.8, (b + b2) / 2 + 0.8)
    out += _disc(SACRUM[1], BODIES["L5"][0], 26.5, 17.5)
    out += _vertebra("sacrum", "S1", SACRUM[0], SACRUM[1], SACRUM[2], SACRUM[3])
    out += _sacral_alae()

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


def _disc(z_lo: float, z_hi: float, a: float, b: float) -> list[Structure]:
    """The disc between ``z_lo`` and ``z_hi`` (semi-axes ``a``, ``b``) and its nucleus."""

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
            offset(sd, 7.0),
            box,
            HU(78.0, fine=4),
        ),
    ]


def _vertebra(label: str, level: str, zb: float, zt: float, a: float, b: float) -> list[Structure]:
    """The structures of one vertebra (``level`` ``"S1"``: the sacrum's body)."""
    sacrum = level == "S1"
    h = zt - zb
    zc = (zb + zt) / 2 if not sacrum else zt - 14.0
    if sacrum:
        h = 28.0

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

    arch = _arch(level, zb, zt, zc, h)
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
            offset(arch, 1.5),
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
            offset(body, 1.3),
            bbox,
            HU(228.0, coarse=14, fine=34),
            region="vertebral_cancellous",
        ),
        Structure(f"{label}_basivertebral", label, basivertebral, bbox, HU(150.0, fine=10)),
    ]


def _zcap(z: Arr, lo: float, hi: float) -> Arr:
    """Outside the slab ``lo <= z <= hi`` (signed distance along z)."""
    return np.asarray(np.maximum(F32(lo) - z, z - F32(hi)), F32)


def _arch(level: str, zb: float, zt: float, zc: float, h: float) -> FieldFn:
    """The posterior elements of a vertebra whose body spans ``zb..zt`` (centre ``zc``, height
    ``h``): pedicles, laminae, spinous and transverse processes, articular processes."""
    sacrum = level == "S1"
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

    def arch(bk: Block) -> Arr:
        yv = spine_y(bk.z)
        u, v, z = bk.x, bk.y - yv, bk.z
        ca, cb, cv = canal_params(z)
        vc = v - cv
        hole = ellipse_sd(u, vc, ca, cb)
        ped = np.maximum(ellipse_sd(u, vc, ca + F32(t_ped), cb + F32(t_ped)), -hole)
        ped = np.maximum(ped, vc - F32(1.5))
        ped = np.maximum(ped, _zcap(z, zc - 0.05 * h, zt - 1.5))
        lam = np.maximum(ellipse_sd(u, vc, ca + F32(t_lam), cb + F32(t_lam)), -hole)
        lam = np.maximum(lam, F32(-1.5) - vc)
        lam = np.maximum(lam, _zcap(z, zb - 4.0, zt - 6.0))
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

    return arch


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
        Structure("sacrum_ala_marrow", "sacrum", offset(ala, 1.5), box, HU(260.0, fine=30)),
    ]

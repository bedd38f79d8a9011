"""The case's findings as analytic shapes: the mass and the tumour inside the IVC.

Figures come from the case file (one definition, shared with :mod:`ivcviewer.annotations`,
read by :mod:`.case_specs`): the mass's extents along the patient axes the case file assumes
(:func:`reported_mass_extents_mm`), the label values and colours of the findings, and the
levels the case file places them at (the mass centred on the renal-vein level; the
intravascular tumour from the renal-vein confluence up to 1 cm below the hepatic-vein
confluence).

Shapes
------
mass
    An ellipsoid with the reported extents as its axes, bosselated by a few lobes that stay
    inside its bounding box (so the extents are exactly the reported ones), placed by the case
    file's placement rule (:func:`place_mass`: centred on the renal-vein level, its axial
    outline there through the IVC's axis and the right psoas's centre, lateral to both); it
    replaces the right psoas at that level and wraps the IVC's right wall. Inside: an
    enhancing rim, solid tumour with a coarse texture, and necrotic areas. It is painted
    after the muscles, the viscera and the (displaced) kidney, which it abuts or indents, and
    before bone (it stops at the vertebrae). The vessels it encases (the right renal vein and
    artery; any vessel but the IVC) are cut at its surface (:meth:`Findings.encase`): inside
    it they are tumour, so no enhanced vessel runs through it.
intravascular tumour
    Fills the IVC lumen from the renal-vein confluence upwards, except a thin crescent of
    enhanced blood along the anterior wall (about 2 % of the section), with a rounded head.
    Just below the confluence the mass breaks through the IVC's right wall into the lumen.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from numpy.typing import NDArray

from ..annotations.fit import SolidPlacement, mass_centre_from_relations, placement_of
from .anatomy import Z_CAVOATRIAL, Z_HEPATIC, Z_RENAL, Anatomy

# _inter, _field and _union stay importable from here (they are in __all__)
from .anatomy.shapes import intersection as _inter
from .anatomy.shapes import offset, smooth_profile
from .anatomy.shapes import shared_field as _field
from .anatomy.shapes import union as _union
from .case_specs import (
    MASS_ID,
    TUMOUR_ID,
    default_case,
    finding_label_specs,
    reported_mass_extents_mm,
    tumour_top_offset_mm,
)
from .raster import HU, Block, FieldFn, Structure
from .sdf import F32, Arr, Box, ellipse_sd, ellipsoid_sd, smooth_min

#: Thickness of the mass's enhancing rim (mm).
RIM_MM = 4.5
#: Height of the open crescent of lumen along the IVC's anterior wall: a fraction of the IVC's
#: antero-posterior semi-axis, at most ``OPEN_MAX_MM`` (1 mm leaves about 3 % of the section
#: open: near-total occlusion).
OPEN_FRACTION_OF_SEMI_AXIS = 0.2
OPEN_MAX_MM = 1.0
#: Length of the tumour's rounded head (mm).
HEAD_MM = 10.0
#: The space behind the mass that the liver is pushed out of falls by this many mm per mm
#: behind the mass's centre (:meth:`Findings.behind_sd`).
BEHIND_SLOPE = 0.6


def anatomy_point(anatomy: Anatomy, name: str, z: float) -> NDArray[np.float64]:
    """A landmark of the phantom's own anatomy at height ``z`` (LPS mm).

    ``ivc_centreline``: the IVC's centre at ``z``; ``right_psoas_at_mass``: the centre of the
    right psoas section at ``z``; ``renal_vein_confluence``, ``hepatic_vein_confluence``,
    ``cavo_atrial_junction``: the IVC's centre at their model levels (``z`` is ignored).
    These are the same model quantities the truth landmarks are made of.

    Raises
    ------
    KeyError
        For a landmark the phantom cannot give from its model directly.
    """
    levels = {
        "renal_vein_confluence": Z_RENAL,
        "hepatic_vein_confluence": Z_HEPATIC,
        "cavo_atrial_junction": Z_CAVOATRIAL,
    }
    if name == "ivc_centreline" or name in levels:
        zz = float(levels.get(name, z))
        p = anatomy.ivc.params(np.array([[[zz]]], F32))
        return np.array([float(p[0].ravel()[0]), float(p[1].ravel()[0]), zz])
    if name == "right_psoas_at_mass":
        rows = np.asarray(Anatomy.psoas_rows(-1.0))
        zz32 = np.array([[[z]]], dtype=F32)
        return np.array(
            [
                float(smooth_profile(zz32, rows[:, 0], rows[:, 1]).ravel()[0]),
                float(smooth_profile(zz32, rows[:, 0], rows[:, 2]).ravel()[0]),
                float(z),
            ]
        )
    raise KeyError(f"The phantom gives no landmark {name!r} from its model.")


def place_mass(anatomy: Anatomy) -> SolidPlacement:
    """The mass's centre by the case file's placement rule, from the phantom's own anatomy.

    The rule is the case file's (``relations.placement`` of the mass, applied by
    :func:`ivcviewer.annotations.fit.mass_centre_from_relations`, the function the overlay fit
    uses); the points come from the phantom's model: the level of ``centre_level`` and each
    landmark of ``placement.through`` at that level (:func:`anatomy_point`).
    """
    mass = default_case().finding(MASS_ID)
    rel = mass.relations
    level = rel.centre_level or "renal_vein_confluence"
    z0 = float(anatomy_point(anatomy, level, Z_RENAL)[2])
    pl = placement_of(mass)
    names = pl.landmarks() if pl is not None else []
    points = {n: anatomy_point(anatomy, n, z0) for n in names}
    return mass_centre_from_relations(mass, points, z0)


class Findings:
    """The case's findings placed on the phantom's anatomy."""

    def __init__(self, anatomy: Anatomy) -> None:
        self.anatomy = anatomy
        ext = reported_mass_extents_mm()
        self.semi = (ext["lr"] / 2.0, ext["ap"] / 2.0, ext["cc"] / 2.0)
        self.placement = place_mass(anatomy)
        cl = self.placement.centre_lps
        self.centre = (float(cl[0]), float(cl[1]), float(cl[2]))
        self.z_bottom = Z_RENAL
        self.z_top = Z_HEPATIC + tumour_top_offset_mm()
        a, b, c = self.semi
        lobes = []
        for d, k in (
            ((-1.0, -1.0, 1.0), 0.36),
            ((-1.0, 1.0, -1.0), 0.34),
            ((-1.0, -1.0, -1.0), 0.33),
            ((-1.0, 1.0, 1.0), 0.32),
            ((0.6, -1.0, -1.0), 0.30),
        ):
            dv = np.asarray(d) / np.linalg.norm(d)
            lc = tuple(float(self.centre[i] + 0.72 * (a, b, c)[i] * dv[i]) for i in range(3))
            lobes.append((lc, (k * a, k * b, k * c)))
        self.lobes = tuple(lobes)

    # -- shapes ---------------------------------------------------------------------------

    def box(self) -> Box:
        """The bounding box of the mass (its reported extents)."""
        (x, y, z), (a, b, c) = self.centre, self.semi
        return Box(x - a, x + a, y - b, y + b, z - c, z + c)

    def ellipsoid_sd(self, bk: Block) -> Arr:
        """The main ellipsoid."""
        return ellipsoid_sd(bk.x, bk.y, bk.z, self.centre, self.semi)

    def mass_sd(self, bk: Block) -> Arr:
        """Ellipsoid and lobes (the lobes never leave the ellipsoid's bounding box)."""
        return self._mass_sd_at(bk.x, bk.y, bk.z)

    def _mass_sd_at(self, x: Arr, y: Arr, z: Arr) -> Arr:
        s = ellipsoid_sd(x, y, z, self.centre, self.semi)
        for c, r in self.lobes:
            s = smooth_min(s, ellipsoid_sd(x, y, z, c, r), 6.0)
        return np.asarray(s, F32)

    def behind_sd(self, bk: Block) -> Arr:
        """The mass and the space behind it: its section through its centre's coronal plane
        swept backwards and, by ``BEHIND_SLOPE`` mm per mm, downwards (a retroperitoneal mass
        lies behind the liver, which it pushes forwards and which drapes over its front and
        side; only round its dome, which indents the liver from below, is it wrapped)."""
        behind = np.maximum(bk.y - F32(self.centre[1]), F32(0.0))
        return self._mass_sd_at(bk.x, bk.y - behind, bk.z + F32(BEHIND_SLOPE) * behind)

    def necrosis_sd(self, bk: Block) -> Arr:
        """Irregular necrotic areas inside the solid tumour."""
        (x, y, z), (a, b, c) = self.centre, self.semi
        blobs = (
            ((x - 0.15 * a, y + 0.10 * b, z + 0.28 * c), (0.33 * a, 0.30 * b, 0.28 * c)),
            ((x + 0.18 * a, y - 0.22 * b, z - 0.28 * c), (0.28 * a, 0.28 * b, 0.26 * c)),
            ((x - 0.40 * a, y + 0.22 * b, z - 0.36 * c), (0.20 * a, 0.24 * b, 0.20 * c)),
        )
        s = None
        for cc, r in blobs:
            e = ellipsoid_sd(bk.x, bk.y, bk.z, cc, r)
            s = e if s is None else np.minimum(s, e)
        if s is None:  # pragma: no cover
            raise ValueError("no blob")
        s = s + F32(5.0) * bk.field("tex_coarse")
        return np.asarray(np.maximum(s, self.mass_sd(bk) + F32(11.0)), F32)

    def tumour_sd(self, bk: Block) -> Arr:
        """The intravascular tumour: the IVC lumen from the renal-vein confluence to the head,
        minus the open crescent along the anterior wall."""
        cx, cy, a, b = self.anatomy.ivc.params(bk.z)
        dx, dy = bk.x - cx, bk.y - cy
        lumen = ellipse_sd(dx, dy, a, b)
        h = np.minimum(F32(OPEN_FRACTION_OF_SEMI_AXIS) * b, F32(OPEN_MAX_MM))
        crescent = (h - b) - dy
        z0 = F32(self.z_top - HEAD_MM)
        t = np.clip((bk.z - z0) / F32(HEAD_MM), 0.0, 1.0)
        s = np.sqrt(np.maximum(F32(1.0) - t * t, F32(1e-4)))
        head = ellipse_sd(dx, dy - (F32(1.0) - s) * b * F32(0.3), a * s, b * s)
        out = np.maximum(np.maximum(lumen, crescent), head)
        out = np.maximum(out, np.maximum(F32(self.z_bottom) - bk.z, bk.z - F32(self.z_top)))
        return np.asarray(out, F32)

    def invasion_sd(self, bk: Block) -> Arr:
        """Where the mass breaks into the IVC lumen, just below the renal-vein confluence."""
        s = np.maximum(self.anatomy.ivc.sd(bk), self.ellipsoid_sd(bk))
        z = bk.z
        return np.asarray(
            np.maximum(s, np.maximum(F32(self.z_bottom - 10.0) - z, z - F32(self.z_bottom))), F32
        )

    def displace(self, organs: list[Structure], keys: tuple[str, ...]) -> list[Structure]:
        """The organs whose key is in ``keys`` pushed out of the mass and out of the space
        behind it (:meth:`behind_sd`): the mass abuts them and indents them, it does not lie
        inside them."""
        return [
            replace(s, sdf=_outside(s.sdf, self.behind_sd)) if s.key in keys else s for s in organs
        ]

    def encase(self, vessels: list[Structure], keep: tuple[str, ...]) -> list[Structure]:
        """The vessels with every part inside the mass removed (the mass takes precedence:
        it encases and occludes them there), except the structures whose key is in ``keep``
        (the IVC lumen, which the mass wraps and breaks into, keeps its own outline)."""
        box = self.box()
        out = []
        for s in vessels:
            b = s.box.intersect(box)
            if s.key in keep or b.xmin > b.xmax or b.ymin > b.ymax or b.zmin > b.zmax:
                out.append(s)
                continue
            out.append(replace(s, sdf=_outside(s.sdf, self.mass_sd)))
        return out

    # -- structures -----------------------------------------------------------------------

    def mass_structures(self) -> list[Structure]:
        """Painted after the psoas and kidneys, before the spine and the vessels."""
        box = self.box().grow(1.0)
        mass: FieldFn = self.mass_sd
        return [
            Structure(
                "mass_rim", MASS_ID, mass, box, HU(88.0, coarse=6, fine=4), region="mass_rim"
            ),
            Structure(
                "mass_solid",
                MASS_ID,
                offset(mass, RIM_MM),
                box,
                HU(48.0, coarse=9, fine=4),
                region="mass_solid",
            ),
            Structure(
                "mass_necrosis",
                MASS_ID,
                self.necrosis_sd,
                box,
                HU(15.0, coarse=1.5, fine=2),
                region="mass_necrosis",
            ),
        ]

    def vessel_structures(self) -> list[Structure]:
        """Painted after the IVC: the invasion through its wall and the intravascular tumour."""
        ivc_box = self.anatomy.ivc.box()
        tbox = Box(
            ivc_box.xmin,
            ivc_box.xmax,
            ivc_box.ymin,
            ivc_box.ymax,
            self.z_bottom - 1,
            self.z_top + 1,
        )
        ibox = Box(
            ivc_box.xmin,
            ivc_box.xmax,
            ivc_box.ymin,
            ivc_box.ymax,
            self.z_bottom - 11,
            self.z_bottom + 1,
        )
        return [
            Structure("mass_invasion", MASS_ID, self.invasion_sd, ibox, HU(50.0, coarse=6, fine=4)),
            Structure(
                "intravascular_tumour",
                TUMOUR_ID,
                self.tumour_sd,
                tbox,
                HU(50.0, coarse=7, fine=4),
                supersample=4,
                within=self.anatomy.ivc.sd,
            ),
        ]


def _outside(f: FieldFn, container: FieldFn) -> FieldFn:
    """The part of shape ``f`` outside ``container``."""

    def g(bk: Block) -> Arr:
        return np.asarray(np.maximum(f(bk), -container(bk)), F32)

    return g


__all__ = [
    "Findings",
    "finding_label_specs",
    "reported_mass_extents_mm",
    "tumour_top_offset_mm",
    "_field",
    "_inter",
    "_union",
]

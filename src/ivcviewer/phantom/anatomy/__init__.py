"""The normal anatomy of the phantom: analytic shapes in LPS mm, painted in order.

Frame: DICOM patient coordinates, supine, +x patient's left, +y posterior, +z superior. The
origin is on the midline, ``z = 0`` at the L1-L2 disc (where the renal veins join the IVC).
Levels (body top and bottom, mm): L1 5..31, T12 39..63, T11 70..93, T10 99..121, T9 127..148,
T8 154..174; L2 -32..-5, L3 -70..-42, L4 -109..-81, L5 -148..-121, sacrum below -159.

Every structure is a signed distance function (see :mod:`ivcviewer.phantom.sdf`); shapes that
share a boundary are built from shared fields (the body outline and its layers, the diaphragm
surface), so that skin, fat, muscle wall, lung, diaphragm and liver fit together without gaps.

The only geometry that differs between the normal phantom and the case (``case=True``) is the
mass effect of the tumour: the right kidney pushed backwards and laterally against the posterior
abdominal wall and rotated about its long axis (hilum turned forwards and laterally), with the
right renal vessels rerouted round it, and the infrarenal IVC pushed forwards and flattened.

Modules, from the bottom up:

* :mod:`.shapes`: profiles along z, tubes and ribbons, operations on signed distances;
* :mod:`.levels`: the IVC's landmark levels and the vertebral bodies' levels;
* :mod:`.body_wall`: the body outline and its layers (shared fields), the scanner table;
* :mod:`.diaphragm`: the diaphragm surface (shared fields);
* :mod:`.mass_effect`: the kidneys' and the IVC's geometry, normal or displaced by the mass;
* organ groups: :mod:`.thorax`, :mod:`.solid_organs`, :mod:`.gut`, :mod:`.muscles`,
  :mod:`.ribs`, :mod:`.pelvis`, :mod:`.spine`, :mod:`.vessels`;
* :mod:`.assembly`: :class:`Anatomy`, the structures of all groups in painting order.
"""

from __future__ import annotations

from .assembly import Anatomy, shared_fields
from .body_wall import (
    BODY_EXPONENT,
    BODY_EXPONENT_BACK,
    BODY_ROWS,
    FOV,
    SKIN_MM,
    body_sd,
    cavity_sd,
    fat_mm,
    fat_sd,
    fat_thickness,
    muscle_mm,
    muscle_sd,
    muscle_thickness,
    radius_field,
)
from .diaphragm import (
    DIAPHRAGM_MM,
    DOMES,
    above_diaphragm_sd,
    below_diaphragm_sd,
    diaphragm_field,
    diaphragm_height,
    diaphragm_norm,
    diaphragm_sheet_sd,
)
from .gut import SMALL_BOWEL_KINDS, SMALL_BOWEL_RADIUS, small_bowel_loops
from .levels import BODIES, SACRUM, Z_CAVOATRIAL, Z_HEPATIC, Z_RENAL, spine_y
from .mass_effect import AnatomyParams, KidneyGeometry, anatomy_params, displaced_renal_path
from .muscles import ERECTOR_ROWS, psoas_rows
from .pelvis import ILIAC_FLARE, IliacWing
from .shapes import (
    Extrusion,
    Ribbon,
    Tube,
    bent,
    bent_away_from,
    box_shape,
    difference,
    ellipsoid,
    halfspace_y_below,
    intersection,
    linear_profile,
    offset,
    shared_field,
    smooth_profile,
    union,
)
from .solid_organs import liver_sd
from .spine import BODY_DENT_MM, CANAL_ROWS, POSTERIOR, canal_params
from .thorax import paraspinal_sd
from .vessels import mesenteric_branches

# The helpers' names when they were private to a single module.
_interp = linear_profile
_smooth_interp = smooth_profile
_offset = offset
_inter = intersection
_union = union
_minus = difference
_bent = bent
_bent_away_from = bent_away_from
_field = shared_field
_ellipsoid = ellipsoid
_box = box_shape
_halfspace_y_below = halfspace_y_below

__all__ = [
    "BODIES",
    "BODY_DENT_MM",
    "BODY_EXPONENT",
    "BODY_EXPONENT_BACK",
    "BODY_ROWS",
    "CANAL_ROWS",
    "DIAPHRAGM_MM",
    "DOMES",
    "ERECTOR_ROWS",
    "FOV",
    "ILIAC_FLARE",
    "POSTERIOR",
    "SACRUM",
    "SKIN_MM",
    "SMALL_BOWEL_KINDS",
    "SMALL_BOWEL_RADIUS",
    "Z_CAVOATRIAL",
    "Z_HEPATIC",
    "Z_RENAL",
    "Anatomy",
    "AnatomyParams",
    "Extrusion",
    "IliacWing",
    "KidneyGeometry",
    "Ribbon",
    "Tube",
    "above_diaphragm_sd",
    "anatomy_params",
    "below_diaphragm_sd",
    "bent",
    "bent_away_from",
    "body_sd",
    "box_shape",
    "canal_params",
    "cavity_sd",
    "diaphragm_field",
    "diaphragm_height",
    "diaphragm_norm",
    "diaphragm_sheet_sd",
    "difference",
    "displaced_renal_path",
    "ellipsoid",
    "fat_mm",
    "fat_sd",
    "fat_thickness",
    "halfspace_y_below",
    "intersection",
    "linear_profile",
    "liver_sd",
    "mesenteric_branches",
    "muscle_mm",
    "muscle_sd",
    "muscle_thickness",
    "offset",
    "paraspinal_sd",
    "psoas_rows",
    "radius_field",
    "shared_field",
    "shared_fields",
    "small_bowel_loops",
    "smooth_profile",
    "spine_y",
    "union",
]

"""Which finding kinds are fitted how, and the fixed numbers of the fits."""

from __future__ import annotations

from .. import vocabulary as voc

#: Kinds fitted as a solid (an ellipsoid of the reported extents).
SOLID_KINDS: tuple[str, ...] = voc.SOLID_KINDS

#: Kinds fitted as a tube inside a vessel lumen.
LUMEN_KINDS: tuple[str, ...] = ("intravascular_tumour", "thrombus")

#: Radius of a tube inside a vessel as a fraction of the local vessel radius, per occlusion.
#: ``near_total``: 0.95 of the radius, 90 % of the lumen's area. An intravascular finding
#: without ``occlusion`` is drawn as ``partial``.
OCCLUSION_RADIUS_FRACTION: dict[str, float] = {
    "none": 0.4,
    "partial": 0.7,
    "near_total": 0.95,
    "total": 1.0,
}

#: The point landmark that stands for a structure a finding arises from.
ORIGIN_LANDMARKS: dict[str, str] = {"iliopsoas_right": "right_psoas_at_mass"}

#: Vessels that have a centreline landmark (with its local radius).
CENTRELINE_VESSELS: dict[str, str] = {"inferior_vena_cava": "ivc_centreline"}

#: Default amplitude of a solid's lobulation (fraction of its radius; must stay below 1/8).
DEFAULT_LOBULATION = 0.05

#: Exponent of each solid shape (``relations.shape``): 2 the ellipsoid, 4 the rounded box
#: (the superellipsoid ``|qx|^4 + |qy|^4 + |qz|^4 <= 1``).
SHAPE_EXPONENTS: dict[str, float] = {
    voc.SolidShape.ELLIPSOID.value: 2.0,
    voc.SolidShape.ROUNDED_BOX.value: 4.0,
}

#: Rules by which a solid meets its vessel (and is then placed by its outline through it).
CONTACT_RULES: tuple[str, ...] = ("reaches_into", "touches", "overlaps")

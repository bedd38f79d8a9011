"""Controlled vocabularies of the case-file format and of the landmark set.

Everything a case file or a landmarks file may name is listed here, so that a typo is caught on
load instead of silently producing an empty region. The closed vocabularies of the case-file
format (finding kinds, axes, units, relation rules, placement rules, sides, occlusion degrees,
Mayo levels, IVC segments) are enums whose members are their strings (:class:`VocabularyEnum`);
the dictionaries beside them (``KINDS``, ``AXES``, ...) say what each value means, keyed by the
plain string, in the enum's order.

Examples
--------
>>> is_known_structure("iliopsoas_right"), is_known_structure("psoas_right")
(True, False)
>>> is_known_structure("vertebrae_*")
True
>>> expand_structure("vertebrae_*", ["liver", "vertebrae_L1", "vertebrae_L2"])
['vertebrae_L1', 'vertebrae_L2']
>>> FindingKind("mass") is FindingKind.MASS, FindingKind.MASS == "mass"
(True, True)
>>> list(KINDS) == [k.value for k in FindingKind]
True
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from typing import TypeVar

_T = TypeVar("_T")


class VocabularyEnum(str, enum.Enum):
    """A closed vocabulary: each member is the string it stands for.

    A member compares, hashes, formats and prints like its value, so it stands wherever the
    plain string did (``==`` tests, dictionary keys, f-strings, ``!r`` in messages, JSON).

    >>> Axis.CC == "cc", {"cc": 1}[Axis.CC], f"{Axis.CC}", str(Axis.CC), repr(Axis.CC)
    (True, 1, 'cc', 'cc', "'cc'")
    """

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, format_spec: str) -> str:
        return format(str(self.value), format_spec)

    def __repr__(self) -> str:
        return repr(str(self.value))


def _by_value(
    vocabulary: type[VocabularyEnum], entries: Mapping[VocabularyEnum, _T]
) -> dict[str, _T]:
    """``entries`` keyed by plain value, in the order of ``vocabulary`` (KeyError if one lacks)."""
    return {str(member.value): entries[member] for member in vocabulary}


class RuleStatus(VocabularyEnum):
    """Whether a finding's rule holds for its fitted region.

    >>> RuleStatus.NOT_CHECKED == "not_checked"
    True
    """

    SATISFIED = "satisfied"
    VIOLATED = "violated"
    #: The structure is not in the anatomy source.
    NOT_CHECKED = "not_checked"


#: Case-file schema versions this package reads.
SUPPORTED_SCHEMA_VERSIONS: tuple[int, ...] = (1,)

#: Landmark names, with what each one is. ``ivc_centreline`` is a polyline, the others points.
LANDMARKS: dict[str, str] = {
    "renal_vein_confluence": "point on the IVC centreline where the renal veins join the IVC",
    "intrahepatic_ivc_lower": "lower end of the IVC segment surrounded by liver (intrahepatic IVC)",
    "hepatic_vein_confluence": "point on the IVC centreline where the hepatic veins join, the "
    "upper end of the intrahepatic IVC, just below the diaphragm",
    "cavo_atrial_junction": "upper end of the IVC, where it enters the right atrium",
    "ivc_centreline": "the IVC centreline (a polyline, feet to head) with its local radius",
    "right_psoas_at_mass": "centre of the right psoas (iliopsoas) section at the mass level",
    "liver_lower_edge": "lowest point of the liver's right lobe",
}

#: Landmarks that are polylines rather than points.
POLYLINE_LANDMARKS: frozenset[str] = frozenset({"ivc_centreline"})

#: Point landmarks (every landmark that is not a polyline).
POINT_LANDMARKS: tuple[str, ...] = tuple(k for k in LANDMARKS if k not in POLYLINE_LANDMARKS)

_VERTEBRAE = (
    [f"vertebrae_C{i}" for i in range(1, 8)]
    + [f"vertebrae_T{i}" for i in range(1, 13)]
    + [f"vertebrae_L{i}" for i in range(1, 6)]
    + ["vertebrae_S1"]
)
_RIBS = [f"rib_{side}_{i}" for side in ("left", "right") for i in range(1, 13)]
_PAIRED = [
    f"{name}_{side}"
    for name in (
        "kidney",
        "adrenal_gland",
        "kidney_cyst",
        "iliopsoas",
        "autochthon",
        "gluteus_maximus",
        "gluteus_medius",
        "gluteus_minimus",
        "iliac_artery",
        "iliac_vena",
        "femur",
        "hip",
        "humerus",
        "scapula",
        "clavicula",
        "subclavian_artery",
        "common_carotid_artery",
        "brachiocephalic_vein",
    )
    for side in ("left", "right")
]

#: Structure names: TotalSegmentator class names (``total`` task, v1 and v2, plus ``body``).
STRUCTURES: frozenset[str] = frozenset(
    [
        "spleen",
        "gallbladder",
        "liver",
        "stomach",
        "pancreas",
        "esophagus",
        "trachea",
        "thyroid_gland",
        "small_bowel",
        "duodenum",
        "colon",
        "urinary_bladder",
        "prostate",
        "sacrum",
        "heart",
        "heart_myocardium",
        "heart_atrium_left",
        "heart_atrium_right",
        "heart_ventricle_left",
        "heart_ventricle_right",
        "atrial_appendage_left",
        "aorta",
        "pulmonary_artery",
        "pulmonary_vein",
        "brachiocephalic_trunk",
        "superior_vena_cava",
        "inferior_vena_cava",
        "portal_vein_and_splenic_vein",
        "lung",
        "lung_upper_lobe_left",
        "lung_lower_lobe_left",
        "lung_upper_lobe_right",
        "lung_middle_lobe_right",
        "lung_lower_lobe_right",
        "lung_vessels",
        "lung_trachea_bronchia",
        "spinal_cord",
        "brain",
        "skull",
        "face",
        "sternum",
        "costal_cartilages",
        "body",
    ]
    + _VERTEBRAE
    + _RIBS
    + _PAIRED
)


class FindingKind(VocabularyEnum):
    """Kind of a finding (``findings[].kind``)."""

    MASS = "mass"
    INTRAVASCULAR_TUMOUR = "intravascular_tumour"
    THROMBUS = "thrombus"
    LESION = "lesion"
    LYMPH_NODE = "lymph_node"
    VESSEL = "vessel"
    ORGAN = "organ"
    LANDMARK = "landmark"
    CLINICAL = "clinical"


#: Finding kinds. ``clinical`` findings are stated by the report but not placed on the image.
KINDS: dict[str, str] = _by_value(
    FindingKind,
    {
        FindingKind.MASS: "a solid tumour mass outside the vessels",
        FindingKind.INTRAVASCULAR_TUMOUR: "tumour (or tumour thrombus) inside a vessel lumen",
        FindingKind.THROMBUS: "bland thrombus inside a vessel lumen",
        FindingKind.LESION: "a focal lesion inside an organ",
        FindingKind.LYMPH_NODE: "an enlarged lymph node",
        FindingKind.VESSEL: "a vessel or a vessel segment",
        FindingKind.ORGAN: "an organ or part of one",
        FindingKind.LANDMARK: "a point finding (for example a level of invasion)",
        FindingKind.CLINICAL: "a finding without a place on this image (spatial: false)",
    },
)


class Axis(VocabularyEnum):
    """Patient axis a reported figure is assigned to (``measurements[].axes``)."""

    LR = "lr"
    AP = "ap"
    CC = "cc"


#: Axis codes of a measurement: left-right, antero-posterior, cranio-caudal.
AXES: dict[str, str] = _by_value(
    Axis,
    {
        Axis.LR: "left-right (transverse, patient x)",
        Axis.AP: "antero-posterior (patient y)",
        Axis.CC: "cranio-caudal (patient z)",
    },
)


class LengthUnit(VocabularyEnum):
    """Unit of the reported figures (``measurements[].unit``)."""

    MM = "mm"
    CM = "cm"


#: Length units and their size in mm.
UNITS_MM: dict[str, float] = _by_value(LengthUnit, {LengthUnit.MM: 1.0, LengthUnit.CM: 10.0})


class RelationRule(VocabularyEnum):
    """Spatial rule between a finding and a structure (``relations.rules[].rule``)."""

    OVERLAPS = "overlaps"
    TOUCHES = "touches"
    REACHES_INTO = "reaches_into"
    INSIDE = "inside"
    AVOIDS = "avoids"
    MOSTLY_WITHIN = "mostly_within"
    WITHIN_VESSEL = "within_vessel"


#: Relation rules between a finding and a structure.
RULES: dict[str, str] = _by_value(
    RelationRule,
    {
        RelationRule.OVERLAPS: "the finding shares voxels with the structure",
        RelationRule.TOUCHES: "the finding overlaps the structure or lies next to it (no gap)",
        RelationRule.REACHES_INTO: "part of the finding lies inside the structure (a mass "
        "entering a vessel)",
        RelationRule.INSIDE: "at least min_fraction of the finding lies inside the structure "
        "grown by margin_mm",
        RelationRule.AVOIDS: "the finding has no voxel inside the structure (it is clipped out "
        "of it); with max_share, at most that share of it lies inside (nothing is clipped)",
        RelationRule.MOSTLY_WITHIN: "at least min_share (default 50 %) of the finding lies inside "
        "the structure",
        RelationRule.WITHIN_VESSEL: "at least min_share (default 95 %) of the finding lies inside "
        "the vessel's lumen",
    },
)

#: Default ``min_share`` of the rules that state one.
DEFAULT_MIN_SHARE: dict[str, float] = {"mostly_within": 0.5, "within_vessel": 0.95}

#: Default share of a region that a structure its relations do not name may hold before the
#: overlay warns that the region is drawn over a normal organ (``checks.organ_share_warning``).
DEFAULT_ORGAN_SHARE_WARNING = 0.10

#: Kinds placed as a solid of their reported extents (the only kinds a ``placement`` may place).
SOLID_KINDS: tuple[str, ...] = (
    FindingKind.MASS.value,
    FindingKind.LESION.value,
    FindingKind.LYMPH_NODE.value,
)


class PlacementRule(VocabularyEnum):
    """Rule that places a solid finding in the axial plane (``relations.placement.rule``)."""

    OUTLINE_THROUGH = "outline_through"
    CENTRED_IN = "centred_in"
    ARISES_FROM = "arises_from"
    AT_LEVEL = "at_level"


#: Placement rules of a solid finding (``relations.placement.rule``).
PLACEMENT_RULES: dict[str, str] = _by_value(
    PlacementRule,
    {
        PlacementRule.OUTLINE_THROUGH: "at the centre level, the solid's axial outline runs "
        "through the listed landmark points (each moved depth_mm towards the midline side), "
        "the centre on 'side'",
        PlacementRule.CENTRED_IN: "the solid's centre at the structure's centroid (at 'level' "
        "when given: the centroid of its section there), moved by 'position' (fractions of "
        "the structure's half extents along lr, ap, cc)",
        PlacementRule.ARISES_FROM: "the solid touches the structure's surface on the side "
        "'towards' and grows away from it (depth_mm: how far it sinks into the structure)",
        PlacementRule.AT_LEVEL: "the solid's centre at the level of 'level', beside 'vessel' "
        "on the side 'towards', gap_mm from the vessel's wall",
    },
)

#: Placement rules that need no centre level of their own (they place all three coordinates).
SELF_LEVELLED_PLACEMENTS: tuple[str, ...] = ("centred_in", "arises_from", "at_level")


class SolidShape(VocabularyEnum):
    """Shape of a solid finding (``relations.shape``)."""

    ELLIPSOID = "ellipsoid"
    ROUNDED_BOX = "rounded_box"


#: Shapes of a solid finding.
SHAPES: dict[str, str] = _by_value(
    SolidShape,
    {
        SolidShape.ELLIPSOID: "an ellipsoid of the extents (slightly lobulated)",
        SolidShape.ROUNDED_BOX: "a box of the extents with rounded edges (a superellipsoid of "
        "exponent 4)",
    },
)


class Side(VocabularyEnum):
    """Side of the body (``relations.placement.side``); the patient's right is -x in LPS."""

    RIGHT = "right"
    LEFT = "left"


#: Sides of the body a placement puts a solid's centre on (patient's right: -x in LPS).
SIDES: tuple[str, ...] = tuple(str(s.value) for s in Side)


class Occlusion(VocabularyEnum):
    """Degree of vessel occlusion (``relations.occlusion``)."""

    NONE = "none"
    PARTIAL = "partial"
    NEAR_TOTAL = "near_total"
    TOTAL = "total"


#: Degrees of vessel occlusion.
OCCLUSION: tuple[str, ...] = tuple(str(o.value) for o in Occlusion)


class MayoLevel(VocabularyEnum):
    """Mayo level of venous tumour thrombus (``relations.expected_involvement.mayo_level``)."""

    LEVEL_0 = "0"
    LEVEL_I = "I"
    LEVEL_II = "II"
    LEVEL_III = "III"
    LEVEL_IV = "IV"


#: Mayo levels of venous tumour thrombus.
MAYO_LEVELS: dict[str, str] = _by_value(
    MayoLevel,
    {
        MayoLevel.LEVEL_0: "renal vein only",
        MayoLevel.LEVEL_I: "IVC, less than 2 cm above the renal-vein confluence",
        MayoLevel.LEVEL_II: "IVC, more than 2 cm above the renal-vein confluence but below the "
        "hepatic veins",
        MayoLevel.LEVEL_III: "intrahepatic IVC, below the diaphragm",
        MayoLevel.LEVEL_IV: "above the diaphragm or into the right atrium",
    },
)


class IvcSegment(VocabularyEnum):
    """Segment of the IVC (``relations.expected_involvement.ivc_segment``)."""

    SEGMENT_I = "I"
    SEGMENT_II = "II"
    SEGMENT_III = "III"


#: Segments of the IVC (leiomyosarcoma practice).
IVC_SEGMENTS: dict[str, str] = _by_value(
    IvcSegment,
    {
        IvcSegment.SEGMENT_I: "infrarenal",
        IvcSegment.SEGMENT_II: "from the renal veins to the hepatic veins",
        IvcSegment.SEGMENT_III: "suprahepatic, up to the right atrium",
    },
)


def is_known_structure(name: str) -> bool:
    """Whether ``name`` is a structure name or a group pattern such as ``vertebrae_*``.

    A pattern ends in ``_*`` and must match at least one known name.
    """
    if name.endswith("_*"):
        prefix = name[:-1]
        return any(s.startswith(prefix) for s in STRUCTURES)
    return name in STRUCTURES


def expand_structure(name: str, available: Iterable[str]) -> list[str]:
    """Names in ``available`` that ``name`` (a name or a ``prefix_*`` pattern) stands for."""
    if name.endswith("_*"):
        prefix = name[:-1]
        return sorted(a for a in available if a.startswith(prefix))
    return [a for a in available if a == name]


def closest(name: str, choices: Iterable[str]) -> str | None:
    """The closest spelling among ``choices`` (for 'did you mean' hints), or None.

    >>> closest("psoas_right", STRUCTURES)
    'iliopsoas_right'
    """
    import difflib

    options = sorted(choices)
    hits = difflib.get_close_matches(name, options, n=1, cutoff=0.6)
    if hits:
        return hits[0]
    subs = [c for c in options if name in c or c in name]
    return subs[0] if subs else None

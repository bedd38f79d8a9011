"""The relations of a finding: the anatomy that places it and the rules its region must obey.

:class:`Relations` is the ``relations`` block of a finding; its parts are the spatial
:class:`Rule` list, the :class:`ExpectedInvolvement` and the :class:`Placement` of a solid.
They are frozen dataclasses that pydantic validates from the YAML (see :mod:`.values`); built
in code, they take their fields as given.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BeforeValidator, ValidationInfo, model_validator

from .. import vocabulary as voc
from ..anatomy.reference_names import BadReference, combined_direction
from .problems import SchemaProblem
from .values import (
    DepthMm,
    Directions,
    FileModel,
    Fraction,
    GapMm,
    LandmarkName,
    ListOf,
    MarginMm,
    Mayo,
    OcclusionDegree,
    OffsetMm,
    PlacementRuleName,
    PointLandmarkName,
    RelativePosition,
    RuleName,
    Segment,
    ShapeName,
    SideName,
    StructureName,
    Text,
    check_through,
    file_keys,
    present,
)


@dataclass(frozen=True)
class Rule(FileModel):
    """A spatial rule between a finding and a structure (see ``vocabulary.RULES``)."""

    rule: RuleName
    structure: StructureName
    margin_mm: MarginMm = 0.0
    min_fraction: Fraction = 1.0
    min_share: Fraction | None = None
    max_share: Fraction | None = None

    @classmethod
    def check_part(cls, written: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        """``min_fraction`` belongs to ``inside``, ``min_share`` to ``mostly_within`` and
        ``within_vessel``, ``max_share`` to ``avoids``."""
        rule = written.get("rule")
        known = isinstance(rule, str) and rule in voc.RULES  # else the rule's own check says so
        for key, owners in (
            ("min_fraction", ("inside",)),
            ("min_share", ("mostly_within", "within_vessel")),
            ("max_share", ("avoids",)),
        ):
            if key in written and known and rule not in owners:
                names = " or ".join(repr(o) for o in owners)
                raise SchemaProblem(
                    f"only applies to the rule {names}",
                    f"remove it, or change the rule to {names}",
                    at=(key,),
                )
        return present(written)

    @property
    def threshold(self) -> float | None:
        """The share the rule needs (``min_share``, its default, ``min_fraction`` of
        ``inside``) or allows (``max_share`` of ``avoids``); None for the other rules."""
        if self.rule in voc.DEFAULT_MIN_SHARE:
            return (
                self.min_share if self.min_share is not None else (voc.DEFAULT_MIN_SHARE[self.rule])
            )
        if self.rule == voc.RelationRule.INSIDE:
            return self.min_fraction
        if self.rule == voc.RelationRule.AVOIDS:
            return self.max_share
        return None

    @property
    def clips(self) -> bool:
        """Whether the rule clips the region (``avoids`` without ``max_share``)."""
        return self.rule == voc.RelationRule.AVOIDS and self.max_share is None


@dataclass(frozen=True)
class ExpectedInvolvement(FileModel):
    """The involvement level the report implies (Mayo level, IVC segment)."""

    mayo_level: Mayo | None = None
    ivc_segment: Segment | None = None
    note: Text = ""


@dataclass(frozen=True)
class PlacementPoint(FileModel):
    """A landmark the outline of a placed solid runs through (see :class:`Placement`).

    ``depth_mm``: the landmark lies this far inside the outline, measured along the left-right
    axis towards the side opposite the placement's ``side`` (the midline side); 0 puts it on
    the outline.
    """

    landmark: LandmarkName
    depth_mm: DepthMm = 0.0


#: Fields each placement rule takes (besides ``rule``), the required ones first.
PLACEMENT_FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "outline_through": (("through", "side"), ()),
    "centred_in": (("structure",), ("level", "position")),
    "arises_from": (("structure", "towards"), ("depth_mm",)),
    "at_level": (("level", "vessel", "towards"), ("gap_mm",)),
}


@dataclass(frozen=True)
class Position(FileModel):
    """Where in a structure a ``centred_in`` solid is centred: fractions of the structure's
    half extents from its centroid along each patient axis (lr: + towards the patient's
    left, ap: + towards the back, cc: + towards the head); beyond +-1 lies outside it."""

    lr: RelativePosition = 0.0
    ap: RelativePosition = 0.0
    cc: RelativePosition = 0.0

    def as_lps(self) -> tuple[float, float, float]:
        """The three fractions in LPS order."""
        return (self.lr, self.ap, self.cc)


@dataclass(frozen=True)
class Placement(FileModel):
    """How a solid finding is placed (``relations.placement``).

    ``centred_in``: the centre at ``structure``'s centroid (with ``level``, a point
    reference: the centroid of the structure's voxels within half a slice of that level),
    moved by ``position`` (fractions of the structure's half extents).

    ``arises_from``: the solid touches ``structure``'s surface on the side ``towards`` (a
    direction, or up to three combined: ``[superior, anterior, medial]``) and grows away
    from it; ``depth_mm`` > 0 sinks it that far into the structure.

    ``at_level``: the centre at the level (z) of ``level``, beside ``vessel``'s centreline
    point there on the side ``towards`` (one or two horizontal directions), the solid's
    surface ``gap_mm`` from the vessel's wall.

    ``outline_through``: at the centre level the solid's axial outline (the ellipse
    of its left-right and antero-posterior extents) runs through each of ``through`` (one or
    two landmarks, each moved ``depth_mm`` towards the midline side; a polyline landmark such
    as ``ivc_centreline`` stands for its point at the centre level); of the two such ellipses
    the one whose centre lies on ``side`` of the line through the points is used. With one
    point, the centre lies straight towards ``side`` from it.

    In a case file ``rule`` is one of ``vocabulary.PLACEMENT_RULES`` and ``side`` one of
    ``vocabulary.SIDES``; a placement that the fit derives from the relations may have no side
    (``""``), its centre then follows the origin's position.
    """

    rule: PlacementRuleName
    through: Annotated[tuple[PlacementPoint, ...], BeforeValidator(check_through)] = ()
    side: SideName = ""
    structure: StructureName | None = None
    level: PointLandmarkName | None = None
    vessel: StructureName | None = None
    towards: Directions = ()
    depth_mm: DepthMm = 0.0
    gap_mm: GapMm = 0.0
    position: Position | None = None

    @classmethod
    def check_part(cls, written: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        """Each rule takes its own fields (:data:`PLACEMENT_FIELDS`)."""
        rule = written.get("rule")
        if isinstance(rule, str) and rule in PLACEMENT_FIELDS:
            needed, optional = PLACEMENT_FIELDS[rule]
            for key in needed:
                if key not in written:
                    raise SchemaProblem(
                        f"is missing (the placement rule {rule!r} needs {', '.join(needed)})",
                        f"add '{key}:' (docs/case-file.md, placement rules)",
                        at=(key,),
                    )
            for key in written:
                if key != "rule" and key not in needed + optional:
                    raise SchemaProblem(
                        f"does not apply to the placement rule {rule!r} (it takes "
                        f"{', '.join(needed + optional)})",
                        "remove it, or choose the rule it belongs to",
                        at=(key,),
                    )
            if rule == "arises_from" and isinstance(written.get("structure"), str):
                if str(written["structure"]).endswith("_*"):
                    raise SchemaProblem(
                        "must name one structure, not a group",
                        "name one structure",
                        written["structure"],
                        at=("structure",),
                    )
        return present(written)

    @model_validator(mode="after")
    def _towards_combine(self) -> Placement:
        if not self.towards:
            return self
        of = self.structure if self.rule == "arises_from" else self.vessel
        try:
            combined_direction(self.towards, of)
        except BadReference as err:
            raise SchemaProblem(
                f"{err.problem} (for {of!r})", err.fix, list(self.towards), at=("towards",)
            ) from None
        return self

    @model_validator(mode="after")
    def _distinct_points(self) -> Placement:
        seen: list[str] = []
        for i, p in enumerate(self.through):
            if p.landmark in seen:
                raise SchemaProblem(
                    "repeats a landmark of this list",
                    "name another one",
                    p.landmark,
                    at=("through", i, "landmark"),
                )
            seen.append(p.landmark)
        return self

    @property
    def side_sign(self) -> float:
        """-1 for the patient's right (smaller x in LPS), +1 for the left."""
        return -1.0 if self.side == "right" else 1.0

    def landmarks(self) -> list[str]:
        """The references the placement uses, in order: the outline's points; the level; the
        surface point a solid arises from; the vessel's centreline beside which it lies."""
        out = [p.landmark for p in self.through]
        if self.level is not None:
            out.append(self.level)
        if self.rule == "centred_in" and self.structure is not None:
            out.append(f"{self.structure}.centroid")
        if self.rule == "arises_from" and self.structure is not None:
            out.append(f"{self.structure}.surface_{'+'.join(self.towards)}")
        if self.rule == "at_level" and self.vessel is not None:
            out.append(
                "ivc_centreline"
                if self.vessel == "inferior_vena_cava"
                else f"{self.vessel}.centreline"
            )
        return out

    @property
    def towards_text(self) -> str:
        """The direction(s) of ``towards`` in words (``superior, anterior and medial``)."""
        t = list(self.towards)
        return t[0] if len(t) == 1 else ", ".join(t[:-1]) + " and " + t[-1]

    def structures(self) -> list[str]:
        """The structures the placement refers to."""
        return [s for s in (self.structure, self.vessel) if s is not None]


@dataclass(frozen=True)
class Relations(FileModel):
    """The anatomical relations that place a finding.

    Offsets are in mm along the cranio-caudal axis, positive towards the head.
    ``assumed`` lists the relation fields that are our choice rather than the report's.
    """

    origin_structure: StructureName | None = None
    vessel: StructureName | None = None
    from_landmark: PointLandmarkName | None = None
    from_offset_mm: OffsetMm = 0.0
    to_landmark: PointLandmarkName | None = None
    to_offset_mm: OffsetMm = 0.0
    centre_level: PointLandmarkName | None = None
    at_landmark: PointLandmarkName | None = None
    occlusion: OcclusionDegree | None = None
    rules: ListOf[Rule] = ()
    expected_involvement: ExpectedInvolvement | None = None
    assumed: ListOf[str] = ()
    note: Text = ""
    placement: Placement | None = None
    shape: ShapeName = voc.SolidShape.ELLIPSOID

    @classmethod
    def check_part(cls, written: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        """An offset needs its landmark; ``assumed`` names relation fields that are written."""
        for key, base in (("from_offset_mm", "from_landmark"), ("to_offset_mm", "to_landmark")):
            if key in written and written.get(base) is None:
                raise SchemaProblem(
                    f"needs '{base}' (an offset is measured from a landmark)",
                    f"add '{base}:' or remove '{key}'",
                    at=(key,),
                )
        assumed = written.get("assumed")
        if isinstance(assumed, list):
            fields = sorted(set(file_keys(cls)) - {"assumed", "note"})
            for i, name in enumerate(assumed):
                if name not in fields:
                    raise SchemaProblem(
                        "must name a relation field of this finding",
                        f"use one of {fields}",
                        name,
                        at=("assumed", i),
                    )
                if name not in written:
                    raise SchemaProblem(
                        f"names '{name}', which these relations do not set",
                        f"set '{name}' or remove it from 'assumed'",
                        at=("assumed", i),
                    )
        return present(written)

    @model_validator(mode="after")
    def _assumed_has_note(self) -> Relations:
        if self.assumed and not self.note:
            raise SchemaProblem(
                "is missing: assumed relations must say why",
                "add 'note:' explaining what the report does not say",
                at=("note",),
            )
        return self

    def landmarks(self) -> list[str]:
        """Landmarks these relations refer to."""
        names = [self.from_landmark, self.to_landmark, self.centre_level, self.at_landmark]
        if self.placement is not None:
            names += self.placement.landmarks()
        out: list[str] = []
        for n in names:
            if n is not None and n not in out:
                out.append(n)
        return out

    def structures(self) -> list[str]:
        """Structures (names or ``prefix_*`` patterns) these relations refer to."""
        names = [self.origin_structure, self.vessel] + [r.structure for r in self.rules]
        if self.placement is not None:
            names += self.placement.structures()
        out: list[str] = []
        for n in names:
            if n is not None and n not in out:
                out.append(n)
        return out

    def rules_of(self, rule: str) -> list[Rule]:
        """The rules of one kind (for example all ``avoids`` rules)."""
        return [r for r in self.rules if r.rule == rule]

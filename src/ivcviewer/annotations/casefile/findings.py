"""A finding of the report and the figures the report gives for it.

:class:`Finding` holds one ``findings[]`` entry; :class:`Measurement` one of its
``measurements``. The rules that tie a finding's fields together (a clinical finding is not
spatial, a spatial one has a colour and relations, each axis is assigned once, the relations'
landmarks are listed, a placement places a solid) are checked here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationInfo, model_validator

from ...errors import CaseFileError
from .. import vocabulary as voc
from .problems import SchemaProblem
from .relations import Relations
from .values import (
    AxisCode,
    Colour,
    Figures,
    FileModel,
    Flag,
    Ident,
    Kind,
    LabelValue,
    LandmarkName,
    ListOf,
    Text,
    Unit,
    present,
)


@dataclass(frozen=True)
class Measurement(FileModel):
    """Figures the report gives for a finding, with the axis each one is assigned to.

    ``values`` keep the report's order and unit; ``axes[i]`` is the axis (``lr``, ``ap``,
    ``cc``) of ``values[i]``. ``assumed`` says the assignment is ours, not the report's, and
    ``note`` says why.
    """

    id: Ident
    values: Figures
    unit: Unit
    axes: ListOf[AxisCode] = ()
    assumed: Flag = False
    note: Text = ""
    description: Text = ""

    @classmethod
    def check_part(cls, written: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        """With ``axes``, ``assumed`` must be said; without, the values are a sorted triple."""
        if "axes" in written and "assumed" not in written:
            raise SchemaProblem.missing(("assumed",))
        if "axes" not in written:
            values = written.get("values")
            if isinstance(values, list) and len(values) != 3:
                raise SchemaProblem(
                    "must list the axis of each value unless the values are three extents "
                    "(a sorted triple)",
                    "add 'axes:' (one of lr, ap, cc per value), or give all three extents",
                    at=("axes",),
                )
        return present(written)

    @property
    def sorted_triple(self) -> bool:
        """Whether the figures are three extents without axes (assigned by size)."""
        return not self.axes

    @model_validator(mode="after")
    def _axes_fit_values(self) -> Measurement:
        axes = list(self.axes) if self.axes else list(SORTED_TRIPLE_AXES[: len(self.values)])
        if len(axes) != len(self.values):
            raise SchemaProblem(
                f"must give one axis per value ({len(self.values)} values)",
                "list one of 'lr', 'ap', 'cc' for each value, in the same order",
                axes,
                at=("axes",),
            )
        if len(set(axes)) != len(axes):
            raise SchemaProblem(
                "must not repeat an axis", "give each value its own axis", axes, at=("axes",)
            )
        if self.assumed and not self.note:
            raise SchemaProblem(
                "is missing: an assumed axis assignment must say why",
                "add 'note:' explaining the assumption (for example that the report gives no axes)",
                at=("note",),
            )
        return self

    @property
    def values_mm(self) -> tuple[float, ...]:
        """The values in mm, in the report's order."""
        f = voc.UNITS_MM[self.unit]
        return tuple(round(v * f, 6) for v in self.values)

    def by_axis_mm(self) -> dict[str, float]:
        """The values in mm keyed by the axis each one is assigned to (a sorted triple: the
        longest cranio-caudal, then left-right, then antero-posterior)."""
        if self.axes:
            return {str(a): v for a, v in zip(self.axes, self.values_mm, strict=True)}
        ranked = sorted(self.values_mm, reverse=True)
        return {a: v for a, v in zip(SORTED_TRIPLE_AXES, ranked, strict=True)}


#: Axes a sorted triple's values are given to, longest first.
SORTED_TRIPLE_AXES: tuple[str, str, str] = ("cc", "lr", "ap")


#: The relations of a finding whose entry in the file has none (a spatial finding must have).
_UNWRITTEN = Relations()


@dataclass(frozen=True)
class Finding(FileModel):
    """One finding of the report."""

    id: Ident
    name: Text
    kind: Kind
    description: Text
    spatial: Flag = True
    colour: Colour | None = None
    label_value: LabelValue | None = None
    measurements: ListOf[Measurement] = ()
    relations: Relations = field(default_factory=Relations)
    landmarks: ListOf[LandmarkName] = ()

    @classmethod
    def check_part(cls, written: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        """``spatial`` defaults to false for kind ``clinical``; absent relations are marked."""
        out = present(written)
        if "spatial" not in out and out.get("kind") == voc.FindingKind.CLINICAL:
            out["spatial"] = False
        out.setdefault("relations", _UNWRITTEN)
        return out

    @model_validator(mode="after")
    def _consistent(self) -> Finding:
        if self.kind == voc.FindingKind.CLINICAL and self.spatial:
            raise SchemaProblem(
                "must be false for kind 'clinical' (it has no place on the image)",
                "write 'spatial: false' or choose another kind",
                self.spatial,
                at=("spatial",),
            )
        if self.spatial and self.colour is None:
            raise SchemaProblem.missing(("colour",))
        if self.spatial and self.relations is _UNWRITTEN:
            raise SchemaProblem(
                "is missing (a spatial finding needs relations that place it)",
                "add 'relations:' (see docs/case-file.md), or write 'spatial: false'",
                at=("relations",),
            )
        if self.label_value is not None and not self.is_region:
            raise SchemaProblem(
                "is only for findings drawn as regions (spatial, not of kind 'landmark')",
                "remove it (this finding has no region)",
                at=("label_value",),
            )
        _check_axes_once(self.measurements)
        if self.relations.placement is not None:
            self._check_placement()
        for lm in self.relations.landmarks():
            if lm in voc.LANDMARKS and lm not in self.landmarks:
                raise SchemaProblem(
                    f"lacks {lm!r}, which the relations use",
                    f"add '{lm}' to the finding's 'landmarks' list",
                    list(self.landmarks),
                    at=("landmarks",),
                )
        if self.kind == voc.FindingKind.LANDMARK and self.spatial:
            if self.relations.at_landmark is None:
                raise SchemaProblem(
                    "is missing (a finding of kind 'landmark' is a point at a landmark)",
                    "add 'at_landmark:' naming a point landmark",
                    at=("relations", "at_landmark"),
                )
        return self

    def _check_placement(self) -> None:
        """A placement places a solid, at its centre level, on its origin's side."""
        rel = self.relations
        if self.kind not in voc.SOLID_KINDS:
            raise SchemaProblem(
                f"only places solid findings (kinds {', '.join(voc.SOLID_KINDS)}), not kind "
                f"{str(self.kind)!r}",
                "remove 'placement' (a finding inside a vessel is placed by from_landmark and "
                "to_landmark)",
                at=("relations", "placement"),
            )
        pl = rel.placement
        if pl is not None and pl.rule in voc.SELF_LEVELLED_PLACEMENTS:
            if rel.centre_level is not None:
                raise SchemaProblem(
                    f"does not apply with the placement rule {str(pl.rule)!r} (it places the "
                    "solid's level itself)",
                    "remove 'centre_level', or give the level in the placement ('level:')",
                    at=("relations", "centre_level"),
                )
            return
        if rel.centre_level is None:
            raise SchemaProblem(
                "is missing: a 'placement' places the solid at the level of 'centre_level'",
                "add 'centre_level:' naming a point landmark (for example 'renal_vein_confluence')",
                at=("relations", "centre_level"),
            )
        origin = rel.origin_structure
        side = rel.placement.side if rel.placement is not None else ""
        origin_side = origin.rsplit("_", 1)[-1] if origin is not None else ""
        if origin_side in voc.SIDES and origin_side != side:
            raise SchemaProblem(
                f"contradicts 'origin_structure' {origin!r} (a structure of the {origin_side} "
                "side)",
                f"write 'side: {origin_side}', or correct the origin structure",
                side,
                at=("relations", "placement", "side"),
            )

    @property
    def is_region(self) -> bool:
        """Whether the finding is drawn as a region (spatial, not of kind ``landmark``)."""
        return self.spatial and self.kind != voc.FindingKind.LANDMARK

    @property
    def colour_rgb(self) -> tuple[int, int, int] | None:
        """The colour as ``(r, g, b)`` integers 0-255, or None for a non-spatial finding."""
        if self.colour is None:
            return None
        c = self.colour.lstrip("#")
        return (int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16))

    def reported_extents_mm(self) -> dict[str, float]:
        """The reported extents in mm keyed by axis (``'lr'``, ``'ap'``, ``'cc'``).

        This is the one definition of which reported figure belongs to which patient axis.
        Only axes that a measurement assigns are present. Raises :class:`CaseFileError` when the
        finding has no measurement at all.
        """
        if not self.measurements:
            raise CaseFileError(
                f"Finding {self.id!r} has no reported measurements, so it has no reported "
                "extents. Fix: add a 'measurements' entry to it in the case file."
            )
        out: dict[str, float] = {}
        for m in self.measurements:
            out.update(m.by_axis_mm())
        return {a: out[a] for a in voc.AXES if a in out}

    def reported_extents_sorted_mm(self) -> tuple[float, ...]:
        """The reported extents in mm, largest first (for the order-free comparison)."""
        return tuple(sorted(self.reported_extents_mm().values(), reverse=True))

    def extents_assumed(self) -> bool:
        """Whether any axis assignment of this finding's measurements is an assumption."""
        return any(m.assumed or m.sorted_triple for m in self.measurements)


def _check_axes_once(measurements: tuple[Measurement, ...]) -> None:
    """Measurement ids are unique in a finding and each axis is assigned by one of them."""
    seen_axes: dict[str, str] = {}
    seen_ids: set[str] = set()
    for i, m in enumerate(measurements):
        if m.id in seen_ids:
            raise SchemaProblem(
                "repeats an id", "give it a new id", m.id, at=("measurements", i, "id")
            )
        seen_ids.add(m.id)
        for a in m.by_axis_mm():
            if a in seen_axes:
                raise SchemaProblem(
                    f"assigns axis {str(a)!r} that measurement {seen_axes[a]!r} already assigns",
                    "assign each axis once per finding",
                    at=("measurements", i, "axes"),
                )
            seen_axes[a] = m.id

"""Case files: a case report's findings, their reported figures and the anatomy that places them.

A case file is YAML (schema documented in ``docs/case-file.md``). :func:`load_case` reads and
validates one; every error is a :class:`~ivcviewer.errors.CaseFileError` whose message names the
file, the field path (for example ``findings[0].measurements[0].unit``), the rule, the value and
the fix.

Examples
--------
>>> case = load_case(default_case_path())
>>> case.finding("mass").reported_extents_mm()
{'lr': 105.0, 'ap': 89.0, 'cc': 132.0}
>>> case.finding("intravascular_tumour").relations.expected_involvement.mayo_level
'III'
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import CaseFileError
from . import vocabulary as voc
from .library import default_case_path

_ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_COLOUR_RE = re.compile(r"^#[0-9A-Fa-f]{6}$")
_DOI_RE = re.compile(r"^10\.\d{4,9}/\S+$")


# --------------------------------------------------------------------------- dataclasses


@dataclass(frozen=True)
class Citation:
    """Where the case was published."""

    text: str
    doi: str
    url: str = ""


@dataclass(frozen=True)
class CaseInfo:
    """Case metadata."""

    id: str
    title: str
    citation: Citation
    source_note: str
    diagnosis: str = ""
    imaging: str = ""
    notes: str = ""


@dataclass(frozen=True)
class LandmarkSpec:
    """How a landmark is shown (name and colour) in a viewer."""

    id: str
    name: str
    colour: str
    description: str = ""


@dataclass(frozen=True)
class Measurement:
    """Figures the report gives for a finding, with the axis each one is assigned to.

    ``values`` keep the report's order and unit; ``axes[i]`` is the axis (``lr``, ``ap``,
    ``cc``) of ``values[i]``. ``assumed`` says the assignment is ours, not the report's, and
    ``note`` says why.
    """

    id: str
    values: tuple[float, ...]
    unit: str
    axes: tuple[str, ...]
    assumed: bool
    note: str = ""
    description: str = ""

    @property
    def values_mm(self) -> tuple[float, ...]:
        """The values in mm, in the report's order."""
        f = voc.UNITS_MM[self.unit]
        return tuple(round(v * f, 6) for v in self.values)


@dataclass(frozen=True)
class Rule:
    """A spatial rule between a finding and a structure (see ``vocabulary.RULES``)."""

    rule: str
    structure: str
    margin_mm: float = 0.0
    min_fraction: float = 1.0


@dataclass(frozen=True)
class ExpectedInvolvement:
    """The involvement level the report implies (Mayo level, IVC segment)."""

    mayo_level: str | None = None
    ivc_segment: str | None = None
    note: str = ""


@dataclass(frozen=True)
class PlacementPoint:
    """A landmark the outline of a placed solid runs through (see :class:`Placement`).

    ``depth_mm``: the landmark lies this far inside the outline, measured along the left-right
    axis towards the side opposite the placement's ``side`` (the midline side); 0 puts it on
    the outline.
    """

    landmark: str
    depth_mm: float = 0.0


@dataclass(frozen=True)
class Placement:
    """How a solid finding is placed in the axial plane at its ``centre_level``.

    ``rule`` ``outline_through``: at the centre level the solid's axial outline (the ellipse
    of its left-right and antero-posterior extents) runs through each of ``through`` (one or
    two landmarks, each moved ``depth_mm`` towards the midline side; a polyline landmark such
    as ``ivc_centreline`` stands for its point at the centre level); of the two such ellipses
    the one whose centre lies on ``side`` of the line through the points is used. With one
    point, the centre lies straight towards ``side`` from it.
    """

    rule: str
    through: tuple[PlacementPoint, ...]
    side: str

    @property
    def side_sign(self) -> float:
        """-1 for the patient's right (smaller x in LPS), +1 for the left."""
        return -1.0 if self.side == "right" else 1.0

    def landmarks(self) -> list[str]:
        """The landmarks the outline runs through, in order."""
        return [p.landmark for p in self.through]


@dataclass(frozen=True)
class Relations:
    """The anatomical relations that place a finding.

    Offsets are in mm along the cranio-caudal axis, positive towards the head.
    ``assumed`` lists the relation fields that are our choice rather than the report's.
    """

    origin_structure: str | None = None
    vessel: str | None = None
    from_landmark: str | None = None
    from_offset_mm: float = 0.0
    to_landmark: str | None = None
    to_offset_mm: float = 0.0
    centre_level: str | None = None
    at_landmark: str | None = None
    occlusion: str | None = None
    rules: tuple[Rule, ...] = ()
    expected_involvement: ExpectedInvolvement | None = None
    assumed: tuple[str, ...] = ()
    note: str = ""
    placement: Placement | None = None

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
        out: list[str] = []
        for n in names:
            if n is not None and n not in out:
                out.append(n)
        return out

    def rules_of(self, rule: str) -> list[Rule]:
        """The rules of one kind (for example all ``avoids`` rules)."""
        return [r for r in self.rules if r.rule == rule]


@dataclass(frozen=True)
class Finding:
    """One finding of the report."""

    id: str
    name: str
    kind: str
    description: str
    spatial: bool = True
    colour: str | None = None
    label_value: int | None = None
    measurements: tuple[Measurement, ...] = ()
    relations: Relations = field(default_factory=Relations)
    landmarks: tuple[str, ...] = ()

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
                "extents; add a 'measurements' entry to it in the case file."
            )
        out: dict[str, float] = {}
        for m in self.measurements:
            for axis, v in zip(m.axes, m.values_mm, strict=True):
                out[axis] = v
        return {a: out[a] for a in voc.AXES if a in out}

    def reported_extents_sorted_mm(self) -> tuple[float, ...]:
        """The reported extents in mm, largest first (for the order-free comparison)."""
        return tuple(sorted(self.reported_extents_mm().values(), reverse=True))

    def extents_assumed(self) -> bool:
        """Whether any axis assignment of this finding's measurements is an assumption."""
        return any(m.assumed for m in self.measurements)


@dataclass(frozen=True)
class CaseFile:
    """A validated case file."""

    path: Path
    schema_version: int
    case: CaseInfo
    findings: tuple[Finding, ...]
    landmark_specs: tuple[LandmarkSpec, ...] = ()

    def finding(self, finding_id: str) -> Finding:
        """The finding with this id; :class:`CaseFileError` naming the ids there are if none."""
        for f in self.findings:
            if f.id == finding_id:
                return f
        raise CaseFileError(
            f"{self.path}: no finding with id {finding_id!r}; the findings are "
            f"{[f.id for f in self.findings]}."
        )

    @property
    def spatial_findings(self) -> tuple[Finding, ...]:
        """Findings that are placed on the image, in file order."""
        return tuple(f for f in self.findings if f.spatial)

    @property
    def region_findings(self) -> tuple[Finding, ...]:
        """Findings drawn as regions (spatial, and not of kind ``landmark``), in file order."""
        return tuple(f for f in self.findings if f.spatial and f.kind != "landmark")

    def label_values(self) -> dict[str, int]:
        """Label value of each region finding: its ``label_value`` or the next free value."""
        used = {f.label_value for f in self.region_findings if f.label_value is not None}
        out: dict[str, int] = {}
        nxt = 1
        for f in self.region_findings:
            if f.label_value is not None:
                out[f.id] = f.label_value
                continue
            while nxt in used:
                nxt += 1
            out[f.id] = nxt
            used.add(nxt)
        return out

    def required_landmarks(self) -> list[str]:
        """Landmarks the findings need, in vocabulary order."""
        need = {n for f in self.findings for n in f.landmarks}
        return [n for n in voc.LANDMARKS if n in need]

    def required_structures(self) -> list[str]:
        """Structures (names or patterns) the findings' relations name, in first-use order."""
        out: list[str] = []
        for f in self.findings:
            for s in f.relations.structures():
                if s not in out:
                    out.append(s)
        return out

    def landmark_spec(self, landmark: str) -> LandmarkSpec:
        """Display name and colour of a landmark (a default from the vocabulary if unlisted)."""
        for s in self.landmark_specs:
            if s.id == landmark:
                return s
        return LandmarkSpec(
            landmark, landmark.replace("_", " "), "#FFFF00", voc.LANDMARKS.get(landmark, "")
        )


# --------------------------------------------------------------------------- validation


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe YAML loader that refuses duplicate keys (PyYAML keeps the last silently)."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    out: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node)
        if key in out:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"duplicate key {key!r} (line {key_node.start_mark.line + 1})",
                key_node.start_mark,
            )
        out[key] = loader.construct_object(value_node)
    return out


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,
)

_MISSING = object()


class _Checker:
    """Validates parsed YAML, raising :class:`CaseFileError` with file, field path and fix."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, where: str, problem: str, fix: str, value: Any = _MISSING) -> CaseFileError:
        got = "" if value is _MISSING else f", got {value!r}"
        return CaseFileError(f"{self.path}: field '{where}': {problem}{got}. Fix: {fix}")

    # -- primitive getters ------------------------------------------------------------------

    def mapping(self, obj: Any, where: str, allowed: set[str]) -> dict[str, Any]:
        if not isinstance(obj, dict):
            raise self.fail(
                where,
                "must be a mapping of keys to values",
                "write it as 'key: value' lines",
                obj,
            )
        for k in obj:
            if k not in allowed:
                hint = voc.closest(str(k), allowed)
                did = f"rename it to {hint!r}" if hint else "remove it"
                raise self.fail(
                    f"{where}.{k}" if where else str(k),
                    f"is not a field of this schema (allowed: {', '.join(sorted(allowed))})",
                    f"{did} (the reference is docs/case-file.md)",
                )
        return obj

    def get(self, obj: dict[str, Any], key: str, where: str, required: bool = True) -> Any:
        if key not in obj or obj[key] is None:
            if required:
                raise self.fail(
                    f"{where}.{key}" if where else key,
                    "is missing (it is required)",
                    f"add '{key}:' under '{where or 'the top level'}' "
                    "(the reference is docs/case-file.md)",
                )
            return None
        return obj[key]

    def text(self, obj: dict[str, Any], key: str, where: str, required: bool = True) -> str:
        v = self.get(obj, key, where, required)
        if v is None:
            return ""
        w = f"{where}.{key}"
        if not isinstance(v, str) or not v.strip():
            raise self.fail(w, "must be a non-empty text", "write it as text (quote it)", v)
        return v.strip()

    def ident(self, obj: dict[str, Any], key: str, where: str) -> str:
        v = self.get(obj, key, where)
        w = f"{where}.{key}"
        if not isinstance(v, str) or not _ID_RE.match(v):
            raise self.fail(
                w,
                "must be an identifier (lower-case letters, digits and '_', starting with a "
                "letter)",
                "write it like 'intravascular_tumour'",
                v,
            )
        return v

    def boolean(self, obj: dict[str, Any], key: str, where: str, default: bool | None) -> bool:
        v = self.get(obj, key, where, required=default is None)
        if v is None and default is not None:
            return default
        if not isinstance(v, bool):
            raise self.fail(f"{where}.{key}", "must be true or false", "write true or false", v)
        return v

    def number(
        self,
        obj: dict[str, Any],
        key: str,
        where: str,
        default: float,
        lo: float | None = None,
        hi: float | None = None,
    ) -> float:
        v = self.get(obj, key, where, required=False)
        if v is None:
            return default
        w = f"{where}.{key}"
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise self.fail(w, "must be a number", "write a plain number (no unit)", v)
        if (lo is not None and v < lo) or (hi is not None and v > hi):
            raise self.fail(w, f"must lie in [{lo}, {hi}]", "give a value inside that range", v)
        return float(v)

    def choice(
        self,
        obj: dict[str, Any],
        key: str,
        where: str,
        choices: Any,
        what: str,
        required: bool = True,
    ) -> str | None:
        v = self.get(obj, key, where, required)
        if v is None:
            return None
        w = f"{where}.{key}"
        if isinstance(v, int) and not isinstance(v, bool):
            v = str(v)
        if not isinstance(v, str) or v not in choices:
            hint = voc.closest(str(v), choices)
            fix = f"use {hint!r}" if hint else "use one of them"
            raise self.fail(w, f"is not a known {what} (known: {', '.join(choices)})", fix, v)
        return v

    def structure(
        self, obj: dict[str, Any], key: str, where: str, required: bool = False
    ) -> str | None:
        v = self.get(obj, key, where, required)
        if v is None:
            return None
        w = f"{where}.{key}"
        if not isinstance(v, str) or not voc.is_known_structure(v):
            hint = voc.closest(str(v), voc.STRUCTURES)
            fix = f"use {hint!r}" if hint else "use a TotalSegmentator class name"
            raise self.fail(
                w,
                "is not a known structure name (TotalSegmentator class names such as "
                "'inferior_vena_cava', 'iliopsoas_right', 'kidney_left', or a group such as "
                "'vertebrae_*')",
                f"{fix} (the list is in docs/case-file.md)",
                v,
            )
        return v

    def landmark(self, value: Any, where: str, points_only: bool = False) -> str:
        names = voc.POINT_LANDMARKS if points_only else tuple(voc.LANDMARKS)
        if not isinstance(value, str) or value not in names:
            hint = voc.closest(str(value), names)
            fix = f"use {hint!r}" if hint else "use one of them"
            kind = "point landmark" if points_only else "landmark"
            raise self.fail(where, f"is not a known {kind} (known: {', '.join(names)})", fix, value)
        return value

    def colour(self, obj: dict[str, Any], key: str, where: str, required: bool) -> str | None:
        v = self.get(obj, key, where, required)
        if v is None:
            return None
        if not isinstance(v, str) or not _COLOUR_RE.match(v):
            raise self.fail(
                f"{where}.{key}",
                "must be an RGB hex colour '#RRGGBB'",
                "write it like '#E6553A' (quoted, with the '#')",
                v,
            )
        return v.upper()

    def seq(self, obj: dict[str, Any], key: str, where: str, required: bool) -> list[Any]:
        v = self.get(obj, key, where, required)
        if v is None:
            return []
        if not isinstance(v, list):
            raise self.fail(
                f"{where}.{key}", "must be a list", "write it as '[a, b]' or '- ' lines", v
            )
        return v

    # -- sections ---------------------------------------------------------------------------

    def case_info(self, obj: Any) -> CaseInfo:
        w = "case"
        d = self.mapping(
            obj, w, {"id", "title", "citation", "source_note", "diagnosis", "imaging", "notes"}
        )
        cw = "case.citation"
        c = self.mapping(self.get(d, "citation", w), cw, {"text", "doi", "url"})
        doi = self.text(c, "doi", cw)
        if not _DOI_RE.match(doi):
            raise self.fail(
                f"{cw}.doi",
                "must be a DOI '10.<registrant>/<suffix>'",
                "write the bare DOI, for example '10.37549/AR-D-24-0011' (no 'doi:' prefix)",
                doi,
            )
        citation = Citation(self.text(c, "text", cw), doi, self.text(c, "url", cw, False))
        return CaseInfo(
            id=self.ident(d, "id", w),
            title=self.text(d, "title", w),
            citation=citation,
            source_note=self.text(d, "source_note", w),
            diagnosis=self.text(d, "diagnosis", w, False),
            imaging=self.text(d, "imaging", w, False),
            notes=self.text(d, "notes", w, False),
        )

    def landmark_spec(self, obj: Any, where: str) -> LandmarkSpec:
        d = self.mapping(obj, where, {"id", "name", "colour", "description"})
        return LandmarkSpec(
            id=self.landmark(self.get(d, "id", where), f"{where}.id"),
            name=self.text(d, "name", where),
            colour=self.colour(d, "colour", where, True) or "",
            description=self.text(d, "description", where, False),
        )

    def measurement(self, obj: Any, where: str) -> Measurement:
        d = self.mapping(
            obj, where, {"id", "description", "values", "unit", "axes", "assumed", "note"}
        )
        values = self.seq(d, "values", where, True)
        if not 1 <= len(values) <= 3:
            raise self.fail(
                f"{where}.values", "must hold 1 to 3 numbers", "list the reported figures", values
            )
        for i, v in enumerate(values):
            if isinstance(v, bool) or not isinstance(v, int | float) or v <= 0:
                raise self.fail(
                    f"{where}.values[{i}]",
                    "must be a positive number",
                    "write the figure as a plain number and its unit in 'unit'",
                    v,
                )
        unit = self.get(d, "unit", where)
        if unit not in voc.UNITS_MM:
            raise self.fail(
                f"{where}.unit",
                f"is not an allowed length unit (allowed: {', '.join(voc.UNITS_MM)})",
                "write 'cm' or 'mm' (convert other units first)",
                unit,
            )
        axes = self.seq(d, "axes", where, True)
        if len(axes) != len(values):
            raise self.fail(
                f"{where}.axes",
                f"must give one axis per value ({len(values)} values)",
                "list one of 'lr', 'ap', 'cc' for each value, in the same order",
                axes,
            )
        for i, a in enumerate(axes):
            if a not in voc.AXES:
                raise self.fail(
                    f"{where}.axes[{i}]",
                    "is not an axis code (lr: left-right, ap: antero-posterior, cc: cranio-caudal)",
                    "use 'lr', 'ap' or 'cc'",
                    a,
                )
        if len(set(axes)) != len(axes):
            raise self.fail(
                f"{where}.axes", "must not repeat an axis", "give each value its own axis", axes
            )
        assumed = self.boolean(d, "assumed", where, None)
        note = self.text(d, "note", where, required=False)
        if assumed and not note:
            raise self.fail(
                f"{where}.note",
                "is missing: an assumed axis assignment must say why",
                "add 'note:' explaining the assumption (for example that the report gives no axes)",
            )
        return Measurement(
            id=self.ident(d, "id", where),
            values=tuple(float(v) for v in values),
            unit=str(unit),
            axes=tuple(axes),
            assumed=assumed,
            note=note,
            description=self.text(d, "description", where, False),
        )

    def rule(self, obj: Any, where: str) -> Rule:
        d = self.mapping(obj, where, {"rule", "structure", "margin_mm", "min_fraction"})
        rule = self.choice(d, "rule", where, tuple(voc.RULES), "rule") or ""
        structure = self.structure(d, "structure", where, required=True) or ""
        if "min_fraction" in d and rule != "inside":
            raise self.fail(
                f"{where}.min_fraction",
                "only applies to the rule 'inside'",
                "remove it, or change the rule to 'inside'",
            )
        return Rule(
            rule=rule,
            structure=structure,
            margin_mm=self.number(d, "margin_mm", where, 0.0, 0.0, 100.0),
            min_fraction=self.number(d, "min_fraction", where, 1.0, 0.0, 1.0),
        )

    def relations(self, obj: Any, where: str, kind: str = "") -> Relations:
        allowed = {
            "origin_structure",
            "vessel",
            "from_landmark",
            "from_offset_mm",
            "to_landmark",
            "to_offset_mm",
            "centre_level",
            "at_landmark",
            "occlusion",
            "rules",
            "expected_involvement",
            "placement",
            "assumed",
            "note",
        }
        d = self.mapping(obj, where, allowed)
        lm: dict[str, str | None] = {}
        for key in ("from_landmark", "to_landmark", "centre_level", "at_landmark"):
            v = self.get(d, key, where, required=False)
            lm[key] = None if v is None else self.landmark(v, f"{where}.{key}", True)
        for key, base in (("from_offset_mm", "from_landmark"), ("to_offset_mm", "to_landmark")):
            if key in d and lm[base] is None:
                raise self.fail(
                    f"{where}.{key}",
                    f"needs '{base}' (an offset is measured from a landmark)",
                    f"add '{base}:' or remove '{key}'",
                )
        rules = tuple(
            self.rule(r, f"{where}.rules[{i}]")
            for i, r in enumerate(self.seq(d, "rules", where, False))
        )
        ei = None
        if d.get("expected_involvement") is not None:
            ew = f"{where}.expected_involvement"
            e = self.mapping(d["expected_involvement"], ew, {"mayo_level", "ivc_segment", "note"})
            ei = ExpectedInvolvement(
                mayo_level=self.choice(
                    e, "mayo_level", ew, tuple(voc.MAYO_LEVELS), "Mayo level", False
                ),
                ivc_segment=self.choice(
                    e, "ivc_segment", ew, tuple(voc.IVC_SEGMENTS), "IVC segment", False
                ),
                note=self.text(e, "note", ew, False),
            )
        assumed = self.seq(d, "assumed", where, False)
        for i, a in enumerate(assumed):
            if a not in allowed - {"assumed", "note"}:
                raise self.fail(
                    f"{where}.assumed[{i}]",
                    "must name a relation field of this finding",
                    f"use one of {sorted(allowed - {'assumed', 'note'})}",
                    a,
                )
            if a not in d:
                raise self.fail(
                    f"{where}.assumed[{i}]",
                    f"names '{a}', which these relations do not set",
                    f"set '{a}' or remove it from 'assumed'",
                )
        note = self.text(d, "note", where, False)
        if assumed and not note:
            raise self.fail(
                f"{where}.note",
                "is missing: assumed relations must say why",
                "add 'note:' explaining what the report does not say",
            )
        origin = self.structure(d, "origin_structure", where)
        placement = None
        if d.get("placement") is not None:
            if kind not in voc.SOLID_KINDS:
                raise self.fail(
                    f"{where}.placement",
                    f"only places solid findings (kinds {', '.join(voc.SOLID_KINDS)}), not "
                    f"kind {kind!r}",
                    "remove 'placement' (a finding inside a vessel is placed by from_landmark "
                    "and to_landmark)",
                )
            placement = self.placement(d["placement"], f"{where}.placement")
            if lm["centre_level"] is None:
                raise self.fail(
                    f"{where}.centre_level",
                    "is missing: a 'placement' places the solid at the level of 'centre_level'",
                    "add 'centre_level:' naming a point landmark (for example "
                    "'renal_vein_confluence')",
                )
            if origin is not None and origin.rsplit("_", 1)[-1] in voc.SIDES:
                origin_side = origin.rsplit("_", 1)[-1]
                if origin_side != placement.side:
                    raise self.fail(
                        f"{where}.placement.side",
                        f"contradicts 'origin_structure' {origin!r} (a structure of the "
                        f"{origin_side} side)",
                        f"write 'side: {origin_side}', or correct the origin structure",
                        placement.side,
                    )
        return Relations(
            origin_structure=origin,
            vessel=self.structure(d, "vessel", where),
            from_landmark=lm["from_landmark"],
            from_offset_mm=self.number(d, "from_offset_mm", where, 0.0, -500.0, 500.0),
            to_landmark=lm["to_landmark"],
            to_offset_mm=self.number(d, "to_offset_mm", where, 0.0, -500.0, 500.0),
            centre_level=lm["centre_level"],
            at_landmark=lm["at_landmark"],
            occlusion=self.choice(d, "occlusion", where, voc.OCCLUSION, "occlusion", False),
            rules=rules,
            expected_involvement=ei,
            assumed=tuple(assumed),
            note=note,
            placement=placement,
        )

    def placement(self, obj: Any, where: str) -> Placement:
        d = self.mapping(obj, where, {"rule", "through", "side"})
        rule = self.choice(d, "rule", where, tuple(voc.PLACEMENT_RULES), "placement rule") or ""
        side = self.choice(d, "side", where, voc.SIDES, "side") or ""
        raw = self.seq(d, "through", where, True)
        if not 1 <= len(raw) <= 2:
            raise self.fail(
                f"{where}.through",
                "must list one or two landmarks (an ellipse of given size passes through at "
                "most two chosen points)",
                "list the vessel point and the origin point",
                raw,
            )
        points: list[PlacementPoint] = []
        for i, item in enumerate(raw):
            w = f"{where}.through[{i}]"
            p = self.mapping(item, w, {"landmark", "depth_mm"})
            name = self.landmark(self.get(p, "landmark", w), f"{w}.landmark")
            if name in [q.landmark for q in points]:
                raise self.fail(
                    f"{w}.landmark", "repeats a landmark of this list", "name another one", name
                )
            points.append(PlacementPoint(name, self.number(p, "depth_mm", w, 0.0, -50.0, 50.0)))
        return Placement(rule, tuple(points), side)

    def finding(self, obj: Any, where: str) -> Finding:
        allowed = {
            "id",
            "name",
            "kind",
            "spatial",
            "colour",
            "label_value",
            "description",
            "measurements",
            "relations",
            "landmarks",
        }
        d = self.mapping(obj, where, allowed)
        fid = self.ident(d, "id", where)
        kind = self.choice(d, "kind", where, tuple(voc.KINDS), "finding kind") or ""
        spatial = self.boolean(d, "spatial", where, kind != "clinical")
        if kind == "clinical" and spatial:
            raise self.fail(
                f"{where}.spatial",
                "must be false for kind 'clinical' (it has no place on the image)",
                "write 'spatial: false' or choose another kind",
                spatial,
            )
        colour = self.colour(d, "colour", where, required=spatial)
        label_value = None
        if d.get("label_value") is not None:
            lv = d["label_value"]
            if isinstance(lv, bool) or not isinstance(lv, int) or not 1 <= lv <= 255:
                raise self.fail(
                    f"{where}.label_value",
                    "must be an integer 1-255",
                    "give a unique label value, or remove it to number findings in order",
                    lv,
                )
            if not spatial or kind == "landmark":
                raise self.fail(
                    f"{where}.label_value",
                    "is only for findings drawn as regions (spatial, not of kind 'landmark')",
                    "remove it (this finding has no region)",
                )
            label_value = lv
        measurements = tuple(
            self.measurement(m, f"{where}.measurements[{i}]")
            for i, m in enumerate(self.seq(d, "measurements", where, False))
        )
        seen_axes: dict[str, str] = {}
        seen_ids: set[str] = set()
        for i, m in enumerate(measurements):
            if m.id in seen_ids:
                raise self.fail(
                    f"{where}.measurements[{i}].id", "repeats an id", "give it a new id", m.id
                )
            seen_ids.add(m.id)
            for a in m.axes:
                if a in seen_axes:
                    raise self.fail(
                        f"{where}.measurements[{i}].axes",
                        f"assigns axis {a!r} that measurement {seen_axes[a]!r} already assigns",
                        "assign each axis once per finding",
                    )
                seen_axes[a] = m.id
        rel_obj = d.get("relations")
        if spatial and rel_obj is None:
            raise self.fail(
                f"{where}.relations",
                "is missing (a spatial finding needs relations that place it)",
                "add 'relations:' (see docs/case-file.md), or write 'spatial: false'",
            )
        relations = (
            Relations() if rel_obj is None else self.relations(rel_obj, f"{where}.relations", kind)
        )
        landmarks = tuple(
            self.landmark(v, f"{where}.landmarks[{i}]")
            for i, v in enumerate(self.seq(d, "landmarks", where, False))
        )
        for lm in relations.landmarks():
            if lm not in landmarks:
                raise self.fail(
                    f"{where}.landmarks",
                    f"lacks {lm!r}, which the relations use",
                    f"add '{lm}' to the finding's 'landmarks' list",
                    list(landmarks),
                )
        if kind == "landmark" and relations.at_landmark is None and spatial:
            raise self.fail(
                f"{where}.relations.at_landmark",
                "is missing (a finding of kind 'landmark' is a point at a landmark)",
                "add 'at_landmark:' naming a point landmark",
            )
        return Finding(
            id=fid,
            name=self.text(d, "name", where),
            kind=kind,
            description=self.text(d, "description", where),
            spatial=spatial,
            colour=colour,
            label_value=label_value,
            measurements=measurements,
            relations=relations,
            landmarks=landmarks,
        )

    def document(self, doc: Any) -> CaseFile:
        d = self.mapping(doc, "", {"schema_version", "case", "landmarks", "findings"})
        version = self.get(d, "schema_version", "")
        if isinstance(version, bool) or version not in voc.SUPPORTED_SCHEMA_VERSIONS:
            raise self.fail(
                "schema_version",
                "is not a schema version this ivcviewer reads (supported: "
                f"{', '.join(map(str, voc.SUPPORTED_SCHEMA_VERSIONS))})",
                "convert the file to the current schema (docs/case-file.md) or upgrade ivcviewer",
                version,
            )
        case = self.case_info(self.get(d, "case", ""))
        specs = tuple(
            self.landmark_spec(x, f"landmarks[{i}]")
            for i, x in enumerate(self.seq(d, "landmarks", "", False))
        )
        raw = self.seq(d, "findings", "", True)
        if not raw:
            raise self.fail("findings", "is empty", "add at least one finding")
        findings = tuple(self.finding(x, f"findings[{i}]") for i, x in enumerate(raw))
        ids: set[str] = set()
        labels: set[int] = set()
        for i, f in enumerate(findings):
            if f.id in ids:
                raise self.fail(
                    f"findings[{i}].id", "repeats another finding's id", "give it a new id", f.id
                )
            ids.add(f.id)
            if f.label_value is not None:
                if f.label_value in labels:
                    raise self.fail(
                        f"findings[{i}].label_value",
                        "repeats another finding's label value",
                        "give it a unique value",
                        f.label_value,
                    )
                labels.add(f.label_value)
        return CaseFile(self.path, int(version), case, findings, specs)


def load_case(path: str | Path) -> CaseFile:
    """Read and validate a case file.

    Parameters
    ----------
    path
        A YAML case file.

    Returns
    -------
    CaseFile
        The validated content.

    Raises
    ------
    CaseFileError
        The file is missing, is not YAML, or breaks the schema; the message names the file,
        the field path, the rule, the value and the fix.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError as err:
        raise CaseFileError(
            f"{p}: case file not found. Fix: give the path of a case file, for example "
            f"{default_case_path()}."
        ) from err
    except (OSError, UnicodeDecodeError) as err:
        raise CaseFileError(f"{p}: cannot be read as UTF-8 text ({err}).") from err
    try:
        doc = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise CaseFileError(
            f"{p}: is not valid YAML{where}: {problem}. Fix: correct the syntax there."
        ) from err
    return _Checker(p).document(doc)

"""The types of a fitted overlay: its options, and the result with its parts.

:class:`FitOptions` and :class:`BoneSource` set up :func:`~.pipeline.fit_case`; it returns an
:class:`OverlayResult` holding, per finding drawn as a region, a :class:`FindingResult` (with its
:class:`ClipStep` and :class:`RuleCheck` records), the label table (:class:`RegionLabel`) and the
landmark points to show (:class:`LandmarkPoint`). Each has its JSON form (``findings.json``).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ... import measure as msr
from ...volume import Volume
from .. import vocabulary as voc
from ..anatomy import Landmarks
from ..casefile import CaseFile, ExpectedInvolvement, Finding
from ..fit import DEFAULT_LOBULATION, OCCLUSION_RADIUS_FRACTION, SolidFit, TubeFit
from ..levels import InvolvementLevel
from ..rasterise import CroppedMask
from ..vocabulary import RuleStatus

#: ``format`` of ``findings.json`` and the version written.
FINDINGS_FORMAT = "ivcviewer.overlay_findings"
FINDINGS_FORMAT_VERSION = 1

#: Name prefixes of label-map structures that are bone (solids are clipped out of them).
BONE_PREFIXES: tuple[str, ...] = (
    "vertebrae_",
    "rib_",
    "sacrum",
    "hip_",
    "femur_",
    "sternum",
    "skull",
    "humerus_",
    "scapula_",
    "clavicula_",
)

AxisDict = dict[str, float]


class BoneSource(str, enum.Enum):
    """Where the bone that solid findings are clipped out of comes from.

    ``LABELS_AND_CT``: bone labels of the anatomy label map, and CT voxels above ``bone_hu``
    (in pieces of at least ``min_bone_ml``, holes filled). ``LABELS``: the label map only.
    ``CT``: the CT only. ``NONE``: no bone clipping (a case file's ``avoids`` rules still
    apply).
    """

    LABELS_AND_CT = "labels_and_ct"
    LABELS = "labels"
    CT = "ct"
    NONE = "none"


@dataclass(frozen=True)
class FitOptions:
    """Settings of :func:`fit_case`.

    Attributes
    ----------
    body_hu
        CT values above this are body tissue (HU).
    bone_hu
        CT values above this are bone (HU), for :class:`BoneSource` with CT.
    bone
        Where bone comes from.
    min_bone_ml
        CT bone pieces smaller than this (calcifications, contrast specks) are ignored (mL).
    lobulation
        Amplitude of a solid's surface bumps (0: a smooth ellipsoid).
    radius_fraction
        Occlusion -> tube radius as a fraction of the vessel's radius.
    """

    body_hu: float = -500.0
    bone_hu: float = 250.0
    bone: BoneSource = BoneSource.LABELS_AND_CT
    min_bone_ml: float = 0.5
    lobulation: float = DEFAULT_LOBULATION
    radius_fraction: Mapping[str, float] = field(
        default_factory=lambda: dict(OCCLUSION_RADIUS_FRACTION)
    )


def _r(v: float, nd: int = 3) -> float:
    """``v`` as a float rounded to ``nd`` decimals (for JSON)."""
    return round(float(v), nd)


def _axes_cm(d: Mapping[str, float] | None) -> dict[str, float] | None:
    """Per-axis mm as cm, rounded (None stays None)."""
    return None if d is None else {k: _r(v / 10.0, 3) for k, v in d.items()}


@dataclass(frozen=True)
class RegionLabel:
    """One entry of the label table: a finding drawn as a region."""

    value: int
    finding_id: str
    name: str
    colour: str
    kind: str

    @property
    def rgba(self) -> tuple[float, float, float, float]:
        """The colour as ``(r, g, b, a)`` floats in 0..1."""
        c = self.colour.lstrip("#")
        return (int(c[0:2], 16) / 255.0, int(c[2:4], 16) / 255.0, int(c[4:6], 16) / 255.0, 1.0)

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "finding_id": self.finding_id,
            "name": self.name,
            "kind": self.kind,
            "colour": self.colour,
            "rgba": [_r(c, 4) for c in self.rgba],
        }


@dataclass(frozen=True)
class LandmarkPoint:
    """A named point to show: a landmark, or a finding of kind ``landmark`` placed on one."""

    id: str
    name: str
    colour: str
    position_lps: tuple[float, float, float]
    truncated: bool = False
    finding_id: str | None = None
    landmark: str = ""
    description: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "id": self.id,
            "name": self.name,
            "colour": self.colour,
            "position_lps": [_r(v) for v in self.position_lps],
            "truncated": self.truncated,
            "finding_id": self.finding_id,
            "landmark": self.landmark,
            "description": self.description,
        }


@dataclass(frozen=True)
class ClipStep:
    """What one clipping step removed from a finding's region.

    ``reason`` is a code: ``vessel_section``, ``field_of_view``, ``body``, ``avoids``,
    ``bone_labels``, ``bone_ct`` or ``overlap``. Extents (mm) are given when the step removed
    voxels (for ``field_of_view``: the fitted shape's own extents before and the drawn ones
    after; for ``vessel_section``, a lumen finding whose vessel has no voxel in the label map
    where the finding lies: the extents and voxels of the tube with a circular section).
    """

    reason: str
    description: str
    voxels_removed: int | None
    volume_removed_ml: float | None
    extents_before_mm: AxisDict | None
    extents_after_mm: AxisDict | None

    def extent_changes_mm(self) -> AxisDict:
        """After minus before, per axis (empty without extents)."""
        if self.extents_before_mm is None or self.extents_after_mm is None:
            return {}
        return {
            a: self.extents_after_mm[a] - self.extents_before_mm[a]
            for a in msr.PATIENT_AXES
            if a in self.extents_before_mm and a in self.extents_after_mm
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON form (extents in cm)."""
        return {
            "reason": self.reason,
            "description": self.description,
            "voxels_removed": self.voxels_removed,
            "volume_removed_ml": None
            if self.volume_removed_ml is None
            else _r(self.volume_removed_ml),
            "extents_before_cm": _axes_cm(self.extents_before_mm),
            "extents_after_cm": _axes_cm(self.extents_after_mm),
            "extent_changes_cm": _axes_cm(self.extent_changes_mm()),
        }


@dataclass(frozen=True)
class RuleCheck:
    """Whether one of a finding's rules holds for its region (as fitted and clipped, before
    overlaps with other findings are resolved).

    ``status``: ``satisfied``, ``violated`` or ``not_checked`` (the structure is not in the
    anatomy source). ``source``: where the structure came from (``label map`` or ``IVC
    centreline and radius``).
    """

    rule: str
    structure: str
    status: RuleStatus
    detail: str
    source: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "rule": self.rule,
            "structure": self.structure,
            "status": self.status,
            "detail": self.detail,
            "source": self.source,
        }


@dataclass(frozen=True)
class StructureShare:
    """The share of a region's voxels in one structure of the anatomy label map.

    ``structure`` is the label map's name, ``unlabelled`` (no structure) or ``other
    structures`` (the rest beyond the largest ones).
    """

    structure: str
    share: float
    voxels: int

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"structure": self.structure, "share": _r(self.share, 4), "voxels": self.voxels}


@dataclass(frozen=True)
class FindingResult:
    """One finding drawn as a region: its fit, its final region and its measurements."""

    finding: Finding
    label_value: int
    fit: SolidFit | TubeFit
    region: CroppedMask
    n_voxels: int = 0
    volume_ml: float = 0.0
    extents_mm: AxisDict | None = None
    fitted_extents_mm: AxisDict | None = None
    centroid_lps: NDArray[np.float64] | None = None
    z_span_lps: tuple[float, float] | None = None
    voxel_extent_mm: AxisDict = field(default_factory=dict)
    comparison: msr.ExtentComparison | None = None
    clipping: list[ClipStep] = field(default_factory=list)
    rules: list[RuleCheck] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: The region after clipping, before overlaps with other findings were resolved (the
    #: case file's rules are checked on it).
    before_overlaps: CroppedMask | None = None
    #: The final region's voxels by structure of the anatomy label map, largest share first;
    #: None when the anatomy is not a label map (occupancy unknown).
    occupancy: tuple[StructureShare, ...] | None = None

    @property
    def id(self) -> str:
        """The finding's id."""
        return self.finding.id

    @property
    def reported_extents_mm(self) -> AxisDict | None:
        """Reported extents (mm) by axis, or None when the finding reports none."""
        if not self.finding.measurements:
            return None
        return self.finding.reported_extents_mm()

    def differences_mm(self) -> AxisDict | None:
        """Measured minus reported extents (mm), per reported axis."""
        rep = self.reported_extents_mm
        if rep is None or self.extents_mm is None:
            return None
        return {a: self.extents_mm[a] - v for a, v in rep.items()}

    def within_one_voxel(self) -> dict[str, bool] | None:
        """Per reported axis: whether the measured extent is within one voxel of the reported."""
        diff = self.differences_mm()
        if diff is None:
            return None
        return {a: abs(d) <= self.voxel_extent_mm[a] + 1e-6 for a, d in diff.items()}

    def clipping_changed_extents(self, tol_mm: float | None = None) -> list[ClipStep]:
        """The clipping steps that changed an extent (by more than ``tol_mm``, default 1e-6)."""
        tol = 1e-6 if tol_mm is None else tol_mm
        return [
            c for c in self.clipping if any(abs(v) > tol for v in c.extent_changes_mm().values())
        ]

    def to_dict(self) -> dict[str, Any]:
        """JSON form (extents in cm, volumes in mL, positions in LPS mm)."""
        f = self.finding
        rep = self.reported_extents_mm
        assumed = [m for m in f.measurements if m.assumed]
        fit = self.fit
        return {
            "id": f.id,
            "name": f.name,
            "kind": f.kind,
            "label_value": self.label_value,
            "colour": f.colour,
            "description": f.description,
            "measured": {
                "extents_cm": _axes_cm(self.extents_mm),
                "volume_ml": _r(self.volume_ml),
                "n_voxels": self.n_voxels,
                "centroid_lps": None
                if self.centroid_lps is None
                else [_r(v) for v in self.centroid_lps],
                "z_span_lps": None if self.z_span_lps is None else [_r(v) for v in self.z_span_lps],
            },
            "reported": None
            if rep is None
            else {
                "extents_cm": _axes_cm(rep),
                "sorted_cm": [_r(v / 10.0) for v in f.reported_extents_sorted_mm()],
                "axes_assumed": f.extents_assumed(),
                "note": " ".join(m.note for m in assumed),
            },
            "differences_cm": _axes_cm(self.differences_mm()),
            "within_one_voxel": self.within_one_voxel(),
            "voxel_extent_mm": {k: _r(v) for k, v in self.voxel_extent_mm.items()},
            "comparison_mm": None if self.comparison is None else self.comparison.to_dict(),
            "fitted_extents_cm": _axes_cm(self.fitted_extents_mm),
            "fit": {
                "method": fit.method,
                "model": fit.model.to_dict(),
                "parameters": fit.parameters,
                "landmarks_used": list(fit.landmarks_used),
            },
            "clipping": [c.to_dict() for c in self.clipping],
            "rules": [r.to_dict() for r in self.rules],
            "occupancy": None if self.occupancy is None else [o.to_dict() for o in self.occupancy],
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True)
class OverlayResult:
    """A case fitted to a CT. See :func:`fit_case`.

    Attributes
    ----------
    case
        The case file.
    labels
        Label map on the CT's grid (``uint8``; 0 background), with the CT's affine.
    regions
        The label table, in label-value order.
    findings
        One :class:`FindingResult` per region, in case-file order.
    points
        Landmark points (with display names and colours) and point findings.
    involvement
        The IVC involvement of the finding inside the IVC (None without one).
    involvement_finding
        The id of that finding.
    landmarks
        The landmark set used.
    warnings
        Warnings that concern the whole fit (per-finding ones are in ``findings``).
    involvement_missing
        Why ``involvement`` is None although the case has a finding inside the IVC (nothing
        of it is drawn on this CT); empty otherwise.
    landmarks_outside
        Landmarks the case needs that lie outside the CT's field of view.
    """

    case: CaseFile
    labels: Volume
    regions: list[RegionLabel]
    findings: list[FindingResult]
    points: list[LandmarkPoint]
    involvement: InvolvementLevel | None
    involvement_finding: str | None
    landmarks: Landmarks
    options: FitOptions
    warnings: list[str] = field(default_factory=list)
    #: Why the IVC level was not computed (empty when it was, or without a finding in the IVC).
    involvement_missing: str = ""
    #: Landmarks that lie outside the CT's field of view (see :func:`landmarks_outside`).
    landmarks_outside: list[str] = field(default_factory=list)

    @property
    def drawn(self) -> list[FindingResult]:
        """The findings of which something is drawn on the CT."""
        return [f for f in self.findings if f.n_voxels > 0]

    def finding(self, finding_id: str) -> FindingResult:
        """The result of one finding; :class:`KeyError` naming the ids there are."""
        for f in self.findings:
            if f.id == finding_id:
                return f
        raise KeyError(
            f"No drawn finding {finding_id!r}; the drawn findings are "
            f"{[f.id for f in self.findings]}."
        )

    def mask(self, finding_id: str) -> NDArray[np.bool_]:
        """Full-grid boolean mask of one finding's region."""
        f = self.finding(finding_id)
        return np.asarray(self.labels.array == f.label_value)

    @property
    def expected_involvement(self) -> ExpectedInvolvement | None:
        """The involvement level the case file expects for the IVC finding."""
        if self.involvement_finding is None:
            return None
        return self.case.finding(self.involvement_finding).relations.expected_involvement

    @property
    def expected_involvement_assumed(self) -> bool:
        """Whether the case file marks its expected involvement as an assumption of its own."""
        if self.involvement_finding is None:
            return False
        rel = self.case.finding(self.involvement_finding).relations
        return "expected_involvement" in rel.assumed

    def involvement_matches(self) -> dict[str, bool] | None:
        """Whether the computed Mayo level and IVC segment match the case file's expectation."""
        exp, lv = self.expected_involvement, self.involvement
        if exp is None or lv is None:
            return None
        out: dict[str, bool] = {}
        if exp.mayo_level is not None:
            out["mayo_level"] = lv.mayo_level == exp.mayo_level
        if exp.ivc_segment is not None:
            out["ivc_segment"] = lv.ivc_segment == exp.ivc_segment
        return out

    def label_names(self) -> dict[int, str]:
        """Label value -> display name."""
        return {r.value: r.name for r in self.regions}

    def to_json_dict(self) -> dict[str, Any]:
        """The ``findings.json`` document (see ``docs/overlay.md``)."""
        c = self.case
        ct = self.labels
        lm = self.landmarks
        lv = self.involvement
        exp = self.expected_involvement
        inv: dict[str, Any] | None = None
        if self.involvement_finding is not None:
            if lv is not None:
                inv = {"finding_id": self.involvement_finding, **lv.to_dict()}
            else:  # nothing of the finding is drawn: no level
                inv = {
                    "finding_id": self.involvement_finding,
                    "mayo_level": None,
                    "mayo_level_strict": None,
                    "ivc_segment": None,
                    "ivc_segments": [],
                    "lower_bound": False,
                    "top_z_mm": None,
                    "bottom_z_mm": None,
                    "top_above_renal_mm": None,
                    "levels_z_mm": {},
                    "notes": [self.involvement_missing] if self.involvement_missing else [],
                }
            inv["expected"] = (
                None
                if exp is None
                else {
                    "mayo_level": exp.mayo_level,
                    "ivc_segment": exp.ivc_segment,
                    "assumed": self.expected_involvement_assumed,
                }
            )
            inv["matches_expected"] = self.involvement_matches()
        used = sorted({n for f in self.findings for n in f.fit.landmarks_used})
        if self.involvement is not None:
            used = sorted(set(used) | set(self.involvement.levels_z_mm))
        points = {}
        for n in voc.POINT_LANDMARKS:
            if n in lm.points_lps:
                spec = c.landmark_spec(n)
                points[n] = {
                    "name": spec.name,
                    "position_lps": [_r(v) for v in lm.points_lps[n]],
                    "truncated": lm.is_truncated(n),
                    "used": n in used,
                    "method": lm.provenance.methods.get(n, ""),
                }
        centreline = None
        if lm.centreline_lps is not None and lm.centreline_radius_mm is not None:
            centreline = {
                "n_points": int(len(lm.centreline_lps)),
                "z_range_mm": [_r(lm.centreline_lps[0, 2]), _r(lm.centreline_lps[-1, 2])],
                "radius_mm": {
                    "min": _r(lm.centreline_radius_mm.min()),
                    "max": _r(lm.centreline_radius_mm.max()),
                },
                "used": "ivc_centreline" in used,
                "method": lm.provenance.methods.get("ivc_centreline", ""),
            }
        return {
            "format": FINDINGS_FORMAT,
            "format_version": FINDINGS_FORMAT_VERSION,
            "coordinate_system": "LPS",
            "case": {
                "id": c.case.id,
                "title": c.case.title,
                "file": str(c.path),
                "citation": (
                    None
                    if c.case.citation is None
                    else {"text": c.case.citation.text, "doi": c.case.citation.doi}
                ),
                "teaching_example": c.case.teaching_example,
            },
            "ct": {
                "shape": list(ct.shape),
                "spacing_mm": [_r(v, 4) for v in ct.spacing],
                "affine_lps": [[_r(v, 6) for v in row] for row in ct.affine],
            },
            "anatomy": {
                "source": lm.provenance.source,
                "description": lm.provenance.description,
                "truncated": list(lm.provenance.truncated),
                "warnings": list(lm.provenance.warnings),
            },
            "options": {
                "body_hu": self.options.body_hu,
                "bone_hu": self.options.bone_hu,
                "bone": self.options.bone.value,
                "min_bone_ml": self.options.min_bone_ml,
                "lobulation": self.options.lobulation,
                "radius_fraction": dict(self.options.radius_fraction),
            },
            "labels": {str(r.value): r.to_dict() for r in self.regions},
            "findings": [f.to_dict() for f in self.findings],
            "points": [p.to_dict() for p in self.points if p.finding_id is not None],
            "not_drawn": [
                {"id": f.id, "name": f.name, "kind": f.kind, "description": f.description}
                for f in c.findings
                if not f.spatial
            ],
            "ivc_involvement": inv,
            "landmarks": {
                "points": points,
                "ivc_centreline": centreline,
                "truncated": list(lm.provenance.truncated),
            },
            "landmarks_outside": list(self.landmarks_outside),
            "warnings": list(self.warnings),
        }

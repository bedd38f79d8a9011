"""A case's findings fitted to one CT: labelled regions on the CT's grid, measured and checked.

:func:`fit_case` is the one entry point: a CT, a case file, the CT's landmarks (from any anatomy
source) and, optionally, an anatomy label map with structure names. It returns an
:class:`OverlayResult`: a label map on the CT's own grid (any affine), the label table (value,
finding id, name, colour), each finding's measured extents and volume beside the reported
figures, what clipping changed, which of the case file's rules hold, the IVC involvement level,
and the landmark points with their names.

Steps, per finding drawn as a region (see ``docs/overlay.md``):

1. fit an analytic shape on the landmarks (:mod:`.fit`): a solid for a mass, a tube along the
   vessel for an intravascular tumour;
2. rasterise it at the voxel centres of the CT's grid, inside the shape's bounding box only
   (:mod:`.rasterise`);
3. clip it, recording each step's effect on the voxel count, the volume and the extents:
   the field of view; the body (a ``body`` label, else the CT above ``body_hu`` between the
   body's outermost voxels along each in-plane grid line, so gas and lung inside count as
   body); the
   structures of the finding's ``avoids`` rules; for solids, bone (bone labels of the label
   map, and CT above ``bone_hu`` in pieces of at least ``min_bone_ml``, holes filled);
4. resolve overlaps: a voxel claimed by a finding inside a vessel lumen and by a solid belongs
   to the lumen finding (the lumen holds the tumour thrombus, the mass lies outside it);
   between two solids, or two lumen findings, the one listed first in the case file keeps it;
5. measure the final regions (with :mod:`ivcviewer.measure`), and check the case file's rules
   on each region as fitted and clipped, before step 4 (where a mass enters the IVC, the
   label map shows the intravascular tumour, yet the mass does reach into the vessel).

Examples
--------
>>> from ivcviewer.geometry import affine_from_dicom
>>> from ivcviewer.annotations import default_case_path, load_case
>>> from ivcviewer.annotations.anatomy import Landmarks
>>> z = np.arange(-100.0, 181.0, 5.0)
>>> lm = Landmarks.from_points(
...     {"renal_vein_confluence": [-20, -10, 0], "intrahepatic_ivc_lower": [-20, -10, 100],
...      "hepatic_vein_confluence": [-20, -10, 150], "cavo_atrial_junction": [-20, -10, 180],
...      "right_psoas_at_mass": [-30, 30, 0], "liver_lower_edge": [-90, -40, 60]},
...     np.c_[np.full_like(z, -20.0), np.full_like(z, -10.0), z], np.full_like(z, 11.0))
>>> ct = Volume(np.zeros((60, 80, 80), np.int16),
...             affine_from_dicom([1, 0, 0, 0, 1, 0], [-200, -200, -120], [5, 5], [0, 0, 5]))
>>> res = fit_case(ct, load_case(default_case_path()), lm)
>>> res.involvement.mayo_level, [r.finding_id for r in res.regions]
('III', ['mass', 'intravascular_tumour'])
"""

from __future__ import annotations

import dataclasses
import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage as ndi

from .. import geometry
from .. import measure as msr
from ..errors import AnatomyError, CaseFileError, MeasurementError
from ..volume import Volume, VolumeMetadata
from . import vocabulary as voc
from .anatomy import Landmarks
from .casefile import CaseFile, ExpectedInvolvement, Finding
from .fit import (
    DEFAULT_LOBULATION,
    LUMEN_KINDS,
    OCCLUSION_RADIUS_FRACTION,
    SOLID_KINDS,
    SolidFit,
    TubeFit,
    TubeModel,
    fit_lumen,
    fit_solid,
    model_leaves_grid,
)
from .levels import SEGMENT_TOLERANCE_MM, InvolvementLevel, ivc_involvement
from .rasterise import CroppedMask, GridBox, block_coords

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


# --------------------------------------------------------------------------- result types


def _r(v: float, nd: int = 3) -> float:
    return round(float(v), nd)


def _axes_cm(d: Mapping[str, float] | None) -> dict[str, float] | None:
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
    status: str
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


@dataclass
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
            "warnings": list(self.warnings),
        }


@dataclass
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
                "citation": {"text": c.case.citation.text, "doi": c.case.citation.doi},
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

    def to_markdown(self) -> str:
        """A readable report (``findings.md``)."""
        from .report import overlay_markdown

        return overlay_markdown(self)


# --------------------------------------------------------------------------- anatomy access


def anatomy_names_for_case(
    names: Mapping[int, str], case: CaseFile, *, drop_solid_findings: bool = False
) -> dict[int, str]:
    """Label value -> structure name of an anatomy label map, with the case's findings resolved.

    A label named after a finding inside a vessel (kind ``intravascular_tumour`` or
    ``thrombus`` with a ``vessel``; the finding's id or name, case-insensitive) is renamed to
    that vessel: the finding fills the lumen, so the vessel's region is the vessel's own label
    together with that label. With ``drop_solid_findings`` a label named after any other
    finding is left out (a phantom's truth label map must not show the fit its answer).

    >>> from ivcviewer.annotations import default_case_path, load_case
    >>> case = load_case(default_case_path())
    >>> anatomy_names_for_case(
    ...     {1: "inferior_vena_cava", 2: "intravascular_tumour", 3: "mass"}, case,
    ...     drop_solid_findings=True)
    {1: 'inferior_vena_cava', 2: 'inferior_vena_cava'}
    """
    findings: dict[str, Finding] = {}
    for f in case.region_findings:
        findings.setdefault(f.id.lower(), f)
        findings.setdefault(f.name.lower(), f)
    out: dict[int, str] = {}
    for v, n in names.items():
        named = findings.get(str(n).lower())
        if named is None:
            out[int(v)] = str(n)
        elif named.kind in LUMEN_KINDS and named.relations.vessel is not None:
            out[int(v)] = named.relations.vessel
        elif not drop_solid_findings:
            out[int(v)] = str(n)
    return out


class _Anatomy:
    """Structure masks of an anatomy label map, read on boxes of the CT's grid."""

    def __init__(
        self,
        shape: tuple[int, int, int],
        affine: NDArray[np.float64],
        labels: Volume | None,
        names: Mapping[int, str] | None,
        landmarks: Landmarks,
    ) -> None:
        self.shape = shape
        self.affine = affine
        self.labels = labels
        self.landmarks = landmarks
        self.by_name: dict[str, list[int]] = {}
        self.same_grid = True
        self.to_label_ijk: NDArray[np.float64] | None = None
        if labels is None:
            return
        if names is None:
            raise AnatomyError(
                "Argument 'names' is needed with 'anatomy_labels' (label value -> structure "
                "name). Fix: pass the label map's table (TotalSegmentator class names)."
            )
        if not np.issubdtype(np.asarray(labels.array).dtype, np.integer):
            raise AnatomyError(
                f"Argument 'anatomy_labels' must hold integer label values, got dtype "
                f"{labels.array.dtype}. Fix: load the file as a label map."
            )
        for v, n in names.items():
            self.by_name.setdefault(str(n), []).append(int(v))
        self.same_grid = labels.shape == shape and bool(
            np.allclose(labels.affine, affine, atol=msr.GRID_ATOL)
        )
        if not self.same_grid:
            self.to_label_ijk = np.linalg.inv(labels.affine) @ affine

    def names_for(self, structure: str) -> list[str]:
        """Names of the label map that a structure (or ``prefix_*`` group) stands for."""
        return voc.expand_structure(structure, self.by_name)

    def has(self, structure: str) -> bool:
        """Whether the label map names the structure (or a member of the group)."""
        return bool(self.names_for(structure))

    def mask(self, names: list[str], box: GridBox) -> NDArray[np.bool_]:
        """Voxels of the box (CT grid) that carry any of the named structures."""
        values = [v for n in names for v in self.by_name.get(n, [])]
        if self.labels is None or not values or box.empty:
            return np.zeros(box.shape, dtype=bool)
        if self.same_grid:
            sub = self.labels.array[box.slices]
        else:
            if self.to_label_ijk is None:  # pragma: no cover
                raise AnatomyError("internal: no grid mapping")
            i, j, k = (np.rint(c).astype(np.int64) for c in block_coords(self.to_label_ijk, box))
            i, j, k = np.broadcast_arrays(i, j, k)
            ls = self.labels.shape
            ok = (i >= 0) & (i < ls[0]) & (j >= 0) & (j < ls[1]) & (k >= 0) & (k < ls[2])
            sub = np.zeros(box.shape, dtype=self.labels.array.dtype)
            sub[ok] = self.labels.array[i[ok], j[ok], k[ok]]
        if len(values) == 1:
            return np.asarray(sub == values[0])
        return np.isin(sub, values)

    def contains(self, names: list[str], points_lps: NDArray[np.float64]) -> NDArray[np.bool_]:
        """Whether LPS points fall in a voxel of the named structures (nearest voxel)."""
        values = [v for n in names for v in self.by_name.get(n, [])]
        if self.labels is None or not values or len(points_lps) == 0:
            return np.zeros(len(points_lps), dtype=bool)
        ijk = np.rint(geometry.lps_to_voxel(self.labels.affine, points_lps)).astype(np.int64)
        ls = np.asarray(self.labels.shape)
        ok = np.all((ijk >= 0) & (ijk < ls), axis=1)
        out = np.zeros(len(points_lps), dtype=bool)
        vals = self.labels.array[ijk[ok, 0], ijk[ok, 1], ijk[ok, 2]]
        out[ok] = np.isin(vals, values)
        return out

    def source_of(self, structure: str) -> str:
        """``labels``, ``centreline`` (the IVC from its centreline) or ``""`` (unavailable)."""
        if self.has(structure):
            return "labels"
        if structure == "inferior_vena_cava" and self.landmarks.has("ivc_centreline"):
            return "centreline"
        return ""

    def structure(self, structure: str, box: GridBox, margin_mm: float = 0.0) -> NDArray[np.bool_]:
        """A structure on a box, grown by ``margin_mm``, from the label map or the centreline."""
        src = self.source_of(structure)
        if src == "labels":
            names = self.names_for(structure)

            def fn(b: GridBox) -> NDArray[np.bool_]:
                return self.mask(names, b)

        elif src == "centreline":
            c, r = self.landmarks.centreline()
            tube = TubeModel(c, r + max(margin_mm, 0.0))
            return tube.rasterise(self.shape, self.affine, within=box).on(box)
        else:
            return np.zeros(box.shape, dtype=bool)
        if margin_mm <= 0:
            return fn(box)
        spacing = geometry.spacing_from_affine(self.affine)
        n = int(math.ceil(margin_mm / float(spacing.min()))) + 1
        big = box.grow(n, self.shape)
        m = fn(big)
        if not m.any():
            return np.zeros(box.shape, dtype=bool)
        d = ndi.distance_transform_edt(~m, sampling=tuple(float(s) for s in spacing))
        return np.asarray((d <= margin_mm)[box.relative_to(big)])


# --------------------------------------------------------------------------- masks from the CT


def cranio_caudal_axis(affine: NDArray[np.float64]) -> int:
    """The voxel axis whose direction is closest to cranio-caudal (z).

    >>> cranio_caudal_axis(np.diag([2.5, 0.7, 0.7, 1.0]))
    2
    >>> cranio_caudal_axis(np.eye(4)[[1, 2, 0, 3]])  # the slice axis runs along z
    0
    """
    cols = np.asarray(affine, dtype=float)[:3, :3]
    cos = np.abs(cols[2]) / np.linalg.norm(cols, axis=0)
    return int(np.argmax(cos))


def body_mask(ct: Volume, box: GridBox, body_hu: float) -> NDArray[np.bool_]:
    """The body on a box of the CT's grid: inside the body's outline, section by section.

    A voxel is body when, along both in-plane grid lines through it (the two voxel axes other
    than the one closest to cranio-caudal), it lies between the first and the last voxel above
    ``body_hu``: the body's outline filled, so that gas, lung and fat inside count as body.
    Only the lines through the box are read.

    >>> a = np.full((1, 7, 7), -1000); a[0, 1:6, 1:6] = 40; a[0, 3, 3] = -1000
    >>> ct = Volume(a, np.diag([1.0, 1.0, 1.0, 1.0])[[1, 2, 0, 3]])  # axis 0 runs along z
    >>> body_mask(ct, GridBox((0, 3, 0), (1, 4, 7)), -500).astype(int).ravel().tolist()
    [0, 1, 1, 1, 1, 1, 0]
    """
    arr = ct.array
    out = np.ones(box.shape, dtype=bool)
    cc = cranio_caudal_axis(ct.affine)
    for axis in range(3):
        if axis == cc:
            continue
        sl = list(box.slices)
        sl[axis] = slice(None)
        sub = np.asarray(arr[tuple(sl)] > body_hu)
        n = sub.shape[axis]
        any_ = sub.any(axis=axis, keepdims=True)
        first = np.argmax(sub, axis=axis, keepdims=True)
        last = n - 1 - np.argmax(np.flip(sub, axis=axis), axis=axis, keepdims=True)
        shape = [1, 1, 1]
        shape[axis] = box.shape[axis]
        idx = np.arange(box.lo[axis], box.hi[axis]).reshape(shape)
        out &= (idx >= first) & (idx <= last) & any_
    return out


def ct_bone_mask(ct: Volume, box: GridBox, bone_hu: float, min_ml: float) -> NDArray[np.bool_]:
    """Bone on a box of the CT's grid: voxels above ``bone_hu``, small pieces dropped, holes filled.

    Pieces (connected within the box) under ``min_ml`` are calcifications or contrast specks,
    not bone. Cavities the bone encloses within the box (cancellous bone below ``bone_hu``)
    are filled.
    """
    b = np.asarray(ct.array[box.slices] > bone_hu)
    if not b.any():
        return b
    lab, n = ndi.label(b)
    voxel_ml = abs(float(np.linalg.det(ct.affine[:3, :3]))) / 1000.0
    sizes = np.bincount(lab.ravel(), minlength=n + 1).astype(float) * voxel_ml
    keep = sizes >= min_ml
    keep[0] = False
    b = keep[lab]
    if not b.any():
        return b
    bg, _ = ndi.label(~b)
    faces = np.concatenate(
        [
            bg[0].ravel(),
            bg[-1].ravel(),
            bg[:, 0].ravel(),
            bg[:, -1].ravel(),
            bg[:, :, 0].ravel(),
            bg[:, :, -1].ravel(),
        ]
    )
    outside = np.zeros(int(bg.max()) + 1, dtype=bool)
    outside[np.unique(faces)] = True
    outside[0] = True
    return np.asarray(b | ~outside[bg])


def lumen_from_labels(
    fit: TubeFit,
    anatomy: _Anatomy,
    vessel: str,
) -> CroppedMask:
    """A lumen finding drawn with the vessel's own section from the label map.

    A voxel belongs to the finding when it lies between the tube's flat ends and the point
    reached by moving it away from the centreline (in its axial plane) by ``1 / fraction`` lies
    inside the vessel's mask: the vessel's section shrunk towards the centreline by the
    occlusion's radius fraction.
    """
    tube = fit.model
    f = float(fit.radius_fraction)
    c, r = anatomy.landmarks.centreline()
    reach = float(np.max(r)) * 2.5 + 5.0
    lo = tube.points_lps.min(axis=0) - np.array([reach, reach, 0.0])
    hi = tube.points_lps.max(axis=0) + np.array([reach, reach, 0.0])
    from .rasterise import box_of_lps

    box = box_of_lps(anatomy.shape, anatomy.affine, lo, hi)
    if box.empty:
        return CroppedMask.empty_on(box)
    names = anatomy.names_for(vessel)
    x, y, z = (np.broadcast_to(a, box.shape) for a in block_coords(anatomy.affine, box))
    # only voxels of the vessel can belong to its shrunk section
    keep = np.broadcast_to(tube._between_ends(x, y, z), box.shape) & anatomy.mask(names, box)
    zz = z[keep].astype(float)
    cx = np.interp(zz, c[:, 2], c[:, 0])
    cy = np.interp(zz, c[:, 2], c[:, 1])
    qx = cx + (x[keep] - cx) / f
    qy = cy + (y[keep] - cy) / f
    q = np.stack([qx, qy, zz], axis=1)
    member = anatomy.contains(names, q)
    out = CroppedMask.empty_on(box)
    out.mask[keep] = member
    return out


# --------------------------------------------------------------------------- the fit


def _extents(region: CroppedMask, affine: NDArray[np.float64]) -> AxisDict | None:
    if region.n_voxels == 0:
        return None
    return msr.extents_mm(region.mask, region.affine(affine))


class _Clipper:
    """Applies clipping steps to a region, recording each step's effect."""

    def __init__(self, region: CroppedMask, affine: NDArray[np.float64]) -> None:
        self.region = region
        self.affine = affine
        self.voxel_ml = abs(float(np.linalg.det(affine[:3, :3]))) / 1000.0
        self.steps: list[ClipStep] = []
        self._ext: AxisDict | None = _extents(region, affine)

    @property
    def extents(self) -> AxisDict | None:
        return self._ext

    def remove(self, reason: str, description: str, removed: NDArray[np.bool_]) -> int:
        """Remove ``removed`` (a mask over the region's box) and record the step if it did."""
        cut = removed & self.region.mask
        n = int(np.count_nonzero(cut))
        if n == 0:
            return 0
        before = self._ext
        self.region.mask &= ~cut
        self._ext = _extents(self.region, self.affine)
        self.steps.append(ClipStep(reason, description, n, n * self.voxel_ml, before, self._ext))
        return n


def _clip_warning(c: ClipStep) -> str:
    """One line saying what a clipping step removed and how it changed the extents."""
    what = (
        "the part outside is not drawn"
        if c.voxels_removed is None
        else f"{c.voxels_removed} voxels ({c.volume_removed_ml or 0.0:.1f} mL) removed"
    )
    ch = {a: v for a, v in c.extent_changes_mm().items() if abs(v) > 1e-6}
    if not c.extent_changes_mm():
        eff = "extents not measured"
    elif ch:
        eff = "extents changed: " + ", ".join(f"{a} {v / 10.0:+.2f} cm" for a, v in ch.items())
    else:
        eff = "extents unchanged"
    return f"Clipped ({c.reason}): {c.description}; {what}; {eff}."


def _outside_grid(
    points_lps: NDArray[np.float64], shape: tuple[int, int, int], affine: NDArray[np.float64]
) -> NDArray[np.bool_]:
    """Per point: whether it lies outside the grid's voxels (beyond half a voxel)."""
    ijk = geometry.lps_to_voxel(affine, np.atleast_2d(np.asarray(points_lps, dtype=float)))
    hi = np.asarray(shape, dtype=float) - 0.5
    return np.asarray(np.any((ijk < -0.5) | (ijk > hi), axis=1))


def landmarks_outside(
    shape: tuple[int, int, int],
    affine: NDArray[np.float64],
    landmarks: Landmarks,
    names: list[str] | None = None,
) -> list[str]:
    """The landmarks (of ``names``, default all) that lie outside a grid's field of view.

    A point landmark is outside when its voxel lies beyond the grid; ``ivc_centreline`` when
    every one of its points does. Landmarks derived from a label map of the same CT never lie
    outside (one at the edge is truncated, not outside); landmarks of another scan may.
    """
    wanted = list(landmarks.points_lps) if names is None else list(names)
    out = [
        n
        for n in wanted
        if n in landmarks.points_lps
        and bool(_outside_grid(landmarks.points_lps[n], shape, affine)[0])
    ]
    c = landmarks.centreline_lps
    if (names is None or "ivc_centreline" in wanted) and c is not None and len(c):
        if bool(np.all(_outside_grid(c, shape, affine))):
            out.append("ivc_centreline")
    return out


def _empty_section_step(
    fit: TubeFit,
    vessel: str,
    anatomy: _Anatomy,
    shape: tuple[int, int, int],
    affine: NDArray[np.float64],
) -> ClipStep:
    """The clipping step that says a lumen finding's vessel section is empty in the label map."""
    circle = fit.model.rasterise(shape, affine)
    n = circle.n_voxels
    voxel_ml = abs(float(np.linalg.det(affine[:3, :3]))) / 1000.0
    labels = ", ".join(f"{v} ({vessel})" for v in anatomy.by_name.get(vessel, [])) or vessel
    return ClipStep(
        "vessel_section",
        f"the label map's {vessel} (label {labels}) holds no voxel between the tumour's ends "
        "near the centreline, so its section is empty there. A finding labelled apart from "
        "the vessel counts as part of it only under the finding's id or name",
        n if n else None,
        n * voxel_ml if n else None,
        _extents(circle, affine),
        None,
    )


def _involvement(
    results: list[FindingResult],
    landmarks: Landmarks,
    shape: tuple[int, int, int],
    affine: NDArray[np.float64],
) -> tuple[InvolvementLevel | None, str | None, str]:
    """The IVC level of the drawn finding inside the IVC that reaches highest.

    Returns the level (None when nothing of such a finding is drawn), the finding's id (None
    without such a finding) and, when the level is not computed, why.
    """
    tubes = [
        r
        for r in results
        if isinstance(r.fit, TubeFit) and r.finding.relations.vessel == "inferior_vena_cava"
    ]
    if not tubes:
        return None, None, ""
    drawn = [r for r in tubes if r.z_span_lps is not None and r.n_voxels > 0]
    if not drawn:
        reasons = sorted({c.reason for r in tubes for c in r.clipping})
        why = f" (clipping: {', '.join(reasons)})" if reasons else ""
        return (
            None,
            tubes[0].id,
            f"IVC involvement not computed: nothing of {', '.join(r.id for r in tubes)} is "
            f"drawn on this CT{why}; the level is read from the drawn region only.",
        )
    top = max(drawn, key=lambda r: r.z_span_lps[1] if r.z_span_lps else -math.inf)
    tf = top.fit
    if not isinstance(tf, TubeFit) or top.z_span_lps is None:  # pragma: no cover
        raise AnatomyError("internal: the IVC finding has no tube")
    z0, z1 = top.z_span_lps
    step = float(msr.patient_axis_voxel_mm(affine)["cc"])
    # the drawn voxel centres may end up to half a slice beyond the tumour's true ends
    lv = ivc_involvement(z0, z1, landmarks, tolerance_mm=SEGMENT_TOLERANCE_MM + step / 2)
    notes = list(lv.notes)
    lower_bound = lv.lower_bound
    if tf.z_to_mm - z1 > step + 1e-6 or z0 - tf.z_from_mm > step + 1e-6:
        reasons = sorted({c.reason for c in top.clipping})
        notes.append(
            f"The fitted tumour runs from z = {tf.z_from_mm:.1f} to {tf.z_to_mm:.1f} mm; on this "
            f"CT it is drawn from {z0:.1f} to {z1:.1f} mm"
            + (f" (clipping: {', '.join(reasons)})" if reasons else "")
            + ", and the level is read from the drawn part."
        )
    ends = tf.model.points_lps
    upper = ends[int(np.argmax(ends[:, 2]))]
    if bool(_outside_grid(upper, shape, affine)[0]) and z1 < tf.z_to_mm - 1e-6:
        lower_bound = True
        notes.append(
            "The tumour's upper end lies beyond the CT's field of view: the level is a lower bound."
        )
    if tf.upper_end_is_bound and not lower_bound:
        notes.append(
            "The tumour's upper end was placed from a truncated landmark; with the "
            "landmark's true position it would lie higher."
        )
    return dataclasses.replace(lv, lower_bound=lower_bound, notes=notes), top.id, ""


def _fit_one(
    finding: Finding, landmarks: Landmarks, options: FitOptions, case: CaseFile
) -> SolidFit | TubeFit:
    if finding.kind in SOLID_KINDS:
        return fit_solid(finding, landmarks, lobulation=options.lobulation)
    if finding.kind in LUMEN_KINDS:
        return fit_lumen(finding, landmarks, radius_fraction=options.radius_fraction)
    raise CaseFileError(
        f"{case.path}: finding {finding.id!r} is of kind {finding.kind!r}, which ivcviewer "
        f"cannot place on a CT yet (regions: {', '.join(SOLID_KINDS + LUMEN_KINDS)}; points: "
        "landmark). Fix: use one of those kinds, or make it 'spatial: false'."
    )


def _check_rule(
    rule_name: str,
    structure: str,
    margin_mm: float,
    min_fraction: float,
    region: CroppedMask,
    anatomy: _Anatomy,
) -> RuleCheck:
    src = anatomy.source_of(structure)
    if not src:
        return RuleCheck(
            rule_name,
            structure,
            "not_checked",
            f"{structure} is not in the anatomy source (no label map names it)",
        )
    source = "label map" if src == "labels" else "IVC centreline and radius"
    n = region.n_voxels
    if n == 0:
        return RuleCheck(rule_name, structure, "violated", "the region is empty", source)
    if rule_name == "touches":
        box = region.box.grow(1, anatomy.shape)
        s = anatomy.structure(structure, box, margin_mm)
        grown = ndi.binary_dilation(region.on(box), structure=np.ones((3, 3, 3), bool))
        k = int(np.count_nonzero(grown & s))
        ok = k > 0
        detail = f"{k} voxels of {structure} lie in or next to the region"
    else:
        s = anatomy.structure(structure, region.box, margin_mm)
        k = int(np.count_nonzero(s & region.mask))
        frac = k / n
        if rule_name in ("overlaps", "reaches_into"):
            ok = k > 0
            detail = f"{k} voxels ({frac:.1%} of the region) lie inside {structure}"
        elif rule_name == "inside":
            ok = frac >= min_fraction - 1e-12
            grown = f" grown by {margin_mm:g} mm" if margin_mm else ""
            detail = (
                f"{frac:.1%} of the region lies inside {structure}{grown} "
                f"(needed: {min_fraction:.0%})"
            )
        elif rule_name == "avoids":
            ok = k == 0
            detail = f"{k} voxels of the region lie inside {structure}"
        else:  # pragma: no cover - the case file admits only the rules above
            raise CaseFileError(f"Unknown rule {rule_name!r}.")
    if margin_mm and rule_name != "inside":
        detail += f" (grown by {margin_mm:g} mm)"
    return RuleCheck(rule_name, structure, "satisfied" if ok else "violated", detail, source)


def _points(case: CaseFile, landmarks: Landmarks) -> list[LandmarkPoint]:
    out: list[LandmarkPoint] = []
    for n in voc.POINT_LANDMARKS:
        if n not in landmarks.points_lps:
            continue
        spec = case.landmark_spec(n)
        p = landmarks.points_lps[n]
        out.append(
            LandmarkPoint(
                n,
                spec.name,
                spec.colour,
                (float(p[0]), float(p[1]), float(p[2])),
                landmarks.is_truncated(n),
                None,
                n,
                spec.description or voc.LANDMARKS[n],
            )
        )
    for f in case.spatial_findings:
        if f.kind != "landmark" or f.relations.at_landmark is None:
            continue
        lm = f.relations.at_landmark
        landmarks.require([lm])
        p = landmarks.point(lm)
        out.append(
            LandmarkPoint(
                f.id,
                f.name,
                f.colour or "#FFFF00",
                (float(p[0]), float(p[1]), float(p[2])),
                landmarks.is_truncated(lm),
                f.id,
                lm,
                f.description,
            )
        )
    return out


def fit_case(
    ct: Volume,
    case: CaseFile,
    landmarks: Landmarks,
    anatomy_labels: Volume | None = None,
    names: Mapping[int, str] | None = None,
    *,
    options: FitOptions | None = None,
) -> OverlayResult:
    """Fit a case's findings to a CT and rasterise them on the CT's grid.

    Parameters
    ----------
    ct
        The CT (HU). Its grid (shape and affine, any orientation) is the grid of the result.
    case
        The validated case file.
    landmarks
        The CT's landmarks (from a label map, a landmarks JSON file or the phantom's truth).
    anatomy_labels
        Optional anatomy label map (any grid; read by nearest neighbour when it differs from
        the CT's): bone labels clip solids, its structures check the case file's rules and
        apply ``avoids`` rules. Without it the IVC comes from the centreline and radius, bone
        from the CT, and rules on other structures are reported as not checked.
    names
        Label value -> structure name of ``anatomy_labels`` (TotalSegmentator class names).
    options
        Thresholds and policies (:class:`FitOptions`).

    Returns
    -------
    OverlayResult
        Label map, label table, measurements, rule checks, IVC level, landmark points.

    Raises
    ------
    AnatomyError
        A landmark the case needs is absent (the message names it), or a finding cannot be
        placed on these landmarks.
    CaseFileError
        A finding of a kind that cannot be placed, or without the figures its shape needs.
    """
    opts = options if options is not None else FitOptions()
    if not isinstance(opts.bone, BoneSource):
        raise AnatomyError(f"Option 'bone' must be a BoneSource, got {opts.bone!r}.")
    shape = ct.shape
    affine = ct.affine
    landmarks.require(case.required_landmarks())
    if names is not None:
        names = anatomy_names_for_case(names, case)
    anatomy = _Anatomy(shape, affine, anatomy_labels, names, landmarks)
    warnings: list[str] = []
    outside = landmarks_outside(shape, affine, landmarks, case.required_landmarks())
    if outside:
        warnings.append(
            "Landmarks outside the CT's field of view (do they belong to another scan?): "
            + ", ".join(outside)
            + "."
        )
    is_ct = ct.metadata.modality.upper() == "CT"
    if not is_ct:
        warnings.append(
            f"The image's modality is {ct.metadata.modality!r}, not CT: no body or bone "
            "clipping from its values."
        )
    bone_labels = sorted(
        n for n in anatomy.by_name if n.startswith(BONE_PREFIXES) and n in voc.STRUCTURES
    )
    values = case.label_values()
    results: list[FindingResult] = []

    for f in case.region_findings:
        fit = _fit_one(f, landmarks, opts, case)
        is_solid = isinstance(fit, SolidFit)
        vessel = f.relations.vessel
        empty_section: ClipStep | None = None
        if isinstance(fit, TubeFit) and vessel is not None and anatomy.has(vessel):
            raw = lumen_from_labels(fit, anatomy, vessel)
            fit.method += (
                f"; section: the {vessel}'s own section in the label map, shrunk towards the "
                f"centreline by {fit.radius_fraction:g}"
            )
            fit.parameters["section"] = "label map"
            if raw.n_voxels == 0:
                empty_section = _empty_section_step(fit, vessel, anatomy, shape, affine)
        else:
            raw = fit.model.rasterise(shape, affine)
            if isinstance(fit, TubeFit):
                fit.parameters["section"] = "circle of the centreline radius"
        fitted = _extents(raw, affine)
        clip = _Clipper(raw.copy(), affine)
        if empty_section is not None:
            clip.steps.append(empty_section)
        if model_leaves_grid(fit.model, shape, affine):
            model_ext: AxisDict | None = None
            if is_solid:
                a, b, c = fit.model.semi_axes_mm  # type: ignore[union-attr]
                model_ext = {"lr": 2 * a, "ap": 2 * b, "cc": 2 * c}
            clip.steps.append(
                ClipStep(
                    "field_of_view",
                    "the fitted shape reaches beyond the CT's field of view; the part outside "
                    "is not drawn",
                    None,
                    None,
                    model_ext,
                    fitted,
                )
            )
        box = raw.box
        if is_ct and not box.empty:
            if anatomy.has("body"):
                clip.remove("body", "outside the body (label 'body')", ~anatomy.mask(["body"], box))
            else:
                clip.remove(
                    "body",
                    f"outside the body (CT above {opts.body_hu:g} HU, filled)",
                    ~body_mask(ct, box, opts.body_hu),
                )
        for rule in f.relations.rules_of("avoids"):
            src = anatomy.source_of(rule.structure)
            if not src:
                fit.warnings.append(
                    f"Rule 'avoids {rule.structure}' not applied: the anatomy source has no "
                    f"{rule.structure}"
                    + (
                        " (bone from the CT is still avoided)."
                        if is_solid
                        and is_ct
                        and opts.bone in (BoneSource.CT, BoneSource.LABELS_AND_CT)
                        else "."
                    )
                )
                continue
            grown = f" grown by {rule.margin_mm:g} mm" if rule.margin_mm else ""
            clip.remove(
                "avoids",
                f"inside {rule.structure}{grown} (rule 'avoids')",
                anatomy.structure(rule.structure, box, rule.margin_mm),
            )
        if is_solid and not box.empty:
            if bone_labels and opts.bone in (BoneSource.LABELS, BoneSource.LABELS_AND_CT):
                clip.remove(
                    "bone_labels",
                    "inside bone of the label map ("
                    + ", ".join(bone_labels[:6])
                    + (" ..." if len(bone_labels) > 6 else "")
                    + ")",
                    anatomy.mask(bone_labels, box),
                )
            if is_ct and opts.bone in (BoneSource.CT, BoneSource.LABELS_AND_CT):
                clip.remove(
                    "bone_ct",
                    f"inside bone of the CT (above {opts.bone_hu:g} HU, pieces of at least "
                    f"{opts.min_bone_ml:g} mL, holes filled)",
                    ct_bone_mask(ct, box, opts.bone_hu, opts.min_bone_ml),
                )
        res = FindingResult(f, values[f.id], fit, clip.region)
        res.before_overlaps = clip.region.tight().copy()
        res.fitted_extents_mm = fitted
        res.clipping = clip.steps
        res.warnings = list(fit.warnings)
        results.append(res)

    # overlaps: lumen findings win over solids; otherwise the first listed keeps the voxel
    order = [r for r in results if r.finding.kind in LUMEN_KINDS] + [
        r for r in results if r.finding.kind not in LUMEN_KINDS
    ]
    for i, r in enumerate(order):
        clip = _Clipper(r.region, affine)
        for earlier in order[:i]:
            if earlier.region.box.intersect(r.region.box).empty:
                continue
            why = (
                "inside the vessel lumen"
                if earlier.finding.kind in LUMEN_KINDS and r.finding.kind not in LUMEN_KINDS
                else "listed earlier in the case file"
            )
            clip.remove(
                "overlap",
                f"overlaps {earlier.finding.id}, which keeps these voxels ({why})",
                earlier.region.on(r.region.box),
            )
        r.clipping.extend(clip.steps)

    labels = np.zeros(shape, dtype=np.uint8)
    for r in results:
        if r.region.n_voxels:
            labels[r.region.box.slices][r.region.mask] = r.label_value

    for r in results:
        region = r.region.tight()
        r.region = region
        r.n_voxels = region.n_voxels
        r.voxel_extent_mm = msr.patient_axis_voxel_mm(affine)
        if r.n_voxels == 0:
            reasons = ", ".join(dict.fromkeys(c.reason for c in r.clipping))
            r.warnings.append(
                "Nothing of this finding is drawn: its region is empty on this CT"
                + (f" (clipping: {reasons})." if reasons else ".")
            )
            continue
        aff = region.affine(affine)
        try:
            r.extents_mm = msr.extents_mm(region.mask, aff)
            r.volume_ml = msr.volume_ml(region.mask, aff)
            r.centroid_lps = msr.centroid_lps(region.mask, aff)
        except MeasurementError as err:  # pragma: no cover - the region is not empty here
            r.warnings.append(f"Not measured: {err}")
        r.z_span_lps = region.z_span_lps(affine)
        for c in r.clipping:
            if c.reason != "overlap":
                r.warnings.append(_clip_warning(c))
        rep = r.reported_extents_mm
        if rep is not None and r.extents_mm is not None:
            r.comparison = msr.compare_extents(r.extents_mm, rep, r.voxel_extent_mm)
            off = [a for a, ok in (r.within_one_voxel() or {}).items() if not ok]
            if off:
                changed = r.clipping_changed_extents()
                why = (
                    "; changed by: " + ", ".join(sorted({c.reason for c in changed}))
                    if changed
                    else ""
                )
                r.warnings.append(
                    "Measured extents differ from the reported ones by more than one voxel "
                    f"along {', '.join(off)}{why}."
                )
        checked = r.before_overlaps if r.before_overlaps is not None else region
        for rule in r.finding.relations.rules:
            r.rules.append(
                _check_rule(
                    rule.rule, rule.structure, rule.margin_mm, rule.min_fraction, checked, anatomy
                )
            )
        for chk in r.rules:
            if chk.status == "violated":
                r.warnings.append(f"Rule '{chk.rule} {chk.structure}' does not hold: {chk.detail}.")

    involvement, inv_id, inv_missing = _involvement(results, landmarks, shape, affine)
    if inv_missing:
        warnings.append(inv_missing)

    regions = [
        RegionLabel(
            values[r.id], r.id, r.finding.name, r.finding.colour or "#FF0000", r.finding.kind
        )
        for r in results
    ]
    regions.sort(key=lambda x: x.value)
    meta = VolumeMetadata(
        modality="SEG",
        description=f"{case.case.id}: findings fitted to this CT",
        frame_of_reference_uid=ct.metadata.frame_of_reference_uid,
        series_uid="",
        study_uid=ct.metadata.study_uid,
        patient_id=ct.metadata.patient_id,
        source="ivcviewer overlay",
    )
    label_vol = Volume(labels, affine.copy(), meta)
    if landmarks.provenance.truncated:
        warnings.append(
            "Landmarks at the edge of the field of view (bounds, not positions): "
            + ", ".join(landmarks.provenance.truncated)
            + "."
        )
    return OverlayResult(
        case=case,
        labels=label_vol,
        regions=regions,
        findings=results,
        points=_points(case, landmarks),
        involvement=involvement,
        involvement_finding=inv_id,
        landmarks=landmarks,
        options=opts,
        warnings=warnings,
        involvement_missing=inv_missing,
        landmarks_outside=outside,
    )


def dice(a: NDArray[np.bool_], b: NDArray[np.bool_]) -> float:
    """Dice coefficient of two masks of one grid (1.0 when both are empty).

    >>> dice(np.array([1, 1, 0], bool), np.array([1, 0, 0], bool))
    0.6666666666666666
    """
    a = np.asarray(a, dtype=bool)
    b = np.asarray(b, dtype=bool)
    s = int(np.count_nonzero(a)) + int(np.count_nonzero(b))
    if s == 0:
        return 1.0
    return 2.0 * int(np.count_nonzero(a & b)) / s


__all__ = [
    "BONE_PREFIXES",
    "BoneSource",
    "ClipStep",
    "FindingResult",
    "FitOptions",
    "LandmarkPoint",
    "OverlayResult",
    "RegionLabel",
    "RuleCheck",
    "anatomy_names_for_case",
    "body_mask",
    "ct_bone_mask",
    "dice",
    "fit_case",
    "landmarks_outside",
]

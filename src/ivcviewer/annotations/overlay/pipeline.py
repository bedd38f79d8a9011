"""The overlay pipeline: :func:`fit_case` runs the stages in order.

``fit_shapes -> rasterise_fits -> clip -> resolve_overlaps -> measure_regions -> check_rules
-> occupancy -> ivc_level``; each stage takes the previous one's values and returns new ones.

Examples
--------
>>> import numpy as np
>>> from ivcviewer.geometry import affine_from_dicom
>>> from ivcviewer.annotations import default_case_path, load_case
>>> from ivcviewer.annotations.anatomy import Landmarks
>>> from ivcviewer.volume import Volume
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

from collections.abc import Mapping

import numpy as np
from numpy.typing import NDArray

from ...errors import AnatomyError
from ...volume import Volume, VolumeMetadata
from ..anatomy import Landmarks
from ..anatomy.references import References
from ..casefile import CaseFile
from .anatomy_access import AnatomyAccess, anatomy_names_for_case
from .check_rules import check_rules
from .clip import clip, is_ct_image
from .fit_shapes import fit_shapes
from .ivc_level import ivc_level
from .landmark_points import landmark_points, landmarks_outside
from .measure_regions import measure_regions
from .occupancy import occupancy
from .rasterise_fits import rasterise_fits
from .resolve_overlaps import paint_labels, resolve_overlaps
from .results import BoneSource, FindingResult, FitOptions, OverlayResult, RegionLabel


def _label_volume(labels: NDArray[np.uint8], ct: Volume, case: CaseFile) -> Volume:
    """The label map as a volume on the CT's grid, described as the case's findings."""
    meta = VolumeMetadata(
        modality="SEG",
        description=f"{case.case.id}: findings fitted to this CT",
        frame_of_reference_uid=ct.metadata.frame_of_reference_uid,
        series_uid="",
        study_uid=ct.metadata.study_uid,
        patient_id=ct.metadata.patient_id,
        source="ivcviewer overlay",
    )
    return Volume(labels, ct.affine.copy(), meta)


def _region_labels(findings: tuple[FindingResult, ...]) -> list[RegionLabel]:
    """The label table, in label-value order."""
    regions = [
        RegionLabel(
            r.label_value, r.id, r.finding.name, r.finding.colour or "#FF0000", r.finding.kind
        )
        for r in findings
    ]
    regions.sort(key=lambda x: x.value)
    return regions


def _grid_warnings(ct: Volume, outside: list[str]) -> list[str]:
    """Warnings on the landmarks outside the CT and on an image that is not a CT."""
    warnings: list[str] = []
    if outside:
        warnings.append(
            "Landmarks outside the CT's field of view (do they belong to another scan?): "
            + ", ".join(outside)
            + "."
        )
    if not is_ct_image(ct):
        warnings.append(
            f"The image's modality is {ct.metadata.modality!r}, not CT: no body or bone "
            "clipping from its values."
        )
    return warnings


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
    landmarks.require(case.required_landmarks())
    if names is not None:
        names = anatomy_names_for_case(names, case)
    anatomy = AnatomyAccess(ct.grid, anatomy_labels, names, landmarks)
    outside = landmarks_outside(ct.shape, ct.affine, landmarks, case.required_landmarks())
    warnings = _grid_warnings(ct, outside)

    references = References(landmarks, anatomy_labels, names)
    try:
        references.require(case.required_references())
    except AnatomyError as err:  # name the case file whose findings need the reference
        raise AnatomyError(f"{case.path}: {err}") from err
    shapes = fit_shapes(case, landmarks, opts, references)
    drawn = rasterise_fits(shapes, anatomy)
    clipped = clip(drawn, ct, anatomy, opts)
    resolved = resolve_overlaps(clipped, ct.affine)
    measured = measure_regions(resolved, ct.affine)
    findings = occupancy(check_rules(measured, anatomy), anatomy, case.checks.organ_share_warning)
    involvement, inv_id, inv_missing = ivc_level(findings, landmarks, ct.grid)

    if inv_missing:
        warnings.append(inv_missing)
    if landmarks.provenance.truncated:
        warnings.append(
            "Landmarks at the edge of the field of view (bounds, not positions): "
            + ", ".join(landmarks.provenance.truncated)
            + "."
        )
    return OverlayResult(
        case=case,
        labels=_label_volume(paint_labels(resolved, ct.shape), ct, case),
        regions=_region_labels(findings),
        findings=list(findings),
        points=landmark_points(case, landmarks),
        involvement=involvement,
        involvement_finding=inv_id,
        landmarks=landmarks,
        options=opts,
        warnings=warnings,
        involvement_missing=inv_missing,
        landmarks_outside=outside,
    )

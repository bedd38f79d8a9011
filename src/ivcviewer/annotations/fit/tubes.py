"""Findings inside a vessel fitted as a tube along the vessel's centreline (:func:`fit_lumen`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ...errors import AnatomyError, CaseFileError
from ..anatomy import Landmarks
from ..anatomy.references import References
from ..casefile import Finding
from .kinds import CENTRELINE_VESSELS, OCCLUSION_RADIUS_FRACTION
from .placement import require_centreline
from .shapes import TubeModel


@dataclass(frozen=True)
class TubeFit:
    """A finding inside a vessel, placed along the vessel's centreline."""

    finding_id: str
    model: TubeModel
    method: str
    z_from_mm: float
    z_to_mm: float
    radius_fraction: float
    parameters: dict[str, Any] = field(default_factory=dict)
    landmarks_used: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: The upper end was set from a landmark at the edge of the field of view (a lower bound).
    upper_end_is_bound: bool = False


def fit_lumen(
    finding: Finding,
    landmarks: Landmarks,
    *,
    radius_fraction: Mapping[str, float] | None = None,
    references: References | None = None,
) -> TubeFit:
    """Place a finding inside a vessel as a tube along the vessel's centreline.

    Parameters
    ----------
    finding
        A finding of a kind in :data:`LUMEN_KINDS` whose ``vessel`` has a centreline.
    landmarks
        The anatomy (the centreline with its radius, and the end landmarks).
    radius_fraction
        Occlusion -> fraction of the vessel radius (default :data:`OCCLUSION_RADIUS_FRACTION`).
    references
        The anatomy's structure references: the ends may be any point reference (a vertebral
        level such as ``level_L1``); default the landmarks alone.

    Raises
    ------
    AnatomyError
        A landmark is absent, or the ends leave no length inside the vessel.
    CaseFileError
        The finding names no vessel.
    """
    rel = finding.relations
    fractions = dict(OCCLUSION_RADIUS_FRACTION if radius_fraction is None else radius_fraction)
    if rel.vessel is None:
        raise CaseFileError(
            f"Finding {finding.id!r} (kind {finding.kind!r}) names no vessel. Fix: add "
            f"'vessel: inferior_vena_cava' to its relations."
        )
    require_centreline(finding, rel.vessel, landmarks)
    refs = references if references is not None else References(landmarks)
    used = [CENTRELINE_VESSELS[rel.vessel]]
    warnings: list[str] = []
    c, r = landmarks.centreline()
    zc0, zc1 = float(c[0, 2]), float(c[-1, 2])
    if rel.from_landmark is not None:
        z_from = refs.z(rel.from_landmark) + rel.from_offset_mm
        used.append(rel.from_landmark)
    else:
        z_from = zc0
    upper_bound = False
    if rel.to_landmark is not None:
        z_to = refs.z(rel.to_landmark) + rel.to_offset_mm
        used.append(rel.to_landmark)
        if refs.is_truncated(rel.to_landmark):
            upper_bound = True
            warnings.append(
                f"{rel.to_landmark} lies at the edge of the field of view (the true landmark "
                f"lies at or above z = {refs.z(rel.to_landmark):.1f} mm), so the upper end "
                f"placed from it (z = {z_to:.1f} mm) is a lower bound of where the case file's "
                "rule would put it."
            )
    else:
        z_to = zc1
    if z_from < zc0:
        warnings.append(
            f"The lower end (z = {z_from:.1f} mm) lies below the {rel.vessel} centreline; "
            f"it starts at the centreline's lower end (z = {zc0:.1f} mm)."
        )
        z_from = zc0
    if z_to > zc1:
        warnings.append(
            f"The upper end (z = {z_to:.1f} mm) lies above the {rel.vessel} centreline; it "
            f"stops at the centreline's upper end (z = {zc1:.1f} mm)."
        )
        z_to = zc1
        upper_bound = upper_bound or "cavo_atrial_junction" in landmarks.provenance.truncated
    if z_to - z_from < 1e-3:
        raise AnatomyError(
            f"Finding {finding.id!r}: its lower end (z = {z_from:.1f} mm, from "
            f"{rel.from_landmark or 'the centreline start'}) is not below its upper end "
            f"(z = {z_to:.1f} mm, from {rel.to_landmark or 'the centreline end'}). Fix: check "
            "the landmarks (or the case file's offsets)."
        )
    occ = rel.occlusion or "partial"
    if occ not in fractions:
        raise AnatomyError(
            f"Argument 'radius_fraction' lacks occlusion {occ!r}; it has {sorted(fractions)}."
        )
    frac = float(fractions[occ])
    inner = (c[:, 2] > z_from) & (c[:, 2] < z_to)
    p0, r0 = landmarks.centreline_at_z(z_from)
    p1, r1 = landmarks.centreline_at_z(z_to)
    pts = np.vstack([p0[None], c[inner], p1[None]])
    rad = np.concatenate([[r0], r[inner], [r1]]) * frac
    model = TubeModel(pts, rad)
    method = (
        f"tube along the {rel.vessel} centreline from "
        f"{rel.from_landmark or 'its lower end'}"
        + (f" {rel.from_offset_mm:+g} mm" if rel.from_offset_mm else "")
        + f" to {rel.to_landmark or 'its upper end'}"
        + (f" {rel.to_offset_mm:+g} mm" if rel.to_offset_mm else "")
        + f", radius {frac:g} x the local vessel radius (occlusion {occ})"
    )
    params = {
        "z_from_mm": round(z_from, 3),
        "z_to_mm": round(z_to, 3),
        "length_along_z_mm": round(z_to - z_from, 3),
        "occlusion": occ,
        "radius_fraction": frac,
    }
    return TubeFit(
        finding.id, model, method, z_from, z_to, frac, params, used, warnings, upper_bound
    )

"""Solid findings fitted as a lobulated ellipsoid of their reported extents (:func:`fit_solid`)."""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ...errors import CaseFileError
from ..anatomy import Landmarks
from ..anatomy.references import References
from ..casefile import Finding, Placement
from ..vocabulary import SELF_LEVELLED_PLACEMENTS
from .anchored import place_from_references
from .kinds import CENTRELINE_VESSELS, DEFAULT_LOBULATION, ORIGIN_LANDMARKS, SHAPE_EXPONENTS
from .placement import (
    mass_centre_from_relations,
    origin_point,
    placement_of,
    placement_points,
    require_centreline,
    solid_extents_mm,
    vessel_contact,
)
from .shapes import SolidModel


def _seed_phases(key: str) -> tuple[float, float]:
    """Two deterministic phases (radians) from a text key."""
    h = zlib.crc32(key.encode("utf-8"))
    return (2 * math.pi * ((h & 0xFFFF) / 65536.0), 2 * math.pi * ((h >> 16) / 65536.0))


@dataclass(frozen=True)
class SolidFit:
    """A solid finding placed on the landmarks."""

    finding_id: str
    model: SolidModel
    method: str
    parameters: dict[str, Any] = field(default_factory=dict)
    landmarks_used: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _RulePlacement:
    """A solid's centre from its placement rule, with how it was found."""

    centre_lps: NDArray[np.float64]
    method: str
    parameters: dict[str, Any]
    points: dict[str, NDArray[np.float64]]
    warnings: list[str]


def _centre_level(
    finding: Finding, landmarks: Landmarks, origin_lps: NDArray[np.float64] | None
) -> tuple[float, list[str]]:
    """The z of a solid's centre (its ``centre_level``, else its origin's) and any warning."""
    rel = finding.relations
    if rel.centre_level is not None:
        landmarks.require([rel.centre_level])
        warnings: list[str] = []
        if landmarks.is_truncated(rel.centre_level):
            warnings.append(
                f"The centre level {rel.centre_level} lies at the edge of the field of view "
                "(the true landmark lies at or beyond it): the solid's level is uncertain."
            )
        return landmarks.z(rel.centre_level), warnings
    if origin_lps is not None:
        return float(origin_lps[2]), []
    raise CaseFileError(
        f"Finding {finding.id!r}: nothing gives its level. Fix: add 'centre_level' or an "
        f"'origin_structure' with a landmark ({', '.join(ORIGIN_LANDMARKS)}) to its relations."
    )


def _check_vessel_side(
    finding: Finding, landmarks: Landmarks, origin_lps: NDArray[np.float64] | None
) -> None:
    """A solid reaching into a vessel without a stated placement needs a centreline and a side."""
    vessel = vessel_contact(finding)
    if finding.relations.placement is None and vessel is not None:
        require_centreline(finding, vessel, landmarks)
        if origin_lps is None:
            raise CaseFileError(
                f"Finding {finding.id!r}: a solid that reaches into a vessel needs the structure "
                "it arises from to know its side. Fix: add 'origin_structure' (for example "
                "'iliopsoas_right') or a 'placement' to its relations."
            )


def _rule_method(pl: Placement, level_name: str | None, side: float, through_all: bool) -> str:
    """How a placement rule placed the solid, in words."""
    names = pl.landmarks()
    first, last = names[0], names[-1]
    through = " and ".join(
        f"{n}" + (f" ({t.depth_mm:+g} mm towards the midline)" if t.depth_mm else "")
        for n, t in zip(names, pl.through, strict=True)
    )
    return (
        f"centre at the level of {level_name}; the outline's axial section there runs "
        f"through {through}, the solid lying on the {'right' if side < 0 else 'left'} "
        "side of the line joining them"
        if through_all and len(names) == 2
        else f"centre at the level of {level_name}; the outline runs through {first}, the "
        f"centre towards the {'right' if side < 0 else 'left'}"
        + (f" on the line towards {last}" if len(names) == 2 else "")
    )


def _vessel_parameters(
    finding: Finding,
    landmarks: Landmarks,
    z0: float,
    centre_lps: NDArray[np.float64],
    semi_axis_x: float,
    side: float,
    vessel_distance: float,
) -> tuple[dict[str, Any], list[str]]:
    """Where the solid meets the vessel whose centreline it runs through, and any warning."""
    v, r = landmarks.centreline_at_z(z0)
    medial_end_x = float(centre_lps[0] - side * semi_axis_x)
    beyond = float(-side * (medial_end_x - v[0]))  # > 0: the medial end lies past V
    vname = finding.relations.vessel or "vessel"
    params = {
        "vessel_point_lps": [round(float(t), 3) for t in v],
        "vessel_radius_mm": round(float(r), 3),
        "vessel_normalised_distance": round(vessel_distance, 4),
        "medial_end_beyond_vessel_axis_mm": round(beyond, 3),
    }
    warnings = []
    if beyond > r:
        warnings.append(
            f"The solid reaches {beyond - r:.1f} mm medially beyond the {vname}'s "
            "wall at its centre level."
        )
    return params, warnings


def _place_by_rule(
    finding: Finding,
    landmarks: Landmarks,
    pl: Placement,
    z0: float,
    semi_axes: tuple[float, float, float],
    level_name: str | None,
    origin_lps: NDArray[np.float64] | None,
) -> _RulePlacement:
    """The solid's centre from its placement rule, with the rule's parameters and warnings."""
    points = placement_points(pl, landmarks, z0)
    sp = mass_centre_from_relations(finding, points, z0)
    ctr = sp.centre_lps
    side = -1.0 if (pl.side == "right" or (not pl.side and ctr[0] < 0)) else 1.0
    probe = SolidModel(ctr, semi_axes, 0.0)
    names = pl.landmarks()
    first, last = names[0], names[-1]
    rho = {n: probe.normalised_distance(q) for n, q in points.items()}
    warnings: list[str] = []
    if not sp.through_all:
        warnings.append(
            f"{last} and {first} lie too far apart for a solid of these extents to reach "
            f"both (normalised distance {rho[last]:.2f} of {last} from the centre, above 1): "
            f"the outline runs through {first}, the centre on the line towards {last}."
        )
    params: dict[str, Any] = {
        "placement": {
            "rule": pl.rule,
            "stated_in_case_file": finding.relations.placement is not None,
            "side": "right" if side < 0 else "left",
            "through": [
                {
                    "landmark": t.landmark,
                    "depth_mm": t.depth_mm,
                    "point_lps": [round(float(v), 3) for v in points[t.landmark]],
                    "normalised_distance": round(rho[t.landmark], 4),
                }
                for t in pl.through
            ],
            "through_all": sp.through_all,
        },
        "side": "right" if side < 0 else "left",
    }
    cl = [n for n in names if n in CENTRELINE_VESSELS.values()]
    if cl:
        vessel_params, vessel_warnings = _vessel_parameters(
            finding, landmarks, z0, ctr, semi_axes[0], side, rho[cl[0]]
        )
        params.update(vessel_params)
        warnings += vessel_warnings
    if origin_lps is not None:
        params["origin_normalised_distance"] = round(probe.normalised_distance(origin_lps), 4)
    method = _rule_method(pl, level_name, side, sp.through_all)
    return _RulePlacement(ctr, method, params, points, warnings)


def _shape_model(
    finding: Finding,
    centre: NDArray[np.float64],
    semi_axes: tuple[float, float, float],
    lobulation: float,
) -> SolidModel:
    """The solid of the finding's shape (an ellipsoid, or a rounded box without bumps)."""
    exponent = SHAPE_EXPONENTS[finding.relations.shape]
    if exponent != 2.0:
        return SolidModel(centre, semi_axes, 0.0, exponent=exponent)
    return SolidModel(centre, semi_axes, lobulation, _seed_phases(finding.id))


def _fit_anchored(
    finding: Finding,
    pl: Placement,
    refs: References,
    semi_axes: tuple[float, float, float],
    lobulation: float,
) -> SolidFit:
    """A solid placed by a reference-based rule (``centred_in``, ``arises_from``,
    ``at_level``)."""
    placed = place_from_references(finding, pl, refs, semi_axes)
    params: dict[str, Any] = {
        "centre_level_z_mm": round(float(placed.centre_lps[2]), 3),
        "placement": {"rule": str(pl.rule), "stated_in_case_file": True, **placed.parameters},
        "references": {n: refs.method(n) for n in placed.references_used if refs.method(n)},
    }
    model = _shape_model(finding, placed.centre_lps, semi_axes, lobulation)
    return SolidFit(
        finding.id, model, placed.method, params, placed.references_used, placed.warnings
    )


def fit_solid(
    finding: Finding,
    landmarks: Landmarks,
    *,
    lobulation: float = DEFAULT_LOBULATION,
    references: References | None = None,
) -> SolidFit:
    """Place a solid finding (an ellipsoid of its reported extents) on a landmark set.

    The centre comes from :func:`mass_centre_from_relations` (the case file's placement rule;
    see the package docstring), the points from the landmarks.

    Parameters
    ----------
    finding
        A finding of a kind in :data:`SOLID_KINDS` with three reported extents.
    landmarks
        The anatomy.
    lobulation
        Amplitude of the surface's bumps (0 for a smooth ellipsoid).
    references
        The anatomy's structure references (:class:`References`; default: the landmarks
        alone), which the rules ``centred_in``, ``arises_from`` and ``at_level`` need.

    Returns
    -------
    SolidFit
        The model, the rule used and its parameters, the landmarks used, warnings.

    Raises
    ------
    AnatomyError
        A landmark the placement needs is absent.
    CaseFileError
        The finding lacks a reported extent or anything that places it.
    """
    lr, ap, cc = solid_extents_mm(finding)
    semi_axes = (lr / 2.0, ap / 2.0, cc / 2.0)
    rel = finding.relations
    if rel.placement is not None and rel.placement.rule in SELF_LEVELLED_PLACEMENTS:
        refs = references if references is not None else References(landmarks)
        return _fit_anchored(finding, rel.placement, refs, semi_axes, lobulation)
    origin_name, p = origin_point(finding, landmarks)
    z0, warnings = _centre_level(finding, landmarks, p)
    used = [n for n in (origin_name, rel.centre_level) if n is not None]
    level_name = rel.centre_level or origin_name
    _check_vessel_side(finding, landmarks, p)
    pl = placement_of(finding)
    params: dict[str, Any] = {"centre_level_z_mm": round(z0, 3)}
    if pl is not None:
        placed = _place_by_rule(finding, landmarks, pl, z0, semi_axes, level_name, p)
        used += [n for n in placed.points if n not in used]
        params.update(placed.parameters)
        ctr, method = placed.centre_lps, placed.method
        warnings += placed.warnings
    elif p is None:
        raise CaseFileError(
            f"Finding {finding.id!r}: nothing places it in the axial plane. Fix: add a "
            "'placement', an 'origin_structure' with a landmark, or a vessel it reaches into."
        )
    else:
        ctr = np.array([p[0], p[1], z0])
        method = f"centred on {origin_name} at the level of {level_name}"
        params["origin_normalised_distance"] = 0.0
    if p is not None and origin_name is not None:
        params["origin_lps"] = [round(float(t), 3) for t in p]
    model = _shape_model(finding, ctr, semi_axes, lobulation)
    return SolidFit(finding.id, model, method, params, used, warnings)

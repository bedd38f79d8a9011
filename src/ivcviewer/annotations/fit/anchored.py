"""Placement rules that place a solid from structure references: ``centred_in``,
``arises_from`` and ``at_level`` (:func:`place_from_references`).

Each gives the solid's whole centre (its level too) from the anatomy
(:class:`~..anatomy.references.References`); ``outline_through`` (:mod:`.placement`) is the
rule of the first case, placed at a ``centre_level``.

Examples
--------
>>> centre_beside(np.array([0.0, 0.0, 10.0]), 5.0, ("left",), None, (20.0, 15.0, 25.0), 2.0)
array([27.,  0., 10.])
>>> centre_off_surface(np.array([0.0, 0.0, 50.0]), ("superior",), None, (30, 30, 30), 5.0)
array([ 0.,  0., 75.])
>>> round(support_distance(np.array([0.6, 0.0, 0.8]), (30.0, 20.0, 40.0)), 3)
36.715
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ...errors import AnatomyError, CaseFileError
from ..anatomy.reference_names import combined_direction
from ..anatomy.references import References
from ..casefile import Finding, Placement
from .kinds import SHAPE_EXPONENTS


@dataclass(frozen=True)
class AnchoredPlacement:
    """Where a reference-based rule puts a solid's centre, and how."""

    centre_lps: NDArray[np.float64]
    method: str
    parameters: dict[str, Any]
    references_used: list[str]
    warnings: list[str]


def _r3(p: NDArray[np.float64]) -> list[float]:
    return [round(float(v), 3) for v in p]


def centroid_and_half_extents(
    pts: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """A structure's centroid and half extents along x, y, z (LPS mm) from its voxel centres:
    the frame in which ``centred_in`` reads its ``position``."""
    return pts.mean(axis=0), (pts.max(axis=0) - pts.min(axis=0)) / 2.0


def support_distance(
    d: NDArray[np.float64], semi_axes: tuple[float, float, float], exponent: float = 2.0
) -> float:
    """How far the solid reaches from its centre along the unit direction ``d`` (its support
    function: the distance of its tangent plane perpendicular to ``d``)."""
    q = exponent / (exponent - 1.0)
    a = np.abs(np.asarray(semi_axes, dtype=float) * np.asarray(d, dtype=float))
    return float(np.sum(a**q) ** (1.0 / q))


def centre_off_surface(
    anchor: NDArray[np.float64],
    towards: tuple[str, ...],
    structure: str | None,
    semi_axes: tuple[float, float, float],
    depth_mm: float,
    exponent: float = 2.0,
) -> NDArray[np.float64]:
    """Centre of a solid whose tangent plane perpendicular to ``towards`` passes through
    ``anchor`` (sunk ``depth_mm`` into the structure), lying beyond it."""
    d = combined_direction(towards, structure)
    h = support_distance(d, semi_axes, exponent)
    return np.asarray(anchor + d * (h - depth_mm), dtype=float)


def centre_beside(
    vessel_point: NDArray[np.float64],
    vessel_radius: float,
    towards: tuple[str, ...],
    structure: str | None,
    semi_axes: tuple[float, float, float],
    gap_mm: float,
    exponent: float = 2.0,
) -> NDArray[np.float64]:
    """Centre of a solid beside a vessel, its surface ``gap_mm`` from the vessel's wall."""
    d = combined_direction(towards, structure)
    reach = vessel_radius + gap_mm + support_distance(d, semi_axes, exponent)
    return np.asarray(vessel_point + d * reach, dtype=float)


def _centred_in(
    finding: Finding, pl: Placement, refs: References, semi_axes: tuple[float, float, float]
) -> AnchoredPlacement:
    assert pl.structure is not None
    s = pl.structure
    clicked = refs.landmarks.has(f"{s}.centroid")
    if clicked and not refs.has_structure(s) and pl.level is None and pl.position is None:
        # no label map of the structure: its centroid clicked by name places the solid
        centre = refs.point(f"{s}.centroid")
        params = {"structure": s, "base_point_lps": _r3(centre), "clicked": True}
        method = f"centred on the clicked centre of {s}"
        return AnchoredPlacement(centre, method, params, [f"{s}.centroid"], [])
    pts = refs.structure_points(s, f"{s}.centroid")
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    centroid, half = centroid_and_half_extents(pts)
    used = [f"{s}.centroid"]
    warnings: list[str] = []
    if pl.level is not None:
        z0 = refs.z(pl.level)
        used.append(pl.level)
        spacing = refs.spacing_of(s)
        band = pts[np.abs(pts[:, 2] - z0) <= float(spacing.max()) / 2.0 + 1e-6]
        if not len(band):
            raise AnatomyError(
                f"Finding {finding.id!r}: {s} does not reach the level of {pl.level} (z = "
                f"{z0:.1f} mm; {s} spans z {lo[2]:.1f} to {hi[2]:.1f} mm). Fix: choose a level "
                "inside the structure, or drop 'level' to centre on its centroid."
            )
        base = np.array([*band[:, :2].mean(axis=0), z0])
        where = f"the centroid of {s}'s section at the level of {pl.level}"
    else:
        base = centroid
        where = f"the centroid of {s}"
    pos = np.asarray(pl.position.as_lps() if pl.position is not None else (0.0, 0.0, 0.0))
    centre = base + pos * half
    moved = ""
    if np.any(pos != 0):
        moved = ", moved by " + ", ".join(
            f"{v:+g} x its half extent along {a}"
            for a, v in zip(("lr", "ap", "cc"), pos, strict=True)
            if v
        )
    params = {
        "structure": s,
        "base_point_lps": _r3(base),
        "structure_extent_mm": {
            a: round(float(2 * h), 1) for a, h in zip(("lr", "ap", "cc"), half, strict=True)
        },
        "position": {a: float(v) for a, v in zip(("lr", "ap", "cc"), pos, strict=True)},
    }
    if any(2 * a > 1.5 * 2 * h for a, h in zip(semi_axes, half, strict=True) if h > 0):
        warnings.append(
            f"The solid is much larger than {s} along at least one axis (solid "
            f"{', '.join(f'{2 * a:.0f}' for a in semi_axes)} mm; {s} "
            f"{', '.join(f'{2 * h:.0f}' for h in half)} mm): most of it lies outside {s}."
        )
    return AnchoredPlacement(centre, f"centred on {where}{moved}", params, used, warnings)


def _arises_from(
    finding: Finding, pl: Placement, refs: References, semi_axes: tuple[float, float, float]
) -> AnchoredPlacement:
    assert pl.structure is not None and pl.towards
    ref, anchor = refs.surface_point(pl.structure, pl.towards)
    centre = centre_off_surface(
        anchor,
        pl.towards,
        pl.structure,
        semi_axes,
        pl.depth_mm,
        SHAPE_EXPONENTS[finding.relations.shape],
    )
    warnings: list[str] = []
    if refs.is_truncated(ref):
        warnings.append(
            f"{ref} lies at the edge of the field of view: the structure goes on beyond it and "
            "the solid's place is uncertain."
        )
    sunk = f", sunk {pl.depth_mm:g} mm into it" if pl.depth_mm > 0 else ""
    gap = f", {-pl.depth_mm:g} mm off it" if pl.depth_mm < 0 else ""
    method = (
        f"touching {pl.structure}'s surface where the line from its centroid towards "
        f"{pl.towards_text} leaves it, and growing that way{sunk}{gap}"
    )
    params = {
        "structure": pl.structure,
        "towards": list(pl.towards),
        "anchor_lps": _r3(anchor),
        "depth_mm": pl.depth_mm,
    }
    return AnchoredPlacement(centre, method, params, [ref], warnings)


def _at_level(
    finding: Finding, pl: Placement, refs: References, semi_axes: tuple[float, float, float]
) -> AnchoredPlacement:
    assert pl.level is not None and pl.vessel is not None and pl.towards
    vertical = [t for t in pl.towards if t in ("superior", "inferior")]
    if vertical:
        raise CaseFileError(
            f"Finding {finding.id!r}: 'at_level' puts the solid beside the vessel in the axial "
            f"plane; 'towards: {vertical[0]}' leaves it. Fix: use left, right, anterior, "
            "posterior, medial or lateral."
        )
    z0 = refs.z(pl.level)
    v, r = refs.centre_at_z(pl.vessel, z0)
    centre = centre_beside(
        v, r, pl.towards, pl.vessel, semi_axes, pl.gap_mm, SHAPE_EXPONENTS[finding.relations.shape]
    )
    method = (
        f"centre at the level of {pl.level}, {pl.towards_text} of the {pl.vessel} "
        f"(its surface {pl.gap_mm:g} mm from the vessel's wall)"
    )
    params = {
        "level": pl.level,
        "level_z_mm": round(z0, 3),
        "vessel": pl.vessel,
        "vessel_point_lps": _r3(v),
        "vessel_radius_mm": round(r, 3),
        "towards": list(pl.towards),
        "gap_mm": pl.gap_mm,
    }
    warnings = []
    if refs.is_truncated(pl.level):
        warnings.append(f"{pl.level} lies at the edge of the field of view: the level is a bound.")
    return AnchoredPlacement(
        centre, method, params, [pl.level, f"{pl.vessel}.centreline"], warnings
    )


_RULES = {"centred_in": _centred_in, "arises_from": _arises_from, "at_level": _at_level}


def place_from_references(
    finding: Finding, pl: Placement, refs: References, semi_axes: tuple[float, float, float]
) -> AnchoredPlacement:
    """The centre of a solid placed by ``centred_in``, ``arises_from`` or ``at_level``.

    Raises
    ------
    AnatomyError
        A structure or reference the rule needs is absent from the anatomy.
    CaseFileError
        The rule's fields do not place the solid (``at_level`` towards the head or feet).
    """
    fn = _RULES.get(str(pl.rule))
    if fn is None:  # pragma: no cover - the case file admits only the rules above
        raise CaseFileError(f"Finding {finding.id!r}: unknown placement rule {pl.rule!r}.")
    return fn(finding, pl, refs, semi_axes)

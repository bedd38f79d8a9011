"""Placement rules of solid findings: where a solid's centre lies among the landmarks.

:func:`mass_centre_from_relations` is the one implementation of the case file's ``placement``
(used by the fit, with points from landmarks, and by the phantom, with points from its own
anatomy); :func:`placement_of` gives a finding's rule, stated or implied by its relations.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ...errors import AnatomyError, CaseFileError
from ..anatomy import Landmarks
from ..casefile import Finding, Placement, PlacementPoint
from .kinds import CENTRELINE_VESSELS, CONTACT_RULES, ORIGIN_LANDMARKS


def origin_point(
    finding: Finding, landmarks: Landmarks
) -> tuple[str | None, NDArray[np.float64] | None]:
    """The landmark standing for the structure a finding arises from, and its LPS mm.

    ``(None, None)`` without an ``origin_structure``; :class:`AnatomyError` when the structure
    has no landmark (:data:`ORIGIN_LANDMARKS`) or the landmark set lacks it.
    """
    origin = finding.relations.origin_structure
    if origin is None:
        return None, None
    name = ORIGIN_LANDMARKS.get(origin)
    if name is None:
        raise AnatomyError(
            f"Finding {finding.id!r}: its origin structure {origin!r} has no landmark that "
            f"places it (structures with one: {', '.join(ORIGIN_LANDMARKS)}). Fix: use one of "
            "those, or place the finding with 'centre_level' and a vessel."
        )
    landmarks.require([name])
    return name, landmarks.point(name)


def vessel_contact(finding: Finding) -> str | None:
    """The finding's vessel when one of its rules makes it meet that vessel, else None."""
    rel = finding.relations
    if rel.vessel is None:
        return None
    for r in rel.rules:
        if r.structure == rel.vessel and r.rule in CONTACT_RULES:
            return rel.vessel
    return None


def require_centreline(finding: Finding, vessel: str, landmarks: Landmarks) -> None:
    """Raise :class:`AnatomyError` unless the vessel has a centreline in the landmark set."""
    name = CENTRELINE_VESSELS.get(vessel)
    if name is None:
        raise AnatomyError(
            f"Finding {finding.id!r}: vessel {vessel!r} has no centreline landmark (vessels "
            f"with one: {', '.join(CENTRELINE_VESSELS)}). Fix: name one of those as its vessel."
        )
    landmarks.require([name])


def _outline_through(
    v_xy: NDArray[np.float64],
    p_xy: NDArray[np.float64],
    a: float,
    b: float,
    side: float,
) -> tuple[NDArray[np.float64], bool]:
    """Centre of an axis-aligned ellipse (semi-axes a, b) whose outline runs through two points.

    Of the two such ellipses the one whose centre lies on the ``side`` (-1: smaller x, the
    patient's right) of the line through the points is returned, with True. When the points
    are too far apart (more than a diameter in normalised units) the outline runs through
    ``v_xy`` only, the centre on the line towards ``p_xy``, with False.

    >>> c, ok = _outline_through(np.array([0.0, 0.0]), np.array([0.0, 20.0]), 50.0, 40.0, -1.0)
    >>> ok, np.round(c, 3).tolist()
    (True, [-48.412, 10.0])
    """
    scale = np.array([a, b], dtype=float)
    v = np.asarray(v_xy, dtype=float) / scale
    p = np.asarray(p_xy, dtype=float) / scale
    d = p - v
    n = float(np.linalg.norm(d))
    if n < 1e-9:
        return (v + np.array([side, 0.0])) * scale, True
    if n > 2.0:
        return (v + d / n) * scale, False
    m = (v + p) / 2.0
    h = math.sqrt(max(0.0, 1.0 - (n / 2.0) ** 2))
    perp = np.array([d[1], -d[0]]) / n
    if perp[0] * side < 0 or (perp[0] == 0.0 and perp[1] < 0):
        perp = -perp
    return (m + h * perp) * scale, True


def solid_extents_mm(finding: Finding) -> tuple[float, float, float]:
    """The reported ``(lr, ap, cc)`` extents of a solid finding, mm; all three are needed."""
    ext = finding.reported_extents_mm()
    missing = [a for a in ("lr", "ap", "cc") if a not in ext]
    if missing:
        raise CaseFileError(
            f"Finding {finding.id!r} (kind {finding.kind!r}) gives extents along "
            f"{sorted(ext)} only; a solid is fitted from all three. Fix: add the figures for "
            f"{missing} to its measurements (with 'assumed: true' and a note if the report "
            "gives no axes)."
        )
    return ext["lr"], ext["ap"], ext["cc"]


@dataclass(frozen=True)
class SolidPlacement:
    """Where a placement rule puts a solid's centre (:func:`mass_centre_from_relations`).

    Attributes
    ----------
    centre_lps
        The solid's centre, LPS mm.
    placement
        The rule applied (the case file's, or the one implied by its relations).
    points_lps
        Each landmark the outline runs through, at the centre level (before ``depth_mm``).
    through_all
        False when the points lie too far apart for an outline of this size to pass through
        both: the outline then runs through the first one only, the centre on the line
        towards the second.
    """

    centre_lps: NDArray[np.float64]
    placement: Placement
    points_lps: dict[str, NDArray[np.float64]]
    through_all: bool


def placement_of(finding: Finding) -> Placement | None:
    """The finding's placement rule: the case file's ``relations.placement``, or the one its
    relations imply.

    Without a ``placement`` block, a finding that arises from an ``origin_structure`` with a
    landmark (:data:`ORIGIN_LANDMARKS`) and reaches into, touches or overlaps a vessel with a
    centreline (:data:`CENTRELINE_VESSELS`) is placed by ``outline_through`` the vessel's
    centreline and the origin landmark, on the origin structure's side (``*_right`` / ``*_left``;
    None when the structure has no side: the side then follows the origin's position).
    Otherwise there is no placement rule (None): the solid is centred on its origin landmark.
    """
    rel = finding.relations
    if rel.placement is not None:
        return rel.placement
    vessel = vessel_contact(finding)
    origin = rel.origin_structure
    if vessel is None or origin is None:
        return None
    if vessel not in CENTRELINE_VESSELS or origin not in ORIGIN_LANDMARKS:
        return None
    suffix = origin.rsplit("_", 1)[-1]
    return Placement(
        "outline_through",
        (PlacementPoint(CENTRELINE_VESSELS[vessel]), PlacementPoint(ORIGIN_LANDMARKS[origin])),
        suffix if suffix in ("right", "left") else "",
    )


def mass_centre_from_relations(
    finding: Finding, points_lps: Mapping[str, ArrayLike], level_z_mm: float
) -> SolidPlacement:
    """Centre of a solid finding from its placement rule and the anatomy's points.

    The one implementation of the case file's ``placement`` (see :func:`placement_of` and
    ``docs/case-file.md``), used by the fit (points from landmarks) and by the phantom (points
    from its own anatomy): at ``level_z_mm`` (the ``centre_level`` landmark's z), the axial
    outline of the solid (the ellipse of its reported left-right and antero-posterior extents)
    runs through each landmark of ``placement.through``, moved ``depth_mm`` along x towards
    the midline side; of the two ellipses through two points, the one whose centre lies on
    ``placement.side`` of the line joining them.

    Parameters
    ----------
    finding
        A solid finding with three reported extents and a placement (stated or implied).
    points_lps
        Landmark name -> LPS mm of every landmark in ``placement.through``, taken at the
        centre level (for a centreline: its point at that level). Only x and y are used.
    level_z_mm
        z of the centre (LPS mm).

    Returns
    -------
    SolidPlacement

    Raises
    ------
    CaseFileError
        The finding has no placement rule or lacks an extent.
    AnatomyError
        A point of the rule is absent from ``points_lps``.

    Examples
    --------
    >>> from ivcviewer.annotations import default_case_path, load_case
    >>> mass = load_case(default_case_path()).finding("mass")
    >>> sp = mass_centre_from_relations(
    ...     mass, {"ivc_centreline": [-24, -10, 0], "right_psoas_at_mass": [-31, 30, 0]}, 0.0)
    >>> np.round(sp.centre_lps, 1).tolist(), sp.through_all
    ([-73.8, 4.2, 0.0], True)
    """
    pl = placement_of(finding)
    if pl is None:
        raise CaseFileError(
            f"Finding {finding.id!r}: no placement rule places it in the axial plane. Fix: add "
            "'placement' to its relations (docs/case-file.md), or an 'origin_structure' with a "
            "landmark and a vessel it reaches into."
        )
    lr, ap, _ = solid_extents_mm(finding)
    a, b = lr / 2.0, ap / 2.0
    missing = [t.landmark for t in pl.through if t.landmark not in points_lps]
    if missing:
        raise AnatomyError(
            f"Finding {finding.id!r}: the placement needs the point(s) {', '.join(missing)} at "
            f"the centre level; the anatomy gave {sorted(points_lps)}. Fix: give an anatomy "
            "source that has them."
        )
    pts = {t.landmark: np.asarray(points_lps[t.landmark], dtype=float)[:3] for t in pl.through}
    first = pts[pl.through[0].landmark]
    if pl.side:
        side = pl.side_sign
    else:  # implied placement of a structure without a side: away from the first point
        last = pts[pl.through[-1].landmark]
        side = 1.0 if float(last[0] - first[0]) >= 0 else -1.0
    shifted = [pts[t.landmark][:2] + np.array([-side * t.depth_mm, 0.0]) for t in pl.through]
    if len(shifted) == 1:
        cxy, ok = shifted[0] + np.array([side * a, 0.0]), True
    else:
        cxy, ok = _outline_through(shifted[0], shifted[1], a, b, side)
    centre = np.array([cxy[0], cxy[1], float(level_z_mm)])
    return SolidPlacement(centre, pl, pts, ok)


def placement_points(
    pl: Placement, landmarks: Landmarks, z0: float
) -> dict[str, NDArray[np.float64]]:
    """The rule's points from a landmark set, at the centre level."""
    out: dict[str, NDArray[np.float64]] = {}
    for t in pl.through:
        landmarks.require([t.landmark])
        if t.landmark in CENTRELINE_VESSELS.values():
            out[t.landmark] = landmarks.centreline_at_z(z0)[0]
        else:
            out[t.landmark] = landmarks.point(t.landmark)
    return out

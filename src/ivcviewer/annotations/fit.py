"""Fitting a case file's findings to a landmark set: analytic shapes in LPS mm.

A fit turns a finding's reported figures and relations into a shape placed by the anatomy of
one CT (its :class:`~ivcviewer.annotations.anatomy.Landmarks`). Nothing here looks at voxels:
the shapes are rasterised afterwards on the CT's own grid (:mod:`.rasterise`), and clipped to
the body and out of bone by :mod:`.overlay`.

Solid findings (kinds ``mass``, ``lesion``, ``lymph_node``)
    An ellipsoid with the reported extents as its axes along the patient axes the case file
    assigns (``Finding.reported_extents_mm()``), with a slightly lobulated surface
    (:class:`SolidModel`; the lobulation vanishes at the six ends of the axes, so it leaves the
    extents unchanged). Placement (:func:`fit_solid`):

    * cranio-caudally, the centre lies at the ``centre_level`` landmark (else at the origin
      landmark's level);
    * in the axial plane, when the finding must reach into (or touch, or overlap) a vessel that
      has a centreline, the solid's outline at that level runs through two points: the
      vessel's centreline point ``V`` and the origin landmark ``P`` (for
      ``iliopsoas_right``: ``right_psoas_at_mass``). Half of the vessel's section and half of
      the origin's section then lie inside: the solid reaches into the vessel and overlaps
      the structure it arises from. Two ellipses of the given semi-axes pass through two
      points; the one on the origin structure's side (a ``*_right`` structure: the patient's
      right, lateral to the line ``V``-``P``) is used, so a mass of the right retroperitoneum
      lies lateral to the IVC and the psoas, away from the aorta and the vertebral bodies.
      When ``V`` and ``P`` lie too far apart for any such ellipse, the outline runs through
      ``V`` with the centre on the line towards ``P``, and a warning says so;
    * without a vessel, the centre is the origin landmark moved to the centre level.

Findings inside a vessel (kinds ``intravascular_tumour``, ``thrombus``)
    A tube along the vessel's centreline (:class:`TubeModel`) from ``from_landmark`` (plus
    ``from_offset_mm``) to ``to_landmark`` (plus ``to_offset_mm``), levels taken along z, with
    flat ends across the vessel, and a radius that is the local vessel radius times the
    occlusion's radius fraction (:data:`OCCLUSION_RADIUS_FRACTION`).

Examples
--------
>>> m = SolidModel(np.zeros(3), (50.0, 40.0, 60.0), lobulation=0.0)
>>> z = np.zeros((1, 1, 1), np.float32); y = z.copy()
>>> x = np.array([[[0.0, 49.0, 51.0]]], np.float32)
>>> m.inside(x, y, z).ravel().tolist()
[True, True, False]
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .. import geometry
from ..errors import AnatomyError, CaseFileError
from . import vocabulary as voc
from .anatomy import Landmarks
from .casefile import Finding, Placement, PlacementPoint
from .rasterise import (
    Arr,
    CroppedMask,
    GridBox,
    block_coords,
    box_of_lps,
    rasterise_inside,
)

F32 = np.float32

#: Kinds fitted as a solid (an ellipsoid of the reported extents).
SOLID_KINDS: tuple[str, ...] = voc.SOLID_KINDS

#: Kinds fitted as a tube inside a vessel lumen.
LUMEN_KINDS: tuple[str, ...] = ("intravascular_tumour", "thrombus")

#: Radius of a tube inside a vessel as a fraction of the local vessel radius, per occlusion.
#: ``near_total``: 0.95 of the radius, 90 % of the lumen's area. An intravascular finding
#: without ``occlusion`` is drawn as ``partial``.
OCCLUSION_RADIUS_FRACTION: dict[str, float] = {
    "none": 0.4,
    "partial": 0.7,
    "near_total": 0.95,
    "total": 1.0,
}

#: The point landmark that stands for a structure a finding arises from.
ORIGIN_LANDMARKS: dict[str, str] = {"iliopsoas_right": "right_psoas_at_mass"}

#: Vessels that have a centreline landmark (with its local radius).
CENTRELINE_VESSELS: dict[str, str] = {"inferior_vena_cava": "ivc_centreline"}

#: Default amplitude of a solid's lobulation (fraction of its radius; must stay below 1/8).
DEFAULT_LOBULATION = 0.05

_CONTACT_RULES = ("reaches_into", "touches", "overlaps")


def _seed_phases(key: str) -> tuple[float, float]:
    """Two deterministic phases (radians) from a text key."""
    h = zlib.crc32(key.encode("utf-8"))
    return (2 * math.pi * ((h & 0xFFFF) / 65536.0), 2 * math.pi * ((h >> 16) / 65536.0))


# --------------------------------------------------------------------------- shapes


@dataclass(frozen=True)
class SolidModel:
    """A lobulated ellipsoid with axes along LPS x, y, z.

    The surface is ``n = 1 + lobulation * h(u)`` in the ellipsoid's normalised coordinates
    ``q = ((x - cx) / a, (y - cy) / b, (z - cz) / c)``, ``n = |q|``, ``u = q / n``, with
    ``h(u) = 4 (ux^2 uy^2 + uy^2 uz^2 + uz^2 ux^2) cos(3 theta + p0) cos(2 psi + p1)``
    (``theta``, ``psi`` the direction's azimuth and elevation, ``p0``, ``p1`` phases). ``h``
    vanishes to second order at the six ends of the axes, so for ``lobulation < 1/8`` the
    extents along x, y and z stay ``2a``, ``2b``, ``2c`` exactly.

    Attributes
    ----------
    centre_lps
        Centre, LPS mm.
    semi_axes_mm
        ``(a, b, c)``: half the extents along x (left-right), y (antero-posterior), z
        (cranio-caudal).
    lobulation
        Amplitude of the surface's bumps (fraction of the radius), 0 for a smooth ellipsoid.
    phases
        The two phases of the bumps (radians).
    """

    centre_lps: NDArray[np.float64]
    semi_axes_mm: tuple[float, float, float]
    lobulation: float = DEFAULT_LOBULATION
    phases: tuple[float, float] = (0.0, 0.0)

    def __post_init__(self) -> None:
        if not 0.0 <= self.lobulation < 0.125:
            raise AnatomyError(
                f"Argument 'lobulation' must lie in [0, 0.125) (above it the bumps would change "
                f"the extents), got {self.lobulation}."
            )
        if any(not s > 0 for s in self.semi_axes_mm):
            raise AnatomyError(
                f"Argument 'semi_axes_mm' must be 3 positive lengths, got {self.semi_axes_mm}."
            )

    def bounds_lps(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """``(lo, hi)`` LPS corners of the bounding box (the ellipsoid's: bumps stay inside)."""
        s = np.asarray(self.semi_axes_mm, dtype=float)
        c = np.asarray(self.centre_lps, dtype=float)
        return c - s, c + s

    def normalised(self, x: Arr, y: Arr, z: Arr) -> tuple[Arr, Arr, Arr]:
        """The normalised coordinates ``q`` (broadcast arrays)."""
        c = self.centre_lps
        a, b, cc = self.semi_axes_mm
        return (
            (x - F32(c[0])) * F32(1.0 / a),
            (y - F32(c[1])) * F32(1.0 / b),
            (z - F32(c[2])) * F32(1.0 / cc),
        )

    def inside(self, x: Arr, y: Arr, z: Arr) -> NDArray[np.bool_]:
        """Whether LPS points lie inside (broadcast arrays in, boolean array out)."""
        qx, qy, qz = self.normalised(x, y, z)
        qx2, qy2, qz2 = qx * qx, qy * qy, qz * qz
        n2 = qx2 + qy2 + qz2
        eps = float(self.lobulation)
        if eps == 0.0:
            return np.asarray(n2 <= F32(1.0))
        hmax = 4.0 / 3.0
        out = np.asarray(n2 <= F32((1.0 - eps * hmax) ** 2))
        shell = (~out) & (n2 <= F32((1.0 + eps * hmax) ** 2))
        if shell.any():
            sx = np.broadcast_to(qx, n2.shape)[shell]
            sy = np.broadcast_to(qy, n2.shape)[shell]
            sz = np.broadcast_to(qz, n2.shape)[shell]
            s2 = n2[shell]
            sx2, sy2, sz2 = sx * sx, sy * sy, sz * sz
            pair = (sx2 * sy2 + sy2 * sz2 + sz2 * sx2) / (s2 * s2)
            theta = np.arctan2(sy, sx)
            psi = np.arctan2(sz, np.sqrt(sx2 + sy2))
            p0, p1 = self.phases
            h = (
                F32(4.0)
                * pair
                * np.cos(F32(3.0) * theta + F32(p0))
                * np.cos(F32(2.0) * psi + F32(p1))
            )
            limit = F32(1.0) + F32(eps) * h
            out[shell] = s2 <= limit * limit
        return out

    def rasterise(self, shape: tuple[int, int, int], affine: ArrayLike) -> CroppedMask:
        """The voxels of a grid whose centres lie inside."""
        lo, hi = self.bounds_lps()
        return rasterise_inside(shape, affine, lo, hi, self.inside)

    def normalised_distance(self, point_lps: ArrayLike) -> float:
        """``|q|`` of a point: below 1 inside the ellipsoid, 1 on it."""
        p = np.asarray(point_lps, dtype=float)
        q = (p - self.centre_lps) / np.asarray(self.semi_axes_mm)
        return float(np.linalg.norm(q))

    def volume_ml(self) -> float:
        """Volume of the smooth ellipsoid, mL (the bumps change it by well under 1 %)."""
        a, b, c = self.semi_axes_mm
        return 4.0 / 3.0 * math.pi * a * b * c / 1000.0

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "shape": "lobulated ellipsoid",
            "centre_lps": [round(float(v), 3) for v in self.centre_lps],
            "semi_axes_mm": {
                k: round(float(v), 3)
                for k, v in zip(("lr", "ap", "cc"), self.semi_axes_mm, strict=True)
            },
            "lobulation": self.lobulation,
            "ellipsoid_volume_ml": round(self.volume_ml(), 3),
        }


@dataclass(frozen=True)
class TubeModel:
    """A tube around a polyline, with a radius varying linearly along each segment.

    Joints between segments are rounded (the union of capsules); the two ends are flat,
    across the tube's direction over about one radius from each end (:meth:`end_planes`).

    Attributes
    ----------
    points_lps
        ``(N, 3)`` LPS mm, N >= 2, from the lower end to the upper end.
    radii_mm
        ``(N,)`` radius at each point, mm.
    """

    points_lps: NDArray[np.float64]
    radii_mm: NDArray[np.float64]

    def __post_init__(self) -> None:
        p = np.asarray(self.points_lps, dtype=float)
        r = np.asarray(self.radii_mm, dtype=float)
        if p.ndim != 2 or p.shape[1] != 3 or p.shape[0] < 2 or r.shape != (p.shape[0],):
            raise AnatomyError(
                f"A tube needs N >= 2 points (N, 3) and N radii, got {p.shape} and {r.shape}."
            )
        if np.any(r <= 0) or not np.all(np.isfinite(p)):
            raise AnatomyError("A tube needs finite points and positive radii.")

    def bounds_lps(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """``(lo, hi)`` LPS corners of the bounding box."""
        r = float(np.max(self.radii_mm))
        return self.points_lps.min(axis=0) - r, self.points_lps.max(axis=0) + r

    def end_planes(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Unit normals of the two flat ends, pointing along the tube (lower end -> upper end).

        Each is the tube's direction over about one radius from its end, so that very short
        end segments do not tilt the ends.
        """
        p = np.asarray(self.points_lps, dtype=float)
        out = []
        for idx, sign in ((range(1, len(p)), 1.0), (range(len(p) - 2, -1, -1), -1.0)):
            start = p[0] if sign > 0 else p[-1]
            reach = float(self.radii_mm[0] if sign > 0 else self.radii_mm[-1])
            d = np.zeros(3)
            for j in idx:
                d = (p[j] - start) * sign
                if float(np.linalg.norm(d)) >= reach:
                    break
            n = float(np.linalg.norm(d))
            out.append(d / n if n > 0 else np.array([0.0, 0.0, 1.0]))
        return out[0], out[1]

    def _segment_inside(self, k: int, x: Arr, y: Arr, z: Arr) -> NDArray[np.bool_]:
        p0, p1 = self.points_lps[k], self.points_lps[k + 1]
        r0, r1 = float(self.radii_mm[k]), float(self.radii_mm[k + 1])
        d = p1 - p0
        dd = float(d @ d)
        ax, ay, az = x - F32(p0[0]), y - F32(p0[1]), z - F32(p0[2])
        if dd > 0:
            t = (ax * F32(d[0]) + ay * F32(d[1]) + az * F32(d[2])) * F32(1.0 / dd)
        else:
            t = np.zeros(np.broadcast_shapes(ax.shape, ay.shape, az.shape), F32)
        tc = np.clip(t, F32(0.0), F32(1.0))
        ex = ax - tc * F32(d[0])
        ey = ay - tc * F32(d[1])
        ez = az - tc * F32(d[2])
        rad = F32(r0) + tc * F32(r1 - r0)
        return np.asarray(ex * ex + ey * ey + ez * ez <= rad * rad)

    def _between_ends(self, x: Arr, y: Arr, z: Arr) -> NDArray[np.bool_]:
        n0, n1 = self.end_planes()
        a, b = self.points_lps[0], self.points_lps[-1]
        s0 = (
            (x - F32(a[0])) * F32(n0[0])
            + (y - F32(a[1])) * F32(n0[1])
            + (z - F32(a[2])) * F32(n0[2])
        )
        s1 = (
            (x - F32(b[0])) * F32(n1[0])
            + (y - F32(b[1])) * F32(n1[1])
            + (z - F32(b[2])) * F32(n1[2])
        )
        return np.asarray((s0 >= F32(0.0)) & (s1 <= F32(0.0)))

    def inside(self, x: Arr, y: Arr, z: Arr) -> NDArray[np.bool_]:
        """Whether LPS points lie inside (broadcast arrays in, boolean array out)."""
        shape = np.broadcast_shapes(x.shape, y.shape, z.shape)
        out = np.zeros(shape, dtype=bool)
        for k in range(len(self.points_lps) - 1):
            out |= self._segment_inside(k, x, y, z)
        return np.asarray(out & self._between_ends(x, y, z))

    def rasterise(
        self, shape: tuple[int, int, int], affine: ArrayLike, within: GridBox | None = None
    ) -> CroppedMask:
        """The voxels of a grid whose centres lie inside, each segment tested in its own box.

        ``within`` restricts the result to a box of the grid (the result's box is then that
        box's overlap with the tube's).
        """
        lo, hi = self.bounds_lps()
        box = box_of_lps(shape, affine, lo, hi)
        if within is not None:
            box = box.intersect(within)
        out = CroppedMask.empty_on(box)
        if box.empty:
            return out
        for k in range(len(self.points_lps) - 1):
            seg = self.points_lps[k : k + 2]
            r = float(max(self.radii_mm[k], self.radii_mm[k + 1]))
            sub = box_of_lps(shape, affine, seg.min(axis=0) - r, seg.max(axis=0) + r).intersect(box)
            if sub.empty:
                continue
            x, y, z = block_coords(affine, sub)
            part = self._segment_inside(k, x, y, z) & self._between_ends(x, y, z)
            out.mask[sub.relative_to(box)] |= np.broadcast_to(part, sub.shape)
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON form (the end points and the radius range)."""
        return {
            "shape": "tube along the vessel centreline (flat ends)",
            "lower_end_lps": [round(float(v), 3) for v in self.points_lps[0]],
            "upper_end_lps": [round(float(v), 3) for v in self.points_lps[-1]],
            "n_points": int(len(self.points_lps)),
            "radius_mm": {
                "min": round(float(self.radii_mm.min()), 3),
                "max": round(float(self.radii_mm.max()), 3),
            },
        }


def model_leaves_grid(
    model: SolidModel | TubeModel, shape: tuple[int, int, int], affine: ArrayLike
) -> bool:
    """Whether a shape reaches beyond the grid's field of view (its outside part is not drawn).

    Tested on the shape's extreme points: a solid's six axis ends; a tube's polyline points
    moved by their radius along x and y.
    """
    if isinstance(model, SolidModel):
        s = np.diag(np.asarray(model.semi_axes_mm, dtype=float))
        pts = np.vstack([model.centre_lps + s, model.centre_lps - s])
    else:
        p, r = model.points_lps, model.radii_mm[:, None]
        ex, ey = np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0])
        pts = np.vstack([p, p + r * ex, p - r * ex, p + r * ey, p - r * ey])
    ijk = geometry.lps_to_voxel(affine, pts)
    hi = np.asarray(shape, dtype=float) - 0.5
    return bool(np.any(ijk < -0.5) or np.any(ijk > hi))


# --------------------------------------------------------------------------- fits


@dataclass
class SolidFit:
    """A solid finding placed on the landmarks."""

    finding_id: str
    model: SolidModel
    method: str
    parameters: dict[str, Any] = field(default_factory=dict)
    landmarks_used: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass
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


def _lateral_sign(origin: str | None, dx: float) -> float:
    """+1 when the finding lies on the patient's left (+x) of the vessel, -1 on the right."""
    if origin is not None and origin.endswith("_right"):
        return -1.0
    if origin is not None and origin.endswith("_left"):
        return 1.0
    return 1.0 if dx >= 0 else -1.0


def _origin_point(
    finding: Finding, landmarks: Landmarks
) -> tuple[str | None, NDArray[np.float64] | None]:
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


def _vessel_contact(finding: Finding) -> str | None:
    rel = finding.relations
    if rel.vessel is None:
        return None
    for r in rel.rules:
        if r.structure == rel.vessel and r.rule in _CONTACT_RULES:
            return rel.vessel
    return None


def _centreline_of(finding: Finding, vessel: str, landmarks: Landmarks) -> None:
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
    vessel = _vessel_contact(finding)
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


def _placement_points(
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


def fit_solid(
    finding: Finding, landmarks: Landmarks, *, lobulation: float = DEFAULT_LOBULATION
) -> SolidFit:
    """Place a solid finding (an ellipsoid of its reported extents) on a landmark set.

    The centre comes from :func:`mass_centre_from_relations` (the case file's placement rule;
    see the module docstring), the points from the landmarks.

    Parameters
    ----------
    finding
        A finding of a kind in :data:`SOLID_KINDS` with three reported extents.
    landmarks
        The anatomy.
    lobulation
        Amplitude of the surface's bumps (0 for a smooth ellipsoid).

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
    a, b, c = lr / 2.0, ap / 2.0, cc / 2.0
    rel = finding.relations
    used: list[str] = []
    warnings: list[str] = []
    origin_name, p = _origin_point(finding, landmarks)
    if origin_name is not None:
        used.append(origin_name)
    if rel.centre_level is not None:
        landmarks.require([rel.centre_level])
        z0 = landmarks.z(rel.centre_level)
        used.append(rel.centre_level)
        if landmarks.is_truncated(rel.centre_level):
            warnings.append(
                f"The centre level {rel.centre_level} lies at the edge of the field of view "
                "(the true landmark lies at or beyond it): the solid's level is uncertain."
            )
    elif p is not None:
        z0 = float(p[2])
    else:
        raise CaseFileError(
            f"Finding {finding.id!r}: nothing gives its level. Fix: add 'centre_level' or an "
            f"'origin_structure' with a landmark ({', '.join(ORIGIN_LANDMARKS)}) to its relations."
        )
    level_name = rel.centre_level or origin_name
    vessel = _vessel_contact(finding)
    if rel.placement is None and vessel is not None:
        _centreline_of(finding, vessel, landmarks)
        if p is None:
            raise CaseFileError(
                f"Finding {finding.id!r}: a solid that reaches into a vessel needs the structure "
                "it arises from to know its side. Fix: add 'origin_structure' (for example "
                "'iliopsoas_right') or a 'placement' to its relations."
            )
    pl = placement_of(finding)
    params: dict[str, Any] = {"centre_level_z_mm": round(z0, 3)}
    if pl is not None:
        points = _placement_points(pl, landmarks, z0)
        for name in points:
            if name not in used:
                used.append(name)
        sp = mass_centre_from_relations(finding, points, z0)
        ctr = sp.centre_lps
        side = -1.0 if (pl.side == "right" or (not pl.side and ctr[0] < 0)) else 1.0
        probe = SolidModel(ctr, (a, b, c), 0.0)
        names = pl.landmarks()
        first, last = names[0], names[-1]
        rho = {n: probe.normalised_distance(q) for n, q in points.items()}
        if not sp.through_all:
            warnings.append(
                f"{last} and {first} lie too far apart for a solid of these extents to reach "
                f"both (normalised distance {rho[last]:.2f} of {last} from the centre, above 1): "
                f"the outline runs through {first}, the centre on the line towards {last}."
            )
        through = " and ".join(
            f"{n}" + (f" ({t.depth_mm:+g} mm towards the midline)" if t.depth_mm else "")
            for n, t in zip(names, pl.through, strict=True)
        )
        method = (
            f"centre at the level of {level_name}; the outline's axial section there runs "
            f"through {through}, the solid lying on the {'right' if side < 0 else 'left'} "
            "side of the line joining them"
            if sp.through_all and len(names) == 2
            else f"centre at the level of {level_name}; the outline runs through {first}, the "
            f"centre towards the {'right' if side < 0 else 'left'}"
            + (f" on the line towards {last}" if len(names) == 2 else "")
        )
        params["placement"] = {
            "rule": pl.rule,
            "stated_in_case_file": rel.placement is not None,
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
        }
        params["side"] = "right" if side < 0 else "left"
        cl = [n for n in names if n in CENTRELINE_VESSELS.values()]
        if cl:
            v, r = landmarks.centreline_at_z(z0)
            medial_end_x = float(ctr[0] - side * a)
            beyond = float(-side * (medial_end_x - v[0]))  # > 0: the medial end lies past V
            vname = rel.vessel or "vessel"
            params.update(
                {
                    "vessel_point_lps": [round(float(t), 3) for t in v],
                    "vessel_radius_mm": round(float(r), 3),
                    "vessel_normalised_distance": round(rho[cl[0]], 4),
                    "medial_end_beyond_vessel_axis_mm": round(beyond, 3),
                }
            )
            if beyond > r:
                warnings.append(
                    f"The solid reaches {beyond - r:.1f} mm medially beyond the {vname}'s "
                    "wall at its centre level."
                )
        if p is not None:
            params["origin_normalised_distance"] = round(probe.normalised_distance(p), 4)
    else:
        if p is None:
            raise CaseFileError(
                f"Finding {finding.id!r}: nothing places it in the axial plane. Fix: add a "
                "'placement', an 'origin_structure' with a landmark, or a vessel it reaches into."
            )
        ctr = np.array([p[0], p[1], z0])
        method = f"centred on {origin_name} at the level of {level_name}"
        params["origin_normalised_distance"] = 0.0
    if p is not None and origin_name is not None:
        params["origin_lps"] = [round(float(t), 3) for t in p]
    model = SolidModel(ctr, (a, b, c), lobulation, _seed_phases(finding.id))
    return SolidFit(finding.id, model, method, params, used, warnings)


def fit_lumen(
    finding: Finding,
    landmarks: Landmarks,
    *,
    radius_fraction: Mapping[str, float] | None = None,
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
    _centreline_of(finding, rel.vessel, landmarks)
    used = [CENTRELINE_VESSELS[rel.vessel]]
    warnings: list[str] = []
    c, r = landmarks.centreline()
    zc0, zc1 = float(c[0, 2]), float(c[-1, 2])
    if rel.from_landmark is not None:
        landmarks.require([rel.from_landmark])
        z_from = landmarks.z(rel.from_landmark) + rel.from_offset_mm
        used.append(rel.from_landmark)
    else:
        z_from = zc0
    upper_bound = False
    if rel.to_landmark is not None:
        landmarks.require([rel.to_landmark])
        z_to = landmarks.z(rel.to_landmark) + rel.to_offset_mm
        used.append(rel.to_landmark)
        if landmarks.is_truncated(rel.to_landmark):
            upper_bound = True
            warnings.append(
                f"{rel.to_landmark} lies at the edge of the field of view (the true landmark "
                f"lies at or above z = {landmarks.z(rel.to_landmark):.1f} mm), so the upper end "
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

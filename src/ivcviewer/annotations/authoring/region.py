"""A drawn region turned into a finding placed relative to the anatomy
(:func:`finding_from_region`).

The finding says where the region lies in words a case file can carry to another CT: the
reference structure (the labelled structure holding most of the region), the placement of the
region's centre relative to it (``centred_in`` with a ``position`` in fractions of the
structure's half extents, or ``arises_from`` a surface the region sits on), the region's
extents along the patient axes, the solid shape that reproduces it best (``ellipsoid`` or
``rounded_box``) and the rules its occupancy satisfies. Fitted back onto the CT it was drawn on
(:func:`ivcviewer.workflows.fit_overlay`), the finding reproduces the region.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage as ndi

from ... import geometry
from ...errors import AnatomyError
from ...volume import Volume
from .. import vocabulary as voc
from ..anatomy import Landmarks, Provenance
from ..anatomy.reference_names import combined_direction
from ..anatomy.references import References
from ..fit.anchored import centre_off_surface, centroid_and_half_extents, support_distance
from ..fit.kinds import SHAPE_EXPONENTS
from ..fit.shapes import SolidModel
from ..overlay.anatomy_access import AnatomyAccess
from ..overlay.occupancy import NOT_ORGANS, UNLABELLED, shares
from ..rasterise import CroppedMask, GridBox

#: A structure holding at least this share of the region is its reference; below it for every
#: structure, the structure nearest to the region's centre is.
MIN_REFERENCE_SHARE = 0.20

#: A structure holding at least this share of the region gets ``mostly_within`` (else
#: ``touches``).
MOSTLY_WITHIN_SHARE = 0.50

#: How far below the measured share ``mostly_within``'s ``min_share`` is written.
SHARE_MARGIN = 0.05

#: Scales of the candidate extents tried when choosing the solid that reproduces the region,
#: the unscaled first (of two candidates as good, the first tried is kept).
_SCALES = (1.0, 0.97, 1.03, 0.94, 1.06)

#: Exponent of each solid shape (2: ellipsoid, 4: rounded box).

#: Colours given to drawn findings in turn when none is chosen.
DRAWN_COLOURS = ("#E67E22", "#16A085", "#8E44AD", "#C0392B", "#2980B9", "#F1C40F")


@dataclass(frozen=True)
class SolidChoice:
    """The solid that reproduces a region: shape, semi-axes (LPS x, y, z, mm) and its Dice."""

    shape: str
    semi_axes_mm: tuple[float, float, float]
    dice: float


@dataclass(frozen=True)
class RegionGeometry:
    """A region's voxels on its grid: the mask on its bounding box and the centres in LPS."""

    region: CroppedMask
    points_lps: NDArray[np.float64]
    spacing_mm: NDArray[np.float64]
    grid: geometry.Grid

    @property
    def extents_mm(self) -> NDArray[np.float64]:
        """Extents along LPS x, y, z from voxel edge to voxel edge (mm)."""
        pts = self.points_lps
        return np.asarray(pts.max(axis=0) - pts.min(axis=0) + self.spacing_mm, dtype=float)

    @property
    def centre_lps(self) -> NDArray[np.float64]:
        """Centroid of the voxel centres (LPS mm)."""
        return np.asarray(self.points_lps.mean(axis=0), dtype=float)


def region_geometry(region: Volume) -> RegionGeometry:
    """The voxels of a boolean region (:class:`AnatomyError` when it has none)."""
    mask = np.asarray(region.array).astype(bool)
    ijk = np.argwhere(mask)
    if not len(ijk):
        raise AnatomyError(
            "The drawn region is empty: it has no voxel. Fix: paint the region on the CT's "
            "Labels layer (or give the label value that was painted)."
        )
    lo, hi = ijk.min(axis=0), ijk.max(axis=0) + 1
    box = GridBox((int(lo[0]), int(lo[1]), int(lo[2])), (int(hi[0]), int(hi[1]), int(hi[2])))
    cropped = CroppedMask(box, np.ascontiguousarray(mask[box.slices]))
    pts = geometry.voxel_to_lps(region.affine, ijk)
    spacing = np.abs(np.asarray(region.affine)[:3, :3]).sum(axis=1)  # mm along x, y, z
    return RegionGeometry(cropped, pts, spacing, region.grid)


def structure_shares(
    geo: RegionGeometry, labels: Volume, names: Mapping[int, str]
) -> list[tuple[str, float]]:
    """The region's share in each known structure (fat, skin and body left out), largest
    first, the structures read by nearest neighbour when the label map has another grid."""
    access = AnatomyAccess(geo.grid, labels, names, _no_landmarks())
    found = shares(geo.region, access.values(geo.region.box), access.name_of)
    return [
        (s.structure, float(s.share))
        for s in found
        if s.structure not in NOT_ORGANS
        and s.structure != UNLABELLED
        and voc.is_known_structure(s.structure)
    ]


def _no_landmarks() -> Landmarks:
    return Landmarks.from_points({}, provenance=Provenance("labelmap", "drawn region"))


def _nearest_structure(geo: RegionGeometry, refs: References, candidates: list[str]) -> str:
    """The structure whose voxels come nearest to the region's centre."""
    best, dist = "", np.inf
    c = geo.centre_lps
    for s in candidates:
        if not refs.has_structure(s):
            continue
        d = float(np.min(np.linalg.norm(refs.structure_points(s, s) - c, axis=1)))
        if d < dist:
            best, dist = s, d
    if not best:
        raise AnatomyError(
            "The anatomy label map names no structure that a case file knows (TotalSegmentator "
            "class names such as 'liver', 'kidney_left'). Fix: give a label map with its names."
        )
    return best


def choose_solid(geo: RegionGeometry) -> SolidChoice:
    """The ellipsoid or rounded box centred on the region's centroid whose voxels overlap the
    region best (Dice), its extents tried from the region's second moments and bounding box."""
    pts = geo.points_lps
    var = pts.var(axis=0) + geo.spacing_mm**2 / 12.0  # a voxel's own spread
    bbox_semi = geo.extents_mm / 2.0
    moment_k = {2.0: 5.0, 4.0: _superellipsoid_moment()}
    best: SolidChoice | None = None
    for shape, p in SHAPE_EXPONENTS.items():
        for base in (bbox_semi, np.sqrt(moment_k[p] * var)):
            for s in _SCALES:
                a, b, c = (float(max(v, 0.5)) for v in base * s)
                semi = (a, b, c)
                model = SolidModel(geo.centre_lps, semi, lobulation=0.0, exponent=p)
                d = dice(geo.region, model.rasterise(geo.grid.shape, geo.grid.affine))
                if best is None or d > best.dice + 1e-9:
                    best = SolidChoice(shape, semi, d)
    assert best is not None
    return best


@functools.cache
def _superellipsoid_moment() -> float:
    """``a^2 / var`` of the solid ``|x|^4 + |y|^4 + |z|^4 <= 1`` (semi-axis ``a``), by
    quadrature on a fine lattice."""
    t = (np.arange(80) + 0.5) / 80.0 * 2.0 - 1.0
    x, y, z = np.meshgrid(t, t, t, indexing="ij")
    inside = x**4 + y**4 + z**4 <= 1.0
    return float(1.0 / np.mean(x[inside] ** 2))


def dice(a: CroppedMask, b: CroppedMask) -> float:
    """Dice overlap of two cropped masks on one grid."""
    box = a.box.union(b.box)
    ma, mb = a.on(box), b.on(box)
    n = int(ma.sum()) + int(mb.sum())
    return 2.0 * float((ma & mb).sum()) / n if n else 0.0


def _position(centre: NDArray[np.float64], pts: NDArray[np.float64]) -> dict[str, float] | None:
    """The ``centred_in`` position of ``centre`` in a structure's voxel centres ``pts``
    (as :func:`ivcviewer.annotations.fit.anchored.place_from_references` reads it), or None
    when it lies beyond the rule's range (3 half extents)."""
    centroid, half = centroid_and_half_extents(pts)
    pos = (centre - centroid) / np.maximum(half, 1e-6)
    if np.any(np.abs(pos) > 3.0):
        return None
    return {a: round(float(v), 3) + 0.0 for a, v in zip(("lr", "ap", "cc"), pos, strict=True)}


def _towards(centre: NDArray[np.float64], pts: NDArray[np.float64]) -> tuple[str, ...]:
    """The directions (one to three) from a structure's centroid towards ``centre``: the axes
    whose offset, in the structure's half extents, is at least half the largest."""
    centroid, half = centroid_and_half_extents(pts)
    rel = (centre - centroid) / np.maximum(half, 1e-6)
    names = (("right", "left"), ("anterior", "posterior"), ("inferior", "superior"))
    top = float(np.max(np.abs(rel)))
    out = [names[i][int(rel[i] > 0)] for i in range(3) if abs(rel[i]) >= 0.5 * top]
    order = ("superior", "inferior", "anterior", "posterior", "left", "right")
    return tuple(sorted(out, key=order.index))


def _arises_from(
    geo: RegionGeometry,
    refs: References,
    structure: str,
    semi: tuple[float, float, float],
    exponent: float,
) -> dict[str, Any] | None:
    """An ``arises_from`` placement that puts the solid's centre within a voxel of the
    region's centre, or None when no such placement exists."""
    c = geo.centre_lps
    towards = _towards(c, refs.structure_points(structure, structure))
    _, anchor = refs.surface_point(structure, towards)
    d = combined_direction(towards, structure)
    depth = support_distance(d, semi, exponent) - float(np.dot(c - anchor, d))
    if not -50.0 <= depth <= 50.0:
        return None
    placed = centre_off_surface(anchor, towards, structure, semi, round(depth, 1), exponent)
    if float(np.linalg.norm(placed - c)) > float(geo.spacing_mm.max()):
        return None
    out: dict[str, Any] = {"rule": "arises_from", "structure": structure, "towards": list(towards)}
    if abs(depth) >= 0.05:
        out["depth_mm"] = round(depth, 1)
    return out


def _placement(
    geo: RegionGeometry, refs: References, structure: str, inside: bool, solid: SolidChoice
) -> dict[str, Any]:
    """``arises_from`` for a region outside every structure that reproduces it, else
    ``centred_in`` with the region centre's position."""
    if not inside:
        arises = _arises_from(
            geo, refs, structure, solid.semi_axes_mm, SHAPE_EXPONENTS[solid.shape]
        )
        if arises is not None:
            return arises
    pos = _position(geo.centre_lps, refs.structure_points(structure, structure))
    if pos is None:
        raise AnatomyError(
            f"The drawn region lies more than three half extents of {structure} from its "
            f"centroid, too far to be placed relative to it. Fix: draw the region next to a "
            "structure of the anatomy label map."
        )
    return {"rule": "centred_in", "structure": structure, "position": pos}


def touches(geo: RegionGeometry, labels: Volume, names: Mapping[int, str], structure: str) -> bool:
    """Whether the region overlaps ``structure`` or lies next to it (within one voxel)."""
    access = AnatomyAccess(geo.grid, labels, names, _no_landmarks())
    box = geo.region.box.grow(1, geo.grid.shape)
    grown = ndi.binary_dilation(geo.region.on(box), structure=np.ones((3, 3, 3), bool))
    values = [v for v, n in names.items() if n == structure]
    return bool(np.isin(access.values(box)[grown], values).any())


def _rules(structure: str, share: float, touching: bool) -> list[dict[str, Any]]:
    """What was measured: ``mostly_within`` a little under the share, else ``touches`` when
    the region touches the structure (no rule when it does not)."""
    if share >= MOSTLY_WITHIN_SHARE:
        min_share = max(MOSTLY_WITHIN_SHARE, np.floor((share - SHARE_MARGIN) * 100.0) / 100.0)
        return [{"rule": "mostly_within", "structure": structure, "min_share": float(min_share)}]
    if not touching:
        return []
    return [{"rule": "touches", "structure": structure}]


def finding_from_region(
    region: Volume,
    anatomy_labels: Volume,
    names: Mapping[int, str],
    *,
    finding_id: str,
    name: str,
    kind: str = "mass",
    colour: str | None = None,
    label_value: int | None = None,
    description: str | None = None,
    source: str = "a CT",
) -> dict[str, Any]:
    """The case-file entry of a finding that reproduces a drawn region.

    Parameters
    ----------
    region
        The drawn region: a boolean (or 0/1) mask with its grid (the CT's).
    anatomy_labels
        The anatomy label map (any grid; read by nearest neighbour when it differs).
    names
        Its label value -> structure name (TotalSegmentator class names).
    finding_id, name, kind, colour, label_value, description
        The finding's fields; ``kind`` must be a solid kind (``mass``, ``lesion``,
        ``lymph_node``); without ``colour`` the first of :data:`DRAWN_COLOURS` is used.
    source
        How the description names the CT the region was drawn on (a path, a layer).

    Returns
    -------
    dict
        The mapping of one ``findings[]`` entry (the case-file model validates it).

    Raises
    ------
    AnatomyError
        The region is empty, or no structure of the label map can place it.
    CaseFileError
        ``kind`` does not place a solid.
    """
    from ...errors import CaseFileError

    if kind not in voc.SOLID_KINDS:
        raise CaseFileError(
            f"Finding {finding_id!r}: a drawn region becomes a solid finding; kind {kind!r} is "
            f"not one. Fix: choose one of {', '.join(voc.SOLID_KINDS)}."
        )
    geo = region_geometry(region)
    found = structure_shares(geo, anatomy_labels, names)
    refs = References(_no_landmarks(), anatomy_labels, dict(names))
    if found and found[0][1] >= MIN_REFERENCE_SHARE:
        structure, share = found[0]
    else:
        known = sorted({str(n) for n in names.values() if voc.is_known_structure(str(n))})
        structure = _nearest_structure(geo, refs, [n for n in known if n not in NOT_ORGANS])
        share = dict(found).get(structure, 0.0)
    solid = choose_solid(geo)
    placement = _placement(geo, refs, structure, share >= MIN_REFERENCE_SHARE, solid)
    extents = [round(2.0 * s, 1) for s in solid.semi_axes_mm]
    drawn = [round(float(v), 1) for v in geo.extents_mm]
    measured = ", ".join(f"{s} {v:.0%}" for s, v in found[:3]) or "no labelled structure"
    out: dict[str, Any] = {
        "id": finding_id,
        "name": name,
        "kind": kind,
        "colour": colour or DRAWN_COLOURS[0],
    }
    if label_value is not None:
        out["label_value"] = int(label_value)
    out["description"] = description or (
        f"Drawn on {source}: a region of {len(geo.points_lps)} voxels, "
        f"{' x '.join(f'{v:g}' for v in extents)} mm (lr x ap x cc), in {measured}."
    )
    out["measurements"] = [
        {
            "id": "size",
            "description": f"Extents of the {solid.shape.replace('_', ' ')} that reproduces the "
            f"drawn region (Dice {solid.dice:.2f} on {source}); the region itself spans "
            f"{' x '.join(f'{v:g}' for v in drawn)} mm.",
            "values": extents,
            "unit": "mm",
            "axes": ["lr", "ap", "cc"],
            "assumed": False,
        }
    ]
    out["relations"] = {
        "origin_structure": structure,
        "placement": placement,
        "shape": solid.shape,
        "rules": _rules(structure, share, touches(geo, anatomy_labels, names, structure)),
        "note": f"Derived from a region drawn on {source}; the region's shares: {measured}.",
    }
    return out


__all__ = [
    "DRAWN_COLOURS",
    "MIN_REFERENCE_SHARE",
    "SolidChoice",
    "choose_solid",
    "dice",
    "finding_from_region",
    "region_geometry",
    "structure_shares",
]

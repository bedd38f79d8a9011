"""Resolving anatomical references on one CT's anatomy (:class:`References`).

The names are parsed by :mod:`.reference_names`, which documents each kind.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage as ndi

from ... import geometry
from ...errors import AnatomyError
from ...volume import Volume
from .. import vocabulary as voc
from .landmarks import Landmarks
from .reference_names import (
    BadReference,
    Reference,
    combined_direction,
    parse_reference,
)
from .structures import main_components

#: Thickness of the slab whose centroid is a structure's extreme (mm).
EXTREME_MM = 3.0

#: Gaussian sigma along z of a derived centreline (mm).
CENTRELINE_SMOOTHING_MM = 6.0


@dataclass
class _StructurePoints:
    """A structure's voxel centres in LPS mm, with the label map's voxel size."""

    points: NDArray[np.float64]
    spacing: NDArray[np.float64]
    touches_top: bool
    touches_bottom: bool


@dataclass
class References:
    """Resolves references on one CT's anatomy: the landmark set, then the label map.

    Parameters
    ----------
    landmarks
        The landmark set (its points may carry reference names: points clicked by name).
    labels
        The anatomy label map (any grid), or None.
    names
        Its label value -> structure name.
    """

    landmarks: Landmarks
    labels: Volume | None = None
    names: Mapping[int, str] | None = None
    methods: dict[str, str] = field(default_factory=dict)
    truncated: list[str] = field(default_factory=list)
    _points: dict[str, _StructurePoints | None] = field(default_factory=dict, repr=False)
    _lines: dict[str, tuple[NDArray[np.float64], NDArray[np.float64]]] = field(
        default_factory=dict, repr=False
    )
    _by_name: dict[str, list[int]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for v, n in (self.names or {}).items():
            self._by_name.setdefault(str(n), []).append(int(v))

    # -- structures ---------------------------------------------------------------------

    def structures(self) -> list[str]:
        """Structure names of the label map (sorted)."""
        return sorted(self._by_name) if self.labels is not None else []

    def has_structure(self, structure: str) -> bool:
        """Whether the label map holds voxels of ``structure``."""
        return self._structure(structure) is not None

    def _structure(self, structure: str) -> _StructurePoints | None:
        if structure in self._points:
            return self._points[structure]
        sp: _StructurePoints | None = None
        names = voc.expand_structure(structure, self._by_name)
        values = [v for n in names for v in self._by_name[n]]
        if self.labels is not None and values:
            arr = np.asarray(self.labels.array)
            mask = np.isin(arr, values)
            box = ndi.find_objects(mask.astype(np.uint8))
            if box and box[0] is not None:
                lo = np.array([sl.start for sl in box[0]])
                ijk = np.argwhere(main_components(mask[box[0]])) + lo
                pts = geometry.voxel_to_lps(self.labels.affine, ijk)
                zs = geometry.voxel_to_lps(self.labels.affine, _corners(arr.shape))[:, 2]
                spacing = geometry.spacing_from_affine(self.labels.affine)
                tol = float(spacing.max())
                sp = _StructurePoints(
                    pts,
                    spacing,
                    bool(pts[:, 2].max() >= zs.max() - tol),
                    bool(pts[:, 2].min() <= zs.min() + tol),
                )
        self._points[structure] = sp
        return sp

    def structure_points(self, structure: str, needed_for: str) -> NDArray[np.float64]:
        """LPS mm of the structure's voxel centres; :class:`AnatomyError` when absent."""
        sp = self._structure(structure)
        if sp is None:
            raise self._absent(needed_for, structure)
        return sp.points

    def spacing_of(self, structure: str) -> NDArray[np.float64]:
        """The label map's voxel spacing (mm) where the structure was read."""
        sp = self._structure(structure)
        if sp is None:
            raise self._absent(structure, structure)
        return sp.spacing

    def extent(self, structure: str) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Lowest and highest LPS x, y, z of the structure's voxel centres."""
        p = self.structure_points(structure, structure)
        return p.min(axis=0), p.max(axis=0)

    def _absent(self, ref: str, structure: str) -> AnatomyError:
        src = self.landmarks.provenance.description or self.landmarks.provenance.source
        if self.labels is None:
            why = "there is no anatomy label map"
        else:
            why = f"the label map has no voxel of {structure!r}"
        return AnatomyError(
            f"Reference {ref!r} cannot be placed: {why} (anatomy: {src}). Fix: give a label "
            f"map that holds {structure!r} (TotalSegmentator 'total' names), or click the point "
            f"and save it under the name {ref!r} in a landmarks file."
        )

    # -- references ---------------------------------------------------------------------

    def has(self, ref: str) -> bool:
        """Whether the reference resolves on this anatomy."""
        try:
            r = parse_reference(ref, True)
        except BadReference:
            return False
        if self.landmarks.has(ref):
            return True
        if r.kind == "landmark":
            return False
        if (
            r.kind == "centreline"
            and r.structure == "inferior_vena_cava"
            and self.landmarks.has("ivc_centreline")
        ):
            return True
        if r.kind == "level" and r.structure == "vertebrae_S1":
            return self.has_structure("vertebrae_S1") or self.has_structure("sacrum")
        return r.structure is not None and self.has_structure(r.structure)

    def require(self, refs: Iterable[str]) -> None:
        """Raise :class:`AnatomyError` on the first reference that does not resolve (the
        message names it, what it needs and how to give it)."""
        for ref in refs:
            if self.has(ref):
                continue
            if parse_reference(ref, True).is_point:
                self.point(ref)
            else:
                self.centreline(ref)

    def point(self, ref: str) -> NDArray[np.float64]:
        """The LPS mm of a point reference."""
        r = parse_reference(ref, True)
        if not r.is_point:
            raise AnatomyError(f"Reference {ref!r} is a centreline, not a point.")
        if self.landmarks.has(ref):
            return self.landmarks.point(ref)
        if r.kind == "landmark":
            return self.landmarks.point(ref)  # raises, naming the source
        if r.kind == "level":
            return self._level(r)
        assert r.structure is not None
        pts = self.structure_points(r.structure, ref)
        sp = self._structure(r.structure)
        assert sp is not None
        if r.kind == "centroid":
            self.methods[ref] = f"centroid of {r.structure}"
            return np.asarray(pts.mean(axis=0), dtype=float)
        assert r.direction is not None
        d = combined_direction(r.direction.split("+"), r.structure)
        if r.kind == "extreme":
            proj = pts @ d
            top = float(proj.max())
            slab = pts[proj >= top - EXTREME_MM]
            self.methods[ref] = (
                f"centroid of the {r.structure} voxels within {EXTREME_MM:g} mm of its "
                f"{r.direction} extreme"
            )
            if (d[2] > 0 and sp.touches_top) or (d[2] < 0 and sp.touches_bottom):
                self._truncate(ref)
            return np.asarray(slab.mean(axis=0), dtype=float)
        return self._surface(ref, r.structure, pts, sp, d, r.direction)

    def _truncate(self, ref: str) -> None:
        if ref not in self.truncated:
            self.truncated.append(ref)

    def _surface(
        self,
        ref: str,
        structure: str,
        pts: NDArray[np.float64],
        sp: _StructurePoints,
        d: NDArray[np.float64],
        towards: str,
    ) -> NDArray[np.float64]:
        """Where the line from the centroid along ``d`` leaves the structure."""
        assert self.labels is not None
        c = pts.mean(axis=0)
        step = float(sp.spacing.min()) / 4.0
        span = float(np.ptp(pts @ d)) + 2 * float(sp.spacing.max())
        t = np.arange(0.0, span + step, step)
        line = c[None, :] + t[:, None] * d[None, :]
        ijk = np.rint(geometry.lps_to_voxel(self.labels.affine, line)).astype(np.int64)
        shape = np.asarray(self.labels.shape)
        ok = np.all((ijk >= 0) & (ijk < shape), axis=1)
        inside = np.zeros(len(t), dtype=bool)
        vals = self.labels.array[ijk[ok, 0], ijk[ok, 1], ijk[ok, 2]]
        names = voc.expand_structure(structure, self._by_name)
        inside[ok] = np.isin(vals, [v for n in names for v in self._by_name[n]])
        self.methods[ref] = (
            f"last point of {structure} on the line from its centroid towards {towards}"
        )
        if not inside.any():  # a hollow or C-shaped structure: its centroid lies outside it
            proj = pts @ d
            return np.asarray(pts[int(np.argmax(proj))], dtype=float)
        last = int(np.flatnonzero(inside)[-1])
        if last == len(t) - 1 or not ok[min(last + 1, len(t) - 1)]:
            self._truncate(ref)
        return np.asarray(line[last], dtype=float)

    def surface_point(
        self, structure: str, towards: tuple[str, ...]
    ) -> tuple[str, NDArray[np.float64]]:
        """Where the line from the structure's centroid along the combined directions leaves
        it: ``(name, LPS mm)``, the name ``STRUCTURE.surface_D1[+D2[+D3]]``."""
        ref = f"{structure}.surface_{'+'.join(towards)}"
        return ref, self.point(ref)

    def _level(self, r: Reference) -> NDArray[np.float64]:
        assert r.structure is not None
        if r.structure == "vertebrae_S1" and not self.has_structure("vertebrae_S1"):
            pts = self.structure_points("sacrum", r.text)
            top = float(pts[:, 2].max())
            slab = pts[pts[:, 2] >= top - 20.0]
            self.methods[r.text] = "centroid of the upper 20 mm of the sacrum"
            return np.asarray(slab.mean(axis=0), dtype=float)
        pts = self.structure_points(r.structure, r.text)
        sp = self._structure(r.structure)
        if sp is not None and (sp.touches_top or sp.touches_bottom):
            self._truncate(r.text)
        self.methods[r.text] = f"centroid of {r.structure}"
        return np.asarray(pts.mean(axis=0), dtype=float)

    def z(self, ref: str) -> float:
        """The z (LPS mm) of a point reference: its level."""
        return float(self.point(ref)[2])

    def is_truncated(self, ref: str) -> bool:
        """Whether the reference lies at the edge of the field of view (a bound)."""
        return self.landmarks.is_truncated(ref) or ref in self.truncated

    def method(self, ref: str) -> str:
        """How the reference was found (after it was resolved)."""
        return self.methods.get(ref) or self.landmarks.provenance.methods.get(ref, "")

    def centreline(self, ref_or_vessel: str) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """``(points (N, 3), radii (N,))`` of a vessel's centreline, feet to head.

        ``ref_or_vessel`` is ``STRUCTURE.centreline``, ``ivc_centreline`` or a tubular
        structure's name.
        """
        name = (
            ref_or_vessel
            if "." in ref_or_vessel or ref_or_vessel in voc.LANDMARKS
            else (f"{ref_or_vessel}.centreline")
        )
        r = parse_reference(name, True)
        if r.kind != "centreline":
            raise AnatomyError(f"Reference {name!r} is a point, not a centreline.")
        assert r.structure is not None
        if r.structure == "inferior_vena_cava" and self.landmarks.has("ivc_centreline"):
            return self.landmarks.centreline()
        if r.kind == "centreline" and name in voc.LANDMARKS:
            return self.landmarks.centreline()  # raises, naming the source
        if r.structure in self._lines:
            c, rad = self._lines[r.structure]
            return c.copy(), rad.copy()
        pts = self.structure_points(r.structure, name)
        sp = self._structure(r.structure)
        assert sp is not None
        c, rad = _centreline_of(pts, sp.spacing)
        self._lines[r.structure] = (c, rad)
        self.methods[name] = (
            f"per-band centroid and equal-area radius of {r.structure}'s axial sections, "
            f"smoothed with a {CENTRELINE_SMOOTHING_MM:g} mm Gaussian"
        )
        return c.copy(), rad.copy()

    def centre_at_z(self, vessel: str, z: float) -> tuple[NDArray[np.float64], float]:
        """A vessel's centreline point and radius at height ``z`` (AnatomyError outside it)."""
        c, r = self.centreline(vessel)
        if not c[0, 2] - 1e-6 <= z <= c[-1, 2] + 1e-6:
            raise AnatomyError(
                f"z = {z:.1f} mm lies outside the {vessel} centreline ({c[0, 2]:.1f} to "
                f"{c[-1, 2]:.1f} mm). Fix: choose a level the vessel reaches, or an anatomy "
                "source whose vessel covers it."
            )
        p = np.array([np.interp(z, c[:, 2], c[:, k]) for k in range(3)])
        return p, float(np.interp(z, c[:, 2], r))


def _centreline_of(
    pts: NDArray[np.float64], spacing: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Centreline and equal-area radius of a tubular structure's voxel centres (LPS mm)."""
    band = float(max(spacing.max(), 1.0))
    voxel_mm3 = float(np.prod(spacing))
    z = pts[:, 2]
    k = np.floor((z - z.min()) / band).astype(np.int64)
    n = int(k.max()) + 1
    counts = np.bincount(k, minlength=n).astype(float)
    sx = np.bincount(k, weights=pts[:, 0], minlength=n)
    sy = np.bincount(k, weights=pts[:, 1], minlength=n)
    sz = np.bincount(k, weights=z, minlength=n)
    ok = counts > 0
    idx = np.flatnonzero(ok)
    zc = sz[ok] / counts[ok]
    xc = sx[ok] / counts[ok]
    yc = sy[ok] / counts[ok]
    area = counts[ok] * voxel_mm3 / band
    rad = np.sqrt(area / np.pi)
    if len(idx) >= 3:
        sigma = CENTRELINE_SMOOTHING_MM / band
        xc = ndi.gaussian_filter1d(xc, sigma, mode="nearest")
        yc = ndi.gaussian_filter1d(yc, sigma, mode="nearest")
        rad = ndi.gaussian_filter1d(rad, sigma, mode="nearest")
    order = np.argsort(zc)
    zc, xc, yc, rad = zc[order], xc[order], yc[order], rad[order]
    keep = np.concatenate([[True], np.diff(zc) > 1e-6])
    return np.c_[xc[keep], yc[keep], zc[keep]], rad[keep]


def _corners(shape: tuple[int, ...]) -> NDArray[np.int64]:
    """The eight corner voxels of a grid."""
    n = np.asarray(shape[:3]) - 1
    return np.array([[i, j, k] for i in (0, n[0]) for j in (0, n[1]) for k in (0, n[2])])

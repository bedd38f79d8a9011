"""The anatomy a fit reads on the CT's grid: structure masks, body, bone and vessel lumen.

:class:`AnatomyAccess` reads an anatomy label map's structures on boxes of the CT's grid (the
IVC from its centreline when the label map lacks it); :func:`anatomy_names_for_case` resolves
label names that are findings; :func:`body_mask` and :func:`ct_bone_mask` read the body and
bone from the CT's values; :func:`lumen_from_labels` draws a lumen finding with the vessel's
own section.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage as ndi

from ... import geometry
from ...errors import AnatomyError
from ...geometry import Grid
from ...volume import Volume
from .. import vocabulary as voc
from ..anatomy import Landmarks
from ..casefile import CaseFile, Finding
from ..fit import LUMEN_KINDS, TubeFit, TubeModel
from ..rasterise import CroppedMask, GridBox, block_coords, box_of_lps


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


class AnatomyAccess:
    """Structure masks of an anatomy label map, read on boxes of the CT's grid.

    Parameters
    ----------
    shape, affine
        The CT's grid.
    labels
        The anatomy label map (any grid; read by nearest neighbour when it differs), or None.
    names
        Its label value -> structure name (needed with ``labels``).
    landmarks
        The CT's landmarks (the IVC from its centreline and radius when the label map has none).
    """

    def __init__(
        self,
        grid: Grid,
        labels: Volume | None,
        names: Mapping[int, str] | None,
        landmarks: Landmarks,
    ) -> None:
        self.grid = grid
        self.shape = grid.shape
        self.affine = np.array(grid.affine)
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
        self.same_grid = labels.grid == grid
        if not self.same_grid:
            self.to_label_ijk = np.linalg.inv(labels.affine) @ self.affine

    def names_for(self, structure: str) -> list[str]:
        """Names of the label map that a structure (or ``prefix_*`` group) stands for."""
        return voc.expand_structure(structure, self.by_name)

    def has(self, structure: str) -> bool:
        """Whether the label map names the structure (or a member of the group)."""
        return bool(self.names_for(structure))

    def name_of(self, value: int) -> str | None:
        """The structure name of a label value (the first one given for it), None if unnamed."""
        for n, vs in self.by_name.items():
            if value in vs:
                return n
        return None

    def values(self, box: GridBox) -> NDArray[np.integer]:
        """Label values of the label map at the voxels of a box (CT grid); 0 without one."""
        if self.labels is None or box.empty:
            return np.zeros(box.shape, dtype=np.int64)
        if self.same_grid:
            return np.asarray(self.labels.array[box.slices])
        if self.to_label_ijk is None:  # pragma: no cover
            raise AnatomyError("internal: no grid mapping")
        i, j, k = (np.rint(c).astype(np.int64) for c in block_coords(self.to_label_ijk, box))
        i, j, k = np.broadcast_arrays(i, j, k)
        ls = self.labels.shape
        ok = (i >= 0) & (i < ls[0]) & (j >= 0) & (j < ls[1]) & (k >= 0) & (k < ls[2])
        sub = np.zeros(box.shape, dtype=self.labels.array.dtype)
        sub[ok] = self.labels.array[i[ok], j[ok], k[ok]]
        return sub

    def mask(self, names: list[str], box: GridBox) -> NDArray[np.bool_]:
        """Voxels of the box (CT grid) that carry any of the named structures."""
        values = [v for n in names for v in self.by_name.get(n, [])]
        if self.labels is None or not values or box.empty:
            return np.zeros(box.shape, dtype=bool)
        sub = self.values(box)
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
    anatomy: AnatomyAccess,
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
    box = box_of_lps(anatomy.shape, anatomy.affine, lo, hi)
    if box.empty:
        return CroppedMask.empty_on(box)
    names = anatomy.names_for(vessel)
    x, y, z = (np.broadcast_to(a, box.shape) for a in block_coords(anatomy.affine, box))
    # only voxels of the vessel can belong to its shrunk section
    keep = np.broadcast_to(tube.between_ends(x, y, z), box.shape) & anatomy.mask(names, box)
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

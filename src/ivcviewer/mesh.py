"""Triangle surfaces of labelled regions in LPS millimetres, for smooth 3D views.

:func:`region_surface` turns one value of a label map into a closed triangle mesh with
:func:`skimage.measure.marching_cubes`. The region is cropped to its bounding box (padded with
background, so a region that touches the edge of the grid still gives a closed surface), the
surface is found in voxel index space ``(slice, row, col)`` and its vertices are then mapped
through the volume's 4x4 affine: anisotropic, oblique and sheared grids come out exact, with no
resampling. Before the surface is found, the binary mask may be smoothed with a Gaussian of a
given width in millimetres (per grid axis ``sigma_mm / spacing``); the surface is the 0.5
iso-level of the (smoothed) mask, which for an unsmoothed mask runs half-way between inside and
outside voxel centres, so the enclosed volume matches the voxel count.

:func:`surface_volume_ml` gives the volume a closed mesh encloses (sum of the signed volumes of
the tetrahedra spanned by the origin and each triangle), positive for outward-facing triangles
as :func:`region_surface` returns them.

Examples
--------
>>> from ivcviewer.geometry import affine_from_dicom
>>> from ivcviewer.volume import Volume
>>> axial = affine_from_dicom([1, 0, 0, 0, 1, 0], [0, 0, 0], [1.0, 1.0], [0, 0, 2.0])
>>> labels = np.zeros((6, 12, 12), np.uint8)
>>> labels[1:5, 2:10, 2:10] = 3
>>> verts, faces = region_surface(Volume(labels, axial), 3, smooth_sigma_mm=0.0)
>>> verts.shape[1], faces.shape[1], faces.dtype.kind
(3, 3, 'i')
>>> bool(verts[:, 0].min() >= 1.5 and verts[:, 0].max() <= 9.5)  # x: columns 2..9, +-0.5
True
>>> round(surface_volume_ml(verts, faces), 3)  # 256 voxels of 2 mm^3 (0.512 ml), corners cut
0.493
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import ndimage
from skimage import measure as skmeasure

from . import geometry
from .errors import MeasurementError
from .volume import Volume

#: The iso-level of the (smoothed) mask that is the surface.
ISO_LEVEL = 0.5

#: Width of the Gaussian kernel (in sigmas, each side) that :func:`scipy.ndimage.gaussian_filter`
#: uses; the crop is padded by this much so that the smoothing never meets the crop's edge.
_TRUNCATE = 4.0


def _check_options(smooth_sigma_mm: float, step: int) -> None:
    if not (isinstance(smooth_sigma_mm, (int, float)) and math.isfinite(smooth_sigma_mm)) or (
        smooth_sigma_mm < 0
    ):
        raise MeasurementError(
            f"Argument 'smooth_sigma_mm' must be a finite number >= 0 (mm), got "
            f"{smooth_sigma_mm!r}. Fix: pass 0 for no smoothing, or a width such as 1.0."
        )
    if isinstance(step, bool) or not isinstance(step, (int, np.integer)) or step < 1:
        raise MeasurementError(
            f"Argument 'step' must be an integer >= 1 (voxels), got {step!r}. "
            "Fix: pass 1 for full resolution, 2 or more for a coarser mesh."
        )


def region_surface(
    labels: Volume, value: int, *, smooth_sigma_mm: float = 1.0, step: int = 1
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """A closed triangle mesh of the region ``labels == value``, in LPS mm.

    Parameters
    ----------
    labels
        Integer label map on its own grid.
    value
        The label value of the region.
    smooth_sigma_mm
        Standard deviation (mm) of the Gaussian applied to the binary mask before the surface
        is found; 0 gives the voxel boundary (with marching cubes' cut corners). Smoothing
        rounds staircase steps away; it moves a convex surface inwards by about
        ``sigma**2 / R`` (R the radius of curvature), and parts thinner than about the kernel
        width would vanish: when the smoothed mask no longer reaches the iso-level anywhere,
        the unsmoothed mask is used.
    step
        Marching-cubes step in voxels (``step_size``); larger steps give fewer, coarser
        triangles.

    Returns
    -------
    vertices_lps, faces
        ``(N, 3)`` float LPS mm and ``(M, 3)`` integer vertex indices; the triangles face
        outwards (counter-clockwise seen from outside, in LPS), so that
        :func:`surface_volume_ml` is positive.

    Raises
    ------
    MeasurementError
        When the region is empty, the label map is not of an integer type, or an argument is
        out of range.
    """
    _check_options(smooth_sigma_mm, step)
    arr = labels.array
    if not np.issubdtype(arr.dtype, np.integer):
        raise MeasurementError(
            f"Label map must hold integers to take the surface of value {value}, got dtype "
            f"{arr.dtype}. Fix: round and cast it (for example array.astype(np.uint16))."
        )
    mask = arr == value
    if not mask.any():
        present = [int(v) for v in np.unique(arr) if v != 0][:20]
        raise MeasurementError(
            f"Label value {value} is not present in the label map (shape {labels.shape}); "
            f"there is no region to take a surface of. Values present: {present or 'none'}. "
            "Fix: choose one of those values."
        )
    spacing = labels.spacing
    sigma_vox = np.asarray(smooth_sigma_mm, dtype=float) / spacing
    pad = 1 + np.ceil(_TRUNCATE * sigma_vox).astype(int) if smooth_sigma_mm > 0 else np.ones(3, int)

    # bounding box of the region, padded with background (zeros beyond the grid too)
    nz = np.nonzero(mask)
    lo = np.array([int(a.min()) for a in nz])
    hi = np.array([int(a.max()) + 1 for a in nz])
    start = lo - pad
    stop = hi + pad
    crop = np.zeros(tuple(int(v) for v in stop - start), dtype=np.float32)
    src_lo = np.maximum(start, 0)
    src_hi = np.minimum(stop, labels.shape)
    dst_lo = src_lo - start
    dst_hi = dst_lo + (src_hi - src_lo)
    crop[tuple(slice(a, b) for a, b in zip(dst_lo, dst_hi, strict=True))] = mask[
        tuple(slice(a, b) for a, b in zip(src_lo, src_hi, strict=True))
    ]

    field = crop
    if smooth_sigma_mm > 0:
        smoothed = ndimage.gaussian_filter(crop, sigma=sigma_vox, truncate=_TRUNCATE)
        if float(smoothed.max()) > ISO_LEVEL:
            field = smoothed
    verts_ijk, faces, _, _ = skmeasure.marching_cubes(
        field, level=ISO_LEVEL, step_size=int(step), allow_degenerate=False
    )
    verts_lps = geometry.apply_affine(labels.affine, verts_ijk.astype(float) + start)
    faces = np.asarray(faces, dtype=np.int64)
    if surface_volume_ml(verts_lps, faces) < 0:
        faces = np.ascontiguousarray(faces[:, ::-1])
    return verts_lps, faces


def surface_volume_ml(vertices: ArrayLike, faces: ArrayLike) -> float:
    """The volume (ml) a closed triangle mesh in mm encloses, by the signed-volume formula.

    Sum over the triangles ``(a, b, c)`` of ``a . (b x c) / 6``: positive when the triangles
    face outwards (counter-clockwise seen from outside), negative when they face inwards.
    Meaningful for closed meshes only.

    Examples
    --------
    >>> # a unit right tetrahedron, outward-facing: 1/6 mm^3
    >>> v = [[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]]
    >>> f = [[0, 2, 1], [0, 1, 3], [0, 3, 2], [1, 2, 3]]
    >>> round(surface_volume_ml(v, f) * 1000 * 6, 9)
    1.0
    """
    v = np.asarray(vertices, dtype=float)
    f = np.asarray(faces, dtype=np.int64)
    if v.ndim != 2 or v.shape[1] != 3 or f.ndim != 2 or f.shape[1] != 3:
        raise MeasurementError(
            f"A mesh needs vertices (N, 3) and faces (M, 3), got {v.shape} and {f.shape}."
        )
    if f.size and (f.min() < 0 or f.max() >= len(v)):
        raise MeasurementError(
            f"Mesh faces index vertices 0..{len(v) - 1}, got indices {f.min()}..{f.max()}."
        )
    # centre first: the formula is exact for any origin, but far origins lose precision
    v = v - v.mean(axis=0) if len(v) else v
    a, b, c = v[f[:, 0]], v[f[:, 1]], v[f[:, 2]]
    return float(np.einsum("ij,ij->i", a, np.cross(b, c)).sum() / 6.0 / 1000.0)


__all__ = ["ISO_LEVEL", "region_surface", "surface_volume_ml"]

"""Extents of a region along the patient axes and its oriented bounding box, mm.

Both are the span of the voxel centres along a direction plus one voxel step along it
(:func:`~ivcviewer.measure.lengths.voxel_step_mm`), so that a box of ``N`` voxels along a grid
axis measures ``N * spacing``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .cropped import CroppedRegion
from .lengths import LPS_UNIT_VECTORS, PATIENT_AXES, float_list, steps_mm


@dataclass(frozen=True)
class OrientedBox:
    """Oriented bounding box of a region along its principal axes.

    Attributes
    ----------
    sizes_mm
        The box's three edge lengths, largest first.
    axes_lps
        Unit LPS direction of each edge (rows, same order as ``sizes_mm``).
    center_lps
        LPS mm of the box centre.
    """

    sizes_mm: tuple[float, float, float]
    axes_lps: NDArray[np.float64]
    center_lps: NDArray[np.float64]

    def to_dict(self) -> dict[str, Any]:
        """JSON form: ``sizes_mm``, ``axes_lps`` (3 unit vectors), ``center_lps``."""
        return {
            "sizes_mm": list(self.sizes_mm),
            "axes_lps": [float_list(a) for a in self.axes_lps],
            "center_lps": float_list(self.center_lps),
        }


def _extent_along(
    centres: NDArray[np.float64], lin: NDArray[np.float64], dirs: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Ends of the span of the voxel centres, grown by half a voxel step, along unit ``dirs``."""
    proj = centres @ dirs.T
    half = 0.5 * steps_mm(lin, dirs)
    return proj.min(axis=0) - half, proj.max(axis=0) + half


def extents_of(region: CroppedRegion) -> dict[str, float]:
    """Extents of a cropped region along the patient axes, mm (see :func:`extents_mm`)."""
    lo, hi = _extent_along(region.hull_centres(), region.lin, LPS_UNIT_VECTORS)
    return {ax: float(v) for ax, v in zip(PATIENT_AXES, hi - lo, strict=True)}


def obb_of(region: CroppedRegion) -> OrientedBox:
    """Oriented bounding box of a cropped region (see :func:`oriented_bounding_box`)."""
    _, _, cov_ijk = region.moments()
    cov = region.lin @ cov_ijk @ region.lin.T
    _, vecs = np.linalg.eigh(cov)
    axes = vecs.T.copy()
    for a in axes:
        if a[int(np.argmax(np.abs(a)))] < 0:
            a *= -1.0
    lo, hi = _extent_along(region.hull_centres(), region.lin, axes)
    sizes = hi - lo
    order = np.argsort(-sizes, kind="stable")
    center = ((lo + hi) / 2) @ axes
    s = sizes[order]
    return OrientedBox((float(s[0]), float(s[1]), float(s[2])), axes[order], center)


def extents_mm(mask: ArrayLike, affine: ArrayLike) -> dict[str, float]:
    """Extents of a region along the patient axes, mm.

    The extent along an axis is ``max - min`` of the voxel-centre coordinates along it plus one
    voxel step along it (:func:`voxel_step_mm`), so that a box of ``N`` voxels along a grid axis
    measures ``N * spacing``.

    Here the slice axis points left (a sagittal stack):

    >>> m = np.zeros((5, 5, 5), bool); m[1:4, 2, 1:3] = True
    >>> {k: round(v, 9) for k, v in extents_mm(m, np.diag([2.5, 0.7, 0.5, 1.0])).items()}
    {'lr': 7.5, 'ap': 0.7, 'cc': 1.0}
    """
    return extents_of(CroppedRegion.from_mask(mask, affine))


def oriented_bounding_box(mask: ArrayLike, affine: ArrayLike) -> OrientedBox:
    """Bounding box of a region along its principal axes (PCA of the voxel-centre LPS points).

    Sizes follow the same convention as :func:`extents_mm` (span of the voxel centres along each
    axis plus one voxel step), largest first.
    """
    return obb_of(CroppedRegion.from_mask(mask, affine))


__all__ = ["OrientedBox", "extents_mm", "extents_of", "obb_of", "oriented_bounding_box"]

"""A region cropped to its bounding box: its voxel count, moments, sections and hull points.

Every measurement of a region starts here: the crop keeps memory and time proportional to the
region, and the few voxels that can be extreme (:meth:`CroppedRegion.hull_centres`) are found
once and shared by the extents, the oriented box and the diameters.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import ndimage

from .. import geometry
from ..errors import MeasurementError
from .sections import Sections, section_axis, sections_of


class CroppedRegion:
    """A region cropped to its bounding box, with the affine of the crop.

    The sections, hull points and moments are computed on first use and kept.

    Parameters
    ----------
    mask
        The region inside its bounding box (boolean, ``(slice, row, col)``).
    affine
        The 4x4 affine of the full grid (voxel index -> LPS mm).
    offset
        Index of the crop's first voxel in the full grid.

    Attributes
    ----------
    affine
        The crop's own affine: index 0 of the crop is ``offset`` in the full grid.
    full_affine
        The full grid's affine, as given.
    lin
        The affine's linear part: its columns are the voxel's edge vectors in LPS mm.

    Examples
    --------
    >>> m = np.zeros((4, 5, 6), bool); m[1:3, 2, 2:5] = True
    >>> r = CroppedRegion.from_mask(m, np.diag([2.5, 0.7, 0.7, 1.0]))
    >>> r.offset, r.bbox_ijk, r.n_voxels
    ((1, 2, 2), ((1, 3), (2, 3), (2, 5)), 6)
    """

    def __init__(self, mask: NDArray[np.bool_], affine: NDArray[np.float64], offset: Any) -> None:
        self.mask = mask
        self.offset = tuple(int(o) for o in offset)
        self.full_affine = affine
        shifted = affine.copy()
        shifted[:3, 3] = geometry.apply_affine(affine, self.offset)
        self.affine = shifted
        self.lin = affine[:3, :3]
        self._hull: NDArray[np.float64] | None = None
        self._sections: Sections | None = None
        self._moments: tuple[int, NDArray[np.float64], NDArray[np.float64]] | None = None

    @classmethod
    def from_mask(cls, mask: ArrayLike, affine: ArrayLike, name: str = "mask") -> CroppedRegion:
        """The region of a 3D mask on a grid, cropped to its bounding box.

        Raises
        ------
        MeasurementError
            The mask is not 3D or holds no voxel (``name`` is the argument named).
        """
        m = np.asarray(mask)
        if m.ndim != 3:
            raise MeasurementError(
                f"Argument {name!r} must be a 3D (slice, row, col) mask, got shape {m.shape}."
            )
        m = m.astype(bool, copy=False)
        aff = geometry.as_affine(affine)
        sl = ndimage.find_objects(m.view(np.uint8))
        if not sl or sl[0] is None:
            raise MeasurementError(
                f"Argument {name!r} holds no voxel: an empty region has no measurements."
            )
        return cls(m[sl[0]], aff, [s.start for s in sl[0]])

    @property
    def n_voxels(self) -> int:
        """Number of voxels of the region."""
        return self.moments()[0]

    @property
    def bbox_ijk(self) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]]:
        """``(start, stop)`` of the crop along each voxel axis of the full grid."""
        o, s = self.offset, self.mask.shape
        return ((o[0], o[0] + s[0]), (o[1], o[1] + s[1]), (o[2], o[2] + s[2]))

    def sections(self) -> Sections:
        """Sections across the voxel axis closest to cranio-caudal (cached)."""
        if self._sections is None:
            self._sections = sections_of(self.mask, section_axis(self.full_affine))
        return self._sections

    def hull_centres(self) -> NDArray[np.float64]:
        """LPS centres of a superset of the region's convex hull vertices (cached).

        These are the vertices of every section's 2D hull: a vertex of the 3D hull is a vertex
        of its section's hull. Every linear extreme (extents, box sizes) is among them.
        """
        if self._hull is None:
            self._hull = geometry.apply_affine(self.affine, self.sections().ijk)
        return self._hull

    def moments(self) -> tuple[int, NDArray[np.float64], NDArray[np.float64]]:
        """Voxel count, mean index and index covariance, from the three 2D projections."""
        if self._moments is not None:
            return self._moments
        m = self.mask
        p01 = np.count_nonzero(m, axis=2).astype(float)
        p02 = np.count_nonzero(m, axis=1).astype(float)
        p12 = np.count_nonzero(m, axis=0).astype(float)
        i, j, k = (np.arange(n, dtype=float) for n in m.shape)
        ci, cj, ck = p01.sum(axis=1), p01.sum(axis=0), p02.sum(axis=0)
        n = float(ci.sum())
        mean = np.array([ci @ i, cj @ j, ck @ k]) / n
        second = np.array(
            [
                [ci @ i**2, i @ p01 @ j, i @ p02 @ k],
                [0.0, cj @ j**2, j @ p12 @ k],
                [0.0, 0.0, ck @ k**2],
            ]
        )
        second = np.triu(second) + np.triu(second, 1).T
        cov = second / n - np.outer(mean, mean)
        self._moments = (int(n), mean, cov)
        return self._moments

    def centroid_lps(self) -> NDArray[np.float64]:
        """Mean LPS position of the voxel centres, mm."""
        return geometry.apply_affine(self.affine, self.moments()[1])

    def volume_ml(self) -> float:
        """Voxel count times the voxel volume, mL."""
        return self.n_voxels * float(abs(np.linalg.det(self.lin))) / 1000.0


def volume_ml(mask: ArrayLike, affine: ArrayLike) -> float:
    """Region volume in mL: voxel count times ``|det(affine)|`` / 1000.

    >>> volume_ml(np.ones((4, 10, 10), bool), np.diag([2.5, 1.0, 1.0, 1.0]))
    1.0
    """
    return CroppedRegion.from_mask(mask, affine).volume_ml()


def centroid_lps(mask: ArrayLike, affine: ArrayLike) -> NDArray[np.float64]:
    """Mean LPS position of the region's voxel centres, mm."""
    return CroppedRegion.from_mask(mask, affine).centroid_lps()


__all__ = ["CroppedRegion", "centroid_lps", "volume_ml"]

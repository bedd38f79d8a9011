"""Rasterising shapes on a CT's own voxel grid, whatever its affine.

A shape is rasterised by testing the LPS position of each voxel centre, so the result is exact
for any grid: axial, sagittal, oblique, anisotropic or sheared. Only the voxels inside the
shape's bounding box (brought to voxel indices through the inverse affine) are tested, and the
result is kept as a :class:`CroppedMask` (a box of the grid and a boolean array of that box),
so a region costs memory and time in proportion to its own size, not to the grid's.

Examples
--------
>>> aff = np.diag([2.0, 1.0, 1.0, 1.0])  # the slice axis runs along LPS x, 2 mm apart
>>> box = box_of_lps((10, 10, 10), aff, [2.0, 0.0, 0.0], [6.0, 3.0, 1.0], margin_vox=0)
>>> box.lo, box.hi
((1, 0, 0), (4, 4, 2))
>>> x, y, z = block_coords(aff, box)
>>> x.shape, float(x[0, 0, 0]), float(x[-1, 0, 0])
((3, 1, 1), 2.0, 6.0)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .. import geometry

F32 = np.float32
Arr = NDArray[np.float32]


@dataclass(frozen=True)
class GridBox:
    """A box of voxel indices ``[lo, hi)`` per axis ``(slice, row, col)`` of a grid."""

    lo: tuple[int, int, int]
    hi: tuple[int, int, int]

    @property
    def slices(self) -> tuple[slice, slice, slice]:
        """The box as array slices."""
        return (
            slice(self.lo[0], self.hi[0]),
            slice(self.lo[1], self.hi[1]),
            slice(self.lo[2], self.hi[2]),
        )

    @property
    def shape(self) -> tuple[int, int, int]:
        """Voxels along each axis (0 for an empty box)."""
        return (
            max(self.hi[0] - self.lo[0], 0),
            max(self.hi[1] - self.lo[1], 0),
            max(self.hi[2] - self.lo[2], 0),
        )

    @property
    def empty(self) -> bool:
        """Whether the box holds no voxel."""
        return min(self.shape) == 0

    @property
    def size(self) -> int:
        """Number of voxels in the box."""
        s = self.shape
        return s[0] * s[1] * s[2]

    def intersect(self, other: GridBox) -> GridBox:
        """The overlap of two boxes (possibly empty).

        >>> GridBox((0, 0, 0), (5, 5, 5)).intersect(GridBox((3, 1, 6), (9, 2, 9))).empty
        True
        """
        lo = tuple(max(a, b) for a, b in zip(self.lo, other.lo, strict=True))
        hi = tuple(min(a, b) for a, b in zip(self.hi, other.hi, strict=True))
        return GridBox((lo[0], lo[1], lo[2]), (hi[0], hi[1], hi[2]))

    def union(self, other: GridBox) -> GridBox:
        """The smallest box holding both (an empty box is ignored)."""
        if self.empty:
            return other
        if other.empty:
            return self
        lo = tuple(min(a, b) for a, b in zip(self.lo, other.lo, strict=True))
        hi = tuple(max(a, b) for a, b in zip(self.hi, other.hi, strict=True))
        return GridBox((lo[0], lo[1], lo[2]), (hi[0], hi[1], hi[2]))

    def grow(self, n: int, shape: tuple[int, int, int]) -> GridBox:
        """The box grown by ``n`` voxels on every side, clipped to a grid of ``shape``."""
        lo = tuple(max(v - n, 0) for v in self.lo)
        hi = tuple(min(v + n, s) for v, s in zip(self.hi, shape, strict=True))
        return GridBox((lo[0], lo[1], lo[2]), (hi[0], hi[1], hi[2]))

    def relative_to(self, outer: GridBox) -> tuple[slice, slice, slice]:
        """This box's slices inside an array that holds ``outer`` (which must contain it)."""
        return tuple(  # type: ignore[return-value]
            slice(a - o, b - o) for a, b, o in zip(self.lo, self.hi, outer.lo, strict=True)
        )


def full_box(shape: tuple[int, int, int]) -> GridBox:
    """The box of a whole grid."""
    return GridBox((0, 0, 0), (int(shape[0]), int(shape[1]), int(shape[2])))


def _corners(lo: NDArray[np.float64], hi: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.array(
        [
            [(lo, hi)[i][0], (lo, hi)[j][1], (lo, hi)[k][2]]
            for i in (0, 1)
            for j in (0, 1)
            for k in (0, 1)
        ]
    )


def box_of_lps_unclipped(
    affine: ArrayLike, lo_lps: ArrayLike, hi_lps: ArrayLike, margin_vox: int = 1
) -> GridBox:
    """Voxel box (not clipped to any grid) holding every voxel centre of an LPS box."""
    lo = np.asarray(lo_lps, dtype=float)
    hi = np.asarray(hi_lps, dtype=float)
    ijk = geometry.lps_to_voxel(affine, _corners(lo, hi))
    a = np.floor(ijk.min(axis=0)).astype(int) - margin_vox
    b = np.ceil(ijk.max(axis=0)).astype(int) + 1 + margin_vox
    return GridBox((int(a[0]), int(a[1]), int(a[2])), (int(b[0]), int(b[1]), int(b[2])))


def box_of_lps(
    shape: tuple[int, int, int],
    affine: ArrayLike,
    lo_lps: ArrayLike,
    hi_lps: ArrayLike,
    margin_vox: int = 1,
) -> GridBox:
    """Voxel box of a grid holding every voxel centre inside an LPS box (clipped to the grid)."""
    return box_of_lps_unclipped(affine, lo_lps, hi_lps, margin_vox).intersect(full_box(shape))


def block_coords(affine: ArrayLike, box: GridBox) -> tuple[Arr, Arr, Arr]:
    """LPS ``(x, y, z)`` mm of the voxel centres of a box, as ``float32`` arrays of its shape.

    Coordinates are relative to nothing: they are absolute LPS mm. For a grid aligned with the
    patient axes the arrays are broadcastable views of shape ``(n, 1, 1)`` and so on; otherwise
    full arrays.
    """
    aff = geometry.as_affine(affine)
    idx = [np.arange(lo, hi, dtype=np.float64) for lo, hi in zip(box.lo, box.hi, strict=True)]
    shapes = ((-1, 1, 1), (1, -1, 1), (1, 1, -1))
    out: list[Arr] = []
    for row in range(3):
        total: Any = F32(aff[row, 3])
        for axis in range(3):
            c = aff[row, axis]
            if c != 0.0:
                total = total + (c * idx[axis]).astype(F32).reshape(shapes[axis])
        out.append(np.asarray(total, dtype=F32))
    return out[0], out[1], out[2]


@dataclass
class CroppedMask:
    """A boolean region of a grid, kept as a box of the grid and the mask of that box."""

    box: GridBox
    mask: NDArray[np.bool_]

    @classmethod
    def empty_on(cls, box: GridBox) -> CroppedMask:
        """An all-False mask over ``box``."""
        return cls(box, np.zeros(box.shape, dtype=bool))

    @property
    def n_voxels(self) -> int:
        """Voxels in the region."""
        return int(np.count_nonzero(self.mask))

    def affine(self, grid_affine: ArrayLike) -> NDArray[np.float64]:
        """The affine of the box's array (the grid's, shifted to the box's first voxel)."""
        aff = geometry.as_affine(grid_affine).copy()
        aff[:3, 3] = geometry.apply_affine(aff, np.asarray(self.box.lo, dtype=float))
        return aff

    def copy(self) -> CroppedMask:
        """An independent copy."""
        return CroppedMask(self.box, self.mask.copy())

    def tight(self) -> CroppedMask:
        """The same region cropped to its own bounding box (unchanged when empty)."""
        if not self.mask.any():
            return self
        idx = [
            np.flatnonzero(self.mask.any(axis=tuple(a for a in range(3) if a != k)))
            for k in range(3)
        ]
        lo = tuple(int(self.box.lo[k] + idx[k][0]) for k in range(3))
        hi = tuple(int(self.box.lo[k] + idx[k][-1] + 1) for k in range(3))
        box = GridBox((lo[0], lo[1], lo[2]), (hi[0], hi[1], hi[2]))
        return CroppedMask(box, self.mask[box.relative_to(self.box)])

    def on(self, box: GridBox) -> NDArray[np.bool_]:
        """The region as a mask over another box of the same grid."""
        out = np.zeros(box.shape, dtype=bool)
        common = self.box.intersect(box)
        if not common.empty:
            out[common.relative_to(box)] = self.mask[common.relative_to(self.box)]
        return out

    def full(self, shape: tuple[int, int, int]) -> NDArray[np.bool_]:
        """The region as a full-grid mask."""
        return self.on(full_box(shape))

    def z_span_lps(self, grid_affine: ArrayLike) -> tuple[float, float]:
        """Lowest and highest LPS z of the region's voxel centres (mm).

        z is linear in the indices, so along each grid line of the last axis its extremes lie
        at the line's first and last voxel: only those are evaluated.
        """
        m = self.mask
        has = m.any(axis=2)
        if not has.any():
            return (float("nan"), float("nan"))
        n = m.shape[2]
        first = np.argmax(m, axis=2)[has]
        last = (n - 1 - np.argmax(m[:, :, ::-1], axis=2))[has]
        ii, jj = np.nonzero(has)
        aff = geometry.as_affine(grid_affine)
        lo = np.asarray(self.box.lo, dtype=float)
        base = (ii + lo[0]) * aff[2, 0] + (jj + lo[1]) * aff[2, 1] + aff[2, 3]
        z = np.concatenate([base + (first + lo[2]) * aff[2, 2], base + (last + lo[2]) * aff[2, 2]])
        return float(z.min()), float(z.max())


def rasterise_inside(
    shape: tuple[int, int, int],
    affine: ArrayLike,
    lo_lps: ArrayLike,
    hi_lps: ArrayLike,
    inside: Callable[[Arr, Arr, Arr], NDArray[np.bool_]],
) -> CroppedMask:
    """Test ``inside(x, y, z)`` at the voxel centres of the grid within an LPS bounding box."""
    box = box_of_lps(shape, affine, lo_lps, hi_lps)
    if box.empty:
        return CroppedMask.empty_on(box)
    x, y, z = block_coords(affine, box)
    m = np.broadcast_to(inside(x, y, z), box.shape)
    return CroppedMask(box, np.ascontiguousarray(m, dtype=bool))

"""Voxel grids the phantom is evaluated on: the presets and arbitrary patches.

The phantom is analytic, so it can be sampled on any axial grid: the ``small`` preset for tests,
the ``standard`` one for the demo, or a small high-resolution patch around a point (to check a
thin structure such as the cortical rim of a vertebra).

Examples
--------
>>> g = PhantomGrid.preset("small")
>>> g.shape, g.spacing
((72, 96, 96), (5.0, 4.0, 4.0))
>>> g.affine[:3, 3].tolist()
[-190.0, -200.0, -165.0]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .. import geometry
from ..errors import GeometryError

#: Names of the grid presets.
SIZES: tuple[str, ...] = ("small", "standard")

#: Lowest and highest slice centres of the presets (LPS z, mm): from the pelvic inlet (top of
#: the sacrum) to the lung bases and the cavo-atrial junction.
Z_RANGE_MM: tuple[float, float] = (-165.0, 190.0)


@dataclass(frozen=True)
class PhantomGrid:
    """An axial voxel grid: slices along +z (feet to head), rows along +y, columns along +x.

    Attributes
    ----------
    shape
        ``(slices, rows, cols)``.
    spacing
        ``(slice step, row spacing, column spacing)`` in mm.
    origin_lps
        LPS mm of the centre of voxel ``(0, 0, 0)``.
    slab
        Slices rasterised together (memory versus overhead).
    """

    shape: tuple[int, int, int]
    spacing: tuple[float, float, float]
    origin_lps: tuple[float, float, float]
    slab: int = 8

    def __post_init__(self) -> None:
        if len(self.shape) != 3 or any(int(n) < 1 for n in self.shape):
            raise GeometryError(f"Grid shape must be 3 positive sizes, got {self.shape}.")
        if len(self.spacing) != 3 or any(float(s) <= 0 for s in self.spacing):
            raise GeometryError(f"Grid spacing must be 3 positive values (mm), got {self.spacing}.")
        if self.slab < 1:
            raise GeometryError(f"Grid slab must be at least 1 slice, got {self.slab}.")

    @classmethod
    def preset(cls, size: str) -> PhantomGrid:
        """The grid of a named size: ``"small"`` (tests) or ``"standard"`` (demo).

        ``small``: 72 x 96 x 96 voxels of 5 x 4 x 4 mm. ``standard``: 143 x 512 x 512 voxels of
        2.5 x 0.75 x 0.75 mm. Both cover the same 384 mm field of view and z from -165 to
        +190 mm.
        """
        z0, z1 = Z_RANGE_MM
        if size == "small":
            dz, dxy, n = 5.0, 4.0, 96
            slab = 72
        elif size == "standard":
            dz, dxy, n = 2.5, 0.75, 512
            slab = 8
        else:
            raise GeometryError(f"Argument 'size' must be one of {list(SIZES)}, got {size!r}.")
        nz = int(round((z1 - z0) / dz)) + 1
        half = (n - 1) * dxy / 2.0
        # field of view centred on x = 0 and on y = -10 mm (the body is deeper in front)
        return cls((nz, n, n), (dz, dxy, dxy), (-half, -10.0 - half, z0), slab)

    @classmethod
    def around(
        cls,
        centre_lps: Sequence[float],
        shape: Sequence[int],
        spacing: Sequence[float],
    ) -> PhantomGrid:
        """A grid of ``shape`` voxels of ``spacing`` mm centred on ``centre_lps``.

        >>> g = PhantomGrid.around([0, 0, 0], (3, 4, 4), (1.0, 0.5, 0.5))
        >>> g.origin_lps
        (-0.75, -0.75, -1.0)
        """
        c = np.asarray(centre_lps, dtype=float)
        nz, ny, nx = (int(v) for v in shape)
        dz, dy, dx = (float(v) for v in spacing)
        origin = (
            float(c[0] - (nx - 1) * dx / 2),
            float(c[1] - (ny - 1) * dy / 2),
            float(c[2] - (nz - 1) * dz / 2),
        )
        return cls((nz, ny, nx), (dz, dy, dx), origin, slab=max(1, min(nz, 16)))

    @property
    def affine(self) -> NDArray[np.float64]:
        """The ``(slice, row, col, 1) -> LPS`` affine (axial, rows posterior, columns left)."""
        dz, dy, dx = self.spacing
        return geometry.affine_from_dicom(
            [1, 0, 0, 0, 1, 0], self.origin_lps, [dy, dx], [0.0, 0.0, dz]
        )

    def axes_lps(self) -> tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.float32]]:
        """Voxel-centre coordinates ``(z (nz,), y (ny,), x (nx,))`` in mm."""
        nz, ny, nx = self.shape
        dz, dy, dx = self.spacing
        ox, oy, oz = self.origin_lps
        z = (oz + dz * np.arange(nz)).astype(np.float32)
        y = (oy + dy * np.arange(ny)).astype(np.float32)
        x = (ox + dx * np.arange(nx)).astype(np.float32)
        return z, y, x

    @property
    def in_plane_spacing(self) -> float:
        """Mean of the row and column spacing (mm): the width of a partial-volume edge."""
        return float((self.spacing[1] + self.spacing[2]) / 2.0)

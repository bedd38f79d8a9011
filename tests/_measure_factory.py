"""Analytic shapes voxelised on anisotropic and oblique grids, for the measurement tests."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from ivcviewer.geometry import apply_affine
from ivcviewer.volume import Volume

#: In-plane, in-plane, slice spacing of the anisotropic test grids (mm).
SPACING_XY = 0.7
SPACING_Z = 2.5


def rotation(deg_x: float = 0.0, deg_y: float = 0.0, deg_z: float = 0.0) -> NDArray[np.float64]:
    """Rotation matrix R = Rz @ Ry @ Rx (angles in degrees)."""
    ax, ay, az = np.radians([deg_x, deg_y, deg_z])
    rx = np.array([[1, 0, 0], [0, np.cos(ax), -np.sin(ax)], [0, np.sin(ax), np.cos(ax)]])
    ry = np.array([[np.cos(ay), 0, np.sin(ay)], [0, 1, 0], [-np.sin(ay), 0, np.cos(ay)]])
    rz = np.array([[np.cos(az), -np.sin(az), 0], [np.sin(az), np.cos(az), 0], [0, 0, 1]])
    return np.asarray(rz @ ry @ rx, dtype=float)


def grid_affine(
    shape: Sequence[int],
    spacing: Sequence[float] = (SPACING_Z, SPACING_XY, SPACING_XY),
    rot: NDArray[np.float64] | None = None,
    centre_lps: Sequence[float] = (10.0, -20.0, 30.0),
) -> NDArray[np.float64]:
    """Affine of an axial (slice = +z, row = +y, col = +x) grid, optionally rotated.

    The grid is centred on ``centre_lps`` (its middle voxel centre, for odd sizes).
    """
    r = np.eye(3) if rot is None else rot
    lin = np.zeros((3, 3))
    lin[:, 0] = r @ [0, 0, spacing[0]]
    lin[:, 1] = r @ [0, spacing[1], 0]
    lin[:, 2] = r @ [spacing[2], 0, 0]
    a = np.eye(4)
    a[:3, :3] = lin
    mid = (np.asarray(shape, dtype=float) - 1) / 2
    a[:3, 3] = np.asarray(centre_lps, dtype=float) - lin @ mid
    return a


def voxel_centres(shape: Sequence[int], affine: NDArray[np.float64]) -> NDArray[np.float64]:
    """LPS centres of every voxel, shape ``(*shape, 3)``."""
    ijk = np.stack(np.meshgrid(*(np.arange(n) for n in shape), indexing="ij"), axis=-1)
    return apply_affine(affine, ijk.astype(float))


def local_coords(
    centres: NDArray[np.float64], centre_lps: Sequence[float], rot: NDArray[np.float64] | None
) -> NDArray[np.float64]:
    """Coordinates of points in a shape's own frame (its axes are the columns of ``rot``)."""
    r = np.eye(3) if rot is None else rot
    return np.asarray((centres - np.asarray(centre_lps)) @ r, dtype=float)


def box_mask(
    centres: NDArray[np.float64],
    sizes: Sequence[float],
    centre_lps: Sequence[float],
    rot: NDArray[np.float64] | None = None,
) -> NDArray[np.bool_]:
    """Voxels whose centre lies in a box of edge ``sizes`` (mm) along the frame's axes."""
    loc = local_coords(centres, centre_lps, rot)
    return np.all(np.abs(loc) <= np.asarray(sizes) / 2 + 1e-9, axis=-1)


def ellipsoid_mask(
    centres: NDArray[np.float64],
    semi_axes: Sequence[float],
    centre_lps: Sequence[float],
    rot: NDArray[np.float64] | None = None,
) -> NDArray[np.bool_]:
    """Voxels whose centre lies in an ellipsoid of ``semi_axes`` (mm) along the frame's axes."""
    loc = local_coords(centres, centre_lps, rot)
    return np.asarray(np.sum((loc / np.asarray(semi_axes)) ** 2, axis=-1) <= 1.0)


def support_extent(
    semi: Sequence[float], rot: NDArray[np.float64] | None, direction: Sequence[float], box: bool
) -> float:
    """Exact extent (mm) of a box (half-sizes ``semi``) or ellipsoid along a unit direction."""
    r = np.eye(3) if rot is None else rot
    d = r.T @ np.asarray(direction, dtype=float)
    h = np.asarray(semi, dtype=float)
    if box:
        return float(2 * np.sum(np.abs(d) * h))
    return float(2 * np.sqrt(np.sum((d * h) ** 2)))


def labels_volume(masks: dict[int, NDArray[np.bool_]], affine: NDArray[np.float64]) -> Volume:
    """A uint8 label map holding each mask at its value (later masks win)."""
    shape = next(iter(masks.values())).shape
    arr = np.zeros(shape, np.uint8)
    for value, m in masks.items():
        arr[m] = value
    return Volume(arr, affine)

"""Resampling a gantry-tilted stack (with even or uneven steps) onto an orthogonal grid.

Each stack is written as DICOM from a function of the patient position, so the value of the
source at any point is known: the resampled grid must hold every source voxel, and its values
must match the source interpolated physically (each slice sampled at the target point's own
in-plane position, then blended along the normal), an exact linear function, and SimpleITK's
resampling of the same sheared image.
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from _dicom_factory import AXIAL, ORIGIN, PIXEL_SPACING, SAGITTAL, positions_along, write_stack
from numpy.typing import NDArray
from scipy.interpolate import RegularGridInterpolator

from ivcviewer.dicom import load_series, scan
from ivcviewer.dicom.orthogonal import orthogonal_grid, resample_onto
from ivcviewer.geometry import gantry_tilt_deg, lps_to_voxel, voxel_to_lps
from ivcviewer.report import ValidationMode
from ivcviewer.volume import Volume

RESAMPLE = ValidationMode.RESAMPLE
ROWS, COLS = 40, 24
EVEN = [2.5 * k for k in range(12)]
UNEVEN = [0.0, 1.0, 2.5, 5.5, 6.0, 9.0, 13.0, 14.0, 17.5, 18.0, 21.0, 25.0]  # steps 0.5 to 4 mm

Field = Callable[[NDArray[np.float64]], NDArray[np.float64]]


def linear(p: NDArray[np.float64]) -> NDArray[np.float64]:
    """HU linear in the patient position (bilinear and linear interpolation are exact)."""
    return -500.0 + 3.0 * p[..., 0] + 5.0 * p[..., 1] + 7.0 * p[..., 2]


def wavy(p: NDArray[np.float64]) -> NDArray[np.float64]:
    """A smooth HU field that varies in every direction, with sharp-ish structure in plane."""
    return (
        300.0 * np.sin(p[..., 0] / 3.0) * np.cos(p[..., 1] / 4.0)
        + 200.0 * np.sin(p[..., 2] / 5.0)
        + 40.0 * p[..., 1]
    )


@dataclass
class Stack:
    """A tilted stack as written: the position of every source voxel centre and its HU."""

    positions: NDArray[np.float64]  # (n, 3) ImagePositionPatient
    row_step: NDArray[np.float64]
    col_step: NDArray[np.float64]
    hu: NDArray[np.int16]  # (n, rows, cols)

    def voxel_centres(self) -> NDArray[np.float64]:
        r, c = np.meshgrid(np.arange(ROWS), np.arange(COLS), indexing="ij")
        in_plane = r[..., None] * self.row_step + c[..., None] * self.col_step
        return np.asarray(self.positions[:, None, None, :] + in_plane[None], dtype=float)


def write_tilted(
    folder: Path,
    offsets: list[float],
    tilt_deg: float,
    field: Field,
    orientation: tuple[float, ...] = AXIAL,
    lateral_axis: tuple[float, float, float] = (0.0, 1.0, 0.0),
) -> Stack:
    """Slices at ``offsets`` mm along the normal, drifting ``tan(tilt)`` mm per mm in plane."""
    iop = np.asarray(orientation, dtype=float)
    lateral = np.tan(np.radians(tilt_deg)) * np.asarray(lateral_axis, dtype=float)
    positions = positions_along(offsets, orientation, ORIGIN, lateral)
    stack = Stack(positions, iop[3:] * PIXEL_SPACING[0], iop[:3] * PIXEL_SPACING[1], np.empty(0))
    stack.hu = np.rint(field(stack.voxel_centres())).astype(np.int16)
    write_stack(folder, stack.hu, offsets, orientation=orientation, lateral=lateral, seed="tilt")
    return stack


def load_resampled(folder: Path) -> Volume:
    (info,) = scan(folder).series
    assert "gantry_tilt" in info.report
    return load_series(info, on_irregular=RESAMPLE)


def physical_reference(stack: Stack, points: NDArray[np.float64]) -> NDArray[np.float64]:
    """The source at ``points`` (LPS), interpolated physically; NaN where it is not defined.

    Written independently of the loader: each slice is a bilinear interpolant over its own
    pixel centres (scipy's RegularGridInterpolator), evaluated at the point's projection on the
    slice plane; the two slices bracketing the point along the normal are blended linearly.
    """
    normal = np.cross(stack.col_step, stack.row_step)
    normal /= np.linalg.norm(normal)
    d = stack.positions @ normal
    t = points @ normal
    b = np.clip(np.searchsorted(d, t), 1, len(d) - 1)
    a = b - 1
    w = (t - d[a]) / (d[b] - d[a])
    at_a, at_b = np.full(t.shape, np.nan), np.full(t.shape, np.nan)
    axes = (np.arange(ROWS, dtype=float), np.arange(COLS, dtype=float))
    for k in range(len(d)):
        interp = RegularGridInterpolator(
            axes, stack.hu[k].astype(float), bounds_error=False, fill_value=np.nan
        )
        rel = points - stack.positions[k]
        rc = np.stack(
            [
                rel @ stack.row_step / (stack.row_step @ stack.row_step),
                rel @ stack.col_step / (stack.col_step @ stack.col_step),
            ],
            axis=-1,
        )
        value = interp(rc)
        at_a[a == k] = value[a == k]
        at_b[b == k] = value[b == k]
    # a point on a slice is that slice's value; between two, both must hold it
    on_a, on_b = np.abs(w) < 1e-6, np.abs(1 - w) < 1e-6
    blended = (1 - w) * at_a + w * at_b
    return np.where(on_a, at_a, np.where(on_b, at_b, blended))


def grid_points(vol: Volume) -> NDArray[np.float64]:
    ijk = np.stack(np.meshgrid(*[np.arange(n) for n in vol.shape], indexing="ij"), axis=-1)
    return voxel_to_lps(vol.affine, ijk.reshape(-1, 3)).reshape(vol.shape + (3,))


def assert_holds_every_source_voxel(vol: Volume, stack: Stack) -> None:
    """Every source voxel centre lies in the grid, and the grid is no larger than needed."""
    ijk = lps_to_voxel(vol.affine, stack.voxel_centres().reshape(-1, 3))
    upper = np.array(vol.shape) - 1
    assert ijk.min() >= -1e-3 and np.all(ijk.max(axis=0) <= upper + 1e-3), (ijk.min(0), upper)
    # tight: some source voxel lies within one voxel of each face of the grid
    assert np.all(ijk.min(axis=0) < 1.0) and np.all(ijk.max(axis=0) > upper - 1.0)


CASES = [
    pytest.param(20.0, EVEN, id="+20deg-even"),
    pytest.param(-20.0, EVEN, id="-20deg-even"),
    pytest.param(20.0, UNEVEN, id="+20deg-uneven"),
    pytest.param(-20.0, UNEVEN, id="-20deg-uneven"),
]


@pytest.mark.parametrize(("tilt", "offsets"), CASES)
def test_tilted_stack_resampled_holds_every_voxel_and_matches_physical_interpolation(
    tmp_path: Path, tilt: float, offsets: list[float]
) -> None:
    stack = write_tilted(tmp_path / "ct", offsets, tilt, wavy)
    vol = load_resampled(tmp_path / "ct")

    assert gantry_tilt_deg(vol.affine) == pytest.approx(0.0, abs=1e-6)
    assert_holds_every_source_voxel(vol, stack)
    drift_rows = offsets[-1] * np.tan(np.radians(abs(tilt))) / PIXEL_SPACING[0]
    assert vol.shape[1] == ROWS + int(np.ceil(drift_rows)) and vol.shape[2] == COLS

    expected = physical_reference(stack, grid_points(vol))
    inside = ~np.isnan(expected)
    assert inside.mean() > 0.6  # most of the grid lies in both bracketing slices
    diff = np.abs(vol.array[inside].astype(float) - expected[inside])
    assert diff.max() <= 1.0, diff.max()
    # the last grid slice is the last source slice; the rows it does not reach hold the
    # stack's lowest value (its air)
    last = vol.array[-1]
    reached = last != stack.hu.min()
    rows = np.flatnonzero(reached.any(axis=1))
    assert len(rows) in (ROWS, ROWS + 1)  # a fractional shift blends both edge rows with air
    assert np.all(last[: rows[0]] == stack.hu.min()) and np.all(
        last[rows[-1] + 1 :] == stack.hu.min()
    )


@pytest.mark.parametrize(("tilt", "offsets"), CASES)
def test_linear_field_is_reproduced_within_one_hu(
    tmp_path: Path, tilt: float, offsets: list[float]
) -> None:
    stack = write_tilted(tmp_path / "ct", offsets, tilt, linear)
    vol = load_resampled(tmp_path / "ct")
    points = grid_points(vol)
    inside = ~np.isnan(physical_reference(stack, points))
    diff = np.abs(vol.array.astype(float) - linear(points))[inside]
    assert inside.sum() > 0.6 * inside.size and diff.max() <= 1.0, diff.max()


def test_grid_change_is_reported(tmp_path: Path) -> None:
    write_tilted(tmp_path / "ct", UNEVEN, -20.0, linear)
    vol = load_resampled(tmp_path / "ct")
    (item,) = [i for i in vol.report.items if i.code == "grid_extended"]
    added = vol.shape[1] - ROWS
    assert f"from 12 x {ROWS} x {COLS} to {vol.shape[0]} x {vol.shape[1]} x {COLS}" in item.message
    # a negative tilt drifts towards -y: the rows are added before the first row
    assert f"{added} row(s) before the first and 0 after the last" in item.message
    assert f"({added * PIXEL_SPACING[0]:.4g} mm)" in item.message
    np.testing.assert_allclose(vol.affine[:3, 3], np.array(ORIGIN) - [0, added * 0.8, 0])
    resampled = " ".join(i.message for i in vol.report.items if i.code == "resampled")
    assert "20.00 degree gantry tilt was removed" in resampled and "unevenly spaced" in resampled
    assert f"outside the source slices hold {vol.array.min()}" in resampled


def test_tilt_across_rows_and_columns_of_a_sagittal_stack(tmp_path: Path) -> None:
    # sagittal slices (rows along -z, columns along +y) drifting in both in-plane directions
    axis = np.array([0.0, 0.6, -0.8])
    stack = write_tilted(tmp_path / "ct", UNEVEN, 15.0, wavy, SAGITTAL, tuple(axis))
    vol = load_resampled(tmp_path / "ct")
    assert gantry_tilt_deg(vol.affine) == pytest.approx(0.0, abs=1e-6)
    assert vol.shape[1] > ROWS and vol.shape[2] > COLS
    assert_holds_every_source_voxel(vol, stack)
    expected = physical_reference(stack, grid_points(vol))
    inside = ~np.isnan(expected)
    assert inside.mean() > 0.5
    assert np.abs(vol.array[inside] - expected[inside]).max() <= 1.0


@pytest.mark.parametrize("tilt", [20.0, -20.0])
def test_even_tilted_stack_agrees_with_simpleitk(tmp_path: Path, tilt: float) -> None:
    sitk = pytest.importorskip("SimpleITK")
    stack = write_tilted(tmp_path / "ct", EVEN, tilt, wavy)
    vol = load_resampled(tmp_path / "ct")
    # the same stack as a sheared ITK image, resampled by ITK onto our grid
    image = sitk.GetImageFromArray(stack.hu.astype(np.float32))  # (k, r, c) = ITK (z, y, x)
    slice_vec = stack.positions[1] - stack.positions[0]
    axes = [stack.col_step, stack.row_step, slice_vec]
    image.SetSpacing([float(np.linalg.norm(a)) for a in axes])
    image.SetDirection(np.stack([a / np.linalg.norm(a) for a in axes], axis=1).ravel().tolist())
    image.SetOrigin(stack.positions[0].tolist())
    ours = Volume(vol.array, vol.affine)
    ref = sitk.Image(list(reversed(ours.shape)), sitk.sitkFloat32)
    ref.SetSpacing([float(v) for v in reversed(ours.spacing)])
    direction = vol.affine[:3, :3] / ours.spacing
    ref.SetDirection(direction[:, ::-1].ravel().tolist())
    ref.SetOrigin(vol.affine[:3, 3].tolist())
    peer = sitk.GetArrayFromImage(
        sitk.Resample(image, ref, sitk.Transform(), sitk.sitkLinear, float("nan"))
    )
    both = ~np.isnan(peer) & ~np.isnan(physical_reference(stack, grid_points(vol)))
    assert both.mean() > 0.6
    assert np.abs(vol.array[both] - peer[both]).max() <= 1.0


def test_resampling_holds_a_few_slices_beside_the_output(tmp_path: Path) -> None:
    rows, cols = 128, 128
    n = 24
    positions = positions_along([1.5 * k for k in range(n)], lateral=(0.0, 0.3, 0.0))
    grid = orthogonal_grid(positions, ([0, 0.8, 0], [0.7, 0, 0]), (rows, cols), 1.5)
    source = np.zeros((n, rows, cols), np.int16)
    tracemalloc.start()
    try:
        out = resample_onto(source, grid, -1024.0)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    slice_f32 = grid.shape[1] * grid.shape[2] * 4
    assert out.shape == grid.shape and out.dtype == np.int16
    assert peak <= out.nbytes + 8 * slice_f32, (peak, out.nbytes, slice_f32)


@pytest.mark.parametrize("offset", [(0.0, 0.0), (2.0, 3.0), (3.3, 0.0), (0.25, 1.75), (4.5, 2.5)])
def test_in_plane_shift_agrees_with_scipy(offset: tuple[float, float]) -> None:
    from scipy import ndimage

    from ivcviewer.dicom.orthogonal import _shift_into

    image = np.random.default_rng(1).integers(-1000, 2000, (9, 7)).astype(np.int16)
    shape = (9 + 5, 7 + 4)
    ours = _shift_into(image, np.array(offset), shape, -1024.0)
    peer = ndimage.affine_transform(
        image.astype(np.float64),
        np.ones(2),
        offset=-np.array(offset),
        output_shape=shape,
        order=1,
        mode="grid-constant",
        cval=-1024.0,
        prefilter=False,
    )
    np.testing.assert_allclose(ours, peer, atol=1e-3)

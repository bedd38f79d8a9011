from __future__ import annotations

import numpy as np
import pytest

from ivcviewer import geometry as g
from ivcviewer.errors import GeometryError
from ivcviewer.volume import Volume


def test_affine_from_dicom_axial_matches_hand_computation() -> None:
    a = g.affine_from_dicom([1, 0, 0, 0, 1, 0], [-10, -20, 30], [0.8, 0.6], [0, 0, 2.5])
    # voxel (slice 2, row 3, col 4): x from columns, y from rows, z from slices
    np.testing.assert_allclose(g.voxel_to_lps(a, [2, 3, 4]), [-10 + 4 * 0.6, -20 + 3 * 0.8, 35])


def test_affine_round_trip_and_spacing() -> None:
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    iop = np.concatenate([q[:, 0], q[:, 1]])
    normal = g.slice_normal(iop)
    a = g.affine_from_dicom(iop, [1, 2, 3], [0.7, 0.9], normal * 2.0)
    np.testing.assert_allclose(g.spacing_from_affine(a), [2.0, 0.7, 0.9])
    pts = rng.uniform(-50, 50, size=(10, 3))
    np.testing.assert_allclose(g.lps_to_voxel(a, g.voxel_to_lps(a, pts)), pts, atol=1e-9)
    assert g.gantry_tilt_deg(a) == pytest.approx(0, abs=1e-6)


def test_gantry_tilt_angle() -> None:
    tilt = np.radians(15)
    step = 2.0 * np.array([0, np.sin(tilt), np.cos(tilt)])
    a = g.affine_from_dicom([1, 0, 0, 0, 1, 0], [0, 0, 0], [1, 1], step)
    assert g.gantry_tilt_deg(a) == pytest.approx(15)


@pytest.mark.parametrize(
    "iop, bad",
    [
        ([1, 0, 0, 0, 1], "6 values"),
        ([1, 0, 0, 1, 0, 0], "orthogonal"),
        ([2, 0, 0, 0, 1, 0], "unit"),
    ],
)
def test_bad_orientation_is_named(iop: list[float], bad: str) -> None:
    with pytest.raises(GeometryError, match=bad):
        g.affine_from_dicom(iop, [0, 0, 0], [1, 1], [0, 0, 1])


def test_singular_affine_rejected() -> None:
    with pytest.raises(GeometryError, match="singular"):
        g.as_affine(np.diag([0.0, 1, 1, 1]))


def test_nifti_ras_conversion_round_trip() -> None:
    ras = np.array([[-0.7, 0, 0, 100], [0, 0.8, 0, -50], [0, 0, 2.5, -300], [0, 0, 0, 1]])
    ours = g.affine_from_xyz_ras(ras)
    np.testing.assert_allclose(g.xyz_ras_from_affine(ours), ras)
    # voxel (i, j, k) = (1, 2, 3) in NIfTI is (slice, row, col) = (3, 2, 1) in ours;
    # RAS (x, y, z) becomes LPS (-x, -y, z)
    ras_pt = ras @ [1, 2, 3, 1]
    np.testing.assert_allclose(g.voxel_to_lps(ours, [3, 2, 1]), [-ras_pt[0], -ras_pt[1], ras_pt[2]])


def test_itk_round_trip() -> None:
    d = np.array([[1, 0, 0], [0, -1, 0], [0, 0, 1]], dtype=float)
    a = g.affine_from_itk([5, 6, 7], [0.5, 0.6, 2.0], d.ravel())
    o, s, dd = g.itk_from_affine(a)
    np.testing.assert_allclose(o, [5, 6, 7])
    np.testing.assert_allclose(s, [0.5, 0.6, 2.0])
    np.testing.assert_allclose(dd, d)


def test_itk_refuses_shear() -> None:
    a = g.affine_from_dicom([1, 0, 0, 0, 1, 0], [0, 0, 0], [1, 1], [0, 0.5, 2])
    with pytest.raises(GeometryError, match="sheared"):
        g.itk_from_affine(a)


def test_napari_transform_axis_aligned_and_oblique() -> None:
    a = g.affine_from_dicom([1, 0, 0, 0, 1, 0], [-10, -20, 30], [0.8, 0.6], [0, 0, 2.5])
    kw = g.napari_transform(a)
    assert kw["scale"] == (2.5, 0.8, 0.6)
    assert kw["translate"] == (30.0, -20.0, -10.0)
    tilted = g.affine_from_dicom([1, 0, 0, 0, 1, 0], [0, 0, 0], [1, 1], [0, 0.5, 2])
    kw2 = g.napari_transform(tilted)
    assert "affine" in kw2
    world = kw2["affine"] @ [3, 4, 5, 1]
    np.testing.assert_allclose(g.napari_to_lps(world[:3]), g.voxel_to_lps(tilted, [3, 4, 5]))


@pytest.mark.parametrize(
    "iop",
    [
        [1, 0, 0, 0, 1, 0],  # axial
        [0, 1, 0, 0, 0, -1],  # sagittal
        [1, 0, 0, 0, 0, -1],  # coronal
        [-1, 0, 0, 0, -1, 0],  # axial, rotated 180 degrees
    ],
)
def test_canonical_reorientation_keeps_world_positions(iop: list[float]) -> None:
    normal = g.slice_normal(iop)
    a = g.affine_from_dicom(iop, [3, -4, 5], [0.7, 0.9], normal * 2.0)
    arr = np.arange(4 * 5 * 6, dtype=np.int16).reshape(4, 5, 6)
    v = Volume(arr, a)
    c = v.to_canonical()
    assert g.axis_codes(c.affine) == ("S", "P", "L")
    assert "scale" in c.napari_kwargs()
    # every voxel keeps its value at its world position
    idx = np.argwhere(np.ones(arr.shape, bool))
    world = v.voxel_to_lps(idx)
    back = np.rint(c.lps_to_voxel(world)).astype(int)
    np.testing.assert_array_equal(c.array[tuple(back.T)], arr[tuple(idx.T)])

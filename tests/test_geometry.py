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


# ----------------------------------------------------------------------------- axis codes

#: The world axis (0 = x, 1 = y, 2 = z) each LPS letter names.
_AXIS_OF_LETTER = {"L": 0, "R": 0, "P": 1, "A": 1, "S": 2, "I": 2}


def _rotation(axis: int, degrees: float) -> np.ndarray:
    """Rotation by ``degrees`` about LPS axis ``axis``."""
    t = np.radians(degrees)
    i, j = (k for k in range(3) if k != axis)
    r = np.eye(3)
    r[i, i] = r[j, j] = np.cos(t)
    r[i, j], r[j, i] = -np.sin(t), np.sin(t)
    return r


def _affine(
    linear: np.ndarray, origin: tuple[float, float, float] = (5.0, -7.0, 11.0)
) -> np.ndarray:
    a = np.eye(4)
    a[:3, :3] = linear
    a[:3, 3] = origin
    return a


def _random_affines(n: int, seed: int) -> list[np.ndarray]:
    """Random rotations with random voxel spacings and axis flips (seeded)."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        q, r = np.linalg.qr(rng.normal(size=(3, 3)))
        q = q * np.sign(np.diag(r))  # a uniformly random orthogonal matrix
        spacing = rng.uniform(0.3, 5.0, size=3)
        flips = rng.choice([-1.0, 1.0], size=3)
        out.append(_affine(q * spacing * flips, tuple(rng.uniform(-200, 200, size=3))))
    return out


def _obliques_45() -> list[np.ndarray]:
    """45-degree obliques about each axis, of the three axis orders a DICOM stack can have."""
    out = []
    for axis in range(3):
        for base in (np.eye(3), np.eye(3)[:, ::-1], np.eye(3)[:, [1, 2, 0]]):
            for sign in (1, -1):
                out.append(_affine(_rotation(axis, sign * 45.0) @ base * [2.5, 0.7, 0.8]))
    return out


def test_axis_codes_agree_with_nibabel_on_random_rotations() -> None:
    from nibabel.orientations import aff2axcodes

    for a in _random_affines(1000, seed=20240611):
        codes = g.axis_codes(a)
        assert codes == aff2axcodes(a, labels=g.LPS_AXIS_LABELS), a
        assert sorted(_AXIS_OF_LETTER[c] for c in codes) == [0, 1, 2], (codes, a)


def test_axis_codes_agree_with_nibabel_on_45_degree_obliques() -> None:
    from nibabel.orientations import aff2axcodes

    for a in _obliques_45():
        codes = g.axis_codes(a)
        assert codes == aff2axcodes(a, labels=g.LPS_AXIS_LABELS), a
        assert sorted(_AXIS_OF_LETTER[c] for c in codes) == [0, 1, 2], (codes, a)


def test_axis_codes_never_name_one_world_axis_twice() -> None:
    # Choosing each axis's largest component alone gives ('P', 'P', 'R') here.
    a = _affine(_rotation(1, 50.0) @ _rotation(2, 50.0))
    assert g.axis_codes(a) == ("P", "I", "R")


def test_axis_codes_of_a_sheared_grid_follow_its_closest_rotation() -> None:
    tilted = g.affine_from_dicom([1, 0, 0, 0, 1, 0], [0, 0, 0], [0.7, 0.7], [0, 0.9, 2.0])
    assert g.axis_codes(tilted) == ("S", "P", "L")


def test_axis_codes_validate_the_affine() -> None:
    with pytest.raises(GeometryError, match="singular"):
        g.axis_codes(np.diag([1.0, 0.0, 1.0, 1.0]))


def test_voxel_axis_orientation_is_a_signed_permutation() -> None:
    for a in _random_affines(200, seed=7) + _obliques_45():
        ornt = g.voxel_axis_orientation(a)
        assert ornt.shape == (3, 2)
        assert sorted(ornt[:, 0].tolist()) == [0, 1, 2]
        assert set(ornt[:, 1].tolist()) <= {-1, 1}


def test_canonical_axes_give_s_p_l_on_every_grid() -> None:
    """The canonical view of any grid (oblique too) has axis codes S, P, L."""
    shape = (4, 5, 6)
    for a in _random_affines(1000, seed=3) + _obliques_45():
        order, flips = g.canonical_axes(a)
        assert sorted(order) == [0, 1, 2]
        canonical = g.reorient_affine(a, shape, order, flips)
        assert g.axis_codes(canonical) == ("S", "P", "L"), a
        # the corner voxels keep their world positions
        new_shape = [shape[k] for k in order]
        for corner in np.ndindex(2, 2, 2):
            new_idx = np.array(corner) * (np.array(new_shape) - 1)
            old_idx = np.empty(3)
            for new_axis, old_axis in enumerate(order):
                n = new_shape[new_axis] - 1
                old_idx[old_axis] = n - new_idx[new_axis] if flips[new_axis] else new_idx[new_axis]
            np.testing.assert_allclose(
                g.voxel_to_lps(canonical, new_idx), g.voxel_to_lps(a, old_idx), atol=1e-9
            )


# ----------------------------------------------------------------------------- Grid


def test_grid_maps_voxels_to_lps_and_back() -> None:
    a = g.affine_from_dicom([0, 1, 0, 0, 0, -1], [3, -4, 5], [0.7, 0.9], [2.0, 0, 0])
    grid = g.Grid((4, 5, 6), a)
    ijk = np.array([[0, 0, 0], [3, 4, 5], [1.5, 2.25, 0.5]])
    np.testing.assert_allclose(grid.voxel_to_lps(ijk), g.voxel_to_lps(a, ijk))
    np.testing.assert_allclose(grid.lps_to_voxel(grid.voxel_to_lps(ijk)), ijk, atol=1e-12)
    np.testing.assert_allclose(grid.spacing, [2.0, 0.7, 0.9])


def test_grid_equality_has_a_tolerance() -> None:
    a = np.diag([2.5, 0.7, 0.7, 1.0])
    grid = g.Grid((4, 5, 6), a)
    near = a.copy()
    near[:3, 3] += g.GRID_ATOL / 2
    far = a.copy()
    far[0, 3] += 10 * g.GRID_ATOL
    assert grid == g.Grid((4, 5, 6), near)
    assert grid != g.Grid((4, 5, 6), far)
    assert grid != g.Grid((4, 5, 7), a)
    assert grid.same_as(g.Grid((4, 5, 6), far), atol=1.0)
    assert grid != "not a grid"
    with pytest.raises(TypeError):
        hash(grid)


def test_grid_owns_a_read_only_affine() -> None:
    a = np.diag([2.5, 0.7, 0.7, 1.0])
    grid = g.Grid((4, 5, 6), a)
    a[0, 0] = 99.0
    assert grid.affine[0, 0] == 2.5
    with pytest.raises(ValueError):
        grid.affine[0, 0] = 1.0


@pytest.mark.parametrize("shape", [(4, 5), (4, 5, -1), (4.0, 5, 6), ("4", 5, 6)])
def test_grid_rejects_a_bad_shape(shape: tuple[object, ...]) -> None:
    with pytest.raises(GeometryError, match="Argument 'shape'"):
        g.Grid(shape, np.eye(4))  # type: ignore[arg-type]


def test_grid_rejects_a_bad_affine() -> None:
    with pytest.raises(GeometryError, match="4x4"):
        g.Grid((1, 2, 3), np.eye(3))


def test_grid_reoriented_matches_volume_to_canonical() -> None:
    a = g.affine_from_dicom([0, 1, 0, 0, 0, -1], [3, -4, 5], [0.7, 0.9], [2.0, 0, 0])
    v = Volume(np.zeros((4, 5, 6), np.int16), a)
    c = v.to_canonical()
    order, flips = g.canonical_axes(a)
    assert v.grid.reoriented(order, flips) == c.grid
    assert c.grid.shape == c.shape

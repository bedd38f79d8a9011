"""Measurements against analytic shapes voxelised on anisotropic and oblique grids.

"One voxel" along a direction is the voxel's projection on it (``voxel_projection_mm``): the
bound of the discretisation error of a length measured along that direction. On a grid aligned
with the patient axes it is the spacing.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from _measure_factory import (
    box_mask,
    ellipsoid_mask,
    grid_affine,
    labels_volume,
    rotation,
    support_extent,
    voxel_centres,
)

from ivcviewer import geometry
from ivcviewer.errors import GeometryError, MeasurementError
from ivcviewer.measure import (
    PATIENT_AXES,
    RegionMeasurements,
    centroid_lps,
    compare_extents,
    extents_mm,
    hu_statistics,
    line_length_mm,
    max_diameter,
    measure_labels,
    measure_region,
    oriented_bounding_box,
    patient_axis_voxel_mm,
    recist_axes,
    volume_ml,
    voxel_projection_mm,
    voxel_step_mm,
)
from ivcviewer.volume import Volume

SHAPE = (33, 101, 121)  # slices of 2.5 mm, rows and cols of 0.7 mm: 80 x 70 x 85 mm
CENTRE = (11.3, -19.1, 30.4)
OBLIQUE = rotation(15.0, -10.0, 25.0)
BOX = np.array([30.0, 20.0, 40.0])  # edge lengths along the shape's own x, y, z
SEMI = np.array([20.0, 14.0, 30.0])  # ellipsoid semi-axes
TILTED = rotation(30.0, 20.0, 10.0)  # a shape's own orientation

GRIDS = {"anisotropic": None, "oblique": OBLIQUE}


def _region(kind: str, grid_rot: np.ndarray | None, shape_rot: np.ndarray | None = None):
    aff = grid_affine(SHAPE, rot=grid_rot)
    c = voxel_centres(SHAPE, aff)
    if kind == "box":
        mask = box_mask(c, BOX, CENTRE, shape_rot)
    else:
        mask = ellipsoid_mask(c, SEMI, CENTRE, shape_rot)
    return mask, aff


def _half(kind: str) -> np.ndarray:
    return BOX / 2 if kind == "box" else SEMI


# ---------------------------------------------------------------------------------------------
# Line length and voxel sizes
# ---------------------------------------------------------------------------------------------


def test_line_length_is_exact_through_an_oblique_anisotropic_affine() -> None:
    aff = grid_affine(SHAPE, rot=OBLIQUE)
    a, b = np.array([3.0, 7.0, 11.0]), np.array([20.0, 90.0, 4.0])
    p, q = geometry.voxel_to_lps(aff, a), geometry.voxel_to_lps(aff, b)
    d = (b - a) * np.array([2.5, 0.7, 0.7])
    assert line_length_mm(p, q) == pytest.approx(float(np.sqrt(np.sum(d**2))), abs=1e-9)
    assert line_length_mm([0, 0, 0], [3, 4, 12]) == 13.0
    assert line_length_mm(q, p) == line_length_mm(p, q)


@pytest.mark.parametrize("bad", [[0, 0], [0, 0, np.nan], "x", [[0, 0, 0]]])
def test_line_length_rejects_bad_points(bad: object) -> None:
    with pytest.raises(MeasurementError, match="p_lps"):
        line_length_mm(bad, [0, 0, 0])  # type: ignore[arg-type]


def test_voxel_step_and_projection() -> None:
    aff = grid_affine(SHAPE)  # axial: slice +z 2.5, row +y 0.7, col +x 0.7
    assert patient_axis_voxel_mm(aff) == pytest.approx({"lr": 0.7, "ap": 0.7, "cc": 2.5})
    diag = [1.0, 0.0, 1.0]
    # along a diagonal the step is set by the thin side, the shadow by both
    assert voxel_step_mm(aff, diag) == pytest.approx(0.7 * math.sqrt(2))
    assert voxel_projection_mm(aff, diag) == pytest.approx((0.7 + 2.5) / math.sqrt(2))
    with pytest.raises(MeasurementError, match="direction_lps"):
        voxel_step_mm(aff, [0, 0, 0])


# ---------------------------------------------------------------------------------------------
# A box whose faces lie on voxel boundaries: every figure is exact
# ---------------------------------------------------------------------------------------------


def test_box_on_voxel_boundaries_measures_exactly() -> None:
    aff = grid_affine((20, 40, 50), centre_lps=(0.0, 0.0, 0.0))
    mask = np.zeros((20, 40, 50), bool)
    mask[3:11, 5:25, 7:40] = True  # 8 slices, 20 rows, 33 cols
    size = {"lr": 33 * 0.7, "ap": 20 * 0.7, "cc": 8 * 2.5}
    assert extents_mm(mask, aff) == pytest.approx(size, abs=1e-9)
    obb = oriented_bounding_box(mask, aff)
    assert obb.sizes_mm == pytest.approx(sorted(size.values(), reverse=True), abs=1e-9)
    diag = math.sqrt(sum(v**2 for v in size.values()))
    assert max_diameter(mask, aff).length_mm == pytest.approx(diag, abs=1e-9)
    assert volume_ml(mask, aff) == pytest.approx(8 * 20 * 33 * 0.7 * 0.7 * 2.5 / 1000, abs=1e-12)
    expected_centroid = geometry.voxel_to_lps(aff, [6.5, 14.5, 23.0])
    assert centroid_lps(mask, aff) == pytest.approx(expected_centroid, abs=1e-9)
    # RECIST on an axial section of a W x H rectangle: the long axis is its diagonal, the
    # longest chord perpendicular to it is H * diagonal / W (W >= H).
    w, h = size["lr"], size["ap"]
    rec = recist_axes(mask, aff)
    assert rec.long_mm == pytest.approx(math.hypot(w, h), abs=1e-9)
    assert rec.short_mm == pytest.approx(h * math.hypot(w, h) / w, abs=1e-6)
    assert rec.section_axis == 0 and 3 <= rec.section_index < 11
    # the axes lie in that section and are perpendicular
    u = rec.long_axis.end_lps - rec.long_axis.start_lps
    v = rec.short_axis.end_lps - rec.short_axis.start_lps
    assert abs(float(u @ v)) < 1e-6
    assert u[2] == pytest.approx(0.0, abs=1e-9) and v[2] == pytest.approx(0.0, abs=1e-9)
    assert line_length_mm(rec.long_axis.start_lps, rec.long_axis.end_lps) == pytest.approx(
        rec.long_mm
    )


def test_measurements_follow_the_region_not_its_place_in_the_grid() -> None:
    """Cropping must not change sizes; the centroid moves with the region."""
    aff = grid_affine((30, 60, 60), rot=OBLIQUE)
    a = np.zeros((30, 60, 60), bool)
    a[2:9, 3:20, 4:15] = True
    a[5, 20:25, 10] = True
    b = np.roll(a, (17, 33, 40), axis=(0, 1, 2))
    ma = measure_region(Volume(a.astype(np.uint8), aff), 1)
    mb = measure_region(Volume(b.astype(np.uint8), aff), 1)
    assert mb.extents_mm == pytest.approx(ma.extents_mm, abs=1e-9)
    assert mb.obb.sizes_mm == pytest.approx(ma.obb.sizes_mm, abs=1e-9)
    assert mb.max_diameter.length_mm == pytest.approx(ma.max_diameter.length_mm, abs=1e-9)
    assert mb.recist.long_mm == pytest.approx(ma.recist.long_mm, abs=1e-9)
    assert mb.recist.short_mm == pytest.approx(ma.recist.short_mm, abs=1e-9)
    shift = aff[:3, :3] @ [17, 33, 40]
    assert mb.centroid_lps == pytest.approx(ma.centroid_lps + shift, abs=1e-9)
    assert mb.bbox_ijk[0] == (ma.bbox_ijk[0][0] + 17, ma.bbox_ijk[0][1] + 17)


# ---------------------------------------------------------------------------------------------
# Analytic shapes on anisotropic and oblique grids
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("grid", GRIDS)
@pytest.mark.parametrize("kind", ["box", "ellipsoid"])
def test_extents_within_one_voxel(kind: str, grid: str) -> None:
    mask, aff = _region(kind, GRIDS[grid])
    ext = extents_mm(mask, aff)
    for axis, unit in zip(PATIENT_AXES, np.eye(3), strict=True):
        expected = support_extent(_half(kind), None, unit, box=kind == "box")
        assert abs(ext[axis] - expected) <= voxel_projection_mm(aff, unit), (axis, ext[axis])


@pytest.mark.parametrize(
    ("kind", "grid", "shape_rot"),
    [
        ("box", "anisotropic", None),
        ("box", "anisotropic", TILTED),
        ("ellipsoid", "anisotropic", None),
        ("ellipsoid", "anisotropic", TILTED),
        ("ellipsoid", "oblique", None),
        ("ellipsoid", "oblique", TILTED),
    ],
)
def test_obb_sizes_within_one_voxel(kind: str, grid: str, shape_rot: np.ndarray | None) -> None:
    mask, aff = _region(kind, GRIDS[grid], shape_rot)
    obb = oriented_bounding_box(mask, aff)
    expected = sorted(2 * _half(kind), reverse=True)
    for size, axis, exp in zip(obb.sizes_mm, obb.axes_lps, expected, strict=True):
        assert abs(size - exp) <= voxel_projection_mm(aff, axis), (size, exp)
    assert list(obb.sizes_mm) == sorted(obb.sizes_mm, reverse=True)
    assert np.allclose(obb.axes_lps @ obb.axes_lps.T, np.eye(3), atol=1e-9)
    half_voxel = [voxel_projection_mm(aff, e) / 2 for e in np.eye(3)]
    assert np.all(np.abs(obb.center_lps - CENTRE) <= half_voxel)


def test_obb_of_a_box_on_an_oblique_grid_tilts_by_a_fraction_of_a_degree() -> None:
    """PCA axes carry the voxelisation's asymmetry: sizes stay within one voxel plus the tilt."""
    mask, aff = _region("box", OBLIQUE)
    obb = oriented_bounding_box(mask, aff)
    for size, axis in zip(obb.sizes_mm, obb.axes_lps, strict=True):
        k = int(np.argmax(np.abs(axis)))  # the box's own axes are the LPS axes here
        tilt = math.acos(min(1.0, abs(float(axis[k]))))
        assert math.degrees(tilt) < 0.5
        others = sum(BOX) - BOX[k]
        assert abs(size - BOX[k]) <= voxel_projection_mm(aff, axis) + others * math.sin(tilt)


@pytest.mark.parametrize(
    ("kind", "grid", "shape_rot"),
    [
        ("box", "anisotropic", None),
        ("box", "oblique", None),
        ("box", "anisotropic", TILTED),
        ("ellipsoid", "anisotropic", None),
        ("ellipsoid", "oblique", TILTED),
    ],
)
def test_max_diameter_within_one_voxel(kind: str, grid: str, shape_rot: np.ndarray | None) -> None:
    mask, aff = _region(kind, GRIDS[grid], shape_rot)
    d = max_diameter(mask, aff)
    expected = 2 * float(np.linalg.norm(BOX / 2)) if kind == "box" else 2 * float(SEMI.max())
    assert abs(d.length_mm - expected) <= voxel_projection_mm(aff, d.end_lps - d.start_lps)
    assert line_length_mm(d.start_lps, d.end_lps) == pytest.approx(d.length_mm)


@pytest.mark.parametrize("grid", GRIDS)
@pytest.mark.parametrize("kind", ["box", "ellipsoid"])
def test_volume_within_two_percent_and_centroid(kind: str, grid: str) -> None:
    mask, aff = _region(kind, GRIDS[grid], TILTED)
    exact = float(np.prod(BOX)) if kind == "box" else 4 / 3 * math.pi * float(np.prod(SEMI))
    vol = volume_ml(mask, aff)
    assert vol == pytest.approx(exact / 1000, rel=0.02)
    assert vol == pytest.approx(mask.sum() * abs(np.linalg.det(aff[:3, :3])) / 1000, rel=1e-12)
    assert centroid_lps(mask, aff) == pytest.approx(CENTRE, abs=0.1)


def test_recist_axes_of_an_ellipsoid_on_an_in_plane_rotated_grid() -> None:
    """Sections stay axial; the central one is the ellipse 2a x 2b, measured edge to edge."""
    grid_rot = rotation(0.0, 0.0, 30.0)
    aff = grid_affine(SHAPE, rot=grid_rot, centre_lps=CENTRE)  # the middle slice cuts the centre
    mask = ellipsoid_mask(voxel_centres(SHAPE, aff), SEMI, CENTRE)
    rec = recist_axes(mask, aff)
    assert rec.section_axis == 0
    assert rec.section_index == SHAPE[0] // 2
    assert abs(rec.long_mm - 2 * SEMI[0]) <= voxel_projection_mm(aff, [1, 0, 0])
    assert abs(rec.short_mm - 2 * SEMI[1]) <= voxel_projection_mm(aff, [0, 1, 0])
    u = rec.long_axis.end_lps - rec.long_axis.start_lps
    v = rec.short_axis.end_lps - rec.short_axis.start_lps
    assert abs(u[0]) / np.linalg.norm(u) > 0.99  # long axis left-right
    assert abs(float(u @ v)) < 1e-6 * np.linalg.norm(u) * np.linalg.norm(v)
    assert rec.long_axis.start_lps[2] == pytest.approx(CENTRE[2], abs=1e-9)


def test_figures_are_consistent_with_each_other() -> None:
    mask, aff = _region("ellipsoid", OBLIQUE, TILTED)
    m = measure_region(Volume(mask.astype(np.uint8), aff), 1)
    d = m.max_diameter.length_mm
    assert d >= max(m.extents_mm.values())
    assert d >= m.obb.sizes_mm[0]
    assert d >= m.recist.long_mm >= m.recist.short_mm > 0


def test_gantry_tilted_grid() -> None:
    """A sheared affine: volume through |det|, sections stay the acquired (axial) images."""
    tilt = math.radians(20.0)
    aff = geometry.affine_from_dicom(
        [1, 0, 0, 0, 1, 0], [0, 0, 0], [0.7, 0.7], [0, 2.5 * math.sin(tilt), 2.5 * math.cos(tilt)]
    )
    mask = np.zeros((12, 40, 40), bool)
    mask[2:10, 5:30, 8:20] = True  # 8 images of a 25 x 12 pixel rectangle
    assert volume_ml(mask, aff) == pytest.approx(
        mask.sum() * 0.7 * 0.7 * 2.5 * math.cos(tilt) / 1000
    )
    ext = extents_mm(mask, aff)
    assert ext["lr"] == pytest.approx(12 * 0.7)  # the shear moves images along y only
    # span of the centres plus one voxel step along z: within one voxel of the 8 stacked images
    step_z = voxel_step_mm(aff, [0, 0, 1])
    assert ext["cc"] == pytest.approx(7 * 2.5 * math.cos(tilt) + step_z)
    assert abs(ext["cc"] - 8 * 2.5 * math.cos(tilt)) <= voxel_projection_mm(aff, [0, 0, 1])
    rec = recist_axes(mask, aff)
    assert rec.long_mm == pytest.approx(math.hypot(25 * 0.7, 12 * 0.7))
    assert rec.long_axis.start_lps[2] == pytest.approx(rec.long_axis.end_lps[2])


# ---------------------------------------------------------------------------------------------
# Degenerate regions
# ---------------------------------------------------------------------------------------------


def test_single_voxel_region() -> None:
    aff = grid_affine((5, 5, 5))
    mask = np.zeros((5, 5, 5), bool)
    mask[2, 1, 3] = True
    assert extents_mm(mask, aff) == pytest.approx({"lr": 0.7, "ap": 0.7, "cc": 2.5})
    assert max_diameter(mask, aff).length_mm == pytest.approx(math.sqrt(0.49 + 0.49 + 6.25))
    rec = recist_axes(mask, aff)
    assert rec.long_mm == pytest.approx(0.7 * math.sqrt(2))
    assert rec.short_mm == pytest.approx(0.7 * math.sqrt(2))
    assert oriented_bounding_box(mask, aff).sizes_mm == pytest.approx((2.5, 0.7, 0.7))


def test_flat_and_straight_regions() -> None:
    aff = grid_affine((6, 30, 30), rot=OBLIQUE)
    flat = np.zeros((6, 30, 30), bool)
    flat[3, 5:20, 8:12] = True  # one slice
    line = np.zeros((6, 30, 30), bool)
    line[2, 4, 3:27] = True  # one row of voxels
    assert max_diameter(flat, aff).length_mm > 15 * 0.7
    assert recist_axes(flat, aff).long_mm == pytest.approx(math.hypot(15 * 0.7, 4 * 0.7))
    obb = oriented_bounding_box(line, aff)
    assert obb.sizes_mm[0] == pytest.approx(24 * 0.7, abs=1e-9)
    rec = recist_axes(line, aff)
    assert rec.long_mm == pytest.approx(math.hypot(24 * 0.7, 0.7))
    assert rec.short_mm <= rec.long_mm


def test_empty_region_raises() -> None:
    with pytest.raises(MeasurementError, match="no voxel"):
        extents_mm(np.zeros((3, 3, 3), bool), np.eye(4))
    with pytest.raises(MeasurementError, match="3D"):
        extents_mm(np.zeros((3, 3), bool), np.eye(4))


# ---------------------------------------------------------------------------------------------
# HU statistics
# ---------------------------------------------------------------------------------------------


def test_hu_statistics_are_exact_on_known_values() -> None:
    n = 101
    values = np.random.default_rng(3).permutation(np.arange(n, dtype=float) - 50)
    s = hu_statistics(values)
    assert s.n_voxels == n
    assert (s.mean, s.median, s.min, s.max) == (0.0, 0.0, -50.0, 50.0)
    assert s.std == pytest.approx(math.sqrt((n**2 - 1) / 12), abs=1e-12)
    # linear interpolation between order statistics: p-th percentile at rank p/100 * (n - 1)
    assert s.percentiles == {5: -45.0, 25: -25.0, 75: 25.0, 95: 45.0}
    with pytest.raises(MeasurementError):
        hu_statistics([])


@pytest.mark.parametrize("n", [1, 2, 5, 1000, 4097])
def test_integer_hu_statistics_equal_those_of_sorting(n: int) -> None:
    """int16 CT goes through a histogram; the figures must be numpy's, exactly."""
    v = np.random.default_rng(n).integers(-1024, 3071, n).astype(np.int16)
    s = hu_statistics(v)
    f = v.astype(float)
    assert s.n_voxels == n and (s.min, s.max) == (f.min(), f.max())
    assert s.mean == pytest.approx(f.mean(), abs=1e-9)
    assert s.std == pytest.approx(f.std(), abs=1e-9)
    assert s.median == np.median(f)
    assert [s.percentiles[q] for q in (5, 25, 75, 95)] == pytest.approx(
        np.percentile(f, [5, 25, 75, 95]), abs=1e-9
    )


def test_hu_statistics_of_a_region_on_its_ct() -> None:
    aff = grid_affine((10, 12, 14), rot=OBLIQUE)
    labels = np.zeros((10, 12, 14), np.uint8)
    labels[2:5, 3:6, 4:8] = 1  # 36 voxels
    ct = np.full(labels.shape, -1000, np.int16)
    ct[labels == 1] = np.arange(36) * 10  # 0, 10, ..., 350
    (m,) = measure_labels(Volume(labels, aff), {1: "mass"}, Volume(ct, aff))
    assert m.hu is not None
    assert m.hu.n_voxels == 36
    assert m.hu.mean == 175.0 and m.hu.min == 0.0 and m.hu.max == 350.0
    assert m.hu.median == 175.0
    assert m.hu.percentiles[25] == pytest.approx(87.5)


# ---------------------------------------------------------------------------------------------
# Label maps
# ---------------------------------------------------------------------------------------------


def _two_regions() -> Volume:
    aff = grid_affine((20, 40, 40), rot=OBLIQUE)
    c = voxel_centres((20, 40, 40), aff)
    centre = geometry.voxel_to_lps(aff, [9.5, 19.5, 19.5])
    big = ellipsoid_mask(c, (9.0, 7.0, 15.0), centre)
    small = box_mask(c, (3.0, 3.0, 6.0), centre + [8.0, 5.0, 0.0])
    return labels_volume({1: big, 7: small}, aff)


def test_measure_labels_lists_each_present_value_with_its_name() -> None:
    vol = _two_regions()
    out = measure_labels(vol, {7: "thrombus", 3: "absent"})
    assert [(m.label, m.name) for m in out] == [(1, "label_1"), (7, "thrombus")]
    assert all(isinstance(m, RegionMeasurements) for m in out)
    assert sum(m.n_voxels for m in out) == int(np.count_nonzero(vol.array))
    # one region measured alone gives the same figures
    alone = measure_region(vol, vol.array == 7, name="thrombus")
    assert alone.extents_mm == pytest.approx(out[1].extents_mm)
    assert alone.recist.long_mm == pytest.approx(out[1].recist.long_mm)
    assert measure_region(vol, 7).volume_ml == pytest.approx(out[1].volume_ml)


@pytest.mark.parametrize("big", [5_000_000, 2**40])
def test_large_label_values_take_memory_by_labels_present(big: int) -> None:
    """A label value of millions must not allocate per value up to it (it would take hundreds
    of MB); memory follows the number of labels present."""
    import tracemalloc

    vol = _two_regions()
    arr = vol.array.astype(np.int64)
    arr[arr == 7] = big
    wide = vol.with_array(arr)
    tracemalloc.start()
    try:
        out = measure_labels(wide, {big: "thrombus"})
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8e6, f"peak {peak / 1e6:.1f} MB"
    assert [(m.label, m.name) for m in out] == [(1, "label_1"), (big, "thrombus")]
    ref = measure_labels(vol)
    assert out[1].n_voxels == ref[1].n_voxels and out[1].bbox_ijk == ref[1].bbox_ijk
    assert out[1].extents_mm == pytest.approx(ref[1].extents_mm)
    assert out[0].volume_ml == pytest.approx(ref[0].volume_ml)


def test_measure_labels_of_an_empty_map_and_of_float_labels() -> None:
    vol = _two_regions()
    assert measure_labels(vol.with_array(np.zeros(vol.shape, np.uint8))) == []
    as_float = measure_labels(vol.with_array(vol.array.astype(np.float32)))
    assert [m.label for m in as_float] == [1, 7]
    with pytest.raises(MeasurementError, match="whole numbers"):
        measure_labels(vol.with_array(vol.array * 0.5))


def test_ct_on_another_grid_is_refused_naming_both() -> None:
    vol = _two_regions()
    other = Volume(np.zeros((20, 40, 41), np.int16), vol.affine)
    with pytest.raises(GeometryError, match=r"\(20, 40, 41\).*\(20, 40, 40\)"):
        measure_labels(vol, None, other)
    moved = vol.affine.copy()
    moved[0, 3] += 1.0
    with pytest.raises(GeometryError, match="affine"):
        measure_labels(vol, None, Volume(np.zeros(vol.shape, np.int16), moved))


def test_region_measurements_to_dict_is_json() -> None:
    vol = _two_regions()
    ct = vol.with_array(np.full(vol.shape, 30, np.int16))
    d = measure_labels(vol, {1: "mass"}, ct)[0].to_dict()
    text = json.dumps(d)
    back = json.loads(text)
    assert back["name"] == "mass"
    assert set(back["extents_mm"]) == {"lr", "ap", "cc"}
    assert len(back["obb"]["sizes_mm"]) == 3
    assert back["hu"]["mean"] == 30.0
    assert back["recist"]["long_axis"]["length_mm"] > 0


def test_volume_and_centroid_agree_with_simpleitk() -> None:
    """An independent implementation on the same grid (ITK takes the same LPS geometry)."""
    sitk = pytest.importorskip("SimpleITK")
    vol = _two_regions()
    origin, spacing, direction = geometry.itk_from_affine(vol.affine)
    img = sitk.GetImageFromArray(vol.array)
    img.SetOrigin(origin.tolist())
    img.SetSpacing(spacing.tolist())
    img.SetDirection(direction.ravel().tolist())
    stats = sitk.LabelShapeStatisticsImageFilter()
    stats.Execute(img)
    for m in measure_labels(vol):
        assert m.volume_ml * 1000 == pytest.approx(stats.GetPhysicalSize(m.label), rel=1e-9)
        assert m.centroid_lps == pytest.approx(stats.GetCentroid(m.label), abs=1e-6)


# ---------------------------------------------------------------------------------------------
# Comparison with reported figures
# ---------------------------------------------------------------------------------------------

REPORTED = {"lr": 105.0, "ap": 89.0, "cc": 132.0}


def _mass(scale: float) -> RegionMeasurements:
    """An ellipsoid with the reported axes (times ``scale``) on a 0.8 x 0.8 x 2.5 mm grid."""
    shape = (60, 130, 150)
    aff = grid_affine(shape, spacing=(2.5, 0.8, 0.8))
    semi = scale * np.array([REPORTED["lr"], REPORTED["ap"], REPORTED["cc"]]) / 2
    mask = ellipsoid_mask(voxel_centres(shape, aff), semi, aff[:3, 3] + aff[:3, :3] @ [30, 65, 75])
    return measure_region(Volume(mask.astype(np.uint8), aff), 1, name="mass")


def test_region_of_the_reported_size_passes_and_a_shrunk_one_fails() -> None:
    m = _mass(1.0)
    for axis in PATIENT_AXES:
        assert abs(m.extents_mm[axis] - REPORTED[axis]) <= m.voxel_extent_mm[axis]
    ok = compare_extents(m.extents_mm, REPORTED, m.voxel_extent_mm)
    assert ok.passed_by_axis and ok.passed_order_free
    shrunk = _mass(0.9)
    bad = compare_extents(shrunk.extents_mm, REPORTED, shrunk.voxel_extent_mm)
    assert not bad.passed_by_axis and not bad.passed_order_free
    assert all(not c.passed for c in bad.by_axis)
    assert all(c.difference_mm < 0 for c in bad.by_axis)


def test_comparison_order_free_passes_when_axes_are_swapped() -> None:
    measured = {"lr": 132.5, "ap": 88.6, "cc": 104.0}
    c = compare_extents(measured, REPORTED, {"lr": 0.8, "ap": 0.8, "cc": 2.5})
    assert not c.passed_by_axis
    assert [x.passed for x in c.by_axis] == [False, True, False]
    assert c.passed_order_free
    assert [(x.measured_axis, x.reported_axis) for x in c.order_free] == [
        ("lr", "cc"),
        ("cc", "lr"),
        ("ap", "ap"),
    ]


def test_comparison_tolerance_is_the_larger_of_one_voxel_and_the_relative_one() -> None:
    # 2% of 10 mm is 0.2 mm < one 2.5 mm voxel: the voxel wins
    c = compare_extents({"lr": 50.0, "ap": 50.0, "cc": 12.5}, {"cc": 10.0}, 2.5)
    (cc,) = c.by_axis
    assert cc.tolerance_mm == 2.5 and cc.passed and cc.difference_mm == 2.5
    assert (
        compare_extents({"lr": 1, "ap": 1, "cc": 12.6}, {"cc": 10.0}, 2.5).passed_by_axis is False
    )
    # 2% of 200 mm is 4 mm > one voxel
    c = compare_extents({"lr": 204.0, "ap": 1.0, "cc": 1.0}, {"lr": 200.0}, 0.7)
    assert c.by_axis[0].tolerance_mm == pytest.approx(4.0) and c.passed_by_axis
    assert c.by_axis[0].relative_difference == pytest.approx(0.02)
    c = compare_extents({"lr": 204.1, "ap": 1.0, "cc": 1.0}, {"lr": 200.0}, 0.7)
    assert not c.passed_by_axis
    # a looser relative tolerance
    assert compare_extents({"lr": 210.0, "ap": 1, "cc": 1}, {"lr": 200.0}, 0.7, 0.05).passed_by_axis
    # fewer reported figures: order-free pairs them with the largest measured
    c = compare_extents({"lr": 30.0, "ap": 20.0, "cc": 10.0}, {"ap": 30.0}, 0.7)
    assert [(x.measured_axis, x.reported_axis) for x in c.order_free] == [("lr", "ap")]
    assert c.passed_order_free and not c.passed_by_axis


@pytest.mark.parametrize(
    ("measured", "reported", "voxel", "match"),
    [
        ({"lr": 1, "ap": 1}, REPORTED, 1.0, "measured"),
        ({"lr": 1, "ap": 1, "cc": 1}, {"xx": 1}, 1.0, "axis 'xx'"),
        ({"lr": 1, "ap": 1, "cc": 1}, {"lr": -3}, 1.0, "positive"),
        ({"lr": 1, "ap": 1, "cc": 1}, {}, 1.0, "lacks"),
        ({"lr": 1, "ap": 1, "cc": 1}, REPORTED, {"lr": 1.0}, "voxel_mm"),
        ({"lr": 1, "ap": 1, "cc": 1}, REPORTED, -1.0, "voxel_mm"),
    ],
)
def test_comparison_rejects_bad_input(measured, reported, voxel, match) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(MeasurementError, match=match):
        compare_extents(measured, reported, voxel)


def test_comparison_to_dict_is_json() -> None:
    c = compare_extents({"lr": 104, "ap": 90, "cc": 131}, REPORTED, 0.7)
    d = json.loads(json.dumps(c.to_dict()))
    assert d["passed_by_axis"] is True and d["tolerance_rel"] == 0.02
    assert [x["measured_axis"] for x in d["by_axis"]] == ["lr", "ap", "cc"]
    assert set(d["order_free"][0]) >= {"measured_mm", "reported_mm", "difference_mm", "passed"}

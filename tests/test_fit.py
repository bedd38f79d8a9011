"""Fitting shapes to landmarks, rasterising them on any grid, and the IVC involvement level."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from _overlay_factory import IVC_R, IVC_XY, PSOAS_XY, truth_landmarks

from ivcviewer import geometry, measure
from ivcviewer.annotations import default_case_path
from ivcviewer.annotations.anatomy import Landmarks, Provenance
from ivcviewer.annotations.casefile import Measurement, Placement, PlacementPoint, load_case
from ivcviewer.annotations.fit import (
    SolidModel,
    TubeModel,
    _outline_through,
    fit_lumen,
    fit_solid,
    mass_centre_from_relations,
    model_leaves_grid,
    placement_of,
)
from ivcviewer.annotations.levels import ivc_involvement, mayo_at_least
from ivcviewer.annotations.rasterise import GridBox, block_coords, box_of_lps
from ivcviewer.errors import AnatomyError, CaseFileError


def _grid(spacing: tuple[float, float, float], shape: tuple[int, int, int], origin: list[float]):  # type: ignore[no-untyped-def]
    dz, dy, dx = spacing
    return shape, geometry.affine_from_dicom([1, 0, 0, 0, 1, 0], origin, [dy, dx], [0, 0, dz])


def _oblique_affine(spacing: tuple[float, float, float], origin: list[float]) -> np.ndarray:
    """Rows and columns rotated 30 deg about z, slices tilted 15 deg: oblique and anisotropic."""
    a, t = math.radians(30.0), math.radians(15.0)
    row = np.array([math.cos(a), math.sin(a), 0.0])
    col = np.array([-math.sin(a), math.cos(a), 0.0])
    normal = np.array([0.0, math.sin(t), math.cos(t)])
    aff = np.eye(4)
    aff[:3, 0] = normal * spacing[0]
    aff[:3, 1] = col * spacing[1]
    aff[:3, 2] = row * spacing[2]
    aff[:3, 3] = origin
    return aff


# --------------------------------------------------------------------------- shapes


def test_lobulation_keeps_the_extents_exact() -> None:
    m = SolidModel(np.zeros(3), (52.5, 44.5, 66.0), lobulation=0.1, phases=(1.0, 2.0))
    rng = np.random.default_rng(0)
    u = rng.normal(size=(200000, 3)).astype(np.float32)
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    # walk each direction out to the surface (bisection on inside())
    lo, hi = np.zeros(len(u), np.float32), np.full(len(u), 2.0, np.float32)
    semi = np.array(m.semi_axes_mm, np.float32)
    for _ in range(30):
        mid = (lo + hi) / 2
        p = u * mid[:, None] * semi
        ins = m.inside(p[:, 0], p[:, 1], p[:, 2])
        lo = np.where(ins, mid, lo)
        hi = np.where(ins, hi, mid)
    surf = u * lo[:, None] * semi
    ext = surf.max(axis=0) - surf.min(axis=0)
    np.testing.assert_allclose(ext, 2 * semi, rtol=2e-3)
    # and it is really bumpy: the radius varies by several percent
    assert lo.min() < 0.95 and lo.max() > 1.05


def test_solid_rasterised_on_an_axial_grid_measures_its_extents() -> None:
    m = SolidModel(np.array([1.3, -2.1, 4.0]), (52.5, 44.5, 66.0), lobulation=0.05)
    shape, aff = _grid((2.0, 1.5, 1.5), (80, 80, 90), [-70.0, -60.0, -80.0])
    r = m.rasterise(shape, aff)
    ext = measure.extents_mm(r.mask, r.affine(aff))
    vox = measure.patient_axis_voxel_mm(aff)
    for axis, want in zip(("lr", "ap", "cc"), (105.0, 89.0, 132.0), strict=True):
        assert abs(ext[axis] - want) <= vox[axis] + 1e-6, axis
    vol = measure.volume_ml(r.mask, r.affine(aff))
    assert vol == pytest.approx(m.volume_ml(), rel=0.02)


def test_solid_on_an_oblique_grid_tests_voxel_centres() -> None:
    m = SolidModel(np.array([5.0, 3.0, -2.0]), (30.0, 22.0, 40.0), lobulation=0.05)
    shape = (40, 110, 130)
    aff = _oblique_affine((3.0, 1.2, 0.9), [0.0, 0.0, 0.0])
    aff[:3, 3] = m.centre_lps - aff[:3, :3] @ ((np.array(shape) - 1) / 2.0)
    assert not model_leaves_grid(m, shape, aff)
    r = m.rasterise(shape, aff)
    assert r.n_voxels > 0
    # every voxel of the region, and none of its neighbours outside, has its centre inside
    x, y, z = block_coords(aff, r.box)
    x, y, z = np.broadcast_arrays(x, y, z)
    np.testing.assert_array_equal(r.mask, m.inside(x, y, z))
    full = r.full(shape)
    assert full.sum() == r.n_voxels  # nothing was cut by the box
    vol = measure.volume_ml(r.mask, r.affine(aff))
    assert vol == pytest.approx(m.volume_ml(), rel=0.03)


def test_box_of_lps_covers_the_shape_on_a_flipped_grid() -> None:
    aff = np.array(
        [[0.0, 0.0, -2.0, 100.0], [0.0, 3.0, 0.0, -50.0], [-4.0, 0.0, 0.0, 80.0], [0, 0, 0, 1]]
    )
    box = box_of_lps((50, 50, 120), aff, [-10.0, -20.0, 0.0], [10.0, 20.0, 40.0], margin_vox=0)
    ijk = geometry.lps_to_voxel(aff, [[-10.0, -20.0, 0.0], [10.0, 20.0, 40.0]])
    for a in range(3):
        assert box.lo[a] <= ijk[:, a].min() and box.hi[a] > ijk[:, a].max()


def test_tube_has_flat_ends_and_its_radius() -> None:
    pts = np.array([[0.0, 0.0, 0.0], [0.0, 0.0, 0.4], [0.0, 0.0, 25.0], [3.0, 0.0, 50.0]])
    tube = TubeModel(pts, np.array([10.0, 10.0, 10.0, 8.0]))
    shape, aff = _grid((1.0, 1.0, 1.0), (90, 50, 50), [-25.0, -25.0, -20.0])
    r = tube.rasterise(shape, aff)
    z0, z1 = r.z_span_lps(aff)
    # flat ends: nothing below the lower end (its first segment is only 0.4 mm long) ...
    assert z0 >= -0.5
    # ... and nothing beyond the upper one (measured along the tube)
    assert z1 <= 51.0
    sec = r.full(shape)[40]  # z = 20
    assert sec.sum() == pytest.approx(math.pi * 10.0**2, rel=0.05)


def test_model_leaves_grid() -> None:
    shape, aff = _grid((5.0, 4.0, 4.0), (20, 30, 30), [-60.0, -60.0, -50.0])
    inside = SolidModel(np.array([0.0, 0.0, 0.0]), (20.0, 20.0, 30.0))
    outside = SolidModel(np.array([0.0, 0.0, 30.0]), (20.0, 20.0, 30.0))
    assert not model_leaves_grid(inside, shape, aff)
    assert model_leaves_grid(outside, shape, aff)


# --------------------------------------------------------------------------- placement


def test_outline_through_two_points_on_the_lateral_side() -> None:
    v, p = np.array([-25.0, -10.0]), np.array([-35.0, 35.0])
    for side in (-1.0, 1.0):
        c, ok = _outline_through(v, p, 52.5, 44.5, side)
        assert ok
        for q in (v, p):
            assert np.hypot((q[0] - c[0]) / 52.5, (q[1] - c[1]) / 44.5) == pytest.approx(1.0)
        assert np.sign(c[0] - (v[0] + p[0]) / 2) == side
    c, ok = _outline_through(v, np.array([-25.0, 200.0]), 52.5, 44.5, -1.0)
    assert not ok
    assert np.hypot((v[0] - c[0]) / 52.5, (v[1] - c[1]) / 44.5) == pytest.approx(1.0)


def test_fit_solid_puts_ivc_and_psoas_on_its_outline(case) -> None:  # type: ignore[no-untyped-def]
    fit = fit_solid(case.finding("mass"), truth_landmarks())
    m = fit.model
    assert m.semi_axes_mm == (52.5, 44.5, 66.0)
    assert m.centre_lps[2] == pytest.approx(0.0)  # centred on the renal-vein level
    assert m.normalised_distance([*IVC_XY, 0.0]) == pytest.approx(1.0)
    assert m.normalised_distance([*PSOAS_XY, 0.0]) == pytest.approx(1.0)
    assert m.centre_lps[0] < min(IVC_XY[0], PSOAS_XY[0])  # on the patient's right
    assert fit.parameters["side"] == "right"
    assert set(fit.landmarks_used) == {
        "right_psoas_at_mass",
        "renal_vein_confluence",
        "ivc_centreline",
    }
    assert fit.warnings == []


def test_fit_solid_warns_when_vessel_and_origin_are_too_far_apart(case) -> None:  # type: ignore[no-untyped-def]
    lm = truth_landmarks()
    lm.points_lps["right_psoas_at_mass"] = np.array([-25.0, 150.0, 0.0])
    fit = fit_solid(case.finding("mass"), lm)
    assert fit.model.normalised_distance([*IVC_XY, 0.0]) == pytest.approx(1.0)
    assert any("too far apart" in w for w in fit.warnings)


def test_fit_solid_needs_its_landmarks_and_extents(case) -> None:  # type: ignore[no-untyped-def]
    lm = truth_landmarks()
    del lm.points_lps["right_psoas_at_mass"]
    with pytest.raises(AnatomyError, match="right_psoas_at_mass"):
        fit_solid(case.finding("mass"), lm)
    mass = case.finding("mass")
    two = Measurement("size", (10.5, 8.9), "cm", ("lr", "ap"), True, "two only")
    with pytest.raises(CaseFileError, match="cc"):
        fit_solid(replace(mass, measurements=(two,)), truth_landmarks())


def test_the_case_file_states_the_mass_placement(case) -> None:  # type: ignore[no-untyped-def]
    rel = case.finding("mass").relations
    pl = rel.placement
    assert pl is not None and pl.rule == "outline_through" and pl.side == "right"
    assert [(t.landmark, t.depth_mm) for t in pl.through] == [
        ("ivc_centreline", 0.0),
        ("right_psoas_at_mass", 0.0),
    ]
    assert rel.centre_level == "renal_vein_confluence"
    assert "placement" in rel.assumed
    assert placement_of(case.finding("mass")) is pl
    # the tumour inside the IVC has none (it is placed along the vessel)
    assert placement_of(case.finding("intravascular_tumour")) is None


def test_fit_solid_applies_the_shared_placement_function(case) -> None:  # type: ignore[no-untyped-def]
    lm = truth_landmarks()
    mass = case.finding("mass")
    fit = fit_solid(mass, lm)
    z0 = lm.z("renal_vein_confluence")
    points = {
        "ivc_centreline": lm.centreline_at_z(z0)[0],
        "right_psoas_at_mass": lm.point("right_psoas_at_mass"),
    }
    sp = mass_centre_from_relations(mass, points, z0)
    np.testing.assert_allclose(fit.model.centre_lps, sp.centre_lps)
    assert sp.through_all
    assert fit.parameters["placement"]["stated_in_case_file"] is True
    assert [t["landmark"] for t in fit.parameters["placement"]["through"]] == [
        "ivc_centreline",
        "right_psoas_at_mass",
    ]


def test_placement_depth_moves_the_outline_towards_the_midline(case) -> None:  # type: ignore[no-untyped-def]
    mass = case.finding("mass")
    pts = {"ivc_centreline": [*IVC_XY, 0.0], "right_psoas_at_mass": [*PSOAS_XY, 0.0]}
    # one point, 11 mm deep: the outline's medial end lies 11 mm past the IVC axis
    one = Placement("outline_through", (PlacementPoint("ivc_centreline", 11.0),), "right")
    m1 = replace(mass, relations=replace(mass.relations, placement=one))
    c1 = mass_centre_from_relations(m1, pts, 0.0).centre_lps
    assert c1[0] + 52.5 == pytest.approx(IVC_XY[0] + 11.0)
    assert c1[1] == pytest.approx(IVC_XY[1])
    # two points: each shifted point lies on the outline, the centre on the right
    two = Placement(
        "outline_through",
        (PlacementPoint("ivc_centreline", 5.0), PlacementPoint("right_psoas_at_mass", 0.0)),
        "right",
    )
    m2 = replace(mass, relations=replace(mass.relations, placement=two))
    c2 = mass_centre_from_relations(m2, pts, 0.0).centre_lps
    probe = SolidModel(c2, (52.5, 44.5, 66.0), 0.0)
    assert probe.normalised_distance([IVC_XY[0] + 5.0, IVC_XY[1], 0.0]) == pytest.approx(1.0)
    assert probe.normalised_distance([*PSOAS_XY, 0.0]) == pytest.approx(1.0)
    assert c2[0] < IVC_XY[0]
    # the left side mirrors it
    left = replace(two, side="left")
    m3 = replace(mass, relations=replace(mass.relations, placement=left, origin_structure=None))
    assert mass_centre_from_relations(m3, pts, 0.0).centre_lps[0] > IVC_XY[0]
    with pytest.raises(AnatomyError, match="right_psoas_at_mass"):
        mass_centre_from_relations(m2, {"ivc_centreline": [0.0, 0.0, 0.0]}, 0.0)


def _case_with(tmp_path, edit) -> object:  # type: ignore[no-untyped-def]
    import yaml

    doc = yaml.safe_load(default_case_path().read_text(encoding="utf-8"))
    edit(doc["findings"][0]["relations"], doc)
    path = tmp_path / "case.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return load_case(path)


@pytest.mark.parametrize(
    ("edit", "field", "fix"),
    [
        (
            lambda r, d: (r.pop("centre_level"), r.update(assumed=["placement"])),
            "relations.centre_level",
            "add 'centre_level:'",
        ),
        (lambda r, d: r["placement"].update(side="left"), "placement.side", "side: right"),
        (lambda r, d: r["placement"].update(side="up"), "placement.side", "known side"),
        (lambda r, d: r["placement"].update(rule="near"), "placement.rule", "placement rule"),
        (
            lambda r, d: r["placement"]["through"][1].update(landmark="psoas"),
            "placement.through[1].landmark",
            "is not a reference",
        ),
        (
            lambda r, d: r["placement"]["through"].append({"landmark": "liver_lower_edge"}),
            "placement.through",
            "one or two",
        ),
        (
            lambda r, d: r["placement"]["through"][0].update(depth_mm="5 mm"),
            "through[0].depth_mm",
            "plain number",
        ),
        (
            lambda r, d: r["placement"]["through"][0].update(depth="5"),
            "through[0].depth",
            "depth_mm",
        ),
        (
            lambda r, d: d["findings"][1]["relations"].update(
                placement={
                    "rule": "outline_through",
                    "side": "right",
                    "through": [{"landmark": "ivc_centreline"}],
                }
            ),
            "findings[1].relations.placement",
            "remove 'placement'",
        ),
    ],
)
def test_a_bad_placement_is_refused_with_its_field(tmp_path, edit, field: str, fix: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(CaseFileError) as err:
        _case_with(tmp_path, edit)
    msg = str(err.value)
    assert field in msg and fix in msg and "case.yaml" in msg


def test_the_landmarks_list_must_hold_the_placement_points(tmp_path) -> None:  # type: ignore[no-untyped-def]
    def edit(rel, doc) -> None:  # type: ignore[no-untyped-def]
        doc["findings"][0]["landmarks"] = ["renal_vein_confluence", "right_psoas_at_mass"]

    with pytest.raises(CaseFileError, match="lacks 'ivc_centreline'"):
        _case_with(tmp_path, edit)


def test_fit_lumen_runs_between_its_landmarks(case) -> None:  # type: ignore[no-untyped-def]
    fit = fit_lumen(case.finding("intravascular_tumour"), truth_landmarks())
    assert fit.z_from_mm == pytest.approx(0.0)
    assert fit.z_to_mm == pytest.approx(140.0)  # 1 cm below the hepatic-vein confluence
    assert fit.radius_fraction == pytest.approx(0.95)
    np.testing.assert_allclose(fit.model.radii_mm, 0.95 * IVC_R)
    assert not fit.upper_end_is_bound and fit.warnings == []


def test_fit_lumen_from_a_truncated_landmark_is_a_bound(case) -> None:  # type: ignore[no-untyped-def]
    lm = truth_landmarks(
        ivc_top=150.0, truncated=("hepatic_vein_confluence", "cavo_atrial_junction")
    )
    fit = fit_lumen(case.finding("intravascular_tumour"), lm)
    assert fit.upper_end_is_bound
    assert any("lower bound" in w for w in fit.warnings)


def test_fit_lumen_clamps_to_the_centreline_and_needs_it(case) -> None:  # type: ignore[no-untyped-def]
    lm = truth_landmarks()
    c, r = lm.centreline()
    short = Landmarks(dict(lm.points_lps), c[c[:, 2] <= 100], r[c[:, 2] <= 100], Provenance("x"))
    fit = fit_lumen(case.finding("intravascular_tumour"), short)
    assert fit.z_to_mm == pytest.approx(100.0)
    assert any("stops at the centreline's upper end" in w for w in fit.warnings)
    bare = Landmarks(dict(lm.points_lps))
    with pytest.raises(AnatomyError, match="ivc_centreline"):
        fit_lumen(case.finding("intravascular_tumour"), bare)


def test_fit_lumen_refuses_an_empty_span(case) -> None:  # type: ignore[no-untyped-def]
    tumour = case.finding("intravascular_tumour")
    rel = replace(tumour.relations, to_offset_mm=-200.0)
    with pytest.raises(AnatomyError, match="not below its upper end"):
        fit_lumen(replace(tumour, relations=rel), truth_landmarks())


# --------------------------------------------------------------------------- levels


def _levels(truncated: tuple[str, ...] = ()) -> Landmarks:
    return Landmarks.from_points(
        {
            "renal_vein_confluence": [0, 0, 0],
            "intrahepatic_ivc_lower": [0, 0, 60],
            "hepatic_vein_confluence": [0, 0, 110],
            "cavo_atrial_junction": [0, 0, 130],
        },
        provenance=Provenance("points", truncated=list(truncated)),
    )


@pytest.mark.parametrize(
    ("bottom", "top", "mayo", "strict", "segment"),
    [
        (-30.0, -5.0, "0", "0", "I"),
        (0.0, 15.0, "I", "I", "II"),
        (-20.0, 15.0, "I", "I", "I-II"),
        (0.0, 40.0, "II", "II", "II"),
        (0.0, 70.0, "III", "II", "II"),
        (0.0, 115.0, "III", "III", "II-III"),
        (0.0, 125.0, "III", "III", "II-III"),
        (0.0, 140.0, "IV", "IV", "II-III"),
    ],
)
def test_mayo_level_and_segment(
    bottom: float, top: float, mayo: str, strict: str, segment: str
) -> None:
    lv = ivc_involvement(bottom, top, _levels())
    assert (lv.mayo_level, lv.mayo_level_strict, lv.ivc_segment) == (mayo, strict, segment)
    assert not lv.lower_bound


def test_suprahepatic_top_notes_the_diaphragm() -> None:
    lv = ivc_involvement(0.0, 125.0, _levels())
    assert any("diaphragm" in n for n in lv.notes)


def test_truncated_landmarks_make_a_lower_bound_only_when_reached() -> None:
    trunc = ("hepatic_vein_confluence", "cavo_atrial_junction")
    below = ivc_involvement(0.0, 90.0, _levels(trunc))
    assert below.mayo_level == "III" and not below.lower_bound
    assert any("does not depend" in n for n in below.notes)
    reached = ivc_involvement(0.0, 130.0, _levels(trunc))
    assert reached.lower_bound
    assert any("lower bound" in n for n in reached.notes)


def test_levels_without_the_liver_landmarks() -> None:
    lm = Landmarks.from_points({"renal_vein_confluence": [0, 0, 0]})
    lv = ivc_involvement(0.0, 80.0, lm)
    assert lv.mayo_level == "II" and lv.ivc_segment == "II"
    assert any("Neither" in n for n in lv.notes)
    with pytest.raises(AnatomyError, match="lies above its upper end"):
        ivc_involvement(10.0, 0.0, lm)
    assert mayo_at_least("IV", "III") and not mayo_at_least("II", "III")


def test_gridbox_helpers() -> None:
    a = GridBox((0, 0, 0), (4, 5, 6))
    b = GridBox((2, 3, 4), (8, 9, 10))
    assert a.intersect(b) == GridBox((2, 3, 4), (4, 5, 6))
    assert a.union(b) == GridBox((0, 0, 0), (8, 9, 10))
    assert a.grow(2, (5, 5, 5)) == GridBox((0, 0, 0), (5, 5, 5))
    assert GridBox((3, 0, 0), (2, 1, 1)).empty

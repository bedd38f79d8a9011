"""fit_case: the case's findings fitted to a CT, clipped, measured, checked and levelled."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from _overlay_factory import (
    AXIAL_SHAPE,
    IDS,
    NAMES,
    World,
    axial_affine,
    fit_on_world_labels,
    sample_world,
    truth_landmarks,
)
from scipy import ndimage as ndi

from ivcviewer import geometry
from ivcviewer.annotations import default_case_path, landmarks_from_labelmap, load_case
from ivcviewer.annotations.overlay import (
    BoneSource,
    FitOptions,
    OverlayResult,
    anatomy_names_for_case,
    body_mask,
    ct_bone_mask,
    dice,
    fit_case,
    landmarks_outside,
)
from ivcviewer.annotations.rasterise import GridBox
from ivcviewer.errors import AnatomyError, CaseFileError
from ivcviewer.volume import Volume
from ivcviewer.workflows.findings_table import render_markdown


@pytest.fixture(scope="module")
def from_labels(world: World, case) -> OverlayResult:  # type: ignore[no-untyped-def]
    return fit_on_world_labels(world, case)


# --------------------------------------------------------------------------- synthetic world


def test_label_table_points_and_labels_grid(from_labels: OverlayResult, world: World) -> None:
    res = from_labels
    assert [(r.value, r.finding_id, r.colour) for r in res.regions] == [
        (1, "mass", "#E6553A"),
        (2, "intravascular_tumour", "#3A9BE6"),
    ]
    assert res.labels.shape == world.ct.shape
    np.testing.assert_array_equal(res.labels.affine, world.ct.affine)
    assert res.labels.array.dtype == np.uint8
    assert set(np.unique(res.labels.array)) == {0, 1, 2}
    names = {p.id: p for p in res.points}
    assert names["renal_vein_confluence"].name == "Renal-vein confluence"
    assert names["ivc_invasion"].finding_id == "ivc_invasion"
    np.testing.assert_allclose(
        names["ivc_invasion"].position_lps, names["renal_vein_confluence"].position_lps
    )


def test_mass_measures_the_reported_extents(from_labels: OverlayResult) -> None:
    mass = from_labels.finding("mass")
    assert mass.within_one_voxel() == {"lr": True, "ap": True, "cc": True}
    assert mass.comparison is not None and mass.comparison.passed_order_free
    assert mass.volume_ml == pytest.approx(646.0, rel=0.05)
    assert [(r.rule, r.status) for r in mass.rules] == [
        ("overlaps", "satisfied"),
        ("reaches_into", "satisfied"),
        ("avoids", "satisfied"),
    ]
    # the only warning: the ellipsoid lies over the right kidney of this small world
    assert [w for w in mass.warnings if "normal organs" not in w] == []


def test_tumour_runs_in_the_ivc_from_the_renal_veins_into_the_liver(
    from_labels: OverlayResult, world: World
) -> None:
    res = from_labels
    t = res.mask("intravascular_tumour")
    ivc = world.labels.array == IDS["inferior_vena_cava"]
    assert (t & ivc).sum() / t.sum() >= 0.95
    z0, z1 = res.finding("intravascular_tumour").z_span_lps or (0.0, 0.0)
    lm = res.landmarks
    assert z0 == pytest.approx(lm.z("renal_vein_confluence"), abs=4.0)
    assert lm.z("intrahepatic_ivc_lower") < z1 < lm.z("hepatic_vein_confluence")
    lv = res.involvement
    assert lv is not None and (lv.mayo_level, lv.ivc_segment) == ("III", "II")
    assert res.involvement_matches() == {"mayo_level": True, "ivc_segment": True}


def test_lumen_wins_over_the_mass(from_labels: OverlayResult) -> None:
    mass = from_labels.finding("mass")
    steps = [c for c in mass.clipping if c.reason == "overlap"]
    assert len(steps) == 1 and steps[0].voxels_removed
    assert "intravascular_tumour" in steps[0].description
    # the mass and the tumour touch: they are one tumour
    m = from_labels.mask("mass")
    t = from_labels.mask("intravascular_tumour")
    assert (ndi.binary_dilation(m) & t).any()


def test_json_and_markdown(from_labels: OverlayResult) -> None:
    doc = from_labels.to_json_dict()
    text = json.dumps(doc)  # JSON-clean
    assert json.loads(text)["format"] == "ivcviewer.overlay_findings"
    mass = doc["findings"][0]
    assert mass["reported"]["extents_cm"] == {"lr": 10.5, "ap": 8.9, "cc": 13.2}
    assert set(mass["measured"]["extents_cm"]) == {"lr", "ap", "cc"}
    for a in ("lr", "ap", "cc"):
        assert mass["differences_cm"][a] == pytest.approx(
            mass["measured"]["extents_cm"][a] - mass["reported"]["extents_cm"][a], abs=2e-3
        )
    assert doc["ivc_involvement"]["mayo_level"] == "III"
    assert doc["ivc_involvement"]["expected"] == {
        "mayo_level": "III",
        "ivc_segment": "II",
        "assumed": True,
    }
    assert doc["landmarks_outside"] == []
    assert doc["landmarks"]["points"]["renal_vein_confluence"]["used"] is True
    assert doc["not_drawn"][0]["id"] == "pulmonary_embolism"
    md = render_markdown(from_labels)
    assert "IVC involvement: Mayo III, segment II" in md and "| left-right | 10.50 |" in md
    assert "Pulmonary embolism" in md


def test_same_anatomy_on_a_head_first_flipped_grid(case, from_labels: OverlayResult) -> None:  # type: ignore[no-untyped-def]
    # slices towards the feet, columns towards the patient's right, 3 x 5 x 4 mm voxels
    nz, ny, nx = 100, 49, 81
    aff = np.array(
        [
            [0.0, 0.0, -4.0, 160.0],
            [0.0, 5.0, 0.0, -130.0],
            [-3.0, 0.0, 0.0, 197.0],
            [0.0, 0.0, 0.0, 1.0],
        ]
    )
    w = sample_world((nz, ny, nx), aff)
    lm = landmarks_from_labelmap(w.labels, w.names, required=case.required_landmarks())
    res = fit_case(w.ct, case, lm, w.labels, w.names)
    mass, ref = res.finding("mass"), from_labels.finding("mass")
    assert mass.volume_ml == pytest.approx(ref.volume_ml, rel=0.05)
    assert mass.within_one_voxel() == {"lr": True, "ap": True, "cc": True}
    assert mass.centroid_lps is not None and ref.centroid_lps is not None
    np.testing.assert_allclose(mass.centroid_lps, ref.centroid_lps, atol=4.0)
    assert res.involvement is not None and res.involvement.mayo_level == "III"


def test_anatomy_label_map_on_another_grid(case, world: World) -> None:  # type: ignore[no-untyped-def]
    # a label map at 2x the voxel size: read by nearest neighbour on the CT's grid
    aff = axial_affine((8.0, 8.0, 8.0))
    coarse = sample_world((38, 31, 41), aff)
    lm = truth_landmarks()
    res = fit_case(world.ct, case, lm, coarse.labels, coarse.names)
    assert res.labels.shape == world.ct.shape
    assert [r.status for r in res.finding("mass").rules] == ["satisfied"] * 3
    t = res.finding("intravascular_tumour")
    assert t.fit.parameters["section"] == "label map"
    assert t.rules[0].status == "satisfied"


def test_landmarks_only_uses_the_centreline_for_the_ivc(case, world: World) -> None:  # type: ignore[no-untyped-def]
    res = fit_case(world.ct, case, truth_landmarks())
    mass = res.finding("mass")
    status = {r.structure: (r.status, r.source) for r in mass.rules}
    assert status["inferior_vena_cava"] == ("satisfied", "IVC centreline and radius")
    assert status["iliopsoas_right"][0] == "not_checked"
    assert any("avoids vertebrae_*" in w for w in mass.warnings)
    tumour = res.finding("intravascular_tumour")
    assert tumour.fit.parameters["section"] == "circle of the centreline radius"
    # the circle has 0.95 of the radius: about 0.9 of the lumen's area
    ivc = world.labels.array == IDS["inferior_vena_cava"]
    t = res.mask("intravascular_tumour")
    assert (t & ivc).sum() / t.sum() >= 0.95


# --------------------------------------------------------------------------- clipping


def test_body_clipping_is_reported_with_its_effect(case) -> None:  # type: ignore[no-untyped-def]
    w = sample_world(body_semi=(85.0, 110.0))  # a narrow body: the mass pokes out on the right
    res = fit_case(w.ct, case, truth_landmarks(), w.labels, w.names)
    mass = res.finding("mass")
    body = [c for c in mass.clipping if c.reason == "body"]
    assert len(body) == 1
    step = body[0]
    assert step.voxels_removed and step.volume_removed_ml
    assert step.extent_changes_mm()["lr"] < -10.0
    assert mass.within_one_voxel()["lr"] is False
    assert any("changed by: body" in w for w in mass.warnings)
    assert mass.extents_mm is not None and mass.fitted_extents_mm is not None
    assert mass.extents_mm["lr"] == pytest.approx(
        mass.fitted_extents_mm["lr"] + step.extent_changes_mm()["lr"]
    )


def _bone_world(case):  # type: ignore[no-untyped-def]
    """The world with a bone block in the mass's way (outside every label)."""
    w = sample_world()
    arr = w.ct.array.copy()
    ijk = np.indices(arr.shape).reshape(3, -1).T
    p = geometry.voxel_to_lps(w.ct.affine, ijk).reshape(*arr.shape, 3)
    block = (
        (np.abs(p[..., 0] + 110) <= 8) & (np.abs(p[..., 1] - 10) <= 10) & (np.abs(p[..., 2]) <= 30)
    )
    arr[block] = 800
    return w.ct.with_array(arr), w, block


def test_bone_from_the_ct(case) -> None:  # type: ignore[no-untyped-def]
    ct, w, block = _bone_world(case)
    res = fit_case(ct, case, truth_landmarks())
    mass = res.finding("mass")
    steps = {c.reason: c for c in mass.clipping}
    assert "bone_ct" in steps and steps["bone_ct"].voxels_removed
    assert not (res.mask("mass") & block).any()
    off = fit_case(ct, case, truth_landmarks(), options=FitOptions(bone=BoneSource.NONE))
    assert "bone_ct" not in {c.reason for c in off.finding("mass").clipping}
    assert (off.mask("mass") & block).any()


def test_avoids_rule_clips_labelled_vertebrae(case, world: World) -> None:  # type: ignore[no-untyped-def]
    # move the psoas (and with it the mass) next to the spine
    lm = truth_landmarks()
    lm.points_lps["right_psoas_at_mass"] = np.array([-10.0, 45.0, 0.0])
    res = fit_case(world.ct, case, lm, world.labels, world.names)
    mass = res.finding("mass")
    steps = [c for c in mass.clipping if c.reason == "avoids"]
    assert steps and steps[0].voxels_removed
    spine = np.isin(world.labels.array, [IDS["vertebrae_L1"], IDS["vertebrae_L2"]])
    assert not (res.mask("mass") & spine).any()
    assert [r.status for r in mass.rules if r.rule == "avoids"] == ["satisfied"]


def test_body_and_bone_masks() -> None:
    a = np.full((3, 9, 9), -1000, np.int16)
    a[:, 1:8, 1:8] = 40
    a[:, 4, 4] = -1000  # gas inside the body
    ring = np.zeros((9, 9), bool)
    ring[2:7, 2:7] = True
    ring[3:6, 3:6] = False
    a[:, ring] = 900  # a bone ring with marrow (40 HU) inside
    ct = Volume(a, np.diag([1.0, 1.0, 1.0, 1.0])[[1, 2, 0, 3]])  # axis 0 along z
    box = GridBox((0, 0, 0), (3, 9, 9))
    body = body_mask(ct, box, -500)
    assert body[:, 4, 4].all() and not body[:, 0, 0].any()
    bone = ct_bone_mask(ct, GridBox((0, 0, 0), (3, 9, 9)), 250, 0.0)
    # the ring is closed in-plane but open at the box's top and bottom faces
    assert bone[:, ring].all()
    tiny = ct_bone_mask(ct, box, 250, 1.0)  # the ring holds 0.048 mL: a speck, not bone
    assert not tiny.any()


# --------------------------------------------------------------------------- errors


def test_missing_landmark_is_named(case, world: World) -> None:  # type: ignore[no-untyped-def]
    lm = truth_landmarks()
    del lm.points_lps["intrahepatic_ivc_lower"]
    with pytest.raises(AnatomyError, match="intrahepatic_ivc_lower"):
        fit_case(world.ct, case, lm)


def test_names_are_needed_with_a_label_map(case, world: World) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(AnatomyError, match="'names'"):
        fit_case(world.ct, case, truth_landmarks(), world.labels, None)


def test_unplaceable_kind(case, world: World, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    text = default_case_path().read_text().replace("kind: mass", "kind: organ")
    p = tmp_path / "organ.yaml"
    p.write_text(text)
    with pytest.raises(CaseFileError, match="kind 'organ'"):
        fit_case(world.ct, load_case(p), truth_landmarks())


def test_dice() -> None:
    a = np.zeros((4, 4, 4), bool)
    a[:2] = True
    assert dice(a, a) == 1.0
    assert dice(a, ~a) == 0.0
    assert dice(np.zeros(3, bool), np.zeros(3, bool)) == 1.0


def test_names_table_matches_the_factory() -> None:
    assert set(NAMES.values()) >= {"inferior_vena_cava", "iliopsoas_right", "liver"}
    assert AXIAL_SHAPE == sample_world().ct.shape


def test_oblique_anisotropic_ct_grid(case, from_labels: OverlayResult) -> None:  # type: ignore[no-untyped-def]
    # rows and columns rotated 20 deg about z, 3 x 4.5 x 3.5 mm voxels
    import math

    a = math.radians(20.0)
    aff = np.eye(4)
    aff[:3, 0] = [0.0, 0.0, 3.0]
    aff[:3, 1] = np.array([-math.sin(a), math.cos(a), 0.0]) * 4.5
    aff[:3, 2] = np.array([math.cos(a), math.sin(a), 0.0]) * 3.5
    shape = (100, 60, 90)
    centre = np.array([-40.0, 0.0, 30.0])
    aff[:3, 3] = centre - aff[:3, :3] @ ((np.array(shape) - 1) / 2.0)
    w = sample_world(shape, aff)
    res = fit_case(w.ct, case, truth_landmarks())
    mass = res.finding("mass")
    assert mass.volume_ml == pytest.approx(from_labels.finding("mass").volume_ml, rel=0.05)
    assert mass.within_one_voxel() == {"lr": True, "ap": True, "cc": True}
    assert res.involvement is not None and res.involvement.mayo_level == "III"
    np.testing.assert_array_equal(res.labels.affine, aff)


# --------------------------------------------------------------------------- the IVC level


def _tumour_labelled_apart(world: World, name: str) -> tuple[Volume, dict[int, str]]:
    """The world's label map with the IVC from the renal veins up labelled as ``name``."""
    arr = world.labels.array.copy()
    z = geometry.voxel_to_lps(world.labels.affine, np.indices(arr.shape).reshape(3, -1).T)[:, 2]
    part = (arr == IDS["inferior_vena_cava"]) & ((z >= -2.0) & (z <= 150.0)).reshape(arr.shape)
    arr[part] = 20
    return world.labels.with_array(arr), dict(world.names) | {20: name}


def test_anatomy_names_for_case(case) -> None:  # type: ignore[no-untyped-def]
    names = {1: "inferior_vena_cava", 2: "Intravascular_Tumour", 3: "mass", 4: "liver"}
    assert anatomy_names_for_case(names, case) == {
        1: "inferior_vena_cava",
        2: "inferior_vena_cava",
        3: "mass",
        4: "liver",
    }
    kept = anatomy_names_for_case(names, case, drop_solid_findings=True)
    assert kept == {1: "inferior_vena_cava", 2: "inferior_vena_cava", 4: "liver"}
    # by the finding's display name too
    by_name = {9: case.finding("intravascular_tumour").name}
    assert anatomy_names_for_case(by_name, case) == {9: "inferior_vena_cava"}


def test_tumour_labelled_apart_from_the_ivc_counts_as_ivc(case, world: World) -> None:  # type: ignore[no-untyped-def]
    labels, names = _tumour_labelled_apart(world, "intravascular_tumour")
    res = fit_case(world.ct, case, truth_landmarks(), labels, names)
    t = res.finding("intravascular_tumour")
    assert t.n_voxels > 100
    lumen = np.isin(labels.array, [IDS["inferior_vena_cava"], 20])
    assert (res.mask("intravascular_tumour") & lumen).sum() / t.n_voxels >= 0.95
    assert t.rules[0].status == "satisfied"
    assert res.involvement is not None and res.involvement.mayo_level == "III"


def test_empty_vessel_section_is_a_clipping_step_and_gives_no_level(case, world: World) -> None:  # type: ignore[no-untyped-def]
    labels, names = _tumour_labelled_apart(world, "ivc_filling")  # not named after the finding
    res = fit_case(world.ct, case, truth_landmarks(), labels, names)
    t = res.finding("intravascular_tumour")
    assert t.n_voxels == 0
    steps = [c for c in t.clipping if c.reason == "vessel_section"]
    assert len(steps) == 1 and "inferior_vena_cava" in steps[0].description
    assert steps[0].voxels_removed  # what a circular section would have drawn
    assert any("vessel_section" in w for w in t.warnings)
    assert res.involvement is None and res.involvement_finding == "intravascular_tumour"
    assert "not computed" in res.involvement_missing
    assert res.involvement_missing in res.warnings
    assert res.involvement_matches() is None
    inv = res.to_json_dict()["ivc_involvement"]
    assert inv["mayo_level"] is None and inv["matches_expected"] is None
    assert inv["notes"] == [res.involvement_missing]
    assert res.finding("mass").n_voxels > 0  # the mass is still drawn


def test_level_is_read_from_the_drawn_region(case) -> None:  # type: ignore[no-untyped-def]
    # the CT stops at z = 60 mm, below the intrahepatic IVC (80 mm) the tumour is fitted into
    w = sample_world((41, AXIAL_SHAPE[1], AXIAL_SHAPE[2]))
    res = fit_case(w.ct, case, truth_landmarks(), w.labels, w.names)
    t = res.finding("intravascular_tumour")
    assert t.fit.z_to_mm == pytest.approx(140.0)  # type: ignore[union-attr]
    assert t.z_span_lps is not None and t.z_span_lps[1] == pytest.approx(60.0)
    lv = res.involvement
    assert lv is not None
    assert lv.top_z_mm == pytest.approx(60.0) and lv.mayo_level == "II"
    assert lv.lower_bound  # the tumour runs on beyond the top of the scan
    assert any("drawn from" in n for n in lv.notes)
    assert res.involvement_matches() == {"mayo_level": False, "ivc_segment": True}
    assert "cavo_atrial_junction" in res.landmarks_outside


def test_nothing_drawn_on_an_unrelated_ct(case) -> None:  # type: ignore[no-untyped-def]
    tiny = Volume(np.full((8, 8, 8), 40, np.int16), np.diag([2.0, 2.0, 2.0, 1.0]))
    tiny.affine[:3, 3] = [500.0, 500.0, 500.0]
    lm = truth_landmarks()
    res = fit_case(tiny, case, lm)
    assert [f.n_voxels for f in res.findings] == [0, 0] and res.drawn == []
    assert {c.reason for f in res.findings for c in f.clipping} == {"field_of_view"}
    assert res.involvement is None and "not computed" in res.involvement_missing
    md = render_markdown(res)
    assert "IVC involvement: Mayo" not in md and "IVC involvement: not computed" in md
    assert set(res.landmarks_outside) == set(case.required_landmarks())
    assert landmarks_outside(tiny.shape, tiny.affine, lm, ["right_psoas_at_mass"]) == [
        "right_psoas_at_mass"
    ]

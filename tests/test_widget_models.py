"""The Qt-free model of the Case overlay widget, its guide and the layer metadata records.

No viewer: the model is fed the plain data a widget reads from its layers (a Volume and names,
named LPS points) and fits through the workflows, as the ``overlay`` command does.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from _tumour_apart_factory import tumour_apart_labelmap, write_tumour_apart_labelmap

from ivcviewer import workflows
from ivcviewer.annotations import Landmarks, default_case_path, load_case
from ivcviewer.errors import AnatomyError
from ivcviewer.widget_models import (
    AnatomyInput,
    CaseLayerInfo,
    CaseOverlayModel,
    GuideStep,
    LabelmapInput,
    LandmarkGuide,
    OverlayLayerKind,
    VolumeLayerInfo,
    guide_steps,
    points_input,
)
from ivcviewer.workflows.findings_table import ALL_FINDINGS


@pytest.fixture(scope="module")
def ct(phantom_dir: Path):  # type: ignore[no-untyped-def]
    return workflows.open_ct(phantom_dir / "ct")


@pytest.fixture
def model() -> CaseOverlayModel:
    m = CaseOverlayModel()
    m.set_case(default_case_path())
    return m


def _record(model: CaseOverlayModel) -> list[tuple[str, object]]:
    seen: list[tuple[str, object]] = []
    ev = model.events
    for name in ("case_changed", "source_changed", "fitted", "selection_changed"):
        getattr(ev, name).connect(lambda v, n=name: seen.append((n, v)))
    return seen


def test_a_fit_from_the_phantom_truth_fills_the_findings_list(model, phantom_dir, ct) -> None:
    seen = _record(model)
    model.set_source(AnatomyInput.PHANTOM_TRUTH, phantom_dir)
    result = model.fit(ct, "phantom CT")
    assert [n for n, _ in seen] == ["source_changed", "fitted", "selection_changed"]
    assert model.result is result and model.selected is not None
    assert model.selected.key == ALL_FINDINGS
    assert model.finding_keys()[:3] == [ALL_FINDINGS, "mass", "intravascular_tumour"]
    assert "Mayo III" in model.level_text()
    assert model.status.startswith("Fitted ") and "'phantom CT'" in model.status
    mass = model.select("mass")
    assert mass.label_value == result.finding("mass").label_value and mass.drawn
    rep = result.finding("mass").reported_extents_mm
    html = model.details_html()
    assert "reported (cm)" in html and f"{rep['lr'] / 10:.2f}" in html
    assert html == workflows.findings_table.render_html(result, "mass")
    with pytest.raises(KeyError, match="no_such"):
        model.select("no_such")
    info = model.layer_info(OverlayLayerKind.FINDINGS)
    assert info.case_path == str(default_case_path()) and info.case_id == result.case.case.id
    assert info.label_findings == {r.value: r.finding_id for r in result.regions}


def test_a_failed_fit_keeps_the_previous_one(model, phantom_dir, ct) -> None:
    model.set_source(AnatomyInput.PHANTOM_TRUTH, phantom_dir)
    first = model.fit(ct, "phantom CT")
    model.set_source(AnatomyInput.LABELMAP_LAYER)
    with pytest.raises(AnatomyError, match="No Labels layer"):
        model.fit(ct, "phantom CT")
    labels, _ = tumour_apart_labelmap(phantom_dir)
    with pytest.raises(AnatomyError, match="'unnamed' has no structure names"):
        model.fit(ct, "phantom CT", labelmap=LabelmapInput(labels, {}, "layer 'unnamed'"))
    assert model.result is first


def test_clicked_points_are_an_anatomy_source(model, phantom_dir, ct) -> None:
    truth = Landmarks.load_json(phantom_dir / "landmarks.json")
    ids = [n for n in truth.points_lps]
    pts = [truth.points_lps[n] for n in ids]
    c, _ = truth.centreline()
    ids += ["ivc_centreline"] * len(c)
    pts += list(c)
    model.set_source(AnatomyInput.POINTS_LAYER)
    radii = np.full(len(ids), np.nan)
    result = model.fit(ct, "CT", points=points_input(ids, pts, radii, "Points layer 'p'"))
    assert result.landmarks.provenance.source == "points"
    assert result.involvement is not None and result.involvement.mayo_level == "III"
    lm = model.clicked_landmarks(points_input(ids, pts, None, "Points layer 'p'"))
    assert lm.centreline_radius_mm is not None
    np.testing.assert_allclose(lm.centreline_radius_mm, model.radius_mm)


def test_the_label_map_file_and_the_label_map_in_memory_fit_alike(
    phantom_dir: Path, ct, tmp_path: Path
) -> None:
    """The tumour labelled apart from the IVC: the file (the ``overlay`` command's source) and
    the same map in memory, on the displayed (canonical) grids a napari layer gives, fit to the
    same voxels."""
    case = load_case(default_case_path())
    path, labels, names = write_tumour_apart_labelmap(phantom_dir, tmp_path / "anatomy.nii.gz")
    from_file = workflows.fit_overlay(
        ct, case, workflows.anatomy_from_labelmap_file(path, case), ct_name="CT"
    )
    in_memory = workflows.fit_overlay(
        ct, case, workflows.anatomy_from_labelmap(labels, names, case, "in memory"), ct_name="CT"
    )
    np.testing.assert_array_equal(in_memory.labels.array, from_file.labels.array)
    assert in_memory.involvement == from_file.involvement
    assert from_file.involvement is not None and from_file.involvement.mayo_level == "III"
    # the model, given what a Labels layer and an Image layer display
    m = CaseOverlayModel()
    m.set_case(default_case_path())
    m.set_source(AnatomyInput.LABELMAP_LAYER)
    shown_ct = VolumeLayerInfo.of_volume(ct)
    shown = LabelmapInput(labels.to_canonical(), names, "layer 'anatomy'")
    result = m.fit(shown_ct.volume, "CT", labelmap=shown)
    back = shown_ct.to_source_array(np.asarray(result.labels.array))
    np.testing.assert_array_equal(back, from_file.labels.array)
    assert {r.value: r.finding_id for r in result.regions} == {
        r.value: r.finding_id for r in from_file.regions
    }


def test_the_guide_asks_for_each_landmark_and_hands_over_the_clicks() -> None:
    case = load_case(default_case_path())
    m = CaseOverlayModel()
    m.set_case(default_case_path())
    steps = guide_steps(case)
    assert [s.id for s in steps] == case.required_landmarks()
    asked: list[str] = []
    m.guide.ask.connect(lambda step: asked.append(step.id))
    m.guide.set_clicked([])
    m.start_guide()
    clicked: list[str] = []
    while m.guide.current is not None:
        step = m.guide.current
        assert m.click_defaults() is not None
        features, colour = m.click_defaults()  # type: ignore[misc]
        assert features["landmark"] == step.id and colour.startswith("#")
        clicked.append(step.id)
        if step.several:
            clicked.append(step.id)  # a second centreline point
            assert m.guide.replaced_points(clicked) == []
            m.guide.click_landed(clicked)
            m.guide.next()
        else:
            clicked.append(step.id)  # clicked twice: the newer click replaces the older
            old = m.guide.replaced_points(clicked)
            assert old == [len(clicked) - 2]
            del clicked[old[0]]
            m.guide.click_landed(clicked)
    assert not m.guide.active and m.source == AnatomyInput.POINTS_LAYER
    assert asked[0] == steps[0].id and set(asked) == {s.id for s in steps}
    assert m.guide.text().startswith("All landmarks clicked")


def test_the_guide_text_and_buttons() -> None:
    g = LandmarkGuide([GuideStep("a", "A", "first"), GuideStep("b", "B", "second")])
    assert g.text().startswith("Press Start") and not g.can_move
    g.start()
    assert g.text() == "Step 1 of 2: click A. first" and g.can_move and not g.can_back
    g.goto(1)
    assert g.can_back
    g.back()
    assert g.current is not None and g.current.id == "a"
    g.finish()
    g.set_clicked(["a"])
    assert g.text() == "Still missing: B. Press Start to click them."
    g.start()
    assert g.current is not None and g.current.id == "b"  # the first one missing


def test_layer_records_round_trip_through_metadata() -> None:
    info = CaseLayerInfo(OverlayLayerKind.SURFACE, "c.yaml", "c", {3: "mass"})
    md = {"name": "x", **info.to_metadata()}
    assert CaseLayerInfo.from_metadata(md) == info
    # JSON-like metadata (string keys) and the older key are read too
    assert CaseLayerInfo.from_metadata({"finding_ids": {"3": "mass"}}) == CaseLayerInfo(
        None, "", "", {3: "mass"}
    )
    from ivcviewer.volume import Volume

    aff = np.array([[0, 0, -2.0, 10], [0, 1.5, 0, 0], [3.0, 0, 0, 0], [0, 0, 0, 1]])
    v = Volume(np.arange(60).reshape(3, 4, 5), aff)
    rec = VolumeLayerInfo.of_volume(v)
    again = VolumeLayerInfo.from_metadata(rec.to_metadata())
    assert again is not None and again.order == rec.order and again.flips == rec.flips
    np.testing.assert_array_equal(again.to_source_array(again.volume.array), v.array)
    np.testing.assert_allclose(again.source_affine_lps, aff)
    assert VolumeLayerInfo.from_metadata({}) is None

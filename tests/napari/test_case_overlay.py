"""The "Case overlay" widget on the small phantom: layers, findings tour, guided landmarks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ivcviewer import geometry
from ivcviewer.annotations import Landmarks, default_case_path, load_case
from ivcviewer.io import open_path

pytestmark = pytest.mark.napari

napari = pytest.importorskip("napari")
from napari.layers import Labels, Layer, Points  # noqa: E402

from ivcviewer._napari.layers import image_layer_data  # noqa: E402
from ivcviewer._napari.widgets.case_overlay import (  # noqa: E402
    ALL_FINDINGS,
    FINDINGS_LAYER,
    LANDMARKS_LAYER,
    AnatomySource,
    CaseOverlayWidget,
)


@pytest.fixture
def widget(make_napari_viewer, phantom_dir: Path):
    viewer = make_napari_viewer(show=True)
    ct = open_path(phantom_dir / "ct")[0]
    ct_layer = viewer.add_layer(Layer.create(*image_layer_data(ct, name="phantom CT")))
    w = CaseOverlayWidget(viewer)
    viewer.window.add_dock_widget(w, name="Case overlay")
    w.set_ct_layer(ct_layer)
    return viewer, w, ct_layer


def _world_to_lps(layer: Layer, data: np.ndarray) -> np.ndarray:
    world = np.array([layer.data_to_world(p) for p in np.atleast_2d(data)], dtype=float)
    return geometry.napari_to_lps(world)


def test_fit_from_phantom_truth_gives_named_coloured_regions_and_landmarks(
    widget, phantom_dir: Path
) -> None:
    viewer, w, ct_layer = widget
    case = load_case(default_case_path())
    w.set_source(AnatomySource.PHANTOM_TRUTH, phantom_dir)
    result = w.run()

    labels = viewer.layers[FINDINGS_LAYER]
    assert isinstance(labels, Labels) and labels is w.findings_layer
    assert tuple(labels.scale) == tuple(ct_layer.scale)
    values = case.label_values()
    expected = {values[f.id]: (f.name, f.colour) for f in case.region_findings}
    names = dict(zip(labels.features["index"], labels.features["name"], strict=True))
    assert names == {v: n for v, (n, _) in expected.items()}
    for v, (_, colour) in expected.items():
        assert np.count_nonzero(np.asarray(labels.data) == v) > 0
        rgb = np.asarray(labels.colormap.map(np.array([v])))[0, :3]
        want = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        np.testing.assert_allclose(rgb, want, atol=1 / 255)

    points = viewer.layers[LANDMARKS_LAYER]
    assert isinstance(points, Points) and len(points.data) >= 5
    shown = list(points.features["landmark"])
    assert set(case.required_landmarks()) - {"ivc_centreline"} <= set(shown)
    truth = Landmarks.load_json(phantom_dir / "landmarks.json")
    lps = _world_to_lps(points, np.asarray(points.data))
    for i, lm in enumerate(shown):
        assert points.features["name"][i] == case.landmark_spec(lm).name
        np.testing.assert_allclose(lps[i], truth.points_lps[lm], atol=1e-6)
    assert result.involvement is not None and result.involvement.mayo_level == "III"
    assert "Mayo III" in w.level_label.text()
    assert w.finding_keys()[:3] == [ALL_FINDINGS, "mass", "intravascular_tumour"]


def test_selecting_a_finding_goes_to_its_centre_and_shows_its_figures(
    widget, phantom_dir: Path
) -> None:
    viewer, w, _ = widget
    w.set_source(AnatomySource.PHANTOM_TRUTH, phantom_dir)
    result = w.run()
    labels = w.findings_layer
    step = float(viewer.dims.range[0].step)
    for fid in ("intravascular_tumour", "mass"):
        fr = result.finding(fid)
        viewer.dims.set_point(0, float(viewer.dims.range[0].start))  # move away first
        w.select_finding(fid)
        z = float(viewer.dims.point[0])
        lo, hi = fr.z_span_lps
        assert lo - step / 2 <= z <= hi + step / 2
        assert abs(z - float(fr.centroid_lps[2])) <= fr.extents_mm["cc"] / 4
        # the slice shown holds the finding's region
        k = int(round(labels.world_to_data(viewer.dims.point)[0]))
        assert np.any(np.asarray(labels.data[k]) == fr.label_value)
        assert labels.selected_label == fr.label_value and labels.show_selected_label
    text = w.details.toPlainText()
    assert "reported (cm)" in text and "measured (cm)" in text
    rep = result.finding("mass").reported_extents_mm
    assert f"{rep['lr'] / 10:.2f}" in text and f"{rep['cc'] / 10:.2f}" in text
    w.select_finding("intravascular_tumour")
    assert "Mayo III" in w.details.toPlainText()
    w.select_finding(ALL_FINDINGS)
    assert not labels.show_selected_label


def test_guided_clicking_saves_loads_and_fits(widget, phantom_dir: Path, tmp_path: Path) -> None:
    viewer, w, _ = widget
    case = load_case(default_case_path())
    truth = Landmarks.load_json(phantom_dir / "landmarks.json")
    w.start_guide()
    layer = w.clicked_layer
    assert layer is not None and layer.mode == "add"
    asked = []
    while w.current_step is not None:
        step = w.current_step
        asked.append(step.id)
        assert step.name in w.guide_label.text()
        if step.several:
            c, _ = truth.centreline()
            pts = c[:: max(1, len(c) // 8)]
        else:
            pts = truth.point(step.id)[None, :]
        for p in pts:
            world = geometry.lps_to_napari(p)
            layer.add(layer.world_to_data(world))
        if step.several:
            w.next_step()
    assert asked == case.required_landmarks()
    clicked = w.clicked_landmarks()
    for n in truth.points_lps:
        if n in asked:
            np.testing.assert_allclose(clicked.point(n), truth.point(n), atol=1e-6)
    assert clicked.centreline_lps is not None and len(clicked.centreline_lps) >= 8

    saved = w.save_landmarks(tmp_path / "clicked.json")
    assert Landmarks.load_json(saved).names() == clicked.names()
    reloaded = w.load_landmarks(saved)
    assert len(reloaded.data) == len(layer.data)
    assert w.source == AnatomySource.POINTS_LAYER
    result = w.run()
    assert result.involvement is not None and result.involvement.mayo_level == "III"
    assert {r.finding_id for r in result.regions} == {"mass", "intravascular_tumour"}


def test_a_label_map_layer_with_names_is_an_anatomy_source(widget, phantom_dir: Path) -> None:
    from ivcviewer._napari.layers import labels_layer_data
    from ivcviewer.io import load_labels

    viewer, w, _ = widget
    labels, table = load_labels(phantom_dir / "labels.nii.gz")
    # an anatomy map as a segmentation model gives it: no mass, the tumour-filled lumen is IVC
    arr = np.asarray(labels.array).copy()
    arr[arr == table.value_of("mass")] = 0
    arr[arr == table.value_of("intravascular_tumour")] = table.value_of("inferior_vena_cava")
    names = {v: n for v, n in table.names.items() if n not in ("mass", "intravascular_tumour")}
    anatomy = labels.with_array(arr)
    layer = viewer.add_layer(Layer.create(*labels_layer_data(anatomy, names, name="anatomy")))
    w.set_source(AnatomySource.LABELMAP_LAYER, layer=layer)
    result = w.run()
    assert result.landmarks.provenance.source == "labelmap"
    assert result.involvement is not None and result.involvement.mayo_level == "III"
    # a layer without names is refused with a message naming it; the fitted layers stay
    unnamed = viewer.add_layer(Labels(arr, name="no names"))
    w.set_source(AnatomySource.LABELMAP_LAYER, layer=unnamed)
    with pytest.raises(ValueError, match="no names"):
        w.run()
    assert w.findings_layer in viewer.layers


def test_a_shipped_teaching_case_from_the_menu_fits_and_shows_its_occupancy(
    widget, tmp_path: Path
) -> None:
    from ivcviewer.phantom import build_phantom, write_phantom

    viewer, w, ct_layer = widget
    normal = tmp_path / "normal"
    write_phantom(build_phantom("small", normal=True), normal)
    actions = {a.text(): a for a in w.sources.shipped_menu.actions()}
    renal = "Right renal mass with tumour thrombus in the IVC (Mayo level II) - teaching example"
    assert "Retroperitoneal leiomyosarcoma invading the inferior vena cava" in actions
    assert renal in actions and len(actions) == 3
    actions[renal].trigger()
    assert w.case_edit.text().endswith("teaching_right_renal_mass_ivc_thrombus.yaml")
    w.set_source(AnatomySource.PHANTOM_TRUTH, normal)
    result = w.run()
    labels = viewer.layers[FINDINGS_LAYER]
    assert set(np.unique(np.asarray(labels.data))) == {0, 1, 2}
    assert result.involvement is not None and result.involvement.mayo_level == "II"
    w.select_finding("renal_mass")
    text = w.details.toPlainText()
    assert "Occupancy by structure: kidney_right" in text
    assert "mostly_within" in text or "satisfied" in text

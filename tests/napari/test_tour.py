"""The "Guided tour" dock on the small phantom: each step's slice, window, view and finding."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from _tour_quiz_factory import coloured_pixels

from ivcviewer import geometry
from ivcviewer.io import open_path

pytestmark = pytest.mark.napari

napari = pytest.importorskip("napari")
from napari.layers import Layer  # noqa: E402

from ivcviewer._napari import launch  # noqa: E402
from ivcviewer._napari._viewer import camera  # noqa: E402
from ivcviewer._napari.layers import image_layer_data  # noqa: E402
from ivcviewer._napari.widgets.case_overlay import (  # noqa: E402
    ALL_FINDINGS,
    AnatomySource,
    CaseOverlayWidget,
)
from ivcviewer._napari.widgets.tour import TourWidget  # noqa: E402


@pytest.fixture
def tour(make_napari_viewer, phantom_dir: Path):
    viewer = make_napari_viewer(show=True)
    ct = open_path(phantom_dir / "ct")[0]
    ct_layer = viewer.add_layer(Layer.create(*image_layer_data(ct, name="phantom CT")))
    ct_layer.contrast_limits = (-1000.0, 1000.0)  # not the tour's window
    overlay = CaseOverlayWidget(viewer)
    viewer.window.add_dock_widget(overlay, name="Case overlay")
    overlay.set_ct_layer(ct_layer)
    overlay.set_source(AnatomySource.PHANTOM_TRUTH, phantom_dir)
    widget = TourWidget(viewer, overlay)
    viewer.window.add_dock_widget(widget, name="Guided tour")
    launch.set_canvas_size(viewer, (400, 400))
    overlay.run()
    return viewer, overlay, widget, ct_layer


def test_each_step_shows_its_slice_window_and_that_finding_alone(tour) -> None:
    viewer, overlay, widget, ct_layer = tour
    steps = widget.tour.steps
    assert [s.key for s in steps] == ["mass", "intravascular_tumour", "ivc_invasion"]
    colours = {s.key: s.entry.colour for s in steps}
    assert widget.start() is steps[0]
    for i, step in enumerate(steps):
        if i:
            assert widget.next() is step
        e = step.entry
        assert e.centre_lps is not None and e.colour is not None
        want = geometry.lps_to_napari(np.asarray(e.centre_lps))
        np.testing.assert_allclose(viewer.dims.point[-3:], want, atol=1e-6)
        width, level = step.window
        np.testing.assert_allclose(ct_layer.contrast_limits, (level - width / 2, level + width / 2))
        assert widget.text.toPlainText() == step.text
        assert widget.position_label.text().startswith(f"Step {i + 1} of {len(steps)}")
        labels, pts = overlay.findings_layer, overlay.landmarks_layer
        if e.label_value is not None:
            assert labels.visible and labels.show_selected_label
            assert labels.selected_label == e.label_value
            assert not pts.visible
        else:
            assert not labels.visible
            assert pts.visible and int(np.count_nonzero(pts.shown)) == 1
        img = launch.screenshot(viewer)
        assert coloured_pixels(img, e.colour) > 20, step.key
        for other, colour in colours.items():
            if other != step.key and colour is not None:
                assert coloured_pixels(img, colour) == 0, (step.key, other)
    assert widget.next() is steps[-1]  # stays on the last step
    assert widget.previous() is steps[-2]


def test_views_and_zoom_follow_the_step(tour) -> None:
    viewer, _overlay, widget, _ct = tour
    mass, thrombus = widget.tour.steps[0], widget.tour.steps[1]
    widget.start()
    axial_order = tuple(viewer.dims.order)
    zoom_mass = camera(viewer).zoom
    assert zoom_mass == pytest.approx(400 / mass.field_mm, rel=0.05)
    widget.next()
    assert thrombus.view == "coronal" and tuple(viewer.dims.order) != axial_order
    assert viewer.dims.order[0] == 1  # coronal: the antero-posterior axis is sliced


def test_presentation_mode_hides_the_other_docks_and_brings_them_back(tour) -> None:
    viewer, overlay, widget, _ct = tour
    qt = viewer.window._qt_viewer
    overlay_dock = overlay.parent()
    assert overlay_dock.isVisible() and qt.dockLayerList.isVisible()
    widget.set_presentation(True)
    assert widget.presentation_check.isChecked()
    assert not overlay_dock.isVisible() and not qt.dockLayerList.isVisible()
    assert widget.parent().isVisible()
    widget.set_presentation(False)
    assert overlay_dock.isVisible() and qt.dockLayerList.isVisible()


def test_in_3d_a_step_centres_the_camera_on_the_finding(tour) -> None:
    viewer, _overlay, widget, _ct = tour
    viewer.dims.ndisplay = 3
    step = widget.start()
    assert step is not None and step.entry.centre_lps is not None
    assert viewer.dims.ndisplay == 3
    want = geometry.lps_to_napari(np.asarray(step.entry.centre_lps))
    np.testing.assert_allclose(camera(viewer).center, want, atol=1e-6)
    assert camera(viewer).zoom == pytest.approx(400 / step.field_mm, rel=0.05)


def test_the_overview_shows_every_finding_again(tour) -> None:
    _viewer, overlay, widget, _ct = tour
    widget.start()
    widget.next()
    widget.next()  # the point step: regions hidden, one landmark shown
    assert not overlay.findings_layer.visible
    overlay.select_finding(ALL_FINDINGS)
    assert overlay.findings_layer.visible and not overlay.findings_layer.show_selected_label
    pts = overlay.landmarks_layer
    assert pts.visible and bool(np.all(pts.shown))

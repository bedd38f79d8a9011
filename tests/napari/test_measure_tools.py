"""Ruler, bidirectional and HU probe in a shown viewer, on anisotropic (and sagittal) grids.

Every expected length is computed from the DICOM equations of the test geometry
(``DicomGeometry.lps``), not from the affine the code uses.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from _napari_factory import GEOMETRIES, MARKERS, affine_of, marker_volume

from ivcviewer import measure
from ivcviewer.geometry import lps_to_napari
from ivcviewer.volume import Volume

pytestmark = pytest.mark.napari

napari = pytest.importorskip("napari")
from napari.layers import Labels, Layer  # noqa: E402
from napari.utils._test_utils import read_only_mouse_event  # noqa: E402
from napari.utils.interactions import (  # noqa: E402
    mouse_move_callbacks,
    mouse_press_callbacks,
    mouse_release_callbacks,
)
from qtpy.QtCore import QThread  # noqa: E402
from qtpy.QtWidgets import QApplication  # noqa: E402

from ivcviewer._napari import measure_tools as mt  # noqa: E402
from ivcviewer._napari.launch import set_view  # noqa: E402
from ivcviewer._napari.layers import image_layer_data, labels_layer_data  # noqa: E402
from ivcviewer._napari.measure_report import BIDIRECTIONAL, RULER  # noqa: E402
from ivcviewer._napari.widgets.measure_toolbox import MeasureToolboxWidget  # noqa: E402

MM = re.compile(r"(-?\d+\.\d) mm")


def _viewer_with_ct(make_napari_viewer, name: str = "axial"):
    """A shown viewer with the marker CT of a geometry, in that acquisition's own view."""
    viewer = make_napari_viewer(show=True)
    geom = GEOMETRIES[name]
    ct = viewer.add_layer(Layer.create(*image_layer_data(marker_volume(geom))))
    set_view(viewer, "sagittal" if name == "sagittal" else "axial")
    return viewer, geom, ct


def _go_to(viewer, point_lps) -> None:
    viewer.dims.point = tuple(float(v) for v in lps_to_napari(point_lps))
    QApplication.processEvents()


def _shown_text(viewer, layer) -> list[str]:
    """The strings the canvas draws for a Shapes layer now (vispy text node)."""
    QApplication.processEvents()
    text = viewer.window._qt_viewer.canvas.layer_to_visual[layer].node.text.text
    if isinstance(text, str):
        return [text] if text else []
    return [str(t) for t in text if str(t)]


def _mm_of(text: str) -> float:
    m = MM.search(text)
    assert m is not None, text
    return float(m.group(1))


@pytest.mark.parametrize("name", ["axial", "sagittal"])
def test_ruler_text_shows_the_length_in_mm(make_napari_viewer, name: str) -> None:
    viewer, geom, ct = _viewer_with_ct(make_napari_viewer, name)
    ruler = mt.ensure_tool_layer(viewer, RULER)
    assert ruler.name == "Ruler (mm)"
    # the tool layer shares the CT's transform: same slice step, vertices on its slices
    np.testing.assert_allclose(mt.data_to_world_affine(ruler), mt.data_to_world_affine(ct))
    assert tuple(str(u) for u in ruler.units) == ("millimeter",) * 3

    # in one acquired slice: different row and column spacings
    p, q = geom.lps((3, 10, 5)), geom.lps((3, 40, 30))
    mt.add_line_lps(ruler, p, q)
    expected = float(np.linalg.norm(q - p))
    assert ruler.features["length_mm"].iloc[0] == pytest.approx(expected, abs=1e-3)
    _go_to(viewer, p)
    assert _shown_text(viewer, ruler) == [f"{expected:.1f} mm"]

    # across slices: the 3D length, shown (projected) on every slice the line crosses
    a, b = geom.lps((2, 5, 40)), geom.lps((15, 44, 3))
    mt.add_line_lps(ruler, a, b)
    expected_3d = float(np.linalg.norm(b - a))
    assert ruler.features["length_mm"].iloc[1] == pytest.approx(expected_3d, abs=1e-3)
    across = mt.cross_slice_layer(ruler)
    assert across is not None and across.name == "Ruler (mm): across slices"
    for k in (2, 8, 15):
        _go_to(viewer, geom.lps((k, 20, 20)))
        shown = _shown_text(viewer, across)
        assert shown == [f"{expected_3d:.1f} mm (3D)"], (k, shown)
        assert abs(_mm_of(shown[0]) - expected_3d) <= 0.05
    _go_to(viewer, geom.lps((17, 20, 20)))
    assert _shown_text(viewer, across) == []
    assert mt.manual_measurements(viewer.layers)[1].length_mm == pytest.approx(expected_3d, 1e-6)


def _mouse(viewer, layer, geom, kind: str, ijk: tuple[int, int, int]) -> None:
    """Send one mouse event at the world position of voxel ``ijk`` to ``layer``."""
    event = read_only_mouse_event(
        type=kind,
        position=tuple(lps_to_napari(geom.lps(ijk))),
        is_dragging=kind == "mouse_move",
        dims_displayed=list(viewer.dims.displayed),
    )
    send = {
        "mouse_press": mouse_press_callbacks,
        "mouse_move": mouse_move_callbacks,
        "mouse_release": mouse_release_callbacks,
    }[kind]
    send(layer, event)


def test_ruler_length_follows_the_mouse_while_drawing(make_napari_viewer) -> None:
    viewer, geom, _ = _viewer_with_ct(make_napari_viewer)
    ruler = mt.ensure_tool_layer(viewer, RULER)
    assert ruler.mode == "add_line"
    start = geom.lps((6, 5, 5))
    _go_to(viewer, start)
    _mouse(viewer, ruler, geom, "mouse_press", (6, 5, 5))
    for end in [(6, 5, 25), (6, 30, 25), (6, 47, 2)]:
        _mouse(viewer, ruler, geom, "mouse_move", end)
        expected = float(np.linalg.norm(geom.lps(end) - start))
        # while the button is still down, the canvas already shows the new length
        assert _shown_text(viewer, ruler) == [f"{expected:.1f} mm"], end
    _mouse(viewer, ruler, geom, "mouse_release", (6, 47, 2))
    assert ruler.nshapes == 1
    assert ruler.features["length_mm"].iloc[0] == pytest.approx(expected, abs=1e-3)
    assert list(ruler.features["id"]) == [1]

    # editing the line afterwards (here programmatically) updates the text again
    data = ruler.data
    data[0][1] = mt.lps_to_data(ruler, geom.lps((6, 5, 45)))[0]
    ruler.data = data
    assert _shown_text(viewer, ruler) == [f"{np.linalg.norm(geom.lps((6, 5, 45)) - start):.1f} mm"]


def test_marking_two_points_on_different_slices_makes_a_3d_ruler(make_napari_viewer) -> None:
    viewer, geom, _ = _viewer_with_ct(make_napari_viewer)
    ruler = mt.ensure_tool_layer(viewer, RULER)
    a, b = geom.lps((1, 12, 40)), geom.lps((17, 30, 8))
    for point in (a, b):
        _go_to(viewer, point)
        viewer.cursor.position = tuple(lps_to_napari(point))
        result = mt.mark_point(ruler, viewer)
    assert result == 0 and ruler.nshapes == 1
    np.testing.assert_allclose(mt.world_to_lps(ruler, ruler.data[0]), [a, b], atol=1e-3)
    assert ruler.features["length_mm"].iloc[0] == pytest.approx(np.linalg.norm(b - a), abs=1e-3)
    # the key is bound on the layer
    assert mt.MARK_KEY in {str(k).lower() for k in ruler.keymap}


@pytest.mark.parametrize("name", ["axial", "sagittal"])
def test_hu_probe_shows_hu_lps_and_voxel_under_the_cursor(make_napari_viewer, qtbot, name) -> None:
    viewer, geom, ct = _viewer_with_ct(make_napari_viewer, name)
    probe = mt.hu_probe(viewer)
    assert mt.hu_probe(viewer) is probe and probe.image_layer() is ct
    viewer.mouse_over_canvas = True
    for ijk, hu in MARKERS.items():
        lps = geom.lps(ijk)
        _go_to(viewer, lps)
        viewer.cursor.position = tuple(lps_to_napari(lps))
        viewer.update_status_from_cursor()
        text = mt.status_text(viewer)
        assert f"HU {hu} " in text, text
        lps_shown = re.search(r"LPS (\S+), (\S+), (\S+) mm", text)
        assert lps_shown is not None, text
        np.testing.assert_allclose([float(v) for v in lps_shown.groups()], lps, atol=0.051)
        # the index in the volume as loaded (a sagittal series keeps its own slice numbers)
        assert f"ijk {ijk[0]}, {ijk[1]}, {ijk[2]}" in text, text
        assert probe.last_reading is not None and probe.last_reading.value == hu
    # a neighbouring voxel is soft tissue
    lps = geom.lps((3, 41, 7))
    _go_to(viewer, lps)
    viewer.cursor.position = tuple(lps_to_napari(lps))
    # in a window, napari computes the status in a worker thread (started when the mouse
    # enters the window); the probe adds its reading when that status arrives. napari's
    # fixture disables StatusChecker.start, so the thread is started as a plain QThread.
    thread = viewer.window._qt_window.status_thread
    QThread.start(thread)
    qtbot.waitUntil(thread.isRunning, timeout=30000)
    viewer.cursor.position = tuple(lps_to_napari(lps))
    qtbot.waitUntil(lambda: "HU 40 " in mt.status_text(viewer), timeout=30000)
    thread.terminate()
    qtbot.waitUntil(lambda: not thread.isRunning(), timeout=30000)
    probe.disable()
    viewer.update_status_from_cursor()
    assert "HU " not in mt.status_text(viewer)


def test_bidirectional_pairs_lines_and_flags_a_slanted_short_axis(make_napari_viewer) -> None:
    viewer, geom, _ = _viewer_with_ct(make_napari_viewer)
    bidi = mt.ensure_tool_layer(viewer, BIDIRECTIONAL)
    # long axis along the columns, short axis along the rows (perpendicular in LPS), drawn
    # with the mouse: the short one first, yet it is recognised as the short axis
    l0, l1 = geom.lps((5, 20, 4)), geom.lps((5, 20, 44))
    s0, s1 = geom.lps((5, 6, 24)), geom.lps((5, 36, 24))
    _go_to(viewer, l0)
    for a, b in (((5, 6, 24), (5, 36, 24)), ((5, 20, 4), (5, 20, 44))):
        _mouse(viewer, bidi, geom, "mouse_press", a)
        _mouse(viewer, bidi, geom, "mouse_move", b)
        _mouse(viewer, bidi, geom, "mouse_release", b)
        if bidi.nshapes == 1:
            assert bidi.features["label"].iloc[0].endswith("now draw the short axis")
    long_mm, short_mm = np.linalg.norm(l1 - l0), np.linalg.norm(s1 - s0)
    assert list(bidi.features["label"]) == [f"short {short_mm:.1f} mm", f"long {long_mm:.1f} mm"]
    assert list(bidi.features["id"]) == [1, 1]
    _go_to(viewer, l0)
    assert sorted(_shown_text(viewer, bidi)) == [
        f"long {long_mm:.1f} mm",
        f"short {short_mm:.1f} mm",
    ]

    # a second pair whose short axis is 20 degrees off perpendicular: the angle is shown
    mt.add_line_lps(bidi, geom.lps((9, 20, 4)), geom.lps((9, 20, 44)))
    direction = np.array([np.sin(np.radians(20)), np.cos(np.radians(20)), 0.0])
    centre = geom.lps((9, 20, 24))
    mt.add_line_lps(bidi, centre - 8 * direction, centre + 8 * direction)
    assert list(bidi.features["id"]) == [1, 1, 2, 2]
    assert bidi.features["label"].iloc[3] == "short 16.0 mm (70\N{DEGREE SIGN} to long)"
    (first, second) = mt.layer_measurements(bidi)
    assert first.length_mm == pytest.approx(long_mm, abs=1e-3)
    assert first.short_mm == pytest.approx(short_mm, abs=1e-3)
    # napari starts a drawn line with a tiny sideways offset: a dragged axis-parallel line is
    # off by well under a degree, so it is not flagged (the labels above have no angle)
    assert first.angle_deg == pytest.approx(90.0, abs=1.5)
    assert second.angle_deg == pytest.approx(70.0, abs=1e-3)


def _box_labels(geom_name: str = "axial") -> Volume:
    arr = np.zeros((20, 48, 48), np.uint8)
    arr[4:15, 10:40, 6:30] = 1  # 11 slices x 30 rows x 24 columns
    arr[6:12, 18:30, 6:20] = 0  # a notch: the long axis is not simply the box diagonal
    return Volume(arr, affine_of(GEOMETRIES[geom_name]))


def test_region_axes_are_measures_recist_axes(make_napari_viewer) -> None:
    viewer, geom, _ = _viewer_with_ct(make_napari_viewer)
    labels_vol = _box_labels()
    labels = viewer.add_layer(Layer.create(*labels_layer_data(labels_vol, {1: "mass"})))
    labels.selected_label = 1
    toolbox = MeasureToolboxWidget(viewer)
    assert toolbox.labels_combo.layer() is labels and toolbox.label_spin.value() == 1
    text = toolbox.draw_region_axes()
    expected = measure.recist_axes(labels_vol.array == 1, labels_vol.affine)
    assert text.startswith(f"mass: long {expected.long_mm:.1f} mm x short {expected.short_mm:.1f}")
    (bidi,) = mt.tool_layers(viewer, BIDIRECTIONAL)
    (m,) = mt.layer_measurements(bidi)
    assert m.length_mm == pytest.approx(expected.long_mm, abs=1e-3)
    assert m.short_mm == pytest.approx(expected.short_mm, abs=1e-3)
    assert m.source.startswith("label 1 (mass)")
    np.testing.assert_allclose(
        sorted([m.segments[0].start_lps.tolist(), m.segments[0].end_lps.tolist()]),
        sorted([expected.long_axis.start_lps.tolist(), expected.long_axis.end_lps.tolist()]),
        atol=1e-3,
    )
    # the viewer went to the section of the axes, where both lengths are drawn
    section_z = geom.lps((expected.section_index, 0, 0))[2]
    assert viewer.dims.point[0] == pytest.approx(section_z)
    assert len(_shown_text(viewer, bidi)) == 2

    # the probe and tool buttons are wired
    assert toolbox.probe.enabled
    toolbox.probe_check.setChecked(False)
    assert not toolbox.probe.enabled
    assert toolbox.start_ruler() is mt.ensure_tool_layer(viewer, RULER)
    with pytest.raises(ValueError, match="not present"):
        toolbox.draw_region_axes(label=7)


@pytest.mark.parametrize("name", ["axial", "sagittal", "tilted"])
def test_volume_from_layer_is_the_grid_as_displayed(make_napari_viewer, name: str) -> None:
    viewer = make_napari_viewer(show=True)
    vol = _box_labels(name)
    layer = viewer.add_layer(Layer.create(*labels_layer_data(vol, {1: "mass"})))
    rebuilt = mt.volume_from_layer(layer)
    (a,) = measure.measure_labels(vol)
    (b,) = measure.measure_labels(rebuilt)
    assert b.extents_mm == pytest.approx(a.extents_mm, abs=1e-9)
    assert b.volume_ml == pytest.approx(a.volume_ml, rel=1e-12)
    np.testing.assert_allclose(b.centroid_lps, a.centroid_lps, atol=1e-9)

    # a plain napari layer (no ivcviewer metadata): its transform alone gives the same grid
    canonical = vol.to_canonical()
    plain = viewer.add_layer(Labels(np.asarray(canonical.array), **canonical.napari_kwargs()))
    np.testing.assert_allclose(mt.layer_affine_lps(plain), canonical.affine, atol=1e-9)
    if name == "tilted":
        return  # its transform is a full affine; translate acts before it
    # a layer moved by hand measures where it is now
    plain.translate = np.asarray(plain.translate) + [10.0, 0.0, 0.0]
    moved = mt.layer_affine_lps(plain)
    np.testing.assert_allclose(moved[:3, 3] - canonical.affine[:3, 3], [0.0, 0.0, 10.0], atol=1e-9)


def test_ids_group_new_and_pasted_lines() -> None:
    """New lines join the newest open pair; copies beyond a pair's size start new ones."""
    ids = np.array([1, 1, 2, -1, -1, -1, 1], dtype=np.int64)
    assert mt._assign_ids(ids, 2).tolist() == [1, 1, 2, 2, 3, 3, 4]
    assert mt._assign_ids(np.array([-1, -1, 3, 3], dtype=np.int64), 1).tolist() == [4, 5, 3, 6]

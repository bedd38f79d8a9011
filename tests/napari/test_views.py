"""Named views, window presets, window drag and the three linked planes in a shown viewer.

The synthetic CT is soft tissue (40 HU) with a bright marker (1000 HU) in its patient's
superior-left-anterior corner, placed through the volume's affine (LPS), so each named view
must show the marker on the side the radiological convention puts it.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from _napari_factory import GEOMETRIES, affine_of
from numpy.typing import NDArray

pytestmark = pytest.mark.napari

napari = pytest.importorskip("napari")
from napari.layers import Layer  # noqa: E402
from napari.utils.key_bindings import coerce_keybinding  # noqa: E402

from ivcviewer._napari import launch  # noqa: E402
from ivcviewer._napari.layers import image_layer_data  # noqa: E402
from ivcviewer._napari.views import apply_view, apply_window  # noqa: E402
from ivcviewer._napari.views.drag import (  # noqa: E402
    PRESET_KEYS,
    VIEW_KEYS,
    bind_view_keys,
    text_overlay,
    window_drag,
)
from ivcviewer._napari.views.planes import CROSSHAIR, ThreePlanes  # noqa: E402
from ivcviewer._napari.views.widget import ViewsWindowWidget  # noqa: E402
from ivcviewer.volume import Volume, VolumeMetadata  # noqa: E402
from ivcviewer.widget_models.views import WINDOW_PRESETS  # noqa: E402

SIZE = (320, 320)
SHAPE = (24, 40, 40)


def _marked_ct(geometry: str) -> Volume:
    """Soft tissue with a bright block where the patient is superior, left and anterior."""
    affine = affine_of(GEOMETRIES[geometry])
    ijk = np.indices(SHAPE).reshape(3, -1).T
    lps = ijk @ affine[:3, :3].T + affine[:3, 3]
    lo, hi = lps.min(axis=0), lps.max(axis=0)
    frac = (lps - lo) / (hi - lo)
    # left: +x high; anterior: -y low; superior: +z high
    corner = (frac[:, 0] > 0.7) & (frac[:, 1] < 0.3) & (frac[:, 2] > 0.7)
    arr = np.full(SHAPE, 40, dtype=np.int16)
    arr.reshape(-1)[corner] = 1000
    meta = VolumeMetadata(description=f"{geometry} marked", modality="CT", window=(40.0, 400.0))
    return Volume(arr, affine, meta)


def _marker_lps(volume: Volume) -> NDArray[np.float64]:
    ijk = np.argwhere(volume.array == 1000).mean(axis=0)
    return volume.voxel_to_lps(ijk)


def _marker_side(img: NDArray[np.uint8]) -> tuple[float, float]:
    """Marker centroid as fractions (from top, from left) of the non-black footprint."""
    grey = img[..., :3].mean(axis=2)
    ys, xs = np.nonzero(grey > 20)
    assert ys.size, "the screenshot is black"
    my, mx = np.nonzero(grey > 240)
    assert my.size, "the marker is not in the screenshot"
    fy = (my.mean() - ys.min()) / (ys.max() - ys.min())
    fx = (mx.mean() - xs.min()) / (xs.max() - xs.min())
    return float(fy), float(fx)


def _viewer_with(make_napari_viewer, volume: Volume):
    viewer = make_napari_viewer(show=True)
    layer = viewer.add_layer(Layer.create(*image_layer_data(volume)))
    return viewer, layer


#: (top?, right?) the marker must appear at, per view: superior up in coronal and sagittal,
#: anterior up in axial; the patient's left on the right except in sagittal (anterior left).
EXPECTED = {
    "axial": ("anterior up", True, True),
    "coronal": ("superior up", True, True),
    "sagittal": ("superior up", True, False),
    "3d": ("superior up", True, True),
}


@pytest.mark.parametrize("geometry", ["axial", "sagittal"])
@pytest.mark.parametrize("view", list(EXPECTED))
def test_marker_on_the_expected_side(make_napari_viewer, geometry: str, view: str) -> None:
    volume = _marked_ct(geometry)
    viewer, layer = _viewer_with(make_napari_viewer, volume)
    if view == "3d":
        layer.rendering = "mip"
    launch.set_canvas_size(viewer, SIZE)
    apply_view(viewer, view, _marker_lps(volume))
    fy, fx = _marker_side(launch.screenshot(viewer))
    what, top, right = EXPECTED[view]
    assert (fy < 0.5) == top, f"{view} of a {geometry} CT: marker not {what} (fy={fy:.2f})"
    assert (fx > 0.5) == right, f"{view} of a {geometry} CT: marker side wrong (fx={fx:.2f})"


def test_each_preset_sets_its_window(make_napari_viewer) -> None:
    viewer, layer = _viewer_with(make_napari_viewer, _marked_ct("axial"))
    bind_view_keys(viewer)
    for name, preset in WINDOW_PRESETS.items():
        layer.contrast_limits = (0.0, 1.0)
        viewer.keymap[coerce_keybinding(PRESET_KEYS[name])](viewer)
        expected = (preset.level - preset.width / 2, preset.level + preset.width / 2)
        assert tuple(layer.contrast_limits) == pytest.approx(expected), name
    assert "HU" in text_overlay(viewer).text
    apply_window(layer, "lung")
    assert apply_window(layer, "series") == (400.0, 40.0)
    assert tuple(layer.contrast_limits) == pytest.approx((-160.0, 240.0))


def test_view_keys_show_the_views(make_napari_viewer) -> None:
    viewer, _ = _viewer_with(make_napari_viewer, _marked_ct("axial"))
    bind_view_keys(viewer)
    viewer.keymap[coerce_keybinding(VIEW_KEYS["sagittal"])](viewer)
    assert tuple(viewer.dims.order) == (2, 0, 1)
    viewer.keymap[coerce_keybinding(VIEW_KEYS["3d"])](viewer)
    assert viewer.dims.ndisplay == 3
    viewer.keymap[coerce_keybinding(VIEW_KEYS["axial"])](viewer)
    assert viewer.dims.ndisplay == 2 and tuple(viewer.dims.order) == (0, 1, 2)


def _drag(viewer, handler, button: int, path: list[tuple[float, float]]) -> None:
    """Run a mouse-drag callback through press, moves along ``path[1:]`` and release."""
    event = SimpleNamespace(type="mouse_press", button=button, pos=np.array(path[0]))
    gen = handler(viewer, event)
    if gen is None:
        return
    try:
        next(gen)
        for xy in path[1:]:
            event.type, event.pos = "mouse_move", np.array(xy)
            next(gen)
        event.type = "mouse_release"
        next(gen)
    except StopIteration:
        pass


def test_right_drag_changes_window_and_level(make_napari_viewer) -> None:
    viewer, layer = _viewer_with(make_napari_viewer, _marked_ct("axial"))
    apply_window(layer, (400.0, 40.0))
    _drag(viewer, window_drag, 2, [(100, 100), (140, 100)])  # right: wider window
    lo, hi = layer.contrast_limits
    assert hi - lo > 400.0 and (hi + lo) / 2 == pytest.approx(40.0)
    width = hi - lo
    _drag(viewer, window_drag, 2, [(100, 100), (100, 130)])  # down: higher level
    lo, hi = layer.contrast_limits
    assert (hi + lo) / 2 > 40.0 and hi - lo == pytest.approx(width)
    _drag(viewer, window_drag, 2, [(100, 100), (60, 60)])  # left and up: narrower, lower
    lo2, hi2 = layer.contrast_limits
    assert hi2 - lo2 < hi - lo and (hi2 + lo2) / 2 < (hi + lo) / 2
    assert "W " in text_overlay(viewer).text and "HU" in text_overlay(viewer).text
    before = tuple(layer.contrast_limits)
    _drag(viewer, window_drag, 1, [(100, 100), (200, 200)])  # left button: napari's pan
    assert tuple(layer.contrast_limits) == before


def test_click_in_one_plane_moves_the_others(make_napari_viewer) -> None:
    volume = _marked_ct("sagittal")
    viewer, _ = _viewer_with(make_napari_viewer, volume)
    planes = ThreePlanes(viewer)
    try:
        target = volume.voxel_to_lps((5, 30, 12))
        world = target[::-1]
        axial = planes.models["axial"]
        event = SimpleNamespace(type="mouse_press", button=1, position=tuple(world))
        gen = planes._click(axial, event)
        next(gen)
        event.type = "mouse_release"
        with pytest.raises(StopIteration):
            next(gen)
        # the slices snap to the grid: within half a voxel of the point
        half = volume.spacing.max() / 2 + 1e-6
        for name in ("coronal", "sagittal"):
            model = planes.models[name]
            assert np.abs(np.subtract(model.dims.point[-3:], world)).max() <= half, name
            assert np.allclose(model.layers[CROSSHAIR].data[0], model.dims.point[-3:]), name
        assert np.abs(np.subtract(viewer.dims.point[-3:], world)).max() <= half
        assert np.abs(planes.point_lps() - target).max() <= half
        before = tuple(viewer.dims.point)
        # a drag (pan) in a plane does not move the point
        event = SimpleNamespace(type="mouse_press", button=1, position=(0.0, 0.0, 0.0))
        gen = planes._click(planes.models["coronal"], event)
        next(gen)
        event.type = "mouse_move"
        next(gen)
        event.type = "mouse_release"
        with pytest.raises(StopIteration):
            next(gen)
        assert tuple(viewer.dims.point) == before
    finally:
        planes.close_planes()


def test_dock_shows_window_and_oblique_note(make_napari_viewer) -> None:
    from ivcviewer.volume import Volume as V

    tilted = _marked_ct("axial")
    tilted = V(tilted.array, affine_of(GEOMETRIES["tilted"]), tilted.metadata)
    viewer, layer = _viewer_with(make_napari_viewer, tilted)
    widget = ViewsWindowWidget(viewer)
    viewer.window.add_dock_widget(widget, name="Views & window")
    widget.preset_buttons["bone"].click()
    assert tuple(layer.contrast_limits) == pytest.approx((-770.0, 1730.0))
    assert widget.window_label.text() == "W 2500 / L 480 HU"
    widget.view_buttons["coronal"].click()
    assert "follows the data axes" in widget.note.text()
    widget.view_buttons["3d"].click()
    assert viewer.dims.ndisplay == 3 and layer.rendering == "mip"
    widget.view_buttons["axial"].click()
    assert tuple(layer.contrast_limits) == pytest.approx((-770.0, 1730.0))
    widget.planes_check.setChecked(True)
    assert (
        widget.planes is not None
        and "follows the data axes" in widget.planes.notes["sagittal"].text()
    )
    widget.planes_check.setChecked(False)

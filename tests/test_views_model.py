"""The Qt-free model of named views and CT windows (no napari)."""

from __future__ import annotations

import numpy as np
import pytest

from ivcviewer.geometry import affine_from_dicom
from ivcviewer.widget_models.views import (
    MIN_WIDTH,
    PRESET_NAMES,
    SERIES_PRESET,
    VIEW_NAMES,
    WINDOW_PRESETS,
    axis_angles_deg,
    drag_window,
    limits_window,
    resolve_window,
    view_axes,
    view_spec,
    window_limits,
)

AXIAL = affine_from_dicom((1, 0, 0, 0, 1, 0), (0, 0, 0), (0.7, 0.7), (0, 0, 2.5))
# rows head to feet, columns anterior to posterior, slices towards the left
SAGITTAL = affine_from_dicom((0, 1, 0, 0, 0, -1), (0, 0, 0), (1.2, 0.9), (1.5, 0, 0))
CORONAL = affine_from_dicom((1, 0, 0, 0, 0, -1), (0, 0, 0), (1.0, 1.0), (0, 2.0, 0))


def _tilted(deg: float) -> np.ndarray:
    t = np.radians(deg)
    return affine_from_dicom((1, 0, 0, 0, np.cos(t), np.sin(t)), (0, 0, 0), (1, 1), (0, 0, 3))


@pytest.mark.parametrize(
    ("affine", "view", "sliced", "vertical", "horizontal"),
    [
        # axial stack (S, P, L): axial slices data axis 0, rows (P) down, columns (L) across
        (AXIAL, "axial", 0, 1, 2),
        (AXIAL, "coronal", 1, 0, 2),
        (AXIAL, "sagittal", 2, 0, 1),
        # sagittal stack: slices step L, rows run S (feet-wards), columns run P
        (SAGITTAL, "axial", 1, 2, 0),
        (SAGITTAL, "sagittal", 0, 1, 2),
        # coronal stack: slices step P, rows run S, columns run L
        (CORONAL, "coronal", 0, 1, 2),
        (CORONAL, "axial", 1, 0, 2),
    ],
)
def test_view_axes_follow_the_affine(affine, view, sliced, vertical, horizontal) -> None:
    va = view_axes(affine, view)
    assert (va.sliced, va.vertical, va.horizontal) == (sliced, vertical, horizontal)
    assert not va.follows_data_axes and va.note() == ""


def test_oblique_grid_is_said_to_follow_the_data_axes() -> None:
    va = view_axes(_tilted(15.0), "coronal")
    assert va.oblique_deg == pytest.approx(15.0, abs=0.01)
    assert va.follows_data_axes
    assert "follows the data axes" in va.note() and "15.0" in va.note()
    assert not view_axes(_tilted(0.2), "axial").follows_data_axes
    assert max(axis_angles_deg(AXIAL)) == pytest.approx(0.0)


def test_view_specs_are_radiological() -> None:
    assert VIEW_NAMES == ("axial", "coronal", "sagittal", "3d")
    # axial: world y (posterior) runs down the screen, so anterior is up; x (left) right
    assert view_spec("axial").order[-2:] == (1, 2)
    assert view_spec("axial").orientation2d == ("down", "right")
    # coronal and sagittal: world z (superior) runs up
    for name in ("coronal", "sagittal"):
        assert view_spec(name).order[-2] == 0 and view_spec(name).orientation2d[0] == "up"
    three = view_spec("3d")
    assert three.ndisplay == 3 and three.view_direction == (0.0, 1.0, 0.0)
    with pytest.raises(ValueError, match="one of"):
        view_spec("oblique")
    with pytest.raises(ValueError, match="2D view"):
        view_axes(AXIAL, "3d")


@pytest.mark.parametrize(
    ("name", "width", "level"),
    [
        ("soft tissue", 400, 40),
        ("liver", 150, 90),
        ("lung", 1500, -600),
        ("bone", 2500, 480),
        ("brain", 80, 40),
    ],
)
def test_presets_hold_the_stated_windows(name, width, level) -> None:
    assert resolve_window(name) == (width, level)
    assert WINDOW_PRESETS[name].limits == (level - width / 2, level + width / 2)
    assert limits_window(window_limits(width, level)) == pytest.approx((width, level))


def test_series_window_and_errors() -> None:
    assert PRESET_NAMES[-1] == SERIES_PRESET and len(PRESET_NAMES) == 6
    assert resolve_window(SERIES_PRESET, (350.0, 50.0)) == (350.0, 50.0)
    with pytest.raises(ValueError, match="no window of its own"):
        resolve_window(SERIES_PRESET)
    with pytest.raises(ValueError, match="one of"):
        resolve_window("abdomen")
    with pytest.raises(ValueError, match="positive"):
        resolve_window((0.0, 40.0))


def test_drag_directions_and_floor() -> None:
    start = (400.0, 40.0)
    wider = drag_window(start, 30, 0)
    assert wider[0] > 400.0 and wider[1] == 40.0
    assert drag_window(start, -30, 0)[0] < 400.0
    assert drag_window(start, 0, 20)[1] > 40.0  # down raises the level
    assert drag_window(start, 0, -20)[1] < 40.0
    # the step grows with the window: a wide window moves faster than a narrow one
    assert drag_window((2000.0, 0.0), 10, 0)[0] - 2000.0 > drag_window((80.0, 0.0), 10, 0)[0] - 80
    assert drag_window((80.0, 40.0), -10_000, 0)[0] == MIN_WIDTH

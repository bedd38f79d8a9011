"""Named views and CT windows in a napari viewer.

:func:`apply_view` shows a named view of :mod:`ivcviewer.widget_models.views` (axial from the
feet, coronal and sagittal head up, or an anterior 3D view) through an LPS point;
:func:`apply_window` sets a CT window preset (or ``(width, level)``) on an Image layer.
:func:`bind_view_keys` binds their keys and the mouse-drag window/level (:mod:`.drag`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ... import geometry
from ...widget_models.layer_metadata import layer_volume
from ...widget_models.views import (
    PRESET_NAMES,
    VIEW_NAMES,
    limits_window,
    resolve_window,
    view_axes,
    view_spec,
    window_limits,
)
from .._viewer import camera as _camera
from .._viewer import prepare_viewer

if TYPE_CHECKING:
    import napari
    from napari.layers import Image

__all__ = [
    "PRESET_NAMES",
    "VIEW_NAMES",
    "apply_view",
    "apply_window",
    "series_window",
    "view_note",
]

#: Where a layer keeps the window it was opened with (when it carries no volume).
_SERIES_WINDOW_KEY = "ivcviewer_series_window"


def _world_centre(viewer: napari.Viewer) -> NDArray[np.float64]:
    extent = np.asarray(viewer.layers.extent.world, dtype=float)
    return np.asarray((extent[0] + extent[1]) / 2.0, dtype=float)


def apply_view(viewer: napari.Viewer, name: str, point_lps: ArrayLike | None = None) -> None:
    """Show the named view through an LPS point.

    Parameters
    ----------
    viewer
        A viewer holding ivcviewer layers (world axes ``(z, y, x)`` mm).
    name
        One of :data:`VIEW_NAMES` (``axial``, ``coronal``, ``sagittal``, ``3d``).
    point_lps
        The LPS point (mm) whose slices are shown (default: the centre of all layers).

    Raises
    ------
    ValueError
        For an unknown view name.
    """
    spec = view_spec(name)
    prepare_viewer(viewer)
    if point_lps is None:
        point = _world_centre(viewer)
    else:
        point = geometry.lps_to_napari(np.asarray(point_lps, dtype=float))
    viewer.dims.ndisplay = spec.ndisplay
    viewer.dims.order = spec.order
    cam = _camera(viewer)
    if spec.ndisplay == 2:
        cam.orientation2d = spec.orientation2d
    viewer.dims.point = tuple(float(v) for v in point)
    viewer.reset_view()
    if spec.view_direction is not None and spec.up_direction is not None:
        cam.orientation = spec.orientation3d
        cam.set_view_direction(spec.view_direction, spec.up_direction)
        fit = getattr(viewer, "fit_to_view", None)  # napari >= 0.9: fit the rotated extent
        if fit is not None:
            fit()


def view_note(layer: Any, name: str) -> str:
    """The note a 2D view of an Image layer shows: on an oblique or tilted grid, that the
    plane follows the data axes; empty otherwise (and for 3D or layers without a volume)."""
    volume = layer_volume(getattr(layer, "metadata", {}) or {})
    if volume is None or view_spec(name).ndisplay != 2:
        return ""
    return view_axes(volume.affine, name).note()


def series_window(layer: Image) -> tuple[float, float]:
    """The series' own ``(width, level)`` of a CT Image layer (its window as read)."""
    from ..layers import _contrast_limits

    volume = layer_volume(layer.metadata)
    if volume is not None:
        return limits_window(_contrast_limits(volume))
    stored = layer.metadata.get(_SERIES_WINDOW_KEY)
    if stored is None:
        stored = limits_window(layer.contrast_limits)
        layer.metadata[_SERIES_WINDOW_KEY] = stored
    return (float(stored[0]), float(stored[1]))


def apply_window(layer: Image, preset: str | tuple[float, float]) -> tuple[float, float]:
    """Set an Image layer's window: a preset name (``soft tissue``, ``liver``, ``lung``,
    ``bone``, ``brain``, ``series``) or ``(width, level)`` in HU.

    The contrast limits become ``level -/+ width / 2``; the range of the limits widens to
    hold them. Returns the ``(width, level)`` set.

    Raises
    ------
    ValueError
        For an unknown preset name or a non-positive width.
    """
    series = series_window(layer)  # remembered before the first change
    width, level = resolve_window(preset, series)
    lo, hi = window_limits(width, level)
    r_lo, r_hi = (float(v) for v in layer.contrast_limits_range)
    if lo < r_lo or hi > r_hi:
        layer.contrast_limits_range = (min(lo, r_lo), max(hi, r_hi))
    layer.contrast_limits = (lo, hi)
    return (width, level)

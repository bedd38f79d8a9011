"""Mouse-drag window/level and the keys of the named views and window presets.

A drag with the right mouse button on the canvas changes the window of the CT shown (as in
radiology viewers: right widens the window, down raises the level; see
:func:`ivcviewer.widget_models.views.drag_window`), and the window and level are shown in HU on
the canvas while they change. The left button keeps napari's pan and the layers' tools.

Keys (:data:`VIEW_KEYS`, :data:`PRESET_KEYS`) avoid napari's own: the digits 1-7 and Shift-A
belong to layer tools, so the views use Alt and the presets Shift with a digit.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any

from ...widget_models.views import (
    MIP_LIMITS_3D,
    PRESET_NAMES,
    drag_window,
    limits_window,
    window_text,
)
from . import apply_view, apply_window

if TYPE_CHECKING:
    import napari
    from napari.layers import Image

#: Key of each named view.
VIEW_KEYS: dict[str, str] = {
    "axial": "Alt-A",
    "coronal": "Alt-C",
    "sagittal": "Alt-S",
    "3d": "Alt-3",
}

#: Key of each window preset (Shift-1 ... Shift-6, the series' own window last).
PRESET_KEYS: dict[str, str] = {name: f"Shift-{i}" for i, name in enumerate(PRESET_NAMES, 1)}

#: The mouse button that drags the window (napari: 1 left, 2 right, 3 middle).
DRAG_BUTTON = 2

#: Viewers whose keys and drag are bound (binding twice is harmless).
_BOUND: weakref.WeakSet[Any] = weakref.WeakSet()

#: Where a CT layer keeps its 2D window while the 3D view shows its projection.
_WINDOW_2D_KEY = "ivcviewer_window_2d"


def text_overlay(viewer: napari.Viewer) -> Any:
    """The canvas text overlay (``viewer.canvas.overlays.text`` from napari 0.9)."""
    canvas = getattr(viewer, "canvas", None)
    return canvas.overlays.text if canvas is not None else viewer.text_overlay


def target_image(viewer: napari.Viewer) -> Image | None:
    """The Image layer a window applies to: the selected one, else the topmost visible one."""
    from napari.layers import Image

    active = viewer.layers.selection.active
    if isinstance(active, Image):
        return active
    images = [layer for layer in viewer.layers if isinstance(layer, Image) and layer.visible]
    return images[-1] if images else None


def show_window(viewer: napari.Viewer, layer: Image) -> str:
    """Show the layer's window in HU on the canvas; returns the text."""
    text = f"{layer.name}: {window_text(*limits_window(layer.contrast_limits))}"
    overlay = text_overlay(viewer)
    overlay.text = text
    overlay.visible = True
    return text


def window_drag(viewer: napari.Viewer, event: Any) -> Generator[None, None, None]:
    """Mouse-drag callback: the right button drags the window and level of the CT shown.

    ``event.pos`` is in canvas pixels; each move sets the window from the drag so far.
    """
    if getattr(event, "button", None) != DRAG_BUTTON:
        return
    layer = target_image(viewer)
    if layer is None:
        return
    start = limits_window(layer.contrast_limits)
    x0, y0 = (float(v) for v in event.pos[:2])
    yield
    while event.type == "mouse_move":
        x, y = (float(v) for v in event.pos[:2])
        apply_window(layer, drag_window(start, x - x0, y - y0))
        show_window(viewer, layer)
        yield


def show_view(viewer: napari.Viewer, name: str) -> None:
    """Show a named view at the current slices, readable: in 3D the CT layers become maximum
    intensity projections in :data:`MIP_LIMITS_3D` (bone and contrast-filled vessels; a 2D
    window shows the projection all white), and a 2D view gives them their 2D window back.
    """
    from napari.layers import Image

    apply_view(viewer, name, _current_point(viewer))
    for layer in viewer.layers:
        if not isinstance(layer, Image) or layer.rgb:
            continue
        if name == "3d" and _WINDOW_2D_KEY not in layer.metadata:
            layer.metadata[_WINDOW_2D_KEY] = limits_window(layer.contrast_limits)
            layer.rendering = "mip"
            apply_window(layer, limits_window(MIP_LIMITS_3D))
        elif name != "3d" and _WINDOW_2D_KEY in layer.metadata:
            apply_window(layer, layer.metadata.pop(_WINDOW_2D_KEY))


def _view_action(name: str) -> Callable[[Any], None]:
    def action(viewer: Any) -> None:
        show_view(viewer, name)

    action.__doc__ = f"Show the {name} view (radiological convention)."
    return action


def _preset_action(name: str) -> Callable[[Any], None]:
    def action(viewer: Any) -> None:
        layer = target_image(viewer)
        if layer is not None:
            apply_window(layer, name)
            show_window(viewer, layer)

    action.__doc__ = f"Set the {name} window on the CT shown."
    return action


def _current_point(viewer: napari.Viewer) -> tuple[float, float, float] | None:
    """The LPS point of the current slices (so that a view change keeps the position)."""
    from ... import geometry

    if not len(viewer.layers):
        return None
    z, y, x = (float(v) for v in viewer.dims.point[-3:])
    p = geometry.napari_to_lps((z, y, x))
    return (float(p[0]), float(p[1]), float(p[2]))


def bind_view_keys(viewer: napari.Viewer) -> None:
    """Bind the view and preset keys and the window drag to a viewer (once)."""
    if viewer in _BOUND:
        return
    _BOUND.add(viewer)
    for name, key in VIEW_KEYS.items():
        viewer.bind_key(key, _view_action(name), overwrite=True)
    for name, key in PRESET_KEYS.items():
        viewer.bind_key(key, _preset_action(name), overwrite=True)
    if window_drag not in viewer.mouse_drag_callbacks:
        viewer.mouse_drag_callbacks.append(window_drag)

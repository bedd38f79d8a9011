"""Drawing on the tool layers: lengths kept current while lines are drawn, lines added in LPS.

* The ruler's lengths (and the bidirectional's long/short texts) follow every drawing step:
  the layer's ``set_data`` event fires on every drag step, and ``data`` after every edit.
* Press :data:`~.shapes.MARK_KEY` over the image to mark a point, move to another slice
  (or view), press it again: the ruler joins the two points in 3D.
* Lines between LPS points are added by :func:`add_line_lps`.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ... import geometry
from ...measure.tools import (
    BIDIRECTIONAL,
    FEATURE_DEFAULTS,
    RULER,
    bidirectional_features,
    mark_end_message,
    mark_start_message,
    ruler_features,
)
from .convert import lps_to_data
from .cross_slice import CrossSliceOverlay
from .shapes import (
    MARK_KEY,
    TOOL_KEY,
    int_column,
    reference_image,
    shape_segments,
    str_column,
    tool_layer_data,
    tool_layers,
)

if TYPE_CHECKING:
    import napari
    from napari.layers import Shapes


class _LengthUpdater:
    """Keeps a tool layer's ``id``, ``length_mm`` and ``label`` features (and text) current."""

    def __init__(self, layer: Shapes) -> None:
        self._layer_ref = weakref.ref(layer)
        self._busy = False
        self.pending_lps: NDArray[np.float64] | None = None
        self.overlay: CrossSliceOverlay | None = None
        layer.events.set_data.connect(self.update)
        layer.events.data.connect(self._on_data)
        self.update()

    def _on_data(self, event: Any = None) -> None:
        action = str(getattr(event, "action", "")).split(".")[-1].lower()
        if action.endswith("ing"):
            return  # adding / removing / changing: emitted before the change
        self.update()

    def update(self, event: Any = None) -> None:
        layer = self._layer_ref()
        if layer is None or self._busy:
            return
        self._busy = True
        try:
            kind = layer.metadata.get(TOOL_KEY)
            segs = shape_segments(layer)
            n = layer.nshapes
            ids = int_column(layer, "id", n)
            if kind == BIDIRECTIONAL:
                feats = bidirectional_features(ids, segs, str_column(layer, "source", n))
            else:
                feats = ruler_features(ids, segs)
            layer.features = feats
            layer.feature_defaults = FEATURE_DEFAULTS.get(kind, FEATURE_DEFAULTS[RULER])
        finally:
            self._busy = False
        if self.overlay is not None:
            self.overlay.update()


_UPDATERS: weakref.WeakKeyDictionary[Any, _LengthUpdater] = weakref.WeakKeyDictionary()


def attach(layer: Shapes, viewer: napari.Viewer | None = None) -> None:
    """Keep ``layer``'s lengths shown and current.

    With a viewer, also show lines that span slices on every slice they cross
    (:class:`CrossSliceOverlay`) and bind :data:`MARK_KEY` on the layer. Safe to call again.
    """
    updater = _UPDATERS.get(layer)
    if updater is None:
        updater = _UPDATERS[layer] = _LengthUpdater(layer)
    if viewer is None or updater.overlay is not None:
        return
    updater.overlay = CrossSliceOverlay(layer, viewer)
    updater.overlay.update()
    viewer_ref = weakref.ref(viewer)

    def _mark(lay: Shapes) -> None:
        v = viewer_ref()
        if v is not None:
            mark_point(lay, v)

    layer.bind_key(MARK_KEY, _mark, overwrite=True)


def cross_slice_layer(layer: Shapes) -> Shapes | None:
    """The display-only layer showing ``layer``'s cross-slice lines, once there is one."""
    updater = _UPDATERS.get(layer)
    if updater is None or updater.overlay is None:
        return None
    return updater.overlay.layer


def refresh_lengths(layer: Shapes) -> None:
    """Recompute a tool layer's lengths now (they also follow every edit by themselves)."""
    updater = _UPDATERS.get(layer)
    if updater is None:
        attach(layer)
    else:
        updater.update()


def add_line_lps(layer: Shapes, start_lps: ArrayLike, end_lps: ArrayLike, **features: Any) -> int:
    """Add a line between two LPS points to a tool layer; returns its shape index.

    ``features`` (for example ``id`` or ``source``) are set on the new line.
    """
    data = lps_to_data(layer, np.stack([np.asarray(start_lps, float), np.asarray(end_lps, float)]))
    if features:
        defaults = dict(FEATURE_DEFAULTS.get(layer.metadata.get(TOOL_KEY), {}))
        defaults.update(features)
        layer.feature_defaults = defaults
    layer.add_lines([data])
    refresh_lengths(layer)
    return int(layer.nshapes - 1)


def mark_point(layer: Shapes, viewer: napari.Viewer) -> int | None:
    """Mark a ruler end point at the cursor; the second mark adds the line (any two slices).

    Returns the index of the line added by the second mark, else None.
    """
    from napari.utils.notifications import show_info

    if viewer.dims.ndisplay != 2:
        show_info("Ruler points are marked in 2D views (switch off 3D, then press M).")
        return None
    point_lps = geometry.napari_to_lps(np.asarray(viewer.cursor.position, dtype=float)[-3:])
    return mark_point_lps(layer, point_lps)


def mark_point_lps(layer: Shapes, point_lps: ArrayLike) -> int | None:
    """:func:`mark_point` at a given LPS point (mm)."""
    from napari.utils.notifications import show_info

    attach(layer)
    updater = _UPDATERS[layer]
    p = np.asarray(point_lps, dtype=float)
    if updater.pending_lps is None:
        updater.pending_lps = p
        show_info(mark_start_message(p, MARK_KEY))
        return None
    start, updater.pending_lps = updater.pending_lps, None
    index = add_line_lps(layer, start, p)
    show_info(mark_end_message(start, p))
    return index


def ensure_tool_layer(viewer: napari.Viewer, kind: str, *, select: bool = True) -> Shapes:
    """The tool layer of ``kind`` (the active one, the top one, or a new one), ready to draw.

    A new layer takes the transform of :func:`reference_image`. The layer's lengths are kept
    up to date (:func:`attach`), the ``M`` key marks cross-slice ruler points, and with
    ``select`` the layer becomes active in line-drawing mode.
    """
    from napari.layers import Layer

    active = viewer.layers.selection.active
    layers = tool_layers(viewer, kind)
    if active is not None and active in layers:
        layer = active
    elif layers:
        layer = layers[-1]
    else:
        layer = viewer.add_layer(Layer.create(*tool_layer_data(kind, reference_image(viewer))))
    attach(layer, viewer)
    if select:
        viewer.layers.selection.active = layer
        layer.mode = "add_line"
    return layer


__all__ = [
    "add_line_lps",
    "attach",
    "cross_slice_layer",
    "ensure_tool_layer",
    "mark_point",
    "mark_point_lps",
    "refresh_lengths",
]

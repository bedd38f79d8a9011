"""Lines that span slices, shown on every 2D slice they cross.

napari draws a shape in 2D only on the slice that holds all its vertices, so a ruler between
two slices would be invisible; :class:`CrossSliceOverlay` keeps a display-only layer that shows
it on each slice it crosses.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from ...measure.tools import cross_slice_lines
from .shapes import OVERLAY_KEY, TOOL_KEY, tool_layer_data

if TYPE_CHECKING:
    import napari
    from napari.layers import Shapes


class CrossSliceOverlay:
    """Shows a tool layer's lines that span several slices on every 2D slice they cross.

    napari draws a shape in 2D only on the slice that holds all its vertices, so a ruler between
    two slices would be invisible. This keeps a second, display-only Shapes layer
    (``"<tool layer>: across slices"``) holding, for the slice shown, each such line projected
    onto it, with its 3D length as text (``52.0 mm (3D)``). It follows slice, view and data
    changes; the measurement itself stays on the tool layer.
    """

    def __init__(self, layer: Shapes, viewer: napari.Viewer) -> None:
        self._layer_ref = weakref.ref(layer)
        self._viewer_ref = weakref.ref(viewer)
        self.layer: Shapes | None = None
        dims = viewer.dims.events
        for ev in (dims.point, dims.order, dims.ndisplay):
            ev.connect(self.update)
        viewer.layers.events.removed.connect(self._on_removed)
        layer.events.visible.connect(self._on_visible)

    def _lines(self) -> tuple[list[NDArray[np.float64]], list[str]]:
        """Projected vertices (overlay data coordinates) and texts of the lines to show."""
        layer, viewer = self._layer_ref(), self._viewer_ref()
        if layer is None or viewer is None or viewer.dims.ndisplay != 2 or layer.nshapes == 0:
            return [], []
        hidden = [a for a in range(3) if a not in viewer.dims.displayed[-2:]]
        if viewer.dims.ndim != 3 or len(hidden) != 1:
            return [], []
        axis = hidden[0]
        here = float(np.asarray(layer.world_to_data(viewer.dims.point), dtype=float)[axis])
        lengths = np.asarray(layer.features.get("length_mm", []), dtype=float)
        return cross_slice_lines(layer.data, layer.shape_type, lengths, axis, here)

    def update(self, event: Any = None) -> None:
        layer, viewer = self._layer_ref(), self._viewer_ref()
        if layer is None or viewer is None or layer not in viewer.layers:
            return
        lines, texts = self._lines()
        if not lines and self.layer is None:
            return
        overlay = self._ensure_layer(layer, viewer)
        with overlay.events.data.blocker():
            overlay.data = []
            if lines:
                overlay.add_lines(lines)
            overlay.features = {"label": np.array(texts, dtype=object)}

    def _ensure_layer(self, layer: Shapes, viewer: napari.Viewer) -> Shapes:
        if self.layer is not None and self.layer in viewer.layers:
            return self.layer
        from napari.layers import Layer

        kind = str(layer.metadata.get(TOOL_KEY))
        data, kwargs, layer_type = tool_layer_data(kind, layer, name=f"{layer.name}: across slices")
        kwargs.update(
            features={"label": np.zeros(0, dtype=object)},
            feature_defaults={"label": ""},
            opacity=0.6,
            metadata={OVERLAY_KEY: kind},
            visible=layer.visible,
        )
        overlay = Layer.create(data, kwargs, layer_type)
        active = viewer.layers.selection.active
        viewer.layers.insert(viewer.layers.index(layer) + 1, overlay)
        if active is not None:
            viewer.layers.selection.active = active
        self.layer = overlay
        return overlay

    def _on_visible(self, event: Any = None) -> None:
        layer = self._layer_ref()
        if self.layer is not None and layer is not None:
            self.layer.visible = layer.visible

    def _on_removed(self, event: Any = None) -> None:
        layer, viewer = self._layer_ref(), self._viewer_ref()
        if viewer is None or self.layer is None:
            return
        if (layer is None or layer not in viewer.layers) and self.layer in viewer.layers:
            viewer.layers.remove(self.layer)


__all__ = ["CrossSliceOverlay"]

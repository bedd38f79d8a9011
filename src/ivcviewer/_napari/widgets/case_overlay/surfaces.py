"""The findings as smooth surfaces in 3D views (the Case overlay widget's **3D surfaces**).

In 3D with surfaces on, the surfaces are shown, the findings Labels layer is hidden and the CT
is drawn beneath them without depth (so a projection of it never cuts into them); in 2D, or
with surfaces off, the Labels layer and the CT are as they were (a layer the user hid stays
hidden).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ....annotations.overlay import OverlayResult
from .layer_data import findings_surfaces_layer_data

if TYPE_CHECKING:
    import napari
    from napari.layers import Image, Labels, Surface


class FindingSurfaces:
    """The surface layers of the last fit, and the 2D / 3D switch of what is shown."""

    def __init__(self, viewer: napari.Viewer) -> None:
        self._viewer = viewer
        self._layers: list[Surface] = []
        self._ct_blending: tuple[Image, str] | None = None
        self._labels_hidden = False  # the findings layer was hidden for the surfaces

    @property
    def layers(self) -> list[Surface]:
        """The surface layers still in the viewer."""
        return [s for s in self._layers if s in self._viewer.layers]

    def rebuild(
        self, result: OverlayResult | None, labels: Labels | None, ct: Image | None, on: bool
    ) -> None:
        """(Re)build the surface layers just above ``labels`` (the selection stays)."""
        from napari.layers import Layer

        layers = self._viewer.layers
        selection = layers.selection
        active, selected = selection.active, set(selection)
        for old in self._layers:
            if old in layers:
                layers.remove(old)
        self._layers = []
        if on and result is not None:
            index = len(layers)
            if labels is not None and labels in layers:
                index = layers.index(labels) + 1
            for data in findings_surfaces_layer_data(result):
                layer = Layer.create(*data)
                layers.insert(index, layer)
                self._layers.append(layer)
                index += 1
        selection.clear()
        selection.update({layer for layer in selected if layer in layers})
        if active is not None and active in layers:
            selection.active = active
        self.sync(labels, ct)

    def sync(self, labels: Labels | None, ct: Image | None) -> None:
        """Show the surfaces or the Labels layer for the current 2D / 3D display."""
        surfaces = self.layers
        show = bool(surfaces) and self._viewer.dims.ndisplay == 3
        for layer in surfaces:
            layer.visible = show
        if labels is not None and labels in self._viewer.layers:
            if show and labels.visible:
                labels.visible = False
                self._labels_hidden = True
            elif not show and self._labels_hidden:
                labels.visible = True
        if not show:
            self._labels_hidden = False
        if show and self._ct_blending is None:
            if ct is not None:
                self._ct_blending = (ct, str(ct.blending))
                ct.blending = "translucent_no_depth"
        elif not show and self._ct_blending is not None:
            old_ct, blending = self._ct_blending
            self._ct_blending = None
            if old_ct in self._viewer.layers:
                old_ct.blending = blending

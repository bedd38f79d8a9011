"""Pieces shared by the measurement dock widgets: a layer picker that follows the layer list,
and napari event connections that end with the widget."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from qtpy.QtCore import QObject, Signal
from qtpy.QtWidgets import QComboBox, QWidget

if TYPE_CHECKING:
    import napari
    from napari.layers import Layer

#: Shown in a picker that allows no layer.
NO_LAYER = "(none)"


def is_3d(layer: Any) -> bool:
    """Whether ``layer`` has three dimensions (a volume, not a slice or a stack of volumes)."""
    return int(getattr(layer, "ndim", 0)) == 3


class NapariConnections:
    """napari event connections made by a Qt widget, all undone when the widget is destroyed.

    napari keeps weak references to bound methods, but a closed dock widget's Python object
    can outlive its Qt object; its callbacks would then touch a deleted widget.
    """

    def __init__(self, owner: QObject) -> None:
        self._pairs: list[tuple[Any, Any]] = []
        owner.destroyed.connect(self.disconnect_all)

    def connect(self, emitter: Any, callback: Any, **kwargs: Any) -> None:
        """``emitter.connect(callback, **kwargs)``, remembered for :meth:`disconnect_all`."""
        emitter.connect(callback, **kwargs)
        self._pairs.append((emitter, callback))

    def disconnect_all(self, *_: Any) -> None:
        """Disconnect every remembered callback."""
        pairs, self._pairs = self._pairs, []
        for emitter, callback in pairs:
            with contextlib.suppress(RuntimeError, ValueError, TypeError):
                emitter.disconnect(callback)


class LayerCombo(QComboBox):
    """A combo box listing the viewer's layers of one type, top layer first.

    The list follows layers being added, removed, reordered and renamed; the chosen layer stays
    chosen while it exists. :attr:`layer_changed` is emitted with the new layer (or None).

    Parameters
    ----------
    viewer
        The viewer whose layers are listed.
    layer_type
        napari layer class (``napari.layers.Labels``, ``napari.layers.Image``, ...).
    allow_none
        Offer :data:`NO_LAYER` as the first entry.
    accept
        Extra filter on layers (for example "3D only").
    """

    layer_changed = Signal(object)

    def __init__(
        self,
        viewer: napari.Viewer,
        layer_type: type,
        *,
        allow_none: bool = False,
        accept: Any = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._viewer = viewer
        self._type = layer_type
        self._allow_none = allow_none
        self._accept = accept
        self._layers: list[Layer | None] = []
        self._current: Layer | None = None
        self._filling = False
        self.currentIndexChanged.connect(self._on_index)
        self.napari_connections = NapariConnections(self)
        events = viewer.layers.events
        for ev in (events.inserted, events.removed, events.moved):
            self.napari_connections.connect(ev, self.refresh_list)
        self.napari_connections.connect(events.inserted, self._watch_name)
        for layer in viewer.layers:
            self.napari_connections.connect(layer.events.name, self.refresh_list)
        self.refresh_list()

    def _watch_name(self, event: Any = None) -> None:
        layer = getattr(event, "value", None)
        if layer is not None:
            self.napari_connections.connect(layer.events.name, self.refresh_list)

    def candidates(self) -> list[Layer]:
        """Layers of the picker's type, top first."""
        return [
            lay
            for lay in reversed(self._viewer.layers)
            if isinstance(lay, self._type) and (self._accept is None or self._accept(lay))
        ]

    def refresh_list(self, event: Any = None) -> None:
        """Refill the list from the viewer, keeping the current layer when it is still there."""
        layers: list[Layer | None] = list(self.candidates())
        if self._allow_none:
            layers.insert(0, None)
        keep = self._current if self._current in layers else None
        if keep is None and not self._allow_none and layers:
            keep = layers[0]
        self._filling = True
        try:
            self.clear()
            self._layers = layers
            for lay in layers:
                self.addItem(NO_LAYER if lay is None else str(lay.name))
            if layers:
                self.setCurrentIndex(layers.index(keep))
        finally:
            self._filling = False
        self._set_current(keep)

    def layer(self) -> Layer | None:
        """The chosen layer, or None."""
        return self._current

    def set_layer(self, layer: Layer | None) -> None:
        """Choose ``layer`` (None: :data:`NO_LAYER` when allowed)."""
        if layer not in self._layers:
            self.refresh_list()
        if layer in self._layers:
            self.setCurrentIndex(self._layers.index(layer))

    def _on_index(self, index: int) -> None:
        if self._filling:
            return
        layer = self._layers[index] if 0 <= index < len(self._layers) else None
        self._set_current(layer)

    def _set_current(self, layer: Layer | None) -> None:
        if layer is not self._current:
            self._current = layer
            self.layer_changed.emit(layer)

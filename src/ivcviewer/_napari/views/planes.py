"""Three small linked canvases (axial, coronal, sagittal) beside the main canvas.

Each plane is its own napari ``ViewerModel`` drawn by a ``QtViewer`` (napari's pattern for
several viewers in one window), showing the main viewer's Image and Labels layers (the same
arrays, no copy) in its named view, with a crosshair at the shared point. A click in one plane
moves the other two and the main viewer's slices to that point; moving the main viewer's
slices moves the planes.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from qtpy.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from ... import geometry
from ..layer_tuple import UNITS_MM
from . import apply_view, view_note

if TYPE_CHECKING:
    import napari

#: The planes shown, left to right.
PLANES: tuple[str, ...] = ("axial", "coronal", "sagittal")

#: Name of the crosshair layer in each plane.
CROSSHAIR = "crosshair"

#: Smallest canvas of a plane (pixels).
PLANE_MIN_PX = 160


class ThreePlanes(QWidget):
    """Axial, coronal and sagittal planes linked to a main viewer at one shared point."""

    def __init__(self, viewer: napari.Viewer, parent: QWidget | None = None) -> None:
        from napari._qt.qt_viewer import QtViewer
        from napari.components import ViewerModel

        super().__init__(parent)
        self.viewer = viewer
        self.models: dict[str, Any] = {}
        self.qt_viewers: dict[str, Any] = {}
        self.notes: dict[str, QLabel] = {}
        self._syncing = False
        self._links: list[tuple[Any, Any]] = []
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        for name in PLANES:
            model = ViewerModel(title=name)
            qt_viewer = QtViewer(model)
            qt_viewer.canvas.native.setMinimumSize(PLANE_MIN_PX, PLANE_MIN_PX)
            model.mouse_drag_callbacks.append(self._click)
            column = QVBoxLayout()
            note = QLabel(name)
            note.setWordWrap(True)
            column.addWidget(note)
            column.addWidget(qt_viewer)
            row.addLayout(column)
            self.models[name] = model
            self.qt_viewers[name] = qt_viewer
            self.notes[name] = note
        viewer.layers.events.inserted.connect(self.sync_layers)
        viewer.layers.events.removed.connect(self.sync_layers)
        viewer.dims.events.point.connect(self._main_moved)
        self.sync_layers()

    # -- layers --------------------------------------------------------------------------------

    def _sources(self) -> list[Any]:
        from napari.layers import Image, Labels

        return [
            layer
            for layer in self.viewer.layers
            if isinstance(layer, Image | Labels) and layer.ndim == 3
        ]

    def sync_layers(self, _event: Any = None) -> None:
        """Show the main viewer's 3D Image and Labels layers in every plane (again)."""
        from napari.layers import Layer

        sources = self._sources()
        point = self.point_world()
        self._unlink()
        for name, model in self.models.items():
            model.layers.clear()
            for layer in sources:
                copy = Layer.create(*layer.as_layer_data_tuple())
                copy.metadata = layer.metadata  # the same record (view notes read it)
                model.layers.append(copy)
                for attribute in ("contrast_limits", "visible"):
                    emitter = getattr(layer.events, attribute)
                    callback = _follow(copy, attribute)
                    emitter.connect(callback)
                    self._links.append((emitter, callback))
            if sources:
                model.add_points(
                    [point],
                    name=CROSSHAIR,
                    symbol="cross",
                    size=12,
                    face_color="yellow",
                    border_width=0,
                    out_of_slice_display=False,
                    units=UNITS_MM,
                )
                apply_view(model, name, geometry.napari_to_lps(point))
            self.notes[name].setText(_plane_title(name, sources))
        self.set_point_world(point)

    # -- the shared point ----------------------------------------------------------------------

    def point_world(self) -> NDArray[np.float64]:
        """The shared point in world ``(z, y, x)`` mm (the main viewer's slices)."""
        return np.asarray(self.viewer.dims.point[-3:], dtype=float)

    def point_lps(self) -> NDArray[np.float64]:
        """The shared point in LPS mm."""
        return geometry.napari_to_lps(self.point_world())

    def set_point_lps(self, point_lps: ArrayLike) -> None:
        """Move the main viewer and every plane to an LPS point."""
        self.set_point_world(geometry.lps_to_napari(np.asarray(point_lps, dtype=float)))

    def set_point_world(self, point: ArrayLike) -> None:
        """Move the main viewer and every plane to a world point ``(z, y, x)``."""
        p = tuple(float(v) for v in np.asarray(point, dtype=float)[-3:])
        if self._syncing:
            return
        self._syncing = True
        try:
            if tuple(self.viewer.dims.point[-3:]) != p:
                self.viewer.dims.point = p
            for model in self.models.values():
                model.dims.point = p
                if CROSSHAIR in model.layers:
                    model.layers[CROSSHAIR].data = np.array([model.dims.point[-3:]])
        finally:
            self._syncing = False

    def _main_moved(self, _event: Any = None) -> None:
        self.set_point_world(self.point_world())

    def _click(self, model: Any, event: Any) -> Generator[None, None, None]:
        """Mouse-drag callback of a plane: a left click (no drag) moves all to its point."""
        if getattr(event, "button", 1) != 1:
            return
        dragged = False
        yield
        while event.type == "mouse_move":
            dragged = True
            yield
        if not dragged:
            self.set_point_world(event.position)

    def _unlink(self) -> None:
        for emitter, callback in self._links:
            emitter.disconnect(callback)
        self._links.clear()

    def close_planes(self) -> None:
        """Disconnect from the main viewer and close the plane canvases."""
        self._unlink()
        for signal in (self.viewer.layers.events.inserted, self.viewer.layers.events.removed):
            signal.disconnect(self.sync_layers)
        self.viewer.dims.events.point.disconnect(self._main_moved)
        for qt_viewer in self.qt_viewers.values():
            qt_viewer.close()


def _follow(copy: Any, attribute: str) -> Any:
    def update(event: Any) -> None:
        setattr(copy, attribute, getattr(event.source, attribute))

    return update


def _plane_title(name: str, sources: list[Any]) -> str:
    """The plane's name, with the note of an oblique grid (the plane follows the data axes)."""
    notes = [n for n in (view_note(layer, name) for layer in sources) if n]
    return notes[0] if notes else name

"""The "Views & window" dock: named views, window presets, the three planes, tabbed docks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from qtpy.QtCore import QTimer
from qtpy.QtWidgets import (
    QCheckBox,
    QDockWidget,
    QGridLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ...widget_models.views import PRESET_NAMES, VIEW_NAMES, limits_window, window_text
from . import apply_window, view_note
from .drag import PRESET_KEYS, VIEW_KEYS, bind_view_keys, show_view, target_image
from .planes import ThreePlanes

if TYPE_CHECKING:
    import napari

#: Rows of the measurement table a bottom dock keeps room for (header included).
TABLE_ROWS = 8

#: Height of one table row (pixels) for :data:`TABLE_ROWS`.
ROW_PX = 24

#: Share of the window's width the right-hand docks may take at most.
DOCK_SHARE = 0.3


class ViewsWindowWidget(QWidget):
    """Buttons for the named views and window presets, the window in HU, the three planes."""

    def __init__(self, napari_viewer: napari.Viewer) -> None:
        super().__init__()
        self.viewer = napari_viewer
        self.planes: ThreePlanes | None = None
        bind_view_keys(napari_viewer)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Views (radiological convention)"))
        self.view_buttons = _button_grid(
            layout, VIEW_NAMES, VIEW_KEYS, lambda name: show_view(self.viewer, name)
        )
        self.note = QLabel("")
        self.note.setWordWrap(True)
        layout.addWidget(self.note)
        layout.addWidget(QLabel("Window (right-drag on the canvas: width across, level up/down)"))
        self.preset_buttons = _button_grid(layout, PRESET_NAMES, PRESET_KEYS, self.set_preset)
        self.window_label = QLabel("")
        layout.addWidget(self.window_label)
        self.planes_check = QCheckBox("Three planes (click to move all to a point)")
        self.planes_check.toggled.connect(self.show_planes)
        layout.addWidget(self.planes_check)
        self.planes_box = QVBoxLayout()
        layout.addLayout(self.planes_box)
        tab = QPushButton("Tab the docks")
        tab.setToolTip("Stack the right-hand docks as tabs so the canvas keeps its room")
        tab.clicked.connect(lambda: arrange_docks(self.viewer))
        layout.addWidget(tab)
        layout.addStretch(1)
        napari_viewer.layers.selection.events.active.connect(self.refresh)
        napari_viewer.dims.events.order.connect(self.refresh)
        self.refresh()
        QTimer.singleShot(0, lambda: arrange_docks(self.viewer))

    def set_preset(self, name: str) -> None:
        """Set a window preset on the CT shown."""
        layer = target_image(self.viewer)
        if layer is not None:
            apply_window(layer, name)
        self.refresh()

    def refresh(self, _event: Any = None) -> None:
        """Show the CT's window and, on an oblique grid, that the planes follow the data."""
        layer = target_image(self.viewer)
        if layer is None:
            self.window_label.setText("No CT layer")
            self.note.setText("")
            return
        self.window_label.setText(window_text(*limits_window(layer.contrast_limits)))
        if getattr(self, "_followed", None) is not layer:
            layer.events.contrast_limits.connect(self.refresh)
            self._followed = layer
        name = _current_view(self.viewer)
        self.note.setText(view_note(layer, name) if name else "")

    def show_planes(self, on: bool) -> None:
        """Show or close the three linked planes."""
        if on and self.planes is None:
            self.planes = ThreePlanes(self.viewer)
            self.planes_box.addWidget(self.planes)
        elif not on and self.planes is not None:
            self.planes.close_planes()
            self.planes.setParent(None)
            self.planes = None


def _button_grid(
    layout: QVBoxLayout, names: tuple[str, ...], keys: dict[str, str], action: Any
) -> dict[str, QPushButton]:
    grid = QGridLayout()
    buttons: dict[str, QPushButton] = {}
    for i, name in enumerate(names):
        button = QPushButton("3D" if name == "3d" else name)
        button.setToolTip(f"{name} ({keys[name]})")
        button.clicked.connect(lambda _=False, n=name: action(n))
        grid.addWidget(button, i // 3, i % 3)
        buttons[name] = button
    layout.addLayout(grid)
    return buttons


def _current_view(viewer: napari.Viewer) -> str:
    """The named 2D view whose dims order the viewer shows, or ``""``."""
    from ...widget_models.views import VIEW_SPECS

    if viewer.dims.ndisplay != 2:
        return ""
    order = tuple(viewer.dims.order[-3:])
    for spec in VIEW_SPECS.values():
        if spec.ndisplay == 2 and spec.order == order:
            return spec.name
    return ""


def arrange_docks(viewer: napari.Viewer) -> None:
    """Tab the right-hand docks together (the canvas keeps most of the window) and give a
    bottom dock (the measurement table) room for :data:`TABLE_ROWS` rows."""
    from qtpy.QtCore import Qt

    window = getattr(getattr(viewer, "window", None), "_qt_window", None)
    if window is None:
        return
    docks = [d for d in window.findChildren(QDockWidget) if d.isVisible() and not d.isFloating()]
    right = [d for d in docks if window.dockWidgetArea(d) == Qt.DockWidgetArea.RightDockWidgetArea]
    for dock in right[1:]:
        window.tabifyDockWidget(right[0], dock)
    if right:
        width = int(window.width() * DOCK_SHARE)
        window.resizeDocks([right[0]], [width], Qt.Orientation.Horizontal)
    bottom = [
        d for d in docks if window.dockWidgetArea(d) == Qt.DockWidgetArea.BottomDockWidgetArea
    ]
    if bottom:
        window.resizeDocks(bottom, [TABLE_ROWS * ROW_PX] * len(bottom), Qt.Orientation.Vertical)

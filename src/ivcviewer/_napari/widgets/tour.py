"""The "Guided tour" dock: the findings of the Case overlay, one step at a time, for an audience.

Each step (:class:`~ivcviewer.widget_models.findings_tour.TourStep`) selects its finding in the
Case overlay widget (which shows that region alone and moves the slices to it), hides the
other landmarks, sets the named view, the window and the zoom (or the camera in 3D) and shows
a short text with the reported and measured figures. Presentation mode hides the other docks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from qtpy.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from ...annotations.overlay import OverlayResult
from ...widget_models.findings_tour import FindingEntry, FindingsTour, TourStep
from ...workflows.findings_table import ALL_FINDINGS
from .._viewer import camera
from ..views import apply_view, apply_window
from .case_overlay import CaseOverlayWidget
from .case_overlay.dock import dock_case_overlay

if TYPE_CHECKING:
    import napari

WIDGET_NAME = "Guided tour"


def find_case_overlay(viewer: napari.Viewer) -> CaseOverlayWidget:
    """The Case overlay widget docked in ``viewer`` (docked now when there is none)."""
    for widget in viewer.window.dock_widgets.values():
        if isinstance(widget, CaseOverlayWidget):
            return widget
    return dock_case_overlay(viewer)


def dock_of(widget: Any) -> QWidget:
    """The dock holding a docked widget (a Qt widget or a magicgui widget)."""
    native = widget.native if hasattr(widget, "native") else widget
    parent = native.parent()
    return parent if parent is not None else native


def canvas_size(viewer: napari.Viewer) -> tuple[int, int]:
    """The canvas ``(height, width)`` in pixels."""
    native = viewer.window._qt_viewer.canvas.native
    return int(native.height()), int(native.width())


class TourWidget(QWidget):
    """The "Guided tour" dock widget (see :mod:`ivcviewer._napari.widgets.tour`).

    Parameters
    ----------
    napari_viewer
        The viewer (injected by napari).
    overlay
        The Case overlay widget whose fit is toured (default: the one docked, or a new one).
    """

    def __init__(
        self, napari_viewer: napari.Viewer, overlay: CaseOverlayWidget | None = None
    ) -> None:
        super().__init__()
        self._viewer = napari_viewer
        self.overlay = overlay if overlay is not None else find_case_overlay(napari_viewer)
        self.tour = FindingsTour()
        self._hidden_docks: list[QWidget] = []
        self.position_label = QLabel("", self)
        self.position_label.setWordWrap(True)
        self.text = QTextBrowser(self)
        self.prev_btn = QPushButton("< Previous", self)
        self.next_btn = QPushButton("Next >", self)
        self.presentation_check = QCheckBox("Presentation mode (hide the other docks)", self)
        layout = QVBoxLayout(self)
        layout.addWidget(self.position_label)
        row = QHBoxLayout()
        row.addWidget(self.prev_btn)
        row.addWidget(self.next_btn)
        layout.addLayout(row)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.presentation_check)
        self.prev_btn.clicked.connect(lambda: self.overlay._try(self.tour.previous))
        self.next_btn.clicked.connect(lambda: self.overlay._try(self.tour.next))
        self.presentation_check.toggled.connect(self._apply_presentation)
        self.tour.changed.connect(self._show_step)
        self.overlay.model.events.selection_changed.connect(self._on_selection)
        self.overlay.model.events.fitted.connect(self._on_fit)
        self._on_fit(self.overlay.model.result)

    def _on_fit(self, result: OverlayResult | None) -> None:
        self.tour.set_result(result)
        self.position_label.setText(self.tour.position_text())
        self.text.setPlainText("")

    def start(self) -> TourStep | None:
        """Show the first step."""
        return self.tour.goto(0)

    def next(self) -> TourStep | None:
        """Show the next step."""
        return self.tour.next()

    def previous(self) -> TourStep | None:
        """Show the previous step."""
        return self.tour.previous()

    def _show_step(self, step: TourStep) -> None:
        e = step.entry
        self.overlay.select_finding(e.key)
        self._show_only(step)
        point = e.centre_lps
        three_d = self._viewer.dims.ndisplay == 3
        apply_view(self._viewer, "3d" if three_d else step.view, point)
        cam = camera(self._viewer)
        if three_d and point is not None:
            from ... import geometry

            world = geometry.lps_to_napari(np.asarray(point, dtype=float))
            cam.center = tuple(float(v) for v in world)
        h, w = canvas_size(self._viewer)
        if min(h, w) > 0:
            cam.zoom = min(h, w) / step.field_mm
        ct = self.overlay.ct_combo.layer()
        if ct is not None and not three_d:  # 3D keeps the view's projection window
            apply_window(ct, step.window)
        self.position_label.setText(self.tour.position_text())
        self.text.setPlainText(step.text)

    def _on_selection(self, entry: FindingEntry) -> None:
        """The overview chosen in the findings list: every finding and landmark shown again."""
        if entry.key != ALL_FINDINGS:
            return
        labels, pts = self.overlay.findings_layer, self.overlay.landmarks_layer
        if labels is not None:
            labels.visible = True
        if pts is not None:
            pts.shown = np.ones(len(pts.data), dtype=bool)
            pts.visible = True
        for surface in self.overlay.surface_layers:
            surface.visible = True

    def _show_only(self, step: TourStep) -> None:
        """That finding alone: its region (others hidden), or its point (regions hidden)."""
        e = step.entry
        labels, pts = self.overlay.findings_layer, self.overlay.landmarks_layer
        if labels is not None:
            labels.visible = e.label_value is not None
        if pts is not None:
            shown = np.zeros(len(pts.data), dtype=bool)
            selected = list(pts.selected_data)
            if e.label_value is None:
                shown[selected] = True
            pts.shown = shown
            pts.selected_data = set()  # the selection outline would look like another finding
            pts.visible = bool(shown.any())
        for surface in self.overlay.surface_layers:
            surface.visible = surface.metadata.get("finding_id", e.key) == e.key

    def set_presentation(self, on: bool) -> None:
        """Hide every other dock (and the layer list) for an audience, or show them again."""
        self.presentation_check.setChecked(bool(on))  # toggled -> _apply_presentation

    def _apply_presentation(self, on: bool) -> None:
        window: Any = self._viewer.window
        if on:
            docks = [dock_of(w) for w in window.dock_widgets.values()]
            qt = window._qt_viewer
            docks += [qt.dockLayerList, qt.dockLayerControls]
            mine = dock_of(self)
            self._hidden_docks = [d for d in docks if d is not mine and d.isVisible()]
            for d in self._hidden_docks:
                d.hide()
        else:
            for d in self._hidden_docks:
                d.show()
            self._hidden_docks = []

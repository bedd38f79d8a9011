"""Dock widget "Measurement tools": ruler, bidirectional, long/short axis of a region, HU probe.

The tools themselves live in :mod:`ivcviewer._napari.measure_tools`; this widget starts them.

* **Ruler**: selects (or adds) the "Ruler (mm)" layer in line mode. Drag to draw; the length in
  mm follows the cursor. ``M`` marks a point, ``M`` again on another slice or view joins the two
  points in 3D.
* **Bidirectional**: the "Bidirectional (mm)" layer: draw the long axis, then the short axis.
* **Axes of a region**: the RECIST long and short axes of a label value, computed by
  :func:`ivcviewer.measure.recist_axes`, drawn as a bidirectional pair on their section.
* **HU probe**: HU, LPS mm and voxel index under the cursor in the status bar.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from qtpy.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ...errors import IvcviewerError
from ...measure.tools import BIDIRECTIONAL, RULER, region_axes_source, region_axes_text
from .. import measure_tools as mt
from .measure_common import LayerCombo, NapariConnections, is_3d

if TYPE_CHECKING:
    import napari
    from napari.layers import Labels, Shapes

HELP_TEXT = (
    "Ruler: drag on the image; the length in mm follows the cursor. Press M over a point, move "
    "to another slice or view, press M again: a ruler across slices (3D length).\n"
    "Bidirectional: draw the long axis, then the short axis."
)


class MeasureToolboxWidget(QWidget):
    """Buttons for the ruler and bidirectional tools, region axes and the HU probe.

    Parameters
    ----------
    napari_viewer
        The viewer (injected by napari).
    """

    def __init__(self, napari_viewer: napari.Viewer) -> None:
        from napari.layers import Labels

        super().__init__()
        self._viewer = napari_viewer
        self.probe = mt.hu_probe(napari_viewer)
        self._napari = NapariConnections(self)

        ruler_btn = QPushButton("Ruler", self)
        ruler_btn.setToolTip("Draw lines that show their length in mm (key M: across slices)")
        bidi_btn = QPushButton("Bidirectional", self)
        bidi_btn.setToolTip("Draw a long axis, then a short axis")
        tools = QHBoxLayout()
        tools.addWidget(ruler_btn)
        tools.addWidget(bidi_btn)

        self.labels_combo = LayerCombo(napari_viewer, Labels, accept=is_3d, parent=self)
        self.label_spin = QSpinBox(self)
        self.label_spin.setRange(1, 2**31 - 1)
        axes_btn = QPushButton("Draw long and short axes", self)
        self.axes_result = QLabel("", self)
        self.axes_result.setWordWrap(True)
        region = QGroupBox("Long and short axis of a region (RECIST)", self)
        form = QFormLayout(region)
        form.addRow("Labels", self.labels_combo)
        form.addRow("Label value", self.label_spin)
        form.addRow(axes_btn)
        form.addRow(self.axes_result)

        self.probe_check = QCheckBox("HU probe in the status bar (HU, LPS mm, voxel)", self)
        self.probe_check.setChecked(True)
        help_label = QLabel(HELP_TEXT, self)
        help_label.setWordWrap(True)

        layout = QVBoxLayout(self)
        layout.addLayout(tools)
        layout.addWidget(help_label)
        layout.addWidget(region)
        layout.addWidget(self.probe_check)
        layout.addStretch(1)

        ruler_btn.clicked.connect(lambda: self._try(self.start_ruler, "Ruler"))
        bidi_btn.clicked.connect(lambda: self._try(self.start_bidirectional, "Bidirectional"))
        axes_btn.clicked.connect(self._on_axes_clicked)
        self.probe_check.toggled.connect(self.set_probe)
        self.labels_combo.layer_changed.connect(self._follow_selected_label)
        self._follow_selected_label(self.labels_combo.layer())

    def start_ruler(self) -> Shapes:
        """Select the ruler layer (adding it if needed) in line-drawing mode."""
        return mt.ensure_tool_layer(self._viewer, RULER)

    def start_bidirectional(self) -> Shapes:
        """Select the bidirectional layer (adding it if needed) in line-drawing mode."""
        return mt.ensure_tool_layer(self._viewer, BIDIRECTIONAL)

    def set_probe(self, on: bool) -> None:
        """Switch the HU probe on or off."""
        if on:
            self.probe.enable()
        else:
            self.probe.disable()

    def draw_region_axes(self, labels: Labels | None = None, label: int | None = None) -> str:
        """Draw the RECIST axes of ``label`` in ``labels`` (default: the widget's choice).

        Returns the text shown under the button (the two lengths and the section).
        """
        layer = labels if labels is not None else self.labels_combo.layer()
        if layer is None:
            raise IvcviewerError("Choose a Labels layer first.")
        value = int(label if label is not None else self.label_spin.value())
        axes = mt.region_recist(layer, value)
        name = mt.label_names(layer).get(value, f"label_{value}")
        mt.add_recist_lines(self._viewer, axes, source=region_axes_source(value, name, axes))
        text = region_axes_text(name, axes)
        self.axes_result.setText(text)
        return text

    def _on_axes_clicked(self) -> None:
        self._try(self.draw_region_axes, "Region axes")

    def _try(self, fn: Callable[[], Any], what: str) -> Any:
        """Run a button's action; any exception becomes one error notice (a domain error with
        its own message, anything else with what it was and the fix), never a traceback."""
        from napari.utils.notifications import show_error

        from ..reader import failure_text

        try:
            return fn()
        except Exception as err:  # a button's boundary
            text = str(err) if isinstance(err, IvcviewerError) else failure_text(err, what)
            self.axes_result.setText(text)
            show_error(text)
            return None

    def _follow_selected_label(self, layer: Any) -> None:
        if layer is None:
            return
        self._napari.connect(layer.events.selected_label, self._on_selected_label)
        self._on_selected_label()

    def _on_selected_label(self, event: Any = None) -> None:
        layer = self.labels_combo.layer()
        value = int(getattr(layer, "selected_label", 0) or 0)
        if value > 0:
            self.label_spin.setValue(value)


__all__ = ["HELP_TEXT", "MeasureToolboxWidget"]

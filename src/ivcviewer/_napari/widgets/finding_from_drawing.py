"""Dock widget "Finding from drawing": a region painted on a CT becomes a finding of a case file.

Pick the CT Image layer, the anatomy Labels layer (with its structure names), the Labels layer
the region was painted on and its label value, the finding's id, name and kind and the case
file; "Add to case file" describes the region relative to the anatomy (placement rule,
reference structure, extents, shape, rules), appends it to the case file (created from the
template when absent, its text and comments kept) and shows the finding's YAML text. The work
is :class:`~ivcviewer.widget_models.finding_from_drawing.FindingFromDrawingModel`'s, the same
as ``ivcviewer case from-drawing``; errors are one notification each.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from qtpy.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ...widget_models.finding_from_drawing import FindingFromDrawingModel
from ...workflows.case_authoring import DrawnFinding
from .. import measure_tools as mt
from ..reader import show_failure
from ..seg_layers import anatomy_names
from .case_overlay.layer_inputs import ct_volume_of, is_3d, labelmap_input
from .measure_common import LayerCombo

if TYPE_CHECKING:
    import napari
    from napari.layers import Layer

#: Where errors say they come from.
WHERE = "Finding from drawing"

#: The label spin box's text for "the one value painted".
PAINTED_VALUE = "the painted value"


class FindingFromDrawingWidget(QWidget):
    """The dock: layer pickers, the finding's fields, the case file and the derived finding.

    Parameters
    ----------
    napari_viewer
        The viewer (injected by napari).
    """

    def __init__(self, napari_viewer: napari.viewer.Viewer) -> None:
        from napari.layers import Image, Labels

        super().__init__()
        self._viewer = napari_viewer
        self.model = FindingFromDrawingModel()
        #: The text of the last error notification ("" after a finding was added).
        self.last_error = ""
        self.ct_combo = LayerCombo(napari_viewer, Image, accept=is_3d, parent=self)
        self.anatomy_combo = LayerCombo(napari_viewer, Labels, accept=is_3d, parent=self)
        self.region_combo = LayerCombo(napari_viewer, Labels, accept=is_3d, parent=self)
        self.label_spin = QSpinBox(self)
        self.label_spin.setRange(0, 65535)
        self.label_spin.setSpecialValueText(PAINTED_VALUE)
        self.id_edit = QLineEdit(self)
        self.id_edit.setPlaceholderText("for example liver_lesion")
        self.name_edit = QLineEdit(self)
        self.kind_combo = QComboBox(self)
        self.kind_combo.addItems(list(self.model.kinds()))
        self.case_edit = QLineEdit(self)
        self.case_edit.setPlaceholderText("case file (.yaml); created from the template if absent")
        browse = QPushButton("Browse\N{HORIZONTAL ELLIPSIS}", self)
        self.add_button = QPushButton("Add to case file", self)
        self.text = QPlainTextEdit(self)
        self.text.setReadOnly(True)
        self.text.setPlainText(self.model.shown_text)

        case_row = QHBoxLayout()
        case_row.addWidget(self.case_edit, 1)
        case_row.addWidget(browse)
        form = QFormLayout()
        form.addRow("CT", self.ct_combo)
        form.addRow("Anatomy", self.anatomy_combo)
        form.addRow("Painted region", self.region_combo)
        form.addRow("Label value", self.label_spin)
        form.addRow("Finding id", self.id_edit)
        form.addRow("Name", self.name_edit)
        form.addRow("Kind", self.kind_combo)
        form.addRow("Case file", case_row)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.add_button)
        layout.addWidget(self.text, 1)

        self._guess_layers()
        browse.clicked.connect(self._browse)
        self.add_button.clicked.connect(self.add_to_case)
        self.model.added.connect(self._show)

    def _guess_layers(self) -> None:
        """Anatomy: the top Labels layer whose labels name structures; painted region: the top
        other one."""
        layers = self.anatomy_combo.candidates()
        named = [lay for lay in layers if anatomy_names(lay)]
        if named:
            self.anatomy_combo.set_layer(named[0])
            others = [lay for lay in layers if lay is not named[0]]
            if others:
                self.region_combo.set_layer(others[0])

    @property
    def shown_text(self) -> str:
        """The text the dock shows (the finding added last, as YAML)."""
        return str(self.text.toPlainText())

    def _browse(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Case file", self.case_edit.text(), "Case files (*.yaml *.yml)"
        )
        if path:
            self.case_edit.setText(path)

    def _show(self, drawn: DrawnFinding) -> None:
        self.text.setPlainText(self.model.shown_text)

    def add_to_case(self) -> DrawnFinding | None:
        """Add the painted region to the case file; None (and one error notification) when
        it cannot be added."""
        from napari.utils.notifications import show_info

        ct_layer = self.ct_combo.layer()
        anatomy_layer = self.anatomy_combo.layer()
        region_layer = self.region_combo.layer()
        m = self.model
        m.case_path = self.case_edit.text()
        m.finding_id = self.id_edit.text()
        m.name = self.name_edit.text()
        m.kind = self.kind_combo.currentText()
        m.label = self.label_spin.value() or None
        try:
            if ct_layer is None or anatomy_layer is None or region_layer is None:
                from ...errors import IvcviewerError

                raise IvcviewerError(
                    "choose the CT, the anatomy and the painted Labels layer. Fix: open a CT "
                    "with its anatomy label map and paint the region on a Labels layer."
                )
            drawn = m.add(
                ct_volume_of(ct_layer),
                labelmap_input(anatomy_layer),
                mt.volume_from_layer(region_layer),
                ct_name=f"layer {ct_layer.name!r}",
                region_name=f"layer {region_layer.name!r}",
                inputs=_source_paths(ct_layer, anatomy_layer, region_layer),
            )
        except Exception as err:  # every failure is one notification, never a traceback
            self.last_error = show_failure(err, WHERE)
            return None
        self.last_error = ""
        show_info(f"Finding {drawn.finding['id']!r} added to {drawn.case_path}")
        return drawn


def _source_paths(*layers: Layer) -> list[str]:
    """The files or folders the layers were read from (layers made in the viewer have none)."""
    paths = [getattr(getattr(layer, "source", None), "path", None) for layer in layers]
    return [str(p) for p in paths if p]


__all__ = ["FindingFromDrawingWidget"]

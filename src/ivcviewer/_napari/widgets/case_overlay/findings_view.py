"""The findings list of the Case overlay widget: the IVC level, one entry per finding, details.

Filled from the model's ``fitted`` listener and kept on the model's selection
(``selection_changed``); choosing an entry asks the model to select it.
"""

from __future__ import annotations

from qtpy.QtCore import Qt
from qtpy.QtGui import QColor, QIcon, QPixmap
from qtpy.QtWidgets import QLabel, QListWidget, QListWidgetItem, QTextBrowser, QVBoxLayout, QWidget

from ....annotations.overlay import OverlayResult
from ....widget_models import CaseOverlayModel, FindingEntry


def swatch(colour: str | None) -> QIcon:
    """A small square icon of ``colour`` (transparent for None)."""
    pix = QPixmap(14, 14)
    pix.fill(QColor(colour) if colour else QColor(0, 0, 0, 0))
    return QIcon(pix)


class FindingsView(QWidget):
    """The IVC level line, the findings list and the selected finding's details."""

    def __init__(self, model: CaseOverlayModel, parent: QWidget) -> None:
        super().__init__(parent)
        self._model = model
        self.level_label = QLabel("", self)
        self.level_label.setWordWrap(True)
        self.findings_list = QListWidget(self)
        self.findings_list.setMaximumHeight(130)
        self.details = QTextBrowser(self)
        self.details.setOpenExternalLinks(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.level_label)
        layout.addWidget(QLabel("Findings (select one to go to it)", self))
        layout.addWidget(self.findings_list)
        layout.addWidget(self.details, 1)
        self.findings_list.currentRowChanged.connect(self._on_row)
        model.events.fitted.connect(self._show_result)
        model.events.selection_changed.connect(self._show_selection)

    def _show_result(self, _result: OverlayResult) -> None:
        self.findings_list.blockSignals(True)
        self.findings_list.clear()
        for e in self._model.entries:
            item = QListWidgetItem(swatch(e.colour), e.title)
            if not e.drawn:
                item.setForeground(QColor("gray"))
            item.setData(Qt.ItemDataRole.UserRole, e.key)
            self.findings_list.addItem(item)
        self.findings_list.blockSignals(False)
        self.level_label.setText(self._model.level_text())

    def _show_selection(self, entry: FindingEntry) -> None:
        keys = self._model.finding_keys()
        row = keys.index(entry.key)
        if self.findings_list.currentRow() != row:
            self.findings_list.blockSignals(True)
            self.findings_list.setCurrentRow(row)
            self.findings_list.blockSignals(False)
        self.details.setHtml(self._model.details_html(entry.key))

    def _on_row(self, row: int) -> None:
        entries = self._model.entries
        if 0 <= row < len(entries):
            self._model.select(entries[row].key)

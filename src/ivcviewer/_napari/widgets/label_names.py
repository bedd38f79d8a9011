"""Dock widget "Label names": name, recolour and add the labels of the selected Labels layer.

Every change goes through :func:`ivcviewer._napari.layer_label_table.set_layer_label_table`,
so the names live in one place (the layer's ``features``, with ``metadata["label_names"]``
derived from them) that every ivcviewer widget and writer reads. The table lists the named
labels; "Find painted" adds the values painted but not yet named; "Add label" adds the next
free value and selects it for painting. Double-click a colour to change it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from qtpy.QtGui import QColor
from qtpy.QtWidgets import (
    QColorDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...errors import IvcviewerError
from ...io import LabelEntry, LabelTable, default_color, label_values
from ..label_colours import rgba
from ..layer_label_table import keep_names_in_step, layer_label_table, set_layer_label_table

if TYPE_CHECKING:
    import napari
    from napari.layers import Labels

#: Title shown when no Labels layer is selected.
NO_LAYER_TEXT = "Select a Labels layer to name its labels."
#: Table columns.
COLUMNS = ("value", "name", "colour")


def _qcolor(colour: Sequence[float]) -> QColor:
    r, g, b, a = (max(0, min(255, round(float(c) * 255))) for c in colour)
    return QColor(r, g, b, a)


class LabelNamesWidget(QWidget):
    """The names and colours of the active Labels layer; follows the layer selection.

    Parameters
    ----------
    napari_viewer
        The viewer (injected by napari).
    """

    def __init__(self, napari_viewer: napari.viewer.Viewer) -> None:
        super().__init__()
        self._viewer = napari_viewer
        self._layer: Labels | None = None
        self._filling = False
        self._title = QLabel(NO_LAYER_TEXT)
        self._title.setWordWrap(True)
        self._table = QTableWidget(0, len(COLUMNS))
        self._table.setHorizontalHeaderLabels(list(COLUMNS))
        vertical, horizontal = self._table.verticalHeader(), self._table.horizontalHeader()
        if vertical is not None and horizontal is not None:
            vertical.setVisible(False)
            horizontal.setStretchLastSection(True)
        self._table.itemChanged.connect(self._on_item_changed)
        self._table.cellDoubleClicked.connect(self._on_double_click)
        self._add = QPushButton("Add label")
        self._add.setToolTip("Add the next free label value and select it for painting")
        self._add.clicked.connect(lambda: self.add_label())
        self._find = QPushButton("Find painted")
        self._find.setToolTip("List the painted values that have no name yet")
        self._find.clicked.connect(lambda: self.find_painted())
        buttons = QHBoxLayout()
        buttons.addWidget(self._add)
        buttons.addWidget(self._find)
        layout = QVBoxLayout(self)
        layout.addWidget(self._title)
        layout.addWidget(self._table)
        layout.addLayout(buttons)
        napari_viewer.layers.selection.events.active.connect(self._on_active)
        self._on_active()

    # what is shown --------------------------------------------------------------------
    @property
    def layer(self) -> Labels | None:
        """The Labels layer shown (None when the active layer is no Labels layer)."""
        return self._layer

    @property
    def title(self) -> str:
        """The title line now shown."""
        return str(self._title.text())

    @property
    def rows(self) -> list[tuple[int, str, tuple[int, int, int, int]]]:
        """``(value, name, (r, g, b, a) 0..255)`` of each row now shown."""
        out = []
        for r in range(self._table.rowCount()):
            value, name, colour = (self._table.item(r, c) for c in range(3))
            if value is None or name is None or colour is None:
                continue
            c = colour.background().color()
            out.append((int(value.text()), name.text(), (c.red(), c.green(), c.blue(), c.alpha())))
        return out

    def _on_active(self, event: Any = None) -> None:
        from napari.layers import Labels

        layer = self._viewer.layers.selection.active
        new = layer if isinstance(layer, Labels) else None
        if new is self._layer:
            return
        if self._layer is not None:
            self._layer.events.features.disconnect(self.refresh)
            self._layer.events.colormap.disconnect(self.refresh)
        self._layer = new
        if new is not None:
            keep_names_in_step(new)
            new.events.features.connect(self.refresh)
            new.events.colormap.connect(self.refresh)
        self.refresh()

    def refresh(self, event: Any = None) -> None:
        """Show the names and colours of the layer (or say that there is none)."""
        layer = self._layer
        enabled = layer is not None
        self._add.setEnabled(enabled)
        self._find.setEnabled(enabled)
        self._filling = True
        try:
            self._table.setRowCount(0)
            if layer is None:
                self._title.setText(NO_LAYER_TEXT)
                return
            self._title.setText(f"Labels of '{layer.name}'")
            for value, entry in layer_label_table(layer).items():
                self._append_row(value, entry)
        finally:
            self._filling = False

    def _append_row(self, value: int, entry: LabelEntry) -> None:
        from qtpy.QtCore import Qt

        r = self._table.rowCount()
        self._table.insertRow(r)
        value_item = QTableWidgetItem(str(value))
        value_item.setFlags(value_item.flags() & ~Qt.ItemFlag.ItemIsEditable)
        colour_item = QTableWidgetItem("")
        colour_item.setFlags(colour_item.flags() & ~Qt.ItemFlag.ItemIsEditable)
        colour_item.setBackground(_qcolor(entry.rgba))
        colour_item.setToolTip("Double-click to change the colour")
        self._table.setItem(r, 0, value_item)
        self._table.setItem(r, 1, QTableWidgetItem(entry.name))
        self._table.setItem(r, 2, colour_item)

    # changes --------------------------------------------------------------------------
    def _change(self, value: int, entry: LabelEntry) -> LabelTable:
        if self._layer is None:
            raise IvcviewerError("No Labels layer is selected. Fix: select a Labels layer.")
        entries = dict(layer_label_table(self._layer).entries)
        entries[int(value)] = entry
        table = LabelTable(entries)
        set_layer_label_table(self._layer, table, [int(value)])
        return table

    def rename(self, value: int, name: str) -> None:
        """Name label ``value`` (an empty name is refused with the rule)."""
        if not name.strip():
            raise IvcviewerError(
                f"Label {value} needs a non-empty name. Fix: type a name (or keep the old one)."
            )
        current = layer_label_table(self._layer).get(value) if self._layer is not None else None
        colour = current.rgba if current is not None else self._shown_colour(value)
        self._change(value, LabelEntry(name.strip(), colour))

    def recolour(self, value: int, colour: Any) -> None:
        """Give label ``value`` a colour (``#rrggbb``, RGB(A) 0-1 or 0-255)."""
        current = layer_label_table(self._layer).get(value) if self._layer is not None else None
        name = current.name if current is not None else f"label_{value}"
        self._change(value, LabelEntry(name, rgba(colour)))

    def add_label(self, name: str | None = None) -> int:
        """Add the next free value (after the named and the selected ones), select it for
        painting; returns the value."""
        if self._layer is None:
            raise IvcviewerError("No Labels layer is selected. Fix: select a Labels layer.")
        used = set(layer_label_table(self._layer)) | {int(self._layer.selected_label)}
        value = max(used | {0}) + 1
        self._change(value, LabelEntry(name or f"label_{value}", default_color(value)))
        self._layer.selected_label = value
        return value

    def find_painted(self) -> list[int]:
        """Name each painted value that has no name (``label_<value>``, the colour it is
        shown in); returns the values added."""
        if self._layer is None:
            return []
        table = layer_label_table(self._layer)
        painted = label_values(self._layer.data)
        missing = [v for v in painted if v not in table]
        if missing:
            entries = dict(table.entries)
            for v in missing:
                entries[v] = LabelEntry(f"label_{v}", self._shown_colour(v))
            set_layer_label_table(self._layer, LabelTable(entries), missing)
        return missing

    def _shown_colour(self, value: int) -> tuple[float, float, float, float]:
        if self._layer is None:
            return default_color(value)
        c = [float(x) for x in self._layer.get_color(value)]
        return (c[0], c[1], c[2], c[3]) if c[3] > 0 else default_color(value)

    def _on_item_changed(self, item: QTableWidgetItem) -> None:
        if self._filling or item.column() != 1:
            return
        value_item = self._table.item(item.row(), 0)
        if value_item is None:
            return
        try:
            self.rename(int(value_item.text()), item.text())
        except IvcviewerError as err:
            from ..reader import show_failure

            show_failure(err, "Label names")
            self.refresh()

    def _on_double_click(self, row: int, column: int) -> None:
        value_item = self._table.item(row, 0)
        colour_item = self._table.item(row, 2)
        if column != 2 or value_item is None or colour_item is None:
            return
        chosen = QColorDialog.getColor(
            colour_item.background().color(),
            self,
            "Label colour",
            QColorDialog.ColorDialogOption.ShowAlphaChannel,
        )
        if chosen.isValid():
            self.recolour(
                int(value_item.text()),
                (chosen.red(), chosen.green(), chosen.blue(), chosen.alpha()),
            )


__all__ = ["COLUMNS", "NO_LAYER_TEXT", "LabelNamesWidget"]

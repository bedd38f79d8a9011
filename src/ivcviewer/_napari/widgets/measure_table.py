"""Dock widget "Measurement table": every region and every manual measurement, in mm.

Regions come from a Labels layer, measured by :func:`ivcviewer.measure.measure_labels` on the
grid rebuilt from the layer (:func:`ivcviewer._napari.measure_tools.volume_from_layer`), with the
HU statistics of a CT layer on the same grid. With a case file set, each region stands beside
the figures its finding reports (axis by axis and in any order, coloured pass / fail, with
:func:`ivcviewer.workflows.compare_with_case`, the comparison of ``ivcviewer measure --case``).
A Labels layer that names its case (:class:`ivcviewer.widget_models.CaseLayerInfo`, as the Case
overlay's findings layer does) brings its case file and its label value -> finding choices with
it, and a newly fitted findings layer is measured as soon as it is added. "Load SR" adds the
regions of a measurement report (DICOM SR TID 1500, as ivcviewer writes it) below them, with the
figures it records and the reported ones beside them (:meth:`load_sr`). Rulers and
bidirectionals of the tool layers follow as they are drawn. The table exports to CSV and JSON
(:meth:`export_csv`, :meth:`export_json`).

Double-click a region to draw its RECIST long and short axes (and go to their slice), or a manual
measurement to go to it.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qtpy.QtCore import Qt
from qtpy.QtGui import QBrush, QColor
from qtpy.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ... import measure
from ...annotations import CaseFile, default_case_path, load_case
from ...errors import GeometryError, IvcviewerError
from ...widget_models.layer_metadata import CaseLayerInfo, OverlayLayerKind
from .. import measure_tools as mt
from ..measure_report import (
    BIDIRECTIONAL,
    ManualMeasurement,
    MeasurementReport,
    RegionRow,
    findings_with_figures,
)
from ..reader import failure_text
from .measure_common import LayerCombo, NapariConnections, is_3d
from .measure_table_rows import (
    AXIS_COLUMNS,
    COL,
    COLUMNS,
    FAIL_COLOR,
    NO_FINDING,
    PASS_COLOR,
    TEXT_ON_COLOR,
    compared_rows,
    mm_text,
)
from .measure_table_sr import SRRowsMixin

if TYPE_CHECKING:
    import napari
    from napari.layers import Labels


class MeasurementTableWidget(SRRowsMixin, QWidget):
    """The measurement table (see the module docstring).

    Parameters
    ----------
    napari_viewer
        The viewer (injected by napari).
    """

    def __init__(self, napari_viewer: napari.Viewer) -> None:
        from napari.layers import Image, Labels

        super().__init__()
        self._viewer = napari_viewer
        self._regions: list[measure.RegionMeasurements] = []
        self._case: CaseFile | None = None
        self._overrides: dict[int, str] = {}
        self._unmatched: set[int] = set()
        self._notes: list[str] = []
        self._watched: list[Any] = []
        self._case_from_layer = False
        self.sr_rows = []
        self.sr_path = ""
        self._ready = False
        self.report = MeasurementReport()

        self.labels_combo = LayerCombo(napari_viewer, Labels, accept=is_3d, parent=self)
        self.ct_combo = LayerCombo(napari_viewer, Image, allow_none=True, accept=is_3d, parent=self)
        self.case_edit = QLineEdit(self)
        self.case_edit.setPlaceholderText("no case file: no reported figures")
        browse = QPushButton("Browse\N{HORIZONTAL ELLIPSIS}", self)
        packaged = QPushButton("Packaged case", self)
        self.tolerance_spin = QDoubleSpinBox(self)
        self.tolerance_spin.setRange(0.0, 50.0)
        self.tolerance_spin.setDecimals(1)
        self.tolerance_spin.setSuffix(" % (floor: 1 voxel)")
        self.tolerance_spin.setValue(measure.DEFAULT_TOLERANCE_REL * 100)
        measure_btn = QPushButton("Measure", self)
        csv_btn = QPushButton("Export CSV\N{HORIZONTAL ELLIPSIS}", self)
        json_btn = QPushButton("Export JSON\N{HORIZONTAL ELLIPSIS}", self)
        sr_btn = QPushButton("Load SR\N{HORIZONTAL ELLIPSIS}", self)
        self.status_label = QLabel("", self)
        self.status_label.setWordWrap(True)
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        vertical, horizontal = self.table.verticalHeader(), self.table.horizontalHeader()
        if vertical is not None and horizontal is not None:
            vertical.setVisible(False)
            horizontal.setStretchLastSection(True)

        case_row = QHBoxLayout()
        case_row.addWidget(self.case_edit, 1)
        case_row.addWidget(browse)
        case_row.addWidget(packaged)
        form = QFormLayout()
        form.addRow("Labels", self.labels_combo)
        form.addRow("CT (HU)", self.ct_combo)
        form.addRow("Case file", case_row)
        form.addRow("Tolerance", self.tolerance_spin)
        buttons = QHBoxLayout()
        buttons.addWidget(measure_btn)
        buttons.addWidget(sr_btn)
        buttons.addStretch(1)
        buttons.addWidget(csv_btn)
        buttons.addWidget(json_btn)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.status_label)
        layout.addWidget(self.table, 1)

        self.labels_combo.layer_changed.connect(self._on_labels_changed)
        self.ct_combo.layer_changed.connect(self._on_ct_changed)
        self.case_edit.editingFinished.connect(self._on_case_edited)
        browse.clicked.connect(self._browse_case)
        packaged.clicked.connect(lambda: self._set_case_or_show(default_case_path()))
        self.tolerance_spin.valueChanged.connect(lambda _v: self.update_rows())
        measure_btn.clicked.connect(self.refresh)
        csv_btn.clicked.connect(lambda: self._export_dialog("csv"))
        json_btn.clicked.connect(lambda: self._export_dialog("json"))
        sr_btn.clicked.connect(self._load_sr_dialog)
        self.table.cellDoubleClicked.connect(self._on_double_click)
        self._napari = NapariConnections(self)
        self._napari.connect(napari_viewer.layers.events.inserted, self._on_layers_changed)
        self._napari.connect(napari_viewer.layers.events.inserted, self._on_layer_inserted)
        self._napari.connect(napari_viewer.layers.events.removed, self._on_layers_changed)

        self.ct_combo.set_layer(mt.reference_image(napari_viewer))
        self._watch_tool_layers()
        self._ready = True
        self._on_labels_changed(self.labels_combo.layer())

    # -- inputs -----------------------------------------------------------------------------

    @property
    def labels_layer(self) -> Labels | None:
        """The Labels layer measured."""
        return self.labels_combo.layer()

    def set_labels_layer(self, layer: Labels | None) -> None:
        """Measure ``layer``'s regions."""
        self.labels_combo.set_layer(layer)

    def set_ct_layer(self, layer: Any) -> None:
        """Take HU statistics from ``layer`` (None: no HU)."""
        self.ct_combo.set_layer(layer)

    @property
    def tolerance_rel(self) -> float:
        """Relative tolerance of the comparison (0.02 = 2%)."""
        return float(self.tolerance_spin.value()) / 100.0

    def set_tolerance(self, tolerance_rel: float) -> None:
        """Set the relative tolerance (0.02 = 2%); the rows follow."""
        self.tolerance_spin.setValue(100.0 * float(tolerance_rel))

    @property
    def case(self) -> CaseFile | None:
        """The case file compared with, or None."""
        return self._case

    def set_case(self, path: str | Path | None) -> None:
        """Compare regions with the findings of a case file (None or "": no comparison).

        Raises
        ------
        CaseFileError
            For a missing or invalid case file (the previous case stays).
        """
        if path is None or str(path).strip() == "":
            self._case = None
            self.case_edit.setText("")
        else:
            self._case = load_case(path)
            self.case_edit.setText(str(path))
        self._case_from_layer = False
        self._overrides.clear()
        self._unmatched.clear()
        self.update_rows()

    def assign_finding(self, label: int, finding_id: str | None) -> None:
        """Compare region ``label`` with finding ``finding_id`` (None: do not compare it)."""
        label = int(label)
        if finding_id is None:
            self._overrides.pop(label, None)
            self._unmatched.add(label)
        else:
            if self._case is not None:
                self._case.finding(finding_id)  # raises for an unknown id
            self._overrides[label] = finding_id
            self._unmatched.discard(label)
        self.update_rows()

    # -- measuring --------------------------------------------------------------------------

    def refresh(self) -> None:
        """Measure the chosen Labels layer again (with HU of the CT when on its grid)."""
        from napari.utils.notifications import show_error

        self._regions = []
        self._notes = []
        labels = self.labels_layer
        if labels is not None:
            try:
                self._regions = self._measure(labels)
            except Exception as err:  # the button's boundary: one line, never a traceback
                self._notes.append(f"{labels.name}: {_reason(err, labels.name)}")
                show_error(failure_text(err, "Measurement table"))
        self.update_rows()

    def _measure(self, labels_layer: Labels) -> list[measure.RegionMeasurements]:
        vol = mt.volume_from_layer(labels_layer)
        names = mt.label_names(labels_layer)
        ct_layer = self.ct_combo.layer()
        ct = None
        if ct_layer is not None:
            ct = mt.volume_from_layer(ct_layer)
            try:
                measure.check_same_grid(vol, ct, names=(labels_layer.name, ct_layer.name))
            except GeometryError:
                self._notes.append(
                    f"HU not measured: '{ct_layer.name}' is not on the grid of "
                    f"'{labels_layer.name}' (resample one onto the other)."
                )
                ct = None
        return measure.measure_labels(vol, names, ct)

    def update_rows(self, event: Any = None) -> None:
        """Rebuild the rows (comparisons and manual measurements) without re-measuring."""
        rows = compared_rows(
            self._regions, self._case, self.tolerance_rel, self._overrides, sorted(self._unmatched)
        )
        manual = mt.manual_measurements(self._viewer.layers)
        labels = self.labels_layer
        ct = self.ct_combo.layer()
        self.report = MeasurementReport(
            regions=rows,
            manual=manual,
            labels_layer="" if labels is None else str(labels.name),
            ct_layer="" if ct is None else str(ct.name),
            case_path="" if self._case is None else str(self._case.path),
            tolerance_rel=self.tolerance_rel,
            notes=list(self._notes),
            sr_rows=list(self.sr_rows),
            sr_path=self.sr_path,
        )
        self._fill_table()

    # -- table ------------------------------------------------------------------------------

    def _fill_table(self) -> None:
        rep = self.report
        table = self.table
        table.clearContents()
        n_own = len(rep.regions) + len(rep.manual)
        table.setRowCount(n_own + len(self.sr_rows))
        for r, row in enumerate(rep.regions):
            self._fill_region(r, row)
        for k, m in enumerate(rep.manual):
            self._fill_manual(len(rep.regions) + k, m)
        self._fill_sr_rows(n_own)
        table.resizeColumnsToContents()
        n_cmp = sum(1 for r in rep.regions if r.comparison is not None)
        n_pass = sum(
            1 for r in rep.regions if r.comparison is not None and r.comparison.passed_by_axis
        )
        parts = [f"{len(rep.regions)} regions, {len(rep.manual)} manual measurements"]
        if self._case is not None:
            parts.append(f"{n_pass} of {n_cmp} compared regions pass axis by axis")
        if self.sr_path:
            parts.append(f"{len(self.sr_rows)} regions from {Path(self.sr_path).name}")
        self.status_label.setText("; ".join(parts + rep.notes))

    def _item(
        self, r: int, c: int, text: str, tooltip: str = "", passed: bool | None = None
    ) -> None:
        item = QTableWidgetItem(text)
        if tooltip:
            item.setToolTip(tooltip)
        if passed is not None:
            item.setBackground(QBrush(QColor(PASS_COLOR if passed else FAIL_COLOR)))
            item.setForeground(QBrush(QColor(TEXT_ON_COLOR)))
        self.table.setItem(r, c, item)

    def _fill_region(self, r: int, row: RegionRow) -> None:
        m = row.region
        self._item(r, COL["Kind"], "region")
        self._item(r, COL["Name"], f"{m.label}: {m.name}")
        self._finding_cell(r, row)
        for ax, c in AXIS_COLUMNS.items():
            cmp = row.axis_comparison(ax)
            if cmp is None:
                self._item(r, c, mm_text(m.extents_mm[ax]), f"voxel {m.voxel_extent_mm[ax]:.2f} mm")
                continue
            text = f"{mm_text(cmp.measured_mm)} ({mm_text(cmp.reported_mm)})"
            tip = (
                f"measured {cmp.measured_mm:.2f} mm, reported {cmp.reported_mm:.2f} mm, "
                f"difference {cmp.difference_mm:+.2f} mm, tolerance "
                f"\N{PLUS-MINUS SIGN}{cmp.tolerance_mm:.2f} mm"
            )
            self._item(r, c, text, tip, cmp.passed)
        if row.comparison is not None:
            ok = row.comparison.passed_by_axis
            self._item(r, COL["By axis"], "pass" if ok else "fail", passed=ok)
            free = row.comparison.order_free
            ok_free = row.comparison.passed_order_free
            tip = "; ".join(
                f"{c.measured_axis} {c.measured_mm:.1f} vs {c.reported_axis} {c.reported_mm:.1f}"
                for c in free
            )
            self._item(r, COL["Any order"], "pass" if ok_free else "fail", tip, ok_free)
        rec = m.recist
        self._item(
            r,
            COL["Long x short / length mm"],
            f"{mm_text(rec.long_mm)} x {mm_text(rec.short_mm)}",
            f"RECIST axes on section {rec.section_index} (double-click to draw them)",
        )
        self._item(
            r,
            COL["Max 3D mm"],
            mm_text(m.max_diameter.length_mm),
            "OBB " + " x ".join(mm_text(v) for v in m.obb.sizes_mm) + " mm",
        )
        self._item(r, COL["Volume mL"], f"{m.volume_ml:.2f}", f"{m.n_voxels} voxels")
        if m.hu is not None:
            self._item(
                r,
                COL["HU mean \N{PLUS-MINUS SIGN} SD"],
                f"{m.hu.mean:.1f} \N{PLUS-MINUS SIGN} {m.hu.std:.1f}",
                f"median {m.hu.median:.1f}, min {m.hu.min:.0f}, max {m.hu.max:.0f}",
            )

    def _finding_cell(self, r: int, row: RegionRow) -> None:
        if self._case is None:
            self._item(r, COL["Finding"], "")
            return
        combo = QComboBox(self.table)
        options = [f.id for f in findings_with_figures(self._case)]
        combo.addItems([NO_FINDING, *options])
        current = row.finding.id if row.finding is not None else NO_FINDING
        combo.setCurrentText(current)
        if row.finding is not None and row.finding.extents_assumed():
            combo.setToolTip("The case file assumes which axis each reported figure is on.")
        label = row.region.label
        combo.currentTextChanged.connect(
            lambda text, lab=label: self.assign_finding(lab, None if text == NO_FINDING else text)
        )
        self.table.setCellWidget(r, COL["Finding"], combo)

    def _fill_manual(self, r: int, m: ManualMeasurement) -> None:
        self._item(r, COL["Kind"], m.kind)
        self._item(r, COL["Name"], m.name, m.layer)
        if m.kind == BIDIRECTIONAL:
            angle = m.angle_deg
            tip = m.source or "drawn"
            if angle is not None and math.isfinite(angle):
                tip += f"; axes at {angle:.1f} degrees"
            short = m.short_mm if m.short_mm is not None else math.nan
            self._item(
                r,
                COL["Long x short / length mm"],
                f"{mm_text(m.length_mm)} x {mm_text(short)}",
                tip,
            )
        else:
            delta = m.delta_mm()
            tip = ", ".join(f"{ax} {v:.1f}" for ax, v in delta.items()) + " mm along the axes"
            self._item(r, COL["Long x short / length mm"], mm_text(m.length_mm), tip)

    # -- what the table shows (for scripts and tests) ----------------------------------------

    def row_count(self) -> int:
        """Number of rows shown."""
        return int(self.table.rowCount())

    def cell_text(self, row: int, column: int | str) -> str:
        """Text of a cell (the finding picker's choice for the Finding column)."""
        c = COL[column] if isinstance(column, str) else int(column)
        widget = self.table.cellWidget(row, c)
        if isinstance(widget, QComboBox):
            return str(widget.currentText())
        item = self.table.item(row, c)
        return "" if item is None else str(item.text())

    def cell_color(self, row: int, column: int | str) -> str | None:
        """Background colour of a cell as ``#rrggbb``, None when not coloured."""
        c = COL[column] if isinstance(column, str) else int(column)
        item = self.table.item(row, c)
        if item is None or item.background().style() == Qt.BrushStyle.NoBrush:
            return None
        return str(item.background().color().name())

    def row_of(self, name: str) -> int:
        """Index of the row whose Name column is ``name`` (or ends with ``: name``)."""
        for r in range(self.row_count()):
            text = self.cell_text(r, "Name")
            if text == name or text.endswith(f": {name}"):
                return r
        names = [self.cell_text(r, "Name") for r in range(self.row_count())]
        raise KeyError(f"No row named {name!r}; rows: {names}")

    # -- export -----------------------------------------------------------------------------

    def export_csv(self, path: str | Path) -> Path:
        """Write the table as CSV (atomically); returns the path."""
        self.update_rows()
        self.report.export_csv(str(path))
        return Path(path)

    def export_json(self, path: str | Path) -> Path:
        """Write the table as JSON (atomically); returns the path."""
        self.update_rows()
        self.report.export_json(str(path))
        return Path(path)

    def _export_dialog(self, kind: str) -> None:
        from napari.utils.notifications import show_error, show_info

        filt = "CSV (*.csv)" if kind == "csv" else "JSON (*.json)"
        path, _ = QFileDialog.getSaveFileName(
            self, f"Export measurements ({kind.upper()})", f"measurements.{kind}", filt
        )
        if not path:
            return
        try:
            out = self.export_csv(path) if kind == "csv" else self.export_json(path)
        except Exception as err:  # the button's boundary: one line, never a traceback
            show_error(f"Export failed: {_reason(err, path)}")
            return
        show_info(f"Measurements written to {out}")

    # -- events -----------------------------------------------------------------------------

    def _on_labels_changed(self, layer: Any) -> None:
        if not self._ready:
            return
        if layer is not None:
            self._take_case_of(layer)
            for ev in (layer.events.paint, layer.events.data):
                self._napari.connect(ev, self._on_labels_edited)
        self.refresh()

    def _take_case_of(self, layer: Any) -> None:
        """Compare with the case the layer names (unless the user chose another case)."""
        info = CaseLayerInfo.from_metadata(layer.metadata)
        self._overrides = {} if info is None else dict(info.label_findings)
        self._unmatched.clear()
        if info is None or not info.case_path:
            return
        if self._case is not None and not self._case_from_layer:
            return
        if self._case is not None and str(self._case.path) == info.case_path:
            return
        try:
            self._case = load_case(info.case_path)
        except Exception as err:  # a layer's case file that cannot be read is a note
            self._notes.append(_reason(err, info.case_path))
            return
        self._case_from_layer = True
        self.case_edit.setText(info.case_path)

    def _on_layer_inserted(self, event: Any = None) -> None:
        """Measure a findings layer of the Case overlay as soon as it is added (a new fit)."""
        from napari.layers import Labels

        layer = getattr(event, "value", None)
        if not isinstance(layer, Labels) or not is_3d(layer):
            return
        info = CaseLayerInfo.from_metadata(layer.metadata)
        if info is not None and info.kind == OverlayLayerKind.FINDINGS:
            self.set_labels_layer(layer)

    def _on_ct_changed(self, layer: Any = None) -> None:
        if self._ready:
            self.refresh()

    def _on_labels_edited(self, event: Any = None) -> None:
        note = "Labels changed since they were measured: press Measure."
        if note not in self._notes:
            self._notes.append(note)
            self.status_label.setText(self.status_label.text() + "; " + note)

    def _on_case_edited(self) -> None:
        from napari.utils.notifications import show_error

        text = self.case_edit.text().strip()
        if text == ("" if self._case is None else str(self._case.path)):
            return
        try:
            self.set_case(text or None)
        except Exception as err:  # the field's boundary: one line, never a traceback
            show_error(_reason(err, text))

    def _browse_case(self) -> None:

        start = str(default_case_path().parent)
        path, _ = QFileDialog.getOpenFileName(self, "Case file", start, "Case files (*.yaml *.yml)")
        if path:
            self._set_case_or_show(path)

    def _set_case_or_show(self, path: str | Path) -> None:
        from napari.utils.notifications import show_error

        try:
            self.set_case(path)
        except Exception as err:  # a button's boundary: one line, never a traceback
            show_error(_reason(err, str(path)))

    def _on_layers_changed(self, event: Any = None) -> None:
        self._watch_tool_layers()
        self.update_rows()

    def _watch_tool_layers(self) -> None:
        for layer in mt.tool_layers(self._viewer):
            if any(w is layer for w in self._watched):
                continue
            mt.attach(layer, self._viewer)
            self._napari.connect(layer.events.data, self._on_tool_data, position="last")
            self._watched.append(layer)
        self._watched = [w for w in self._watched if w in self._viewer.layers]

    def _on_tool_data(self, event: Any = None) -> None:
        action = str(getattr(event, "action", "")).split(".")[-1].lower()
        if not action.endswith("ing"):
            self.update_rows()

    def _on_double_click(self, row: int, column: int) -> None:
        n_regions = len(self.report.regions)
        if row < n_regions:
            self.show_region_axes(self.report.regions[row].region.label)
        elif row - n_regions < len(self.report.manual):
            mt.jump_to_lps(self._viewer, self.report.manual[row - n_regions].start_lps)

    def show_region_axes(self, label: int) -> None:
        """Draw region ``label``'s RECIST long and short axes and go to their section."""
        for m in self._regions:
            if m.label == int(label):
                mt.add_recist_lines(
                    self._viewer,
                    m.recist,
                    source=f"label {m.label} ({m.name}), section {m.recist.section_index}",
                )
                return
        raise KeyError(f"No measured region with label {label}.")


def _reason(err: BaseException, where: str) -> str:
    """A domain error's own message; for anything else, the line naming ``where``."""
    return str(err) if isinstance(err, IvcviewerError) else failure_text(err, where)


__all__ = ["COLUMNS", "FAIL_COLOR", "PASS_COLOR", "MeasurementTableWidget", "compared_rows"]

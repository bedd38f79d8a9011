"""Dock widget "Geometry report": spacing, tilt, gaps and HU rescale of the selected CT layer.

The widget only reads ``layer.metadata`` written by
:func:`ivcviewer._napari.layers.image_layer_data` (keys ``geometry`` and ``geometry_report``);
:func:`report_rows` builds its rows and is testable without Qt.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from magicgui.widgets import Container, Label, Table
from qtpy.QtWidgets import QAbstractItemView

if TYPE_CHECKING:
    import napari

#: Title shown when the selected layer carries no ivcviewer geometry.
NO_LAYER_TEXT = "Select a CT layer opened by ivcviewer."


def _fmt(values: Any, sep: str = ", ") -> str:
    return sep.join(f"{float(v):.4g}" for v in values)


def _tilt_text(tilt_deg: float, reported: bool, resampled: bool, extended: bool = False) -> str:
    """The gantry tilt row: kept as a sheared grid, removed by resampling, or none.

    ``extended``: the resampled grid was extended to hold every source voxel (its
    ``grid_extended`` report item gives the shapes, rows added and origin shift).

    >>> _tilt_text(15.0, True, False), _tilt_text(0.0, True, True), _tilt_text(0.0, False, False)
    ('15.00 deg, kept (sheared grid)', 'removed (resampled to an orthogonal grid)', 'none')
    >>> _tilt_text(0.0, True, True, extended=True)
    'removed (resampled to an orthogonal grid, extended to hold every source voxel)'
    """
    if tilt_deg >= 1e-3:
        return f"{tilt_deg:.2f} deg, kept (sheared grid)"
    if reported:
        if not resampled:
            return "reported (see below)"
        grown = ", extended to hold every source voxel" if extended else ""
        return f"removed (resampled to an orthogonal grid{grown})"
    return "none"


def report_rows(metadata: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Rows ``(item, value)`` describing a layer's geometry; empty without ivcviewer metadata.

    Examples
    --------
    >>> md = {"geometry": {"shape": [20, 48, 48], "spacing_mm": [2.5, 0.7, 0.7], "axes": "SPL",
    ...       "orientation": "axial", "tilt_deg": 0.0, "gaps": [], "rescale": "applied",
    ...       "window": (40.0, 400.0), "modality": "CT", "report": []}}
    >>> dict(report_rows(md))["Spacing (mm)"]
    '2.5, 0.7, 0.7 (slice, row, col)'
    """
    g = metadata.get("geometry")
    if not isinstance(g, Mapping):
        return []
    tilt = float(g.get("tilt_deg", 0.0))
    items = metadata.get("geometry_report", g.get("report", []))
    extended = any(item.get("code") == "grid_extended" for item in items)
    rows = [
        ("Series", str(metadata.get("description") or metadata.get("series_uid") or "")),
        ("Modality", str(g.get("modality", ""))),
        ("Orientation", f"{g.get('orientation', '')} (voxel axes {g.get('axes', '')})"),
        ("Shape", " x ".join(str(n) for n in g.get("shape", [])) + " (slice, row, col)"),
        ("Spacing (mm)", _fmt(g.get("spacing_mm", [])) + " (slice, row, col)"),
        (
            "Gantry tilt",
            _tilt_text(tilt, bool(g.get("tilt_reported")), bool(g.get("resampled")), extended),
        ),
        ("Gaps", "; ".join(g.get("gaps", [])) or "none"),
        ("Rescale to HU", str(g.get("rescale", ""))),
        ("Window (C / W)", _fmt(g.get("window", ()), " / ")),
    ]
    for item in items:
        rows.append((f"{item['severity']}: {item['code']}", str(item["message"])))
    return rows


def _table_value(rows: list[tuple[str, str]]) -> dict[str, Any]:
    """magicgui Table value in the "split" form (all three keys are needed)."""
    return {
        "data": [list(r) for r in rows],
        "index": [str(i + 1) for i in range(len(rows))],
        "columns": ["item", "value"],
    }


class GeometryReportWidget(Container):
    """Shows :func:`report_rows` of the active layer; follows the layer selection.

    Parameters
    ----------
    napari_viewer
        The viewer (injected by napari).
    """

    def __init__(self, napari_viewer: napari.viewer.Viewer) -> None:
        super().__init__(labels=False)
        self._viewer = napari_viewer
        self._title = Label(value=NO_LAYER_TEXT)
        self._table = Table(value=_table_value([]))
        table = self._table.native
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.verticalHeader().setVisible(False)
        table.horizontalHeader().setStretchLastSection(True)
        table.setWordWrap(True)
        self.extend([self._title, self._table])
        napari_viewer.layers.selection.events.active.connect(self._on_active)
        self.refresh()

    @property
    def rows(self) -> list[tuple[str, str]]:
        """The rows now shown."""
        return [(str(r[0]), str(r[1])) for r in self._table.data.to_list()]

    @property
    def title(self) -> str:
        """The title line now shown."""
        return str(self._title.value)

    def _on_active(self, event: Any = None) -> None:
        self.refresh()

    def refresh(self) -> None:
        """Show the report of the active layer (or say that there is none)."""
        layer = self._viewer.layers.selection.active
        rows = report_rows(layer.metadata) if layer is not None else []
        if not rows:
            self._title.value = NO_LAYER_TEXT
            self._table.value = _table_value([])
            return
        self._title.value = f"Geometry of '{layer.name}'"
        self._table.value = _table_value(rows)
        table = self._table.native
        for r, (_, value) in enumerate(rows):
            item = table.item(r, 1)
            if item is not None:
                item.setToolTip(value)  # the full text when the dock is narrow
        table.resizeColumnToContents(0)
        table.resizeRowsToContents()


#: The plugin's name in napari.yaml and the widget's display name there.
PLUGIN_NAME = "ivcviewer"
WIDGET_NAME = "Geometry report"


def dock_geometry_report(viewer: napari.viewer.Viewer) -> GeometryReportWidget | None:
    """Dock the geometry report in ``viewer`` once (no-op without a window); returns it.

    Uses the plugin's widget contribution when the plugin is registered with napari, so the
    widget is the one the Plugins menu opens; otherwise docks a new widget under the same name.
    """
    from npe2 import PluginManager

    window = getattr(viewer, "window", None)
    if window is None or getattr(window, "_qt_window", None) is None:
        return None
    try:
        PluginManager.instance().get_manifest(PLUGIN_NAME)
    except KeyError:
        for name, existing in window.dock_widgets.items():
            if WIDGET_NAME in name and isinstance(existing, GeometryReportWidget):
                return existing
        widget = GeometryReportWidget(viewer)
        window.add_dock_widget(widget, name=WIDGET_NAME)
        return widget
    _, widget = window.add_plugin_dock_widget(PLUGIN_NAME, WIDGET_NAME)
    return widget if isinstance(widget, GeometryReportWidget) else None

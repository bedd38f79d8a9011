"""The "Geometry report" dock widget follows the selected layer and lists its geometry."""

from __future__ import annotations

import numpy as np
import pytest
from _napari_factory import GEOMETRIES, unique_volume

pytestmark = pytest.mark.napari

napari = pytest.importorskip("napari")
from napari.layers import Layer  # noqa: E402

from ivcviewer._napari.layers import image_layer_data  # noqa: E402
from ivcviewer._napari.widgets.geometry_report import (  # noqa: E402
    NO_LAYER_TEXT,
    GeometryReportWidget,
    dock_geometry_report,
    report_rows,
)


def test_rows_without_ivcviewer_metadata_are_empty() -> None:
    assert report_rows({}) == []
    assert report_rows({"geometry": "not a mapping"}) == []


def test_widget_follows_the_selected_layer(make_napari_viewer) -> None:
    viewer = make_napari_viewer(show=True)
    widget = dock_geometry_report(viewer)
    assert isinstance(widget, GeometryReportWidget)
    assert dock_geometry_report(viewer) is widget  # docked once
    assert widget.title == NO_LAYER_TEXT and widget.rows == []

    tilted = unique_volume(GEOMETRIES["tilted"])
    tilted.report.add("gantry_tilt", "warning", "15.00 degree gantry tilt kept as a sheared grid")
    tilted.report.add("missing_slices", "warning", "1 slice missing after slice 7")
    tilted.report.add("no_rescale", "warning", "no RescaleSlope/Intercept")
    ct = viewer.add_layer(Layer.create(*image_layer_data(tilted)))
    rows = dict(widget.rows)
    assert widget.title == "Geometry of 'tilted unique'"
    assert rows["Gantry tilt"] == "15.00 deg, kept (sheared grid)"
    assert rows["Gaps"] == "missing_slices: 1 slice missing after slice 7"
    assert rows["Rescale to HU"] == "missing"
    assert rows["Spacing (mm)"] == "3, 0.75, 0.75 (slice, row, col)"
    assert rows["Shape"] == "20 x 48 x 48 (slice, row, col)"
    assert rows["warning: gantry_tilt"].startswith("15.00 degree")
    gaps_row = [r for r, (item, _) in enumerate(widget.rows) if item == "Gaps"][0]
    assert widget.native.findChild(type(widget._table.native)).item(gaps_row, 1).toolTip() == (
        "missing_slices: 1 slice missing after slice 7"
    )

    plain = viewer.add_image(np.zeros((4, 4)), name="not a CT")
    viewer.layers.selection.active = plain
    assert widget.title == NO_LAYER_TEXT and widget.rows == []
    viewer.layers.selection.active = ct
    assert dict(widget.rows)["Orientation"] == "axial (voxel axes SPL)"

"""The measurement table reads back a measurement report (DICOM SR TID 1500) ivcviewer wrote.

A small CT is written as DICOM here, a label map with two regions is exported as a SEG and an
SR (with the packaged case's reported figures); the table, in a shown viewer, lists the
report's regions with :func:`ivcviewer.interop.sr_read.read_sr`'s values, beside the same regions
measured afresh from the Labels layer.
"""

from __future__ import annotations

import csv
import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest
from _small_ct_factory import REGION_NAMES, write_small_ct

from ivcviewer.annotations import default_case_path
from ivcviewer.io.labels import LabelTable
from ivcviewer.measure import PATIENT_AXES

pytestmark = pytest.mark.napari

napari = pytest.importorskip("napari")
pytest.importorskip("highdicom")
from napari.layers import Layer  # noqa: E402

from ivcviewer._napari.layers import image_layer_data, labels_layer_data  # noqa: E402
from ivcviewer._napari.widgets.measure_table import MeasurementTableWidget  # noqa: E402
from ivcviewer.interop.sr_read import SRReadError, read_sr  # noqa: E402
from ivcviewer.workflows.export import export_seg  # noqa: E402
from ivcviewer.workflows.export_sr import export_sr  # noqa: E402

NAMES = REGION_NAMES
#: Columns whose text a fresh measurement and the report's row share (same figures, same form).
FIGURE_COLUMNS = (
    "Long x short / length mm",
    "Max 3D mm",
    "Volume mL",
    "HU mean \N{PLUS-MINUS SIGN} SD",
)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("sr")
    written = write_small_ct(folder / "ct", seed=1, uid_seed="table-sr", mass_contrast=30)
    ct, labels = written.ct, written.labels
    table = LabelTable.from_names(NAMES)
    (folder / "out").mkdir()
    case = default_case_path()
    seg = export_seg(labels, ct, folder / "out" / "seg.dcm", table=table, case=case)
    sr = export_sr(labels, ct, seg, folder / "out" / "sr.dcm", table=table, case=case)
    return {"ct": ct, "labels": labels, "sr": sr, "rows": read_sr(sr), "folder": folder}


def _numbers(text: str) -> list[float]:
    return [
        float(t)
        for t in text.replace("(", " ").replace(")", " ").replace("x", " ").split()
        if t.replace(".", "", 1).lstrip("-").isdigit()
    ]


def test_the_report_reads_into_the_table(make_napari_viewer, report, tmp_path: Path) -> None:
    viewer = make_napari_viewer(show=True)
    viewer.add_layer(Layer.create(*image_layer_data(report["ct"])))
    viewer.add_layer(Layer.create(*labels_layer_data(report["labels"], NAMES)))
    widget = MeasurementTableWidget(viewer)
    viewer.window.add_dock_widget(widget, name="Measurement table")
    assert widget.row_count() == 2  # the two regions measured from the layer
    rows = report["rows"]
    assert [r.name for r in rows] == ["mass", "intravascular_tumour"]
    assert any(r.reported_mm for r in rows), "the case's figures were not recorded"

    assert widget.load_sr(report["sr"]) == rows
    assert widget.row_count() == 2 + len(rows)
    for k, r in enumerate(rows):
        at = 2 + k
        assert widget.cell_text(at, "Kind") == "SR region"
        assert widget.cell_text(at, "Name") == f"{r.label}: {r.name}"
        assert widget.cell_text(at, "Finding") == (r.finding_id or r.finding)
        for ax, column in zip(
            PATIENT_AXES, ("LR mm (reported)", "AP mm (reported)", "CC mm (reported)"), strict=True
        ):
            want = [r.extents_mm[ax]] + ([r.reported_mm[ax]] if ax in r.reported_mm else [])
            assert _numbers(widget.cell_text(at, column)) == pytest.approx(want, abs=0.05)
        assert _numbers(widget.cell_text(at, "Long x short / length mm")) == pytest.approx(
            [r.long_axis_mm, r.short_axis_mm], abs=0.05
        )
        assert float(widget.cell_text(at, "Max 3D mm")) == pytest.approx(
            r.max_diameter_mm, abs=0.05
        )
        assert float(widget.cell_text(at, "Volume mL")) == pytest.approx(r.volume_ml, abs=0.005)
        assert r.hu_mean is not None and r.hu_std is not None
        assert _numbers(widget.cell_text(at, "HU mean \N{PLUS-MINUS SIGN} SD")) == pytest.approx(
            [r.hu_mean, r.hu_std], abs=0.05
        )
        # the report holds what a fresh measurement of the same region shows
        fresh = widget.row_of(r.name)
        assert fresh < 2
        for column in FIGURE_COLUMNS:
            assert widget.cell_text(at, column) == widget.cell_text(fresh, column)
    assert f"{len(rows)} regions from sr.dcm" in widget.status_label.text()

    # the exports carry the report's rows (mm, mL, HU), after the measured ones
    doc = json.loads(widget.export_json(tmp_path / "table.json").read_text())
    assert doc["sr_report"]["path"] == str(report["sr"])
    assert doc["sr_report"]["regions"] == [json.loads(json.dumps(asdict(r))) for r in rows]
    with widget.export_csv(tmp_path / "table.csv").open(newline="") as f:
        exported = [c for c in csv.DictReader(f) if c["kind"] == "sr_region"]
    assert [c["name"] for c in exported] == [r.name for r in rows]
    for c, r in zip(exported, rows, strict=True):
        assert float(c["volume_ml"]) == pytest.approx(r.volume_ml, abs=1e-4)
        assert float(c["max_diameter_mm"]) == pytest.approx(r.max_diameter_mm, abs=1e-4)
        for ax in PATIENT_AXES:
            assert float(c[f"{ax}_mm"]) == pytest.approx(r.extents_mm[ax], abs=1e-4)
            want = r.reported_mm.get(ax)
            assert (c[f"reported_{ax}_mm"] == "") == (want is None)

    # a re-measure keeps the report's rows; None removes them
    widget.refresh()
    assert widget.row_count() == 2 + len(rows)
    widget.load_sr(None)
    assert widget.row_count() == 2


def test_a_file_that_is_no_report_is_refused_and_the_rows_stay(make_napari_viewer, report) -> None:
    viewer = make_napari_viewer(show=True)
    widget = MeasurementTableWidget(viewer)
    viewer.window.add_dock_widget(widget, name="Measurement table")
    widget.load_sr(report["sr"])
    shown = widget.row_count()
    assert shown == len(report["rows"])
    ct_file = sorted((report["folder"] / "ct").iterdir())[0]
    with pytest.raises(SRReadError, match="not a measurement report"):
        widget.load_sr(ct_file)
    assert widget.row_count() == shown


def test_opening_a_report_fills_the_measurement_table(make_napari_viewer, report) -> None:
    viewer = make_napari_viewer(show=True)
    added = viewer.open(report["sr"], plugin="ivcviewer")
    assert added == [] and len(viewer.layers) == 0  # a report has no image
    _dock, widget = viewer.window.add_plugin_dock_widget("ivcviewer", "Measurement table")
    assert isinstance(widget, MeasurementTableWidget)
    assert widget.sr_rows == report["rows"]
    assert widget.row_count() == len(report["rows"])
    assert widget.cell_text(0, "Name") == f"{report['rows'][0].label}: {report['rows'][0].name}"

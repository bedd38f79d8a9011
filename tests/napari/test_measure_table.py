"""The measurement table widget: regions beside reported figures, manual measurements, export.

The label map is built here on an anisotropic axial grid (2.5 x 2.0 x 6.0 mm): a box at the
case's reported size (105 x 89 x 132 mm), the same box shrunk by 10%, and a small region no
finding reports.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from ivcviewer import measure
from ivcviewer.annotations import default_case_path
from ivcviewer.geometry import affine_from_dicom
from ivcviewer.volume import Volume, VolumeMetadata

pytestmark = pytest.mark.napari

napari = pytest.importorskip("napari")
from napari.layers import Layer  # noqa: E402

from ivcviewer._napari import measure_tools as mt  # noqa: E402
from ivcviewer._napari.layers import image_layer_data, labels_layer_data  # noqa: E402
from ivcviewer._napari.measure_report import BIDIRECTIONAL, CSV_COLUMNS, RULER  # noqa: E402
from ivcviewer._napari.widgets.measure_table import (  # noqa: E402
    FAIL_COLOR,
    PASS_COLOR,
    MeasurementTableWidget,
)

#: Column, row and slice spacing (mm): LR, AP, CC steps of the axial grid.
COL_MM, ROW_MM, SLICE_MM = 2.5, 2.0, 6.0
AFFINE = affine_from_dicom(
    [1, 0, 0, 0, 1, 0], [-120.0, -60.0, -80.0], [ROW_MM, COL_MM], [0.0, 0.0, SLICE_MM]
)
SHAPE = (24, 50, 96)
NAMES = {1: "mass", 2: "mass shrunk 10%", 3: "small region"}
#: The case file's reported extents of the mass (mm).
REPORTED = {"lr": 105.0, "ap": 89.0, "cc": 132.0}


def _boxes() -> tuple[Volume, Volume]:
    """Label map and CT on the anisotropic grid."""
    labels = np.zeros(SHAPE, np.uint8)
    # at the reported size: 42 columns x 45 rows x 22 slices = 105 x 90 x 132 mm
    labels[1:23, 2:47, 2:44] = 1
    # shrunk by 10%: 38 x 40 x 20 voxels = 95 x 80 x 120 mm
    labels[2:22, 5:45, 52:90] = 2
    labels[5:8, 10:14, 46:50] = 3
    ct = np.full(SHAPE, -100, np.int16)
    rows = np.arange(SHAPE[1])[None, :, None]
    ct[labels == 1] = np.broadcast_to(30 + 10 * (rows % 3), SHAPE)[labels == 1]
    ct[labels == 2] = 55
    ct[labels == 3] = 200
    meta = VolumeMetadata(description="boxes CT", series_uid="1.2.3")
    return Volume(labels, AFFINE), Volume(ct, AFFINE, meta)


@pytest.fixture
def table(make_napari_viewer):
    viewer = make_napari_viewer(show=True)
    labels_vol, ct_vol = _boxes()
    ct = viewer.add_layer(Layer.create(*image_layer_data(ct_vol)))
    labels = viewer.add_layer(Layer.create(*labels_layer_data(labels_vol, NAMES)))
    widget = MeasurementTableWidget(viewer)
    viewer.window.add_dock_widget(widget, name="Measurement table")
    assert widget.labels_layer is labels and widget.ct_combo.layer() is ct
    return viewer, widget, labels_vol, ct_vol


def test_regions_are_listed_with_measures_figures(table) -> None:
    _, widget, labels_vol, ct_vol = table
    expected = measure.measure_labels(labels_vol, NAMES, ct_vol)
    assert widget.row_count() == 3
    for m in expected:
        r = widget.row_of(m.name)
        assert widget.cell_text(r, "Kind") == "region"
        assert widget.cell_text(r, "Name") == f"{m.label}: {m.name}"
        for ax, col in (
            ("lr", "LR mm (reported)"),
            ("ap", "AP mm (reported)"),
            ("cc", "CC mm (reported)"),
        ):
            assert widget.cell_text(r, col) == f"{m.extents_mm[ax]:.1f}"
            assert widget.cell_color(r, col) is None  # no case file: nothing to compare
        assert widget.cell_text(r, "Long x short / length mm") == (
            f"{m.recist.long_mm:.1f} x {m.recist.short_mm:.1f}"
        )
        assert widget.cell_text(r, "Max 3D mm") == f"{m.max_diameter.length_mm:.1f}"
        assert widget.cell_text(r, "Volume mL") == f"{m.volume_ml:.2f}"
        assert m.hu is not None
        assert widget.cell_text(r, 11) == f"{m.hu.mean:.1f} \N{PLUS-MINUS SIGN} {m.hu.std:.1f}"
        # the table measured the displayed layer exactly as the core measures the volume
        (shown,) = [x.region for x in widget.report.regions if x.region.label == m.label]
        assert shown.extents_mm == pytest.approx(m.extents_mm, abs=1e-9)
    mass = widget.row_of("mass")
    assert [widget.cell_text(mass, c) for c in (3, 4, 5)] == ["105.0", "90.0", "132.0"]
    assert widget.cell_text(mass, 11) == "40.0 \N{PLUS-MINUS SIGN} 8.2"


def test_reported_figures_pass_and_a_region_shrunk_by_10_percent_fails(table) -> None:
    _, widget, _, _ = table
    widget.set_case(default_case_path())
    mass, shrunk, small = (widget.row_of(n) for n in NAMES.values())
    assert widget.cell_text(mass, "Finding") == "mass"  # matched by the finding's id
    assert widget.cell_text(mass, "LR mm (reported)") == "105.0 (105.0)"
    assert widget.cell_text(mass, "AP mm (reported)") == "90.0 (89.0)"
    assert widget.cell_text(mass, "CC mm (reported)") == "132.0 (132.0)"
    for col in ("LR mm (reported)", "AP mm (reported)", "CC mm (reported)", "By axis", "Any order"):
        assert widget.cell_color(mass, col) == PASS_COLOR, col
    assert widget.cell_text(mass, "By axis") == "pass"
    assert widget.cell_text(mass, "Any order") == "pass"
    # the others have no finding of their own: shown, not compared
    for r in (shrunk, small):
        assert widget.cell_text(r, "Finding") == "\N{EM DASH}"
        assert widget.cell_color(r, "By axis") is None

    widget.assign_finding(2, "mass")
    shrunk = widget.row_of("mass shrunk 10%")
    assert widget.cell_text(shrunk, "LR mm (reported)") == "95.0 (105.0)"
    for col in ("LR mm (reported)", "AP mm (reported)", "CC mm (reported)", "By axis", "Any order"):
        assert widget.cell_color(shrunk, col) == FAIL_COLOR, col
    assert widget.cell_text(shrunk, "By axis") == "fail"
    assert "1 of 2 compared regions pass axis by axis" in widget.status_label.text()
    rows = {r.region.label: r for r in widget.report.regions}
    assert rows[1].comparison is not None and rows[1].comparison.passed_order_free
    assert rows[2].comparison is not None and not rows[2].comparison.passed_order_free
    # the same comparison as the core's
    core = measure.compare_extents(
        rows[2].region.extents_mm, REPORTED, rows[2].region.voxel_extent_mm
    )
    assert rows[2].comparison == core

    # a looser tolerance (12%) lets the shrunk region pass; "no finding" removes it again
    widget.set_tolerance(0.12)
    assert widget.cell_color(widget.row_of("mass shrunk 10%"), "By axis") == PASS_COLOR
    widget.assign_finding(2, None)
    assert widget.cell_color(widget.row_of("mass shrunk 10%"), "By axis") is None
    widget.set_case(None)
    assert widget.cell_color(widget.row_of("mass"), "By axis") is None


def test_manual_measurements_follow_the_tool_layers(table) -> None:
    viewer, widget, _, _ = table
    ruler = mt.ensure_tool_layer(viewer, RULER)
    p, q = np.array([-100.0, -40.0, -50.0]), np.array([-70.0, 0.0, 10.0])  # across slices
    mt.add_line_lps(ruler, p, q)
    bidi = mt.ensure_tool_layer(viewer, BIDIRECTIONAL)
    c = np.array([-60.0, -10.0, -20.0])
    mt.add_line_lps(bidi, c - [20, 0, 0], c + [20, 0, 0])
    assert widget.row_count() == 4  # the single line is not a bidirectional yet
    mt.add_line_lps(bidi, c - [0, 6, 0], c + [0, 6, 0])
    assert widget.row_count() == 5
    r = widget.row_of("Ruler 1")
    assert widget.cell_text(r, "Kind") == "ruler"
    assert widget.cell_text(r, "Long x short / length mm") == f"{np.linalg.norm(q - p):.1f}"
    b = widget.row_of("Bidirectional 1")
    assert widget.cell_text(b, "Long x short / length mm") == "40.0 x 12.0"
    # drawing the region's RECIST axes adds a bidirectional row computed from the region
    widget.show_region_axes(1)
    assert widget.row_count() == 6
    (m,) = [x for x in widget.report.manual if x.name == "Bidirectional 2"]
    mass = [x.region for x in widget.report.regions if x.region.label == 1][0]
    assert m.length_mm == pytest.approx(mass.recist.long_mm, abs=1e-3)
    assert m.short_mm == pytest.approx(mass.recist.short_mm, abs=1e-3)
    assert m.source.startswith("label 1 (mass), section")
    ruler.data = []
    assert widget.row_count() == 5


def test_export_csv_and_json(table, tmp_path: Path) -> None:
    viewer, widget, labels_vol, ct_vol = table
    widget.set_case(default_case_path())
    widget.assign_finding(2, "mass")
    ruler = mt.ensure_tool_layer(viewer, RULER)
    p, q = np.array([-100.0, -40.0, -50.0]), np.array([-70.0, 0.0, -50.0])
    mt.add_line_lps(ruler, p, q)

    out_csv = widget.export_csv(tmp_path / "m.csv")
    out_json = widget.export_json(tmp_path / "m.json")
    assert sorted(x.name for x in tmp_path.iterdir()) == ["m.csv", "m.json"]  # no temp files

    with out_csv.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        assert tuple(reader.fieldnames or ()) == CSV_COLUMNS
        rows = list(reader)
    by_name = {r["name"]: r for r in rows}
    assert [r["kind"] for r in rows] == ["region", "region", "region", "ruler"]
    mass = by_name["mass"]
    assert (mass["lr_mm"], mass["ap_mm"], mass["cc_mm"]) == ("105.0000", "90.0000", "132.0000")
    assert (mass["reported_ap_mm"], mass["difference_ap_mm"]) == ("89.0000", "1.0000")
    assert (mass["passed_by_axis"], mass["passed_order_free"]) == ("true", "true")
    assert mass["finding"] == "mass" and mass["layer"] == "Labels"
    shrunk = by_name["mass shrunk 10%"]
    assert (shrunk["passed_by_axis"], shrunk["difference_lr_mm"]) == ("false", "-10.0000")
    assert by_name["small region"]["passed_by_axis"] == ""
    assert float(by_name["Ruler 1"]["length_mm"]) == pytest.approx(50.0, abs=1e-3)
    assert by_name["Ruler 1"]["start_lps"] == "-100.0000 -40.0000 -50.0000"

    data = json.loads(out_json.read_text(encoding="utf-8"))
    assert data["schema_version"] == 1 and data["units"]["length"] == "mm"
    assert data["case"] == str(default_case_path()) and data["tolerance_rel"] == 0.02
    assert (data["labels_layer"], data["ct_layer"]) == ("Labels", "boxes CT")
    expected = {m.label: m for m in measure.measure_labels(labels_vol, NAMES, ct_vol)}
    for region in data["regions"]:
        m = expected[region["label"]]
        assert region["extents_mm"] == pytest.approx(m.extents_mm, abs=1e-9)
        assert region["volume_ml"] == pytest.approx(m.volume_ml)
        assert region["hu"]["mean"] == pytest.approx(m.hu.mean)
        assert region["recist"]["long_axis"]["length_mm"] == pytest.approx(m.recist.long_mm)
    regions = {r["name"]: r for r in data["regions"]}
    assert regions["mass"]["comparison"]["passed_by_axis"] is True
    assert regions["mass"]["reported_mm"] == REPORTED
    assert regions["mass"]["axes_assumed"] is True
    assert regions["mass shrunk 10%"]["comparison"]["passed_by_axis"] is False
    assert regions["small region"]["comparison"] is None
    (r1,) = data["rulers"]
    assert r1["length_mm"] == pytest.approx(50.0, abs=1e-3)
    assert r1["delta_mm"] == pytest.approx({"lr": 30.0, "ap": 40.0, "cc": 0.0}, abs=1e-3)
    assert data["bidirectionals"] == []


def test_ct_on_another_grid_gives_no_hu(make_napari_viewer) -> None:
    viewer = make_napari_viewer(show=True)
    labels_vol, ct_vol = _boxes()
    other = Volume(ct_vol.array[:, :, :90], ct_vol.affine, ct_vol.metadata)
    viewer.add_layer(Layer.create(*image_layer_data(other)))
    viewer.add_layer(Layer.create(*labels_layer_data(labels_vol, NAMES)))
    widget = MeasurementTableWidget(viewer)
    assert widget.row_count() == 3
    assert widget.cell_text(widget.row_of("mass"), 11) == ""
    assert "HU not measured" in widget.status_label.text()
    assert widget.report.notes and "not on the grid" in widget.report.notes[0]


@pytest.mark.slow
def test_phantom_mass_passes_and_shrunk_mass_fails(make_napari_viewer) -> None:
    from scipy import ndimage

    from ivcviewer.phantom import build_phantom

    phantom = build_phantom("small")
    mask = phantom.mask("mass")
    # the mass scaled by 0.9 about its centroid, as the only region of a second label map
    centre = np.array(ndimage.center_of_mass(mask))
    matrix = np.eye(3) / 0.9
    shrunk = ndimage.affine_transform(
        mask.astype(np.uint8), matrix, offset=centre - matrix @ centre, order=0
    )
    viewer = make_napari_viewer(show=True)
    viewer.add_layer(Layer.create(*image_layer_data(phantom.ct)))
    full = viewer.add_layer(
        Layer.create(*labels_layer_data(phantom.labels, phantom.label_names(), name="truth"))
    )
    small = viewer.add_layer(
        Layer.create(
            *labels_layer_data(Volume(shrunk, phantom.labels.affine), {1: "mass"}, name="shrunk")
        )
    )
    widget = MeasurementTableWidget(viewer)
    widget.set_case(default_case_path())
    widget.set_labels_layer(full)
    rows = {r.region.name: r for r in widget.report.regions}
    mass = rows["mass"]
    assert mass.comparison is not None and mass.comparison.passed_by_axis
    for ax, reported in REPORTED.items():
        assert abs(mass.region.extents_mm[ax] - reported) <= mass.region.voxel_extent_mm[ax]
    assert widget.cell_color(widget.row_of("mass"), "By axis") == PASS_COLOR
    assert widget.report.regions[0].region.hu is not None  # the phantom CT is on its grid

    widget.set_labels_layer(small)
    (bad,) = widget.report.regions
    assert bad.finding is not None and bad.finding.id == "mass"
    assert bad.comparison is not None and not bad.comparison.passed_by_axis
    assert widget.cell_color(widget.row_of("mass"), "By axis") == FAIL_COLOR


def test_widgets_are_in_the_manifest() -> None:
    from importlib import import_module

    from npe2 import PluginManifest

    import ivcviewer

    manifest = PluginManifest.from_file(Path(ivcviewer.__file__).parent / "napari.yaml")
    commands = {c.id: c.python_name for c in manifest.contributions.commands or []}
    widgets = {w.display_name: commands[w.command] for w in manifest.contributions.widgets or []}
    assert widgets["Geometry report"].endswith("GeometryReportWidget")
    for name, cls in (
        ("Measurement table", "MeasurementTableWidget"),
        ("Measurement tools", "MeasureToolboxWidget"),
    ):
        module, attr = widgets[name].split(":")
        assert attr == cls and isinstance(getattr(import_module(module), attr), type)


def test_a_closed_table_leaves_the_viewer_working(table, qtbot) -> None:
    viewer, widget, labels_vol, _ = table
    combo = widget.labels_combo
    with qtbot.waitSignal(widget.destroyed, timeout=5000):
        viewer.window.remove_dock_widget(widget)
        widget.deleteLater()
    assert combo.napari_connections._pairs == []
    # layer events after the widget is gone reach none of its callbacks
    ruler = mt.ensure_tool_layer(viewer, RULER)
    mt.add_line_lps(ruler, [0.0, 0.0, 0.0], [10.0, 0.0, 0.0])
    viewer.add_layer(Layer.create(*labels_layer_data(labels_vol, NAMES, name="more")))
    viewer.layers.remove("more")
    assert ruler.features["length_mm"].iloc[0] == pytest.approx(10.0)


def test_finding_ids_in_layer_metadata_choose_the_findings(table) -> None:
    viewer, widget, labels_vol, _ = table
    widget.set_case(default_case_path())
    data, kwargs, kind = labels_layer_data(labels_vol, NAMES, name="overlay")
    kwargs["metadata"]["finding_ids"] = {2: "mass"}  # as the case overlay widget writes it
    overlay = viewer.add_layer(Layer.create(data, kwargs, kind))
    widget.set_labels_layer(overlay)
    rows = {r.region.label: r for r in widget.report.regions}
    assert rows[2].finding is not None and rows[2].finding.id == "mass"
    assert widget.cell_text(widget.row_of("mass shrunk 10%"), "By axis") == "fail"
    assert rows[1].finding is not None  # still matched by its name

"""The Case overlay widget on the workflows: the same fit as the ``overlay`` command, and a fit
that the measurement table compares with its case at once.

The small phantom is written as DICOM with its truth (about a second). The label map whose
tumour is labelled apart from the IVC comes from its truth (tests/_tumour_apart_factory.py).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from _tumour_apart_factory import write_tumour_apart_labelmap

from ivcviewer import workflows
from ivcviewer.annotations import default_case_path, load_case
from ivcviewer.io import load_labels
from ivcviewer.widget_models import CaseLayerInfo, OverlayLayerKind, VolumeLayerInfo

pytestmark = pytest.mark.napari

napari = pytest.importorskip("napari")
from napari.layers import Labels, Layer  # noqa: E402

from ivcviewer._napari.reader import read_layer_data  # noqa: E402
from ivcviewer._napari.widgets.case_overlay import (  # noqa: E402
    AnatomySource,
    CaseOverlayWidget,
)
from ivcviewer._napari.widgets.measure_table import (  # noqa: E402
    FAIL_COLOR,
    PASS_COLOR,
    MeasurementTableWidget,
)


def _open(viewer, paths: list[Path]) -> list[Layer]:  # type: ignore[no-untyped-def]
    """Open files as the plugin's reader does (a label map with its table becomes Labels)."""
    tuples, _ = read_layer_data([str(p) for p in paths])
    return [viewer.add_layer(Layer.create(*t)) for t in tuples]


def _overlay(viewer, ct_layer: Layer) -> CaseOverlayWidget:  # type: ignore[no-untyped-def]
    w = CaseOverlayWidget(viewer)
    viewer.window.add_dock_widget(w, name="Case overlay")
    w.set_ct_layer(ct_layer)
    return w


def test_the_command_and_the_widget_fit_the_tumour_labelled_apart_alike(
    make_napari_viewer, phantom_dir: Path, tmp_path: Path
) -> None:
    """Both the ``overlay`` command and the Case overlay widget fit the label map whose tumour
    is labelled apart from the IVC the same way, voxel for voxel on the CT's own grid."""
    from ivcviewer.cli.main import main

    anatomy, _, _ = write_tumour_apart_labelmap(phantom_dir, tmp_path / "in" / "anatomy.nii.gz")
    out = tmp_path / "overlay"
    ct_path = phantom_dir / "ct"
    case_path = default_case_path()
    args = ["overlay", str(ct_path), "--case", str(case_path), "--anatomy", str(anatomy)]
    assert main([*args, "--out", str(out)]) == 0
    written, table = load_labels(out / "labels.nii.gz")

    viewer = make_napari_viewer(show=True)
    ct_layer, anatomy_layer = _open(viewer, [ct_path, anatomy])
    assert isinstance(anatomy_layer, Labels)
    w = _overlay(viewer, ct_layer)
    w.set_source(AnatomySource.LABELMAP_LAYER, layer=anatomy_layer)
    result = w.run()
    assert result.involvement is not None and result.involvement.mayo_level == "III"

    layer = w.findings_layer
    assert layer is not None
    shown = VolumeLayerInfo.from_metadata(layer.metadata)
    assert shown is not None
    np.testing.assert_allclose(shown.source_affine_lps, written.affine, atol=1e-4)
    on_ct_grid = shown.to_source_array(np.asarray(layer.data))
    assert on_ct_grid.shape == written.shape
    np.testing.assert_array_equal(on_ct_grid, np.asarray(written.array))
    assert {r.value: r.name for r in result.regions} == table.names
    info = CaseLayerInfo.from_metadata(layer.metadata)
    assert info is not None and info.kind == OverlayLayerKind.FINDINGS
    assert info.label_findings == {r.value: r.finding_id for r in result.regions}


def _mass_row(table: MeasurementTableWidget, value: int) -> int:
    for i, row in enumerate(table.report.regions):
        if row.region.label == value:
            return i
    raise AssertionError(f"no row for label {value}: {table.report.regions}")


def _check_mass_row(table: MeasurementTableWidget, w: CaseOverlayWidget) -> None:
    """The mass row shows the case's reported figures and pass / fail, as the workflow says."""
    result = w.result
    assert result is not None and table.labels_layer is w.findings_layer
    case = load_case(default_case_path())
    assert table.case is not None and table.case.path == case.path
    mass = result.finding("mass")
    r = _mass_row(table, int(mass.label_value))
    rep = case.finding("mass").reported_extents_mm()
    assert table.cell_text(r, "Finding") == "mass"
    expected = workflows.compare_with_case(
        [row.region for row in table.report.regions], case, table.tolerance_rel
    )[int(mass.label_value)].comparison
    for ax, col in (
        ("lr", "LR mm (reported)"),
        ("ap", "AP mm (reported)"),
        ("cc", "CC mm (reported)"),
    ):
        assert f"({rep[ax]:.1f})" in table.cell_text(r, col)
        cmp = next(c for c in expected.by_axis if c.measured_axis == ax)
        assert table.cell_color(r, col) == (PASS_COLOR if cmp.passed else FAIL_COLOR)
    by_axis = table.cell_text(r, "By axis")
    assert by_axis == ("pass" if expected.passed_by_axis else "fail")
    assert table.cell_color(r, "By axis") in (PASS_COLOR, FAIL_COLOR)


def test_the_measurement_table_compares_a_fit_with_its_case_at_once(
    make_napari_viewer, phantom_dir: Path
) -> None:
    viewer = make_napari_viewer(show=True)
    (ct_layer,) = _open(viewer, [phantom_dir / "ct"])
    w = _overlay(viewer, ct_layer)
    w.set_source(AnatomySource.PHANTOM_TRUTH, phantom_dir)
    w.run()
    table = MeasurementTableWidget(viewer)  # opened after the fit, nothing else pressed
    viewer.window.add_dock_widget(table, name="Measurement table", area="bottom")
    _check_mass_row(table, w)


def test_an_open_measurement_table_follows_a_new_fit(make_napari_viewer, phantom_dir) -> None:
    viewer = make_napari_viewer(show=True)
    (ct_layer,) = _open(viewer, [phantom_dir / "ct"])
    table = MeasurementTableWidget(viewer)  # open before any fit: nothing to measure
    viewer.window.add_dock_widget(table, name="Measurement table", area="bottom")
    assert table.labels_layer is None and table.case is None
    w = _overlay(viewer, ct_layer)
    w.set_source(AnatomySource.PHANTOM_TRUTH, phantom_dir)
    w.run()
    _check_mass_row(table, w)
    w.run()  # a second fit replaces the layer: the table measures the new one
    _check_mass_row(table, w)

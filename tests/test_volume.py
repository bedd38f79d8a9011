"""Volume: its grid, and derived volumes that own their metadata and report."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ivcviewer import geometry
from ivcviewer.errors import GeometryError
from ivcviewer.report import GeometryReport, ReportCode, Severity
from ivcviewer.volume import Volume, VolumeMetadata

SAGITTAL_AFFINE = geometry.affine_from_dicom(
    [0, 1, 0, 0, 0, -1], [3.0, -4.0, 5.0], [0.7, 0.9], [2.0, 0.0, 0.0]
)


def _volume() -> Volume:
    """A sagittal volume (so its canonical view is reoriented) with metadata and a report."""
    report = GeometryReport()
    report.add(ReportCode.MISSING_SLICES, Severity.WARNING, "slice 2 missing")
    metadata = VolumeMetadata(
        description="sagittal",
        source_files=[Path("a.dcm"), Path("b.dcm")],
        extra={"filled_slices": [2], "stack_label": ""},
    )
    return Volume(
        np.arange(4 * 5 * 6, dtype=np.int16).reshape(4, 5, 6), SAGITTAL_AFFINE, metadata, report
    )


def test_volume_grid_is_its_shape_and_affine() -> None:
    v = _volume()
    assert v.grid == geometry.Grid((4, 5, 6), SAGITTAL_AFFINE)
    assert v.grid.shape == v.shape
    np.testing.assert_array_equal(v.grid.affine, v.affine)
    np.testing.assert_allclose(v.grid.voxel_to_lps([1, 2, 3]), v.voxel_to_lps([1, 2, 3]))


def test_editing_a_canonical_views_report_leaves_the_source() -> None:
    v = _volume()
    c = v.to_canonical()
    assert c.report.codes == v.report.codes
    c.report.add(ReportCode.RESAMPLED, Severity.WARNING, "only on the canonical view")
    c.report.items.clear()
    assert v.report.codes == [ReportCode.MISSING_SLICES]


def test_editing_a_canonical_views_metadata_leaves_the_source() -> None:
    v = _volume()
    c = v.to_canonical()
    assert c.metadata == v.metadata
    c.metadata.description = "changed"
    c.metadata.extra["filled_slices"].append(3)
    c.metadata.extra["new"] = True
    c.metadata.source_files.append(Path("c.dcm"))
    assert v.metadata.description == "sagittal"
    assert v.metadata.extra == {"filled_slices": [2], "stack_label": ""}
    assert v.metadata.source_files == [Path("a.dcm"), Path("b.dcm")]


def test_editing_the_source_leaves_its_canonical_view() -> None:
    v = _volume()
    c = v.to_canonical()
    v.report.add(ReportCode.RESAMPLED, Severity.WARNING, "only on the source")
    v.metadata.extra["filled_slices"].append(3)
    assert c.report.codes == [ReportCode.MISSING_SLICES]
    assert c.metadata.extra["filled_slices"] == [2]


def test_editing_a_derived_volumes_metadata_leaves_the_source() -> None:
    ct = _volume()
    labels = ct.with_array(np.zeros(ct.shape, np.uint8))
    assert labels.metadata == ct.metadata
    assert len(labels.report) == 0
    labels.metadata.modality = "SEG"
    labels.metadata.extra["label_names"] = {1: "ivc"}
    labels.metadata.extra["filled_slices"].clear()
    labels.metadata.source_files.clear()
    labels.report.add(ReportCode.UNNAMED_LABELS, Severity.INFO, "label 1 unnamed")
    assert ct.metadata.modality == "CT"
    assert ct.metadata.extra == {"filled_slices": [2], "stack_label": ""}
    assert ct.metadata.source_files == [Path("a.dcm"), Path("b.dcm")]
    assert ct.report.codes == [ReportCode.MISSING_SLICES]


def test_canonical_view_shares_the_voxels_but_not_the_grid() -> None:
    v = _volume()
    c = v.to_canonical()
    assert np.shares_memory(c.array, v.array)  # documented: a view, no copy
    assert geometry.axis_codes(c.affine) == ("S", "P", "L")
    c.affine[0, 3] += 100.0
    np.testing.assert_array_equal(v.affine, SAGITTAL_AFFINE)


def test_with_array_refuses_another_shape() -> None:
    v = _volume()
    with pytest.raises(GeometryError, match="does not match"):
        v.with_array(np.zeros((4, 5, 7)))


def test_metadata_copy_is_deep() -> None:
    m = VolumeMetadata(extra={"nested": {"a": [1]}})
    c = m.copy()
    c.extra["nested"]["a"].append(2)
    assert m.extra == {"nested": {"a": [1]}}

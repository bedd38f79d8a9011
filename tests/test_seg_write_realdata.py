"""DICOM SEG out on the real DICOM CT of ../shared/public_ct with TotalSegmentator's label map.

The series (20 slices, JPEG 2000 lossless) is anonymised down to empty SOP Instance, Study and
Series Instance UIDs, and its label map (NIfTI) stores the rows the other way round: the SEG
must reference the images by their file meta instance UIDs and put every voxel back in place.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pydicom
import pytest
from _seg_check import dciodvfy_lines, dcmqi_segments, highdicom_segments, numbered, on_grid

from ivcviewer.interop.codes import codes_for_structure
from ivcviewer.io.volumes import load_labels
from ivcviewer.workflows import open_ct
from ivcviewer.workflows.export import export_seg

pytestmark = pytest.mark.realdata

#: Names of a few of TotalSegmentator v2's classes (the others get label_<value>).
TOTALSEG_V2 = {1: "spleen", 5: "liver", 52: "aorta", 63: "inferior_vena_cava"}


@pytest.fixture(scope="module")
def real_seg(public_ct: Path, tmp_path_factory):  # type: ignore[no-untyped-def]
    folder = public_ct / "totalsegmentator_dicom"
    ct = open_ct(folder / "series")
    labels_path = folder / "example_seg_dicom.nii.gz"
    base = tmp_path_factory.mktemp("real_seg")
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        path = export_seg(labels_path, ct, base / "ts.dcm", table=TOTALSEG_V2)
    labels, table = load_labels(labels_path, TOTALSEG_V2)
    return ct, labels, table, path, base, [str(w.message) for w in seen]


def test_dcmqi_and_highdicom_read_the_real_seg_voxel_for_voxel(real_seg) -> None:  # type: ignore[no-untyped-def]
    ct, labels, _, path, base, _ = real_seg
    # the label map's rows run the other way: ours placed by world positions, not by index
    assert np.sign(labels.affine[1, 1]) == -np.sign(ct.affine[1, 1])
    expected = numbered(on_grid(labels.array, labels.affine, ct))
    assert expected.max() > 20  # the structures of this upper abdomen (31 seen)
    np.testing.assert_array_equal(dcmqi_segments(path, ct, base), expected)
    np.testing.assert_array_equal(highdicom_segments(path, ct), expected)


def test_the_real_seg_references_the_files_and_names_its_segments(real_seg) -> None:  # type: ignore[no-untyped-def]
    ct, _, table, path, _, messages = real_seg
    seg = pydicom.dcmread(path, stop_before_pixels=True)
    file_uids = {
        str(pydicom.dcmread(f, stop_before_pixels=True).file_meta.MediaStorageSOPInstanceUID)
        for f in ct.metadata.source_files
    }
    referenced = {
        str(item.ReferencedSOPInstanceUID)
        for item in seg.ReferencedSeriesSequence[0].ReferencedInstanceSequence
    }
    assert referenced and referenced <= file_uids
    # empty study and series UIDs: derived ones, and a warning saying so
    assert seg.StudyInstanceUID and seg.ReferencedSeriesSequence[0].SeriesInstanceUID
    assert any("anonymised" in m and "derived" in m for m in messages)
    by_label = {str(s.SegmentLabel): s for s in seg.SegmentSequence}
    for name in TOTALSEG_V2.values():
        c = codes_for_structure(name)
        assert c is not None
        code = by_label[name].SegmentedPropertyTypeCodeSequence[0].CodeValue
        assert code == c.type.value
    assert len(by_label) == len(table)


def test_dciodvfy_reports_no_error_on_the_real_seg(real_seg) -> None:  # type: ignore[no-untyped-def]
    errors, _ = dciodvfy_lines(real_seg[3])
    assert errors == []

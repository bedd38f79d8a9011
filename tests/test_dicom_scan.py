"""Discovery: grouping, splitting, what is left out (and said so), DICOMDIR."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest
from _dicom_factory import (
    AXIAL,
    SAGITTAL,
    axial_volume,
    ramp,
    truncate,
    write_dicomdir,
    write_stack,
    write_text_file,
    write_volume,
)
from pydicom import uid as pduid

from ivcviewer.dicom import SeriesInfo, SkippedFile, load_dicom, scan
from ivcviewer.errors import NoSeriesFoundError
from ivcviewer.report import REPORT_CODES


@pytest.fixture
def mixed_folder(tmp_path: Path) -> Path:
    """A CT series, a localiser in the CT's series, an MR series, a secondary capture and text."""
    root = tmp_path / "mixed"
    ct = write_volume(root / "ct", axial_volume(n=6), seed="ct", series_description="abdomen")
    uid = pydicom.dcmread(ct[0]).SeriesInstanceUID
    write_stack(
        root / "scout",
        ramp(1, 32, 32),
        [0.0],
        orientation=(0.0, 1.0, 0.0, 0.0, 0.0, -1.0),
        seed="scout",
        extra_tags={"ImageType": ["ORIGINAL", "PRIMARY", "LOCALIZER"], "SeriesInstanceUID": uid},
    )
    write_stack(
        root / "mr",
        ramp(4, 32, 32),
        [0, 5, 10, 15],
        seed="mr",
        series_number=5,
        extra_tags={
            "SOPClassUID": pduid.MRImageStorage,
            "Modality": "MR",
            "RescaleSlope": None,
            "RescaleIntercept": None,
            "RescaleType": None,
            "KVP": None,
        },
        rescale_intercept=0,
    )
    write_stack(
        root / "sc",
        ramp(1, 32, 32),
        [0.0],
        seed="sc",
        series_number=9,
        extra_tags={"SOPClassUID": pduid.SecondaryCaptureImageStorage},
    )
    write_text_file(root / "notes.txt")
    return root


def test_mixed_folder_groups_series_and_reports_every_file_left_out(mixed_folder: Path) -> None:
    result = scan(mixed_folder)
    assert sorted((s.modality, s.n_images) for s in result.series) == [("CT", 6), ("MR", 4)]
    by_code = sorted((s.code, s.path.parent.name) for s in result.skipped)
    assert by_code == [
        ("localizer_skipped", "scout"),
        ("non_image_skipped", "mixed"),
        ("secondary_capture_skipped", "sc"),
    ]
    assert all(isinstance(s, SkippedFile) and s.reason for s in result.skipped)
    assert all(s.code in REPORT_CODES for s in result.skipped)
    ct, mr = sorted(result.series, key=lambda s: s.modality)
    assert ct.description == "abdomen"
    assert ct.shape == (6, 32, 32)
    assert "not_ct" in mr.report and "not_ct" not in ct.report
    vols = sorted(load_dicom(mixed_folder), key=lambda v: v.metadata.modality)
    assert [v.metadata.modality for v in vols] == ["CT", "MR"]
    np.testing.assert_array_equal(vols[0].array, axial_volume(n=6).array)
    assert {s["code"] for s in vols[0].metadata.extra["skipped"]} == {
        "localizer_skipped",
        "non_image_skipped",
        "secondary_capture_skipped",
    }


def test_files_sorted_along_the_normal_whatever_their_names(tmp_path: Path) -> None:
    names = ["z.dcm", "a.dcm", "m", "IMG_0003", "b.dcm", "0.dcm"]
    write_volume(tmp_path / "ct", axial_volume(n=6), file_names=names)
    (info,) = scan(tmp_path / "ct").series
    assert [f.name for f in info.files] == names
    assert info.n_images == 6


def test_mixed_orientations_in_one_uid_are_split(tmp_path: Path) -> None:
    files = write_volume(tmp_path / "ax", axial_volume(n=4), seed="one")
    uid = pydicom.dcmread(files[0]).SeriesInstanceUID
    write_stack(
        tmp_path / "sag",
        ramp(3, 32, 32),
        [0, 3, 6],
        orientation=SAGITTAL,
        seed="two",
        extra_tags={"SeriesInstanceUID": uid},
    )
    result = scan(tmp_path)
    assert len(result.series) == 2
    assert {s.series_uid for s in result.series} == {uid}
    assert sorted(s.n_images for s in result.series) == [3, 4]
    for s in result.series:
        assert s.report.codes[:2] == ["series_split", "mixed_orientation"]
        assert "orientation" in s.stack_label
    sag = next(s for s in result.series if s.n_images == 3)
    assert np.allclose(sag.affine[:3, 0], [-3.0, 0.0, 0.0])  # normal = row x col = -x
    assert len(load_dicom(tmp_path, series_uid=uid)) == 2


def test_two_acquisitions_in_one_uid_are_split(tmp_path: Path) -> None:
    files = write_volume(tmp_path / "a1", axial_volume(n=3), seed="acq")
    uid = pydicom.dcmread(files[0]).SeriesInstanceUID
    write_volume(
        tmp_path / "a2",
        axial_volume(n=3),
        seed="acq2",
        extra_tags={"SeriesInstanceUID": uid, "AcquisitionNumber": 2},
    )
    result = scan(tmp_path)
    assert [s.n_images for s in result.series] == [3, 3]
    assert all("AcquisitionNumber" in s.stack_label for s in result.series)
    assert all("duplicate_positions" not in s.report for s in result.series)


def test_empty_sop_class_falls_back_to_file_meta(tmp_path: Path) -> None:
    files = write_volume(tmp_path / "ct", axial_volume(n=3), extra_tags={"SOPClassUID": ""})
    ds = pydicom.dcmread(files[0])
    assert ds.SOPClassUID == "" and ds.file_meta.MediaStorageSOPClassUID == pduid.CTImageStorage
    (vol,) = load_dicom(tmp_path / "ct")
    np.testing.assert_array_equal(vol.array, axial_volume(n=3).array)


def test_dicomdir(tmp_path: Path) -> None:
    files = write_volume(tmp_path / "src", axial_volume(n=4), seed="dd")
    dicomdir = write_dicomdir(files, tmp_path / "media")
    assert dicomdir.is_file()
    result = scan(dicomdir)
    (info,) = result.series
    assert info.n_images == 4 and result.skipped == []
    (vol,) = load_dicom(dicomdir)
    np.testing.assert_array_equal(vol.array, axial_volume(n=4).array)
    # scanning the media folder finds the images and says the index itself was left out
    folder = scan(tmp_path / "media")
    assert [s.n_images for s in folder.series] == [4]
    assert [(s.path.name, s.code) for s in folder.skipped] == [("DICOMDIR", "non_image_skipped")]


def test_truncated_files_are_reported(tmp_path: Path) -> None:
    files = write_volume(tmp_path / "ct", axial_volume(n=5), seed="tr")
    truncate(files[2], files[2].stat().st_size - 100)  # pixel data cut short
    truncate(files[4], 200)  # header cut short
    result = scan(tmp_path / "ct")
    assert sorted((s.path.name, s.code) for s in result.skipped) == [
        ("CT0003.dcm", "unreadable_file"),
        ("CT0005.dcm", "unreadable_file"),
    ]
    (info,) = result.series
    assert "unreadable_file" in info.report
    assert "missing_slices" in info.report  # slice 3 of 5 is gone from the grid
    assert info.shape == (4, 32, 32)


def test_single_file_and_single_slice(tmp_path: Path) -> None:
    files = write_volume(tmp_path / "ct", axial_volume(n=3))
    result = scan(files[1])
    (info,) = result.series
    assert info.shape == (1, 32, 32)
    assert "single_slice" in info.report
    assert info.spacing_mm[0] == pytest.approx(2.5)  # SliceThickness


def test_non_recursive_scan_and_missing_path(tmp_path: Path) -> None:
    write_volume(tmp_path / "sub" / "ct", axial_volume(n=2))
    assert scan(tmp_path, recursive=False).series == []
    assert len(scan(tmp_path).series) == 1
    with pytest.raises(NoSeriesFoundError, match="no such file or folder"):
        scan(tmp_path / "absent")
    with pytest.raises(NoSeriesFoundError, match="no image series"):
        load_dicom(tmp_path, recursive=False)


def test_series_info_json_form(tmp_path: Path) -> None:
    write_volume(tmp_path / "ct", axial_volume(n=3), window=None)
    result = scan(tmp_path)
    info: SeriesInfo = result.series[0]
    d = result.to_dict()
    s = d["series"][0]
    assert s["series_uid"] == info.series_uid
    assert s["shape"] == [3, 32, 32]
    assert s["spacing_mm"] == pytest.approx([2.5, 0.8, 0.7])
    assert np.allclose(s["affine_lps"], info.affine)
    assert {r["code"] for r in s["report"]} == {"default_window"}
    assert d["skipped"] == []
    assert info.window is None


def test_orientation_of_axial_stack(tmp_path: Path) -> None:
    write_stack(tmp_path / "ct", ramp(3), [0, 2.5, 5], orientation=AXIAL)
    (info,) = scan(tmp_path).series
    assert np.allclose(info.affine[:3, :3], [[0, 0, 0.7], [0, 0.8, 0], [2.5, 0, 0]])


def test_names_imported_from_the_scan_module_stay_there() -> None:
    from ivcviewer.dicom import records, series
    from ivcviewer.dicom import scan as scan_function
    from ivcviewer.dicom.scan import (
        MULTI_FRAME_CLASSES,
        NATIVE_LE_SYNTAXES,
        SECONDARY_CAPTURE_CLASSES,
        SINGLE_FRAME_CLASSES,
        ImageRecord,
        PixelFormat,
        ScanResult,
        SeriesInfo,
        SkippedFile,
    )
    from ivcviewer.dicom.scan import scan as scan_in_module

    assert scan_in_module is scan_function
    assert ImageRecord is records.ImageRecord and PixelFormat is records.PixelFormat
    assert SkippedFile is records.SkippedFile and SeriesInfo is series.SeriesInfo
    assert ScanResult.__module__ == "ivcviewer.dicom.scan"
    assert pduid.CTImageStorage in SINGLE_FRAME_CLASSES
    assert pduid.EnhancedCTImageStorage in MULTI_FRAME_CLASSES
    assert pduid.SecondaryCaptureImageStorage in SECONDARY_CAPTURE_CLASSES
    assert pduid.ExplicitVRLittleEndian in NATIVE_LE_SYNTAXES


def test_skipped_files_carry_report_codes(mixed_folder: Path) -> None:
    from ivcviewer.report import ReportCode

    result = scan(mixed_folder)
    assert {s.code for s in result.skipped} == {
        ReportCode.LOCALIZER_SKIPPED,
        ReportCode.NON_IMAGE_SKIPPED,
        ReportCode.SECONDARY_CAPTURE_SKIPPED,
    }
    for s in result.skipped:
        d = s.to_dict()
        assert type(d["code"]) is str and d["code"] == s.code.value
        assert d == {"path": str(s.path), "code": s.code.value, "reason": s.reason}


@pytest.mark.filterwarnings("ignore:The referenced SOP Instance:UserWarning")
def test_dicomdir_naming_a_missing_file_still_gives_the_others(tmp_path: Path) -> None:
    files = write_volume(tmp_path / "src", axial_volume(n=4), seed="dd-missing")
    dicomdir = write_dicomdir(files, tmp_path / "media")
    referenced = sorted(p for p in (tmp_path / "media").rglob("*") if p.is_file() and p != dicomdir)
    referenced[-1].unlink()
    result = scan(dicomdir)
    (info,) = result.series
    assert info.n_images == 3
    # pydicom drops the missing record itself (with a warning); any it lists is reported
    assert all(s.path == referenced[-1] and "missing" in s.reason for s in result.skipped)


def test_unreadable_dicomdir_is_reported(tmp_path: Path) -> None:
    bad = write_text_file(tmp_path / "DICOMDIR")
    result = scan(bad)
    assert result.series == []
    (skipped,) = result.skipped
    assert skipped.path == bad and skipped.code == "unreadable_file"
    assert skipped.reason.startswith("unreadable DICOMDIR")


def test_read_header_tells_a_truncated_image_from_a_non_image(tmp_path: Path) -> None:
    from ivcviewer.dicom.header import TruncatedImage, read_header
    from ivcviewer.dicom.records import ImageHeader

    files = write_volume(tmp_path / "ct", axial_volume(n=3), seed="hdr")
    (header,) = read_header(files[0])  # type: ignore[misc]
    assert isinstance(header, ImageHeader)
    assert header.record.frame == 0 and header.record.n_frames == 1
    assert header.record.describe() == str(files[0])
    uid = header.series_uid
    truncate(files[1], files[1].stat().st_size - 100)
    cut = read_header(files[1])
    assert isinstance(cut, TruncatedImage) and cut.series_uid == uid
    assert cut.skipped.code == "unreadable_file" and "truncated" in cut.skipped.reason
    text = write_text_file(tmp_path / "notes.txt")
    not_dicom = read_header(text)
    assert isinstance(not_dicom, SkippedFile) and not_dicom.code == "non_image_skipped"

"""DICOM SEG out (ivcviewer.interop.seg_write, workflows.export_seg), read back by highdicom,
dcmqi's segimage2itkimage and checked by dciodvfy."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pydicom
import pytest
from _dicom_factory import AXIAL, SAGITTAL, enhanced_ct_file, ramp, write_stack, write_volume
from _seg_check import dciodvfy_lines, dcmqi_segments, highdicom_segments, numbered
from pydicom.sr.codedict import codes

from ivcviewer.errors import (
    DicomSeriesError,
    GeometryError,
    MeasurementError,
    OutputExistsError,
    VolumeFormatError,
)
from ivcviewer.geometry import affine_from_dicom
from ivcviewer.interop.codes import codes_for_structure, structure_for_codes
from ivcviewer.interop.seg_write import build_seg, source_images, write_seg
from ivcviewer.io.labels import LabelEntry, LabelTable
from ivcviewer.volume import Volume, VolumeMetadata
from ivcviewer.workflows import open_ct
from ivcviewer.workflows.export import export_seg

#: Grids of the test CT: (image orientation, slice step vector). The second is written feet
#: first with rows towards anterior and columns towards the patient's right (every axis
#: flipped against the canonical display grid); the third is sagittal.
GRIDS = {
    "axial": (AXIAL, (0.0, 0.0, 2.5)),
    "axial_flipped": ((-1.0, 0.0, 0.0, 0.0, -1.0, 0.0), (0.0, 0.0, -2.5)),
    "sagittal": (SAGITTAL, (-2.0, 0.0, 0.0)),
}

TABLE = LabelTable(
    {
        64: LabelEntry("liver", (0.87, 0.51, 0.4, 1.0)),
        84: LabelEntry("inferior_vena_cava", (0.0, 0.59, 0.81, 1.0)),
        19: LabelEntry("iliopsoas_right", (0.82, 0.47, 0.37, 1.0)),
        75: LabelEntry("renal_sinus_left", (0.9, 0.82, 0.63, 1.0)),
        65: LabelEntry("spleen", (0.62, 0.42, 0.64, 1.0)),  # has no voxel
    }
)


def _ct(folder: Path, grid: str) -> Volume:
    iop, step = GRIDS[grid]
    aff = affine_from_dicom(iop, (-20.0, -30.0, 100.0), (0.8, 0.7), step)
    rng = np.random.default_rng(1)
    hu = rng.integers(-100, 200, size=(7, 18, 22)).astype(np.int16)
    write_volume(folder, Volume(hu, aff), seed=grid)
    return open_ct(folder)


def _labels(ct: Volume) -> Volume:
    """Boxes of four labels on the CT's grid, handed over on the canonical (display) grid."""
    lab = np.zeros(ct.shape, np.uint8)
    lab[1:4, 2:8, 3:9] = 64
    lab[2:6, 9:14, 10:18] = 84
    lab[5:7, 1:3, 1:20] = 19
    lab[0, 0, 0] = 75
    return ct.with_array(lab).to_canonical()


@pytest.fixture(scope="module", params=sorted(GRIDS))
def written(request, tmp_path_factory):  # type: ignore[no-untyped-def]
    base = tmp_path_factory.mktemp(f"seg_{request.param}")
    ct = _ct(base / "ct", request.param)
    labels = _labels(ct)
    (base / "out").mkdir()
    with pytest.warns(UserWarning, match=r"spleen \(65\)"):
        out = write_seg(labels, TABLE, ct, base / "out" / "seg.dcm", algorithm="manual")
    return ct, labels, out, base


def _ours_on_ct(ct: Volume, labels: Volume) -> np.ndarray:
    """Our labels on the CT's grid, found independently of the writer (by world positions)."""
    from _seg_check import on_grid

    return on_grid(labels.array, labels.affine, ct)


def test_highdicom_reads_back_the_same_voxels_names_colours_and_codes(written) -> None:  # type: ignore[no-untyped-def]
    import highdicom as hd

    ct, labels, path, _ = written
    expected = numbered(_ours_on_ct(ct, labels))
    assert expected.max() == 4
    np.testing.assert_array_equal(highdicom_segments(path, ct), expected)

    seg = hd.seg.segread(path)
    assert seg.SegmentationType == "BINARY"
    assert str(seg.ReferencedSeriesSequence[0].SeriesInstanceUID) == ct.metadata.series_uid
    assert str(seg.FrameOfReferenceUID) == ct.metadata.frame_of_reference_uid
    names = [str(s.SegmentLabel) for s in seg.SegmentSequence]
    assert names == ["iliopsoas_right", "liver", "renal_sinus_left", "inferior_vena_cava"]
    for item in seg.SegmentSequence:
        entry = TABLE[TABLE.value_of(str(item.SegmentLabel))]
        rgb = hd.color.CIELabColor.from_dicom_value(item.RecommendedDisplayCIELabValue).to_rgb()
        assert np.allclose(np.asarray(rgb) / 255, entry.rgba[:3], atol=0.01)
        assert item.SegmentAlgorithmType == "MANUAL"
        assert "SegmentAlgorithmName" not in item  # 1C: not for MANUAL
        ident = item.SegmentationAlgorithmIdentificationSequence[0]
        assert ident.AlgorithmName == "ivcviewer"
        assert ident.AlgorithmFamilyCodeSequence[0].CodeValue == (
            codes.cid7162.ManualProcessing.value
        )
        assert item.TrackingID == entry.name
        c = codes_for_structure(entry.name)
        cat = item.SegmentedPropertyCategoryCodeSequence[0]
        typ = item.SegmentedPropertyTypeCodeSequence[0]
        if c is None:  # no known code: the generic pair, and the description says so
            assert (cat.CodeValue, typ.CodeValue) == ("85756007", "85756007")
            assert "coded as Tissue" in item.SegmentDescription
        else:
            assert (cat.CodeValue, typ.CodeValue) == (c.category.value, c.type.value)
            mods = typ.get("SegmentedPropertyTypeModifierCodeSequence", [])
            assert [m.CodeValue for m in mods] == ([] if c.modifier is None else [c.modifier.value])
            # the codes as written read back to the name (what a SEG reader matches by)
            assert structure_for_codes(cat, typ, mods[0] if mods else None) == entry.name
    # compact: frames only where a segment is present (7 slices, 4 segments -> 28 at most)
    per_segment = [np.count_nonzero(np.any(expected == n, axis=(1, 2))) for n in range(1, 5)]
    assert int(seg.NumberOfFrames) == sum(per_segment) < 4 * ct.shape[0]


def test_frames_reference_the_ct_image_at_their_position(written) -> None:  # type: ignore[no-untyped-def]
    ct, _, path, _ = written
    by_uid = {}
    for f in ct.metadata.source_files:
        ds = pydicom.dcmread(f, stop_before_pixels=True)
        by_uid[str(ds.SOPInstanceUID)] = np.asarray(ds.ImagePositionPatient, dtype=float)
    seg = pydicom.dcmread(path)
    for frame in seg.PerFrameFunctionalGroupsSequence:
        uid = frame.DerivationImageSequence[0].SourceImageSequence[0].ReferencedSOPInstanceUID
        pos = np.asarray(frame.PlanePositionSequence[0].ImagePositionPatient, dtype=float)
        np.testing.assert_allclose(pos, by_uid[str(uid)], atol=1e-3)


def test_dcmqi_reads_our_seg_voxel_for_voxel(written) -> None:  # type: ignore[no-untyped-def]
    ct, labels, path, base = written
    expected = numbered(_ours_on_ct(ct, labels))
    np.testing.assert_array_equal(dcmqi_segments(path, ct, base), expected)


def test_dciodvfy_reports_no_error(written) -> None:  # type: ignore[no-untyped-def]
    errors, _ = dciodvfy_lines(written[2])
    assert errors == []


@pytest.mark.filterwarnings("ignore:.*have no voxel")
def test_the_same_seg_from_the_labels_in_any_voxel_order(tmp_path: Path) -> None:
    ct = _ct(tmp_path / "ct", "axial_flipped")
    canonical = _labels(ct)
    native = Volume(np.asarray(numbered(_ours_on_ct(ct, canonical))), ct.affine)
    table = LabelTable.from_names({1: "iliopsoas_right", 2: "liver", 3: "x", 4: "aorta"})
    a = build_seg(canonical, TABLE, ct, algorithm="manual")
    b = build_seg(native, table, ct, algorithm="manual")
    np.testing.assert_array_equal(a.pixel_array, b.pixel_array)
    assert a.pixel_array.any()


def test_labelmap_encoding_is_read_by_highdicom_and_dcmqi(tmp_path: Path) -> None:
    import highdicom as hd

    ct = _ct(tmp_path / "ct", "sagittal")
    labels = _labels(ct)
    with pytest.warns(UserWarning, match="spleen"):
        path = write_seg(
            labels, TABLE, ct, tmp_path / "lm.dcm", algorithm="semiautomatic", encoding="labelmap"
        )
    seg = hd.seg.segread(path)
    assert seg.SegmentationType == "LABELMAP"
    expected = numbered(_ours_on_ct(ct, labels))
    np.testing.assert_array_equal(highdicom_segments(path, ct), expected)
    np.testing.assert_array_equal(dcmqi_segments(path, ct, tmp_path), expected)
    assert {s.SegmentAlgorithmType for s in seg.SegmentSequence if s.SegmentNumber} == {
        "SEMIAUTOMATIC"
    }


def test_a_multiframe_ct_with_frames_out_of_order(tmp_path: Path) -> None:
    aff = affine_from_dicom(AXIAL, (-20.0, -30.0, 100.0), (0.8, 0.7), (0.0, 0.0, 2.5))
    enhanced_ct_file(tmp_path / "ct" / "enhanced.dcm", Volume(ramp(6, 16, 20), aff),
                     frame_order=[3, 0, 5, 1, 4, 2])  # fmt: skip
    ct = open_ct(tmp_path / "ct")
    lab = np.zeros(ct.shape, np.uint8)
    lab[1:4, 2:8, 3:9] = 64
    lab[2:5, 9:14, 10:18] = 84
    table = LabelTable.from_names({64: "liver", 84: "aorta"})
    path = write_seg(ct.with_array(lab).to_canonical(), table, ct, tmp_path / "seg.dcm",
                     algorithm="manual")  # fmt: skip
    expected = numbered(lab)
    np.testing.assert_array_equal(highdicom_segments(path, ct), expected)
    np.testing.assert_array_equal(dcmqi_segments(path, ct, tmp_path), expected)
    assert dciodvfy_lines(path)[0] == []


# ----------------------------------------------------------------------------- refusals


@pytest.fixture
def small(tmp_path: Path):  # type: ignore[no-untyped-def]
    ct = _ct(tmp_path / "ct", "axial")
    return ct, _labels(ct), tmp_path


def test_a_ct_not_from_dicom_is_refused_offering_nifti(small) -> None:  # type: ignore[no-untyped-def]
    ct, labels, tmp = small
    nifti_ct = Volume(ct.array, ct.affine)
    with pytest.raises(DicomSeriesError, match="did not come from DICOM.*NIfTI"):
        write_seg(labels, TABLE, nifti_ct, tmp / "x.dcm", algorithm="manual")
    assert not (tmp / "x.dcm").exists()


@pytest.mark.parametrize(
    "change",
    [
        lambda a: a @ np.diag([1.0, 1.0, 2.0, 1.0]),  # other spacing
        lambda a: a + 0.5 * np.outer(np.eye(4)[0], np.eye(4)[3]),  # shifted 0.5 mm in x
    ],
    ids=["spacing", "shift"],
)
def test_labels_off_the_ct_voxels_are_refused(small, change) -> None:  # type: ignore[no-untyped-def]
    ct, labels, tmp = small
    moved = Volume(labels.array, change(labels.affine))
    with pytest.raises(GeometryError, match="is not the voxel grid of the CT"):
        write_seg(moved, TABLE, ct, tmp / "x.dcm", algorithm="manual")


@pytest.mark.filterwarnings("ignore:.*have no voxel")
def test_the_ct_volume_may_be_in_any_voxel_order_too(small) -> None:  # type: ignore[no-untyped-def]
    ct, labels, _ = small
    a = build_seg(labels, TABLE, ct, algorithm="manual")
    b = build_seg(labels, TABLE, ct.to_canonical(), algorithm="manual")
    np.testing.assert_array_equal(a.pixel_array, b.pixel_array)


def test_unevenly_spaced_images_are_refused(tmp_path: Path) -> None:
    files = write_stack(tmp_path / "ct", ramp(4, 8, 8), [0.0, 2.5, 5.0, 10.0])
    first = pydicom.dcmread(files[0], stop_before_pixels=True)
    aff = affine_from_dicom(AXIAL, (-20.0, -30.0, 100.0), (0.8, 0.7), (0.0, 0.0, 2.5))
    meta = VolumeMetadata(
        series_uid=str(first.SeriesInstanceUID), source="dicom", source_files=list(files)
    )
    with pytest.raises(GeometryError, match=r"CT0002.dcm: .* is not slice 1 of one regular grid"):
        source_images(Volume(ramp(4, 8, 8), aff, meta))


def test_ct_files_that_lost_their_geometry_are_refused(small) -> None:  # type: ignore[no-untyped-def]
    ct, labels, tmp = small
    changed = ct.metadata.source_files[2]
    ds = pydicom.dcmread(changed)
    del ds.ImagePositionPatient
    ds.save_as(changed)
    with pytest.raises(DicomSeriesError, match=f"{changed.name}: the image's plane"):
        write_seg(labels, TABLE, ct, tmp / "x.dcm", algorithm="manual")


def test_outputs_existing_or_in_an_input_folder_are_refused(small) -> None:  # type: ignore[no-untyped-def]
    ct, labels, tmp = small
    with pytest.raises(VolumeFormatError, match="input"):
        write_seg(labels, TABLE, ct, tmp / "ct" / "seg.dcm", algorithm="manual")
    with pytest.raises(VolumeFormatError, match=r"\.dcm"):
        write_seg(labels, TABLE, ct, tmp / "seg.nii.gz", algorithm="manual")
    out = tmp / "seg.dcm"
    out.write_bytes(b"earlier")
    with pytest.raises(OutputExistsError, match="--force"):
        write_seg(labels, TABLE, ct, out, algorithm="manual")
    assert out.read_bytes() == b"earlier"
    with pytest.warns(UserWarning):
        write_seg(labels, TABLE, ct, out, algorithm="manual", force=True)
    assert pydicom.dcmread(out).Modality == "SEG"
    with pytest.raises(FileNotFoundError):
        write_seg(labels, TABLE, ct, tmp / "no_such_folder" / "seg.dcm", algorithm="manual")


def test_the_seg_may_go_beside_the_label_map_file(small) -> None:  # type: ignore[no-untyped-def]
    from ivcviewer.io.volumes import save_labels

    ct, labels, tmp = small
    (tmp / "labels").mkdir()
    path, _ = save_labels(labels, TABLE, tmp / "labels" / "painted.nii.gz")
    with pytest.warns(UserWarning, match="spleen"):
        out = export_seg(path, tmp / "ct", tmp / "labels" / "painted_seg.dcm")
    assert pydicom.dcmread(out).NumberOfFrames > 0
    with pytest.raises(VolumeFormatError, match="input"):
        export_seg(path, tmp / "ct", tmp / "ct" / "painted_seg.dcm")


def test_an_empty_label_map_is_refused(small) -> None:  # type: ignore[no-untyped-def]
    ct, labels, tmp = small
    empty = labels.with_array(np.zeros_like(labels.array))
    with pytest.raises(MeasurementError, match="no labelled voxel"), pytest.warns(UserWarning):
        write_seg(empty, TABLE, ct, tmp / "x.dcm", algorithm="manual")


def test_an_interrupted_write_leaves_no_file(small, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from highdicom.seg import Segmentation

    ct, labels, tmp = small
    real = Segmentation.save_as

    def half_then_die(self, filename, *args, **kwargs):  # type: ignore[no-untyped-def]
        real(self, filename, *args, **kwargs)
        size = os.path.getsize(filename)
        with open(filename, "r+b") as fh:
            fh.truncate(size // 2)
        raise KeyboardInterrupt

    monkeypatch.setattr(Segmentation, "save_as", half_then_die)
    with pytest.raises(KeyboardInterrupt), pytest.warns(UserWarning):
        write_seg(labels, TABLE, ct, tmp / "seg.dcm", algorithm="manual")
    assert sorted(p.name for p in tmp.iterdir()) == ["ct"]


_KILLED_WRITER = """
import sys, time
from pathlib import Path
from highdicom.seg import Segmentation
from ivcviewer.io.labels import LabelTable
from ivcviewer.workflows.export import export_seg

real = Segmentation.save_as

def save_half_then_hang(self, filename, *args, **kwargs):
    real(self, filename, *args, **kwargs)
    with open(filename, "r+b") as fh:
        fh.truncate(fh.seek(0, 2) // 2)
    Path(sys.argv[3]).write_text("half written")
    time.sleep(600)

Segmentation.save_as = save_half_then_hang
export_seg(sys.argv[1], sys.argv[2], sys.argv[4], table=LabelTable.from_names({64: "liver"}))
"""


def test_a_writer_killed_mid_way_leaves_no_output(small) -> None:  # type: ignore[no-untyped-def]
    import signal
    import subprocess
    import sys
    import time

    from ivcviewer.io.volumes import save_labels

    ct, labels, tmp = small
    (tmp / "labels").mkdir()
    path, _ = save_labels(labels, TABLE, tmp / "labels" / "painted.nii.gz")
    (tmp / "out").mkdir()
    marker, out = tmp / "marker", tmp / "out" / "seg.dcm"
    args = [str(path), str(tmp / "ct"), str(marker), str(out)]
    proc = subprocess.Popen([sys.executable, "-c", _KILLED_WRITER, *args])
    try:
        for _ in range(1200):  # the child writes the marker once half the SEG is on disk
            if marker.exists() or proc.poll() is not None:
                break
            time.sleep(0.1)
        assert marker.exists(), f"the writer ended early (exit code {proc.poll()})"
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    assert not out.exists()
    # what the killed writer leaves is its hidden temporary file, never the output's name
    assert all(p.name.startswith(".seg.dcm.") for p in (tmp / "out").iterdir())


# ----------------------------------------------------------------------------- the phantom


@pytest.fixture(scope="module")
def phantom_seg(tmp_path_factory):  # type: ignore[no-untyped-def]
    """The case overlay fitted on the small phantom written as DICOM, exported as a SEG."""
    from ivcviewer.annotations import default_case_path, load_case
    from ivcviewer.dicom import write_ct_series
    from ivcviewer.phantom import build_phantom
    from ivcviewer.workflows import fit_overlay
    from ivcviewer.workflows.anatomy import Anatomy

    base = tmp_path_factory.mktemp("phantom_seg")
    ph = build_phantom("small", seed=0)
    write_ct_series(ph.ct, base / "ct", uid_seed="seg-phantom")
    ct = open_ct(base / "ct")
    case = load_case(default_case_path())
    fit = fit_overlay(ct, case, Anatomy(ph.landmarks))
    table = LabelTable({r.value: LabelEntry(r.name, r.rgba) for r in fit.regions})
    path = export_seg(
        fit.labels, ct, base / "overlay.dcm", table=table, case=case, algorithm="semiautomatic"
    )
    return ct, fit.labels, path, base


def test_phantom_overlay_seg_is_read_by_dcmqi_voxel_for_voxel(phantom_seg) -> None:  # type: ignore[no-untyped-def]
    ct, labels, path, base = phantom_seg
    expected = numbered(_ours_on_ct(ct, labels))
    assert expected.max() == 2
    np.testing.assert_array_equal(dcmqi_segments(path, ct, base), expected)
    errors, _ = dciodvfy_lines(path)
    assert errors == []


def test_phantom_findings_are_coded_with_their_sites(phantom_seg) -> None:  # type: ignore[no-untyped-def]
    import highdicom as hd

    seg = hd.seg.segread(phantom_seg[2])
    found = {}
    for item in seg.SegmentSequence:
        site = item.AnatomicRegionSequence[0]
        found[item.SegmentedPropertyTypeCodeSequence[0].CodeValue] = site.CodeValue
        assert item.SegmentedPropertyCategoryCodeSequence[0].CodeValue == (
            codes.cid7150.MorphologicallyAbnormalStructure.value
        )
        assert item.SegmentAlgorithmType == "SEMIAUTOMATIC"
        params = item.SegmentationAlgorithmIdentificationSequence[0].AlgorithmParameters
        assert "retroperitoneal_leiomyosarcoma_ivc" in params
    assert found == {
        codes.cid7151.Neoplasm.value: "68455001",  # arises from the (right) iliopsoas
        codes.cid7151.Thrombus.value: codes.SCT.InferiorVenaCava.value,
    }

"""Loading: one test per DICOM pitfall, each checking the volume (values and affine) and the
geometry report, or a clear error."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest
from _dicom_factory import (
    AXIAL,
    ORIGIN,
    PIXEL_SPACING,
    SAGITTAL,
    STEP,
    axial_volume,
    enhanced_ct_file,
    ramp,
    truncate,
    write_stack,
    write_volume,
)
from pydicom import uid as pduid

from ivcviewer.dicom import fill as fill_module
from ivcviewer.dicom import load_dicom, load_series, scan
from ivcviewer.dicom import pixels as pixels_module
from ivcviewer.errors import DicomSeriesError, MissingDecoderError
from ivcviewer.geometry import affine_from_dicom, axis_codes, gantry_tilt_deg
from ivcviewer.report import REPORT_CODES, ValidationMode
from ivcviewer.volume import Volume

RAISE, WARN, RESAMPLE = ValidationMode.RAISE, ValidationMode.WARN, ValidationMode.RESAMPLE


def _axial_affine(step: float = STEP, origin: tuple[float, float, float] = ORIGIN) -> np.ndarray:
    return affine_from_dicom(AXIAL, origin, PIXEL_SPACING, (0.0, 0.0, step))


def _only(path: Path, **kwargs: object) -> Volume:
    vols = load_dicom(path, **kwargs)  # type: ignore[arg-type]
    assert len(vols) == 1
    for code in vols[0].report.codes:
        assert code in REPORT_CODES
    return vols[0]


def test_shuffled_file_names(tmp_path: Path) -> None:
    vol = axial_volume()
    names = [f"{n}.dcm" for n in np.random.default_rng(0).permutation(100)[:8]]
    write_volume(tmp_path / "ct", vol, file_names=names, extra_tags={"InstanceNumber": 1})
    got = _only(tmp_path / "ct")
    np.testing.assert_array_equal(got.array, vol.array)
    np.testing.assert_allclose(got.affine, vol.affine, atol=1e-9)
    assert got.report.codes == ["rescale_applied"]
    assert got.array.dtype == np.int16


def test_reversed_order_is_sorted_along_the_normal(tmp_path: Path) -> None:
    # slice k written at z = 100 + 2.5 * (7 - k): files and InstanceNumbers run head to feet
    vol = Volume(ramp(), affine_from_dicom(AXIAL, (-20, -30, 117.5), PIXEL_SPACING, (0, 0, -STEP)))
    write_volume(tmp_path / "ct", vol)
    got = _only(tmp_path / "ct")
    np.testing.assert_array_equal(got.array, vol.array[::-1])
    np.testing.assert_allclose(got.affine, _axial_affine(), atol=1e-9)
    # the same voxel lands on the same LPS point
    np.testing.assert_allclose(got.voxel_to_lps([7, 3, 4]), vol.voxel_to_lps([0, 3, 4]))


def test_gap_is_reported_and_handled_per_mode(tmp_path: Path) -> None:
    data = ramp()
    keep = [0, 1, 2, 4, 5, 6, 7]  # slice 3 missing
    files = write_stack(tmp_path / "ct", data[keep], [STEP * k for k in keep])
    (info,) = scan(tmp_path / "ct").series
    assert info.shape == (8, 32, 32)
    assert "missing_slices" in info.report
    with pytest.raises(DicomSeriesError, match="1 slice\\(s\\) missing") as err:
        load_series(info)
    assert files[2].name in str(err.value) and files[3].name in str(err.value)

    warned = load_series(info, on_irregular=WARN)
    np.testing.assert_allclose(warned.affine, _axial_affine(), atol=1e-9)
    np.testing.assert_array_equal(warned.array[keep], data[keep])
    assert np.all(warned.array[3] == data.min())
    assert warned.metadata.extra["filled_slices"] == [3]
    assert warned.report.codes.count("missing_slices") == 2

    resampled = load_series(info, on_irregular=RESAMPLE)
    np.testing.assert_array_equal(resampled.array, data)  # the ramp is linear along slices
    assert "resampled" in resampled.report


def test_duplicate_positions(tmp_path: Path) -> None:
    data = ramp(5)
    twin = data[2] + 7
    slices = np.concatenate([data, twin[None]])
    write_stack(tmp_path / "ct", slices, [0, 2.5, 5, 7.5, 10, 5])
    (info,) = scan(tmp_path / "ct").series
    assert info.shape == (5, 32, 32) and info.n_images == 6
    assert "duplicate_positions" in info.report
    with pytest.raises(DicomSeriesError, match="CT0003.dcm, .*CT0006.dcm"):
        load_series(info)

    warned = load_series(info, on_irregular=WARN)
    np.testing.assert_array_equal(warned.array, data)  # lowest InstanceNumber kept
    msg = [i.message for i in warned.report.items if i.code == "duplicate_positions"][-1]
    assert "CT0003.dcm kept" in msg and "CT0006.dcm" in msg and "different" in msg

    averaged = load_series(info, on_irregular=RESAMPLE)
    expected = data.copy()
    expected[2] = np.rint((data[2].astype(float) + twin) / 2)
    np.testing.assert_array_equal(averaged.array, expected)
    assert "resampled" in averaged.report


def test_identical_duplicate_files(tmp_path: Path) -> None:
    files = write_volume(tmp_path / "ct", axial_volume(n=4))
    (tmp_path / "ct" / "copy.dcm").write_bytes(files[1].read_bytes())
    (info,) = scan(tmp_path / "ct").series
    vol = load_series(info, on_irregular=WARN)
    np.testing.assert_array_equal(vol.array, axial_volume(n=4).array)
    assert any("identical" in i.message for i in vol.report.items)


def test_variable_steps(tmp_path: Path) -> None:
    t = [0.0, 2.0, 4.0, 7.0, 9.0, 11.0]
    data = np.stack([np.full((32, 32), 10 * v, np.int16) for v in t])  # HU = 10 x position
    write_stack(tmp_path / "ct", data, t)
    (info,) = scan(tmp_path / "ct").series
    assert "irregular_spacing" in info.report and "missing_slices" not in info.report
    with pytest.raises(DicomSeriesError, match="Uneven steps .*CT0003.dcm and .*CT0004.dcm"):
        load_series(info)

    warned = load_series(info, on_irregular=WARN)
    assert warned.shape == (6, 32, 32)
    assert warned.spacing[0] == pytest.approx(11 / 5)
    assert warned.metadata.extra["slice_positions_mm"] == t
    assert "largest offset from a uniform grid" in warned.report.items[0].message

    resampled = load_series(info, on_irregular=RESAMPLE)
    # the median step (2 mm) shortened so that whole steps span 0..11 mm: the last slice stays
    assert resampled.spacing[0] == pytest.approx(11 / 6)
    assert resampled.shape[0] == 7
    np.testing.assert_array_equal(resampled.array[:, 0, 0], np.rint(np.arange(7) * 110 / 6))
    np.testing.assert_allclose(resampled.affine[:3, 3], ORIGIN)


def test_gantry_tilt(tmp_path: Path) -> None:
    # each 2 mm step along the normal also moves 1 mm posterior (+y): tilt atan(1/2)
    row_sp, col_sp = 1.0, 1.0
    data = ramp(6)
    aff = affine_from_dicom(AXIAL, ORIGIN, (row_sp, col_sp), (0.0, 1.0, 2.0))
    write_volume(tmp_path / "ct", Volume(data, aff), allow_tilt=True)
    (info,) = scan(tmp_path / "ct").series
    assert "gantry_tilt" in info.report
    tilt = np.degrees(np.arctan(0.5))
    assert f"{tilt:.2f} degrees" in info.report.items[0].message

    sheared = load_series(info)  # a tilt is not an irregularity: RAISE still loads it
    np.testing.assert_allclose(sheared.affine, aff, atol=1e-6)
    np.testing.assert_array_equal(sheared.array, data)
    assert gantry_tilt_deg(sheared.affine) == pytest.approx(tilt, abs=1e-4)

    straight = load_series(info, on_irregular=RESAMPLE)
    assert gantry_tilt_deg(straight.affine) == pytest.approx(0.0, abs=1e-6)
    np.testing.assert_allclose(straight.affine[:3, 0], [0, 0, 2.0], atol=1e-9)
    assert "resampled" in straight.report
    # slice k moved k rows towards +y: the grid grows by 5 rows, output row r holds input
    # row r - k, and the rows the slice does not reach hold the stack's lowest value
    assert straight.shape == (6, 37, 32)
    assert "grid_extended" in straight.report
    for k in range(6):
        np.testing.assert_array_equal(straight.array[k, k : k + 32], data[k])
        assert np.all(straight.array[k, :k] == data.min())
        assert np.all(straight.array[k, k + 32 :] == data.min())
    # the same LPS point has the same value in both volumes
    p = sheared.voxel_to_lps([4, 10, 7])
    ijk = np.rint(straight.lps_to_voxel(p)).astype(int)
    assert straight.array[tuple(ijk)] == sheared.array[4, 10, 7]


def test_sagittal_acquisition(tmp_path: Path) -> None:
    # rows run towards the feet, columns towards posterior; normal = -x (patient's right)
    aff = affine_from_dicom(SAGITTAL, ORIGIN, PIXEL_SPACING, (-3.0, 0.0, 0.0))
    vol = Volume(ramp(5), aff)
    write_volume(tmp_path / "sag", vol)
    got = _only(tmp_path / "sag")
    np.testing.assert_array_equal(got.array, vol.array)
    np.testing.assert_allclose(got.affine, aff, atol=1e-9)
    assert axis_codes(got.affine) == ("R", "I", "P")
    canon = got.to_canonical()
    assert axis_codes(canon.affine) == ("S", "P", "L")
    np.testing.assert_allclose(
        canon.voxel_to_lps(canon.lps_to_voxel(got.voxel_to_lps([1, 2, 3]))),
        got.voxel_to_lps([1, 2, 3]),
    )


def test_missing_rescale_tags(tmp_path: Path) -> None:
    vol = axial_volume(n=3)
    write_volume(
        tmp_path / "ct",
        vol,
        rescale_intercept=0,
        extra_tags={"RescaleSlope": None, "RescaleIntercept": None, "RescaleType": None},
    )
    got = _only(tmp_path / "ct")
    np.testing.assert_array_equal(got.array, vol.array)
    assert "no_rescale" in got.report and "rescale_applied" not in got.report
    assert got.metadata.rescale_applied is False


def test_rescale_slope_not_one(tmp_path: Path) -> None:
    even = Volume(ramp(3) * 2, axial_volume(n=3).affine)
    write_volume(tmp_path / "s2", even, rescale_slope=2, rescale_intercept=-2048)
    got = _only(tmp_path / "s2")
    assert got.array.dtype == np.int16
    np.testing.assert_array_equal(got.array, even.array)
    assert "slope 2, intercept -2048" in got.report.items[-1].message

    halves = Volume(ramp(3).astype(np.float32) / 2, even.affine)
    write_volume(tmp_path / "s05", halves, rescale_slope=0.5, rescale_intercept=-600)
    got = _only(tmp_path / "s05")
    assert got.array.dtype == np.float32
    np.testing.assert_array_equal(got.array, halves.array)
    assert got.metadata.rescale_applied


def test_values_that_overflow_int16_become_float32(tmp_path: Path) -> None:
    vol = Volume(ramp(2).astype(np.int32) + 40000, axial_volume(n=2).affine)  # e.g. metal
    write_volume(tmp_path / "ct", vol, rescale_intercept=0)
    got = _only(tmp_path / "ct")
    assert got.array.dtype == np.float32
    np.testing.assert_array_equal(got.array, vol.array.astype(np.float32))


def test_truncated_file(tmp_path: Path) -> None:
    files = write_volume(tmp_path / "ct", axial_volume(n=5))
    truncate(files[2], files[2].stat().st_size - 1000)
    (info,) = scan(tmp_path / "ct").series
    with pytest.raises(DicomSeriesError, match="CT0003.dcm") as err:
        load_series(info)
    assert "cannot be read" in str(err.value)
    vol = load_series(info, on_irregular=WARN)
    np.testing.assert_array_equal(vol.array[[0, 1, 3, 4]], axial_volume(n=5).array[[0, 1, 3, 4]])
    assert {"unreadable_file", "missing_slices"} <= set(vol.report.codes)


def test_file_truncated_after_the_scan(tmp_path: Path) -> None:
    files = write_volume(tmp_path / "ct", axial_volume(n=3))
    (info,) = scan(tmp_path / "ct").series
    truncate(files[1], files[1].stat().st_size - 10)
    with pytest.raises(DicomSeriesError, match="CT0002.dcm: pixel data ends after"):
        load_series(info, workers=1)


@pytest.mark.parametrize(
    "syntax", [pduid.JPEG2000Lossless, pduid.RLELossless, pduid.JPEGLSLossless]
)
def test_compressed_series(tmp_path: Path, syntax: str) -> None:
    vol = axial_volume(n=4)
    write_volume(tmp_path / "ct", vol, transfer_syntax=syntax)
    assert pydicom.dcmread(next((tmp_path / "ct").iterdir())).file_meta.TransferSyntaxUID == syntax
    got = _only(tmp_path / "ct")
    np.testing.assert_array_equal(got.array, vol.array)
    np.testing.assert_allclose(got.affine, vol.affine, atol=1e-9)
    assert "compressed" in got.report


def _pydicom_decoders_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """JPEG 2000 through pydicom's plugins (and helper processes), not imagecodecs' threads."""
    monkeypatch.setattr(pixels_module, "_imagecodecs_jpeg2k", lambda: False)


def test_jpeg2000_in_worker_processes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _pydicom_decoders_only(monkeypatch)
    monkeypatch.setattr(fill_module, "PROCESS_POOL_MIN_PIXELS", 0)
    vol = axial_volume(n=6)
    write_volume(tmp_path / "ct", vol, transfer_syntax=pduid.JPEG2000Lossless)
    got = _only(tmp_path / "ct", workers=2)
    np.testing.assert_array_equal(got.array, vol.array)


def test_jpeg2000_when_helper_processes_cannot_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ivcviewer.dicom._decode_worker import WorkerGone

    def refuse() -> None:
        raise WorkerGone("no processes here")

    _pydicom_decoders_only(monkeypatch)
    monkeypatch.setattr(fill_module, "PROCESS_POOL_MIN_PIXELS", 0)
    monkeypatch.setattr(fill_module, "DecodeWorker", refuse)
    vol = axial_volume(n=5)
    write_volume(tmp_path / "ct", vol, transfer_syntax=pduid.JPEG2000Lossless)
    got = _only(tmp_path / "ct", workers=2)
    np.testing.assert_array_equal(got.array, vol.array)


@pytest.mark.filterwarnings("ignore:End of file reached before delimiter")
@pytest.mark.parametrize("helpers", [False, True])
def test_truncated_compressed_file_names_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, helpers: bool
) -> None:
    if helpers:
        _pydicom_decoders_only(monkeypatch)
        monkeypatch.setattr(fill_module, "PROCESS_POOL_MIN_PIXELS", 0)
        monkeypatch.setattr(fill_module, "DECODE_CHUNK_PIXELS", 1)  # one file per chunk
    files = write_volume(tmp_path / "ct", axial_volume(n=4), transfer_syntax=pduid.JPEG2000Lossless)
    truncate(files[1], files[1].stat().st_size - 100)
    with pytest.raises(DicomSeriesError, match="CT0002.dcm: pixel data cannot be decoded"):
        load_dicom(tmp_path / "ct", workers=2)


def test_missing_decoder_names_syntax_and_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pydicom.pixels.decoders.base import Decoder

    write_volume(tmp_path / "ct", axial_volume(n=2), transfer_syntax=pduid.JPEG2000Lossless)
    _pydicom_decoders_only(monkeypatch)
    monkeypatch.setattr(Decoder, "is_available", property(lambda self: False))
    with pytest.raises(MissingDecoderError) as err:
        load_dicom(tmp_path / "ct")
    text = str(err.value)
    assert "JPEG 2000 Image Compression (Lossless Only)" in text
    assert "pip install pylibjpeg pylibjpeg-openjpeg" in text
    assert "CT0001.dcm" in text


def test_enhanced_multiframe_ct(tmp_path: Path) -> None:
    vol = axial_volume(n=6)
    path = enhanced_ct_file(tmp_path / "enh" / "ct.dcm", vol, frame_order=[3, 0, 5, 1, 4, 2])
    (info,) = scan(path).series
    assert info.n_images == 6 and info.files == [path]
    assert info.window == (50.0, 350.0)
    got = load_series(info)
    np.testing.assert_array_equal(got.array, vol.array)
    np.testing.assert_allclose(got.affine, vol.affine, atol=1e-9)
    assert got.metadata.window == (50.0, 350.0)
    assert "rescale_applied" in got.report


def test_enhanced_multiframe_compressed(tmp_path: Path) -> None:
    vol = axial_volume(n=3)
    path = enhanced_ct_file(
        tmp_path / "ct.dcm", vol, frame_order=[2, 1, 0], transfer_syntax=pduid.RLELossless
    )
    got = _only(path)
    np.testing.assert_array_equal(got.array, vol.array)


def test_legacy_converted_enhanced_ct_from_highdicom(tmp_path: Path) -> None:
    highdicom = pytest.importorskip("highdicom")
    vol = axial_volume(n=4)
    files = write_volume(tmp_path / "single", vol)
    legacy = [pydicom.dcmread(f) for f in files]
    mf = highdicom.legacy.LegacyConvertedEnhancedCTImage(
        legacy_datasets=legacy,
        series_instance_uid=pydicom.uid.generate_uid(),
        series_number=20,
        sop_instance_uid=pydicom.uid.generate_uid(),
        instance_number=1,
    )
    mf.save_as(tmp_path / "mf.dcm")
    got = _only(tmp_path / "mf.dcm")
    np.testing.assert_array_equal(got.array, vol.array)
    np.testing.assert_allclose(got.affine, vol.affine, atol=1e-6)


def test_threads_and_single_worker_agree(tmp_path: Path) -> None:
    vol = axial_volume(n=8)
    write_volume(tmp_path / "ct", vol)
    (info,) = scan(tmp_path / "ct").series
    a = load_series(info, workers=1)
    b = load_series(info, workers=2)
    np.testing.assert_array_equal(a.array, b.array)
    with pytest.raises(DicomSeriesError, match="workers must be >= 1"):
        load_series(info, workers=0)


def test_metadata_and_default_window(tmp_path: Path) -> None:
    files = write_volume(tmp_path / "ct", axial_volume(n=2), window=None, series_description="d")
    got = _only(tmp_path / "ct")
    ds = pydicom.dcmread(files[0])
    assert got.metadata.window == (40.0, 400.0)
    assert "default_window" in got.report
    assert got.metadata.series_uid == ds.SeriesInstanceUID
    assert got.metadata.study_uid == ds.StudyInstanceUID
    assert got.metadata.frame_of_reference_uid == ds.FrameOfReferenceUID
    assert got.metadata.description == "d"
    assert got.metadata.source_files == files


@pytest.mark.parametrize(
    "name",
    [
        "MR_small_implicit.dcm",
        "MR_small_bigendian.dcm",
        "MR_small_RLE.dcm",
        "MR_small_jpeg_ls_lossless.dcm",
        "MR_small_jp2klossless.dcm",
    ],
)
def test_pydicom_reference_files_in_other_syntaxes(tmp_path: Path, name: str) -> None:
    """pydicom's MR_small, encoded by other tools in several syntaxes, loads to one image."""
    from pydicom.data import get_testdata_file

    paths = [get_testdata_file("MR_small.dcm"), get_testdata_file(name)]
    if None in paths:
        pytest.skip(f"pydicom test file {name} not bundled")
    # the file says DERIVED\SECONDARY\OTHER, which the scan leaves out (and says so) ...
    assert [s.code for s in scan(paths[1]).skipped] == ["secondary_capture_skipped"]
    # ... so relabel copies as original images; the pixel data stays as the other tool wrote it
    vols = []
    for i, p in enumerate(paths):
        ds = pydicom.dcmread(p)
        ds.ImageType = ["ORIGINAL", "PRIMARY", "OTHER"]
        ds.save_as(tmp_path / f"{i}.dcm")
        vols.append(load_dicom(tmp_path / f"{i}.dcm")[0])
    ref, got = vols
    assert ref.shape == (1, 64, 64)
    np.testing.assert_array_equal(got.array, ref.array)
    np.testing.assert_allclose(got.affine, ref.affine)
    assert "not_ct" in got.report and "single_slice" in got.report
    np.testing.assert_array_equal(ref.array[0], pydicom.dcmread(paths[0]).pixel_array)


def test_pydicom_jpeg2000_ct_with_pixel_representation_mismatch() -> None:
    """A real CT JPEG 2000 file whose codestream signedness disagrees with its header."""
    from pydicom.data import get_testdata_file
    from pydicom.pixels import apply_rescale

    path = get_testdata_file("J2K_pixelrep_mismatch.dcm")
    if path is None:
        pytest.skip("pydicom test file J2K_pixelrep_mismatch.dcm not bundled")
    (vol,) = load_dicom(path)
    ds = pydicom.dcmread(path)
    np.testing.assert_array_equal(vol.array[0], apply_rescale(ds.pixel_array, ds))
    assert {"compressed", "rescale_applied", "single_slice"} <= set(vol.report.codes)


def test_single_slice_volume(tmp_path: Path) -> None:
    files = write_volume(tmp_path / "ct", axial_volume(n=1))
    (vol,) = load_dicom(files[0])
    np.testing.assert_array_equal(vol.array, axial_volume(n=1).array)
    np.testing.assert_allclose(vol.affine, _axial_affine(), atol=1e-9)
    assert "single_slice" in vol.report


def test_tilted_stack_with_a_gap_resampled_to_a_regular_orthogonal_grid(tmp_path: Path) -> None:
    data = ramp(6)
    keep = [0, 1, 2, 4, 5]
    write_stack(
        tmp_path / "ct",
        data[keep],
        [2.0 * k for k in keep],
        lateral=(0.0, 0.4, 0.0),  # 0.8 mm posterior per 2 mm step = 1 row of 0.8 mm
    )
    (info,) = scan(tmp_path / "ct").series
    assert {"gantry_tilt", "missing_slices"} <= set(info.report.codes)
    vol = load_series(info, on_irregular=RESAMPLE)
    np.testing.assert_allclose(vol.affine[:3, 0], [0, 0, 2.0], atol=1e-9)
    assert gantry_tilt_deg(vol.affine) == pytest.approx(0.0, abs=1e-6)
    # every slice k shifted by k rows; slice 3 blends slices 2 and 4 at each point's own
    # in-plane position (rows 4..33 lie in both)
    assert vol.shape == (6, 37, 32)
    np.testing.assert_array_equal(vol.array[3, 4:34], data[3, 1:31])
    np.testing.assert_array_equal(vol.array[5, 5:37], data[5])


def test_bad_orientation_is_reported_not_raised(tmp_path: Path) -> None:
    write_stack(
        tmp_path / "ct", ramp(2), [0, 1], extra_tags={"ImageOrientationPatient": [1, 0, 0, 1, 0, 0]}
    )
    result = scan(tmp_path / "ct")
    assert result.series == []
    assert [s.code for s in result.skipped] == ["unreadable_file"] * 2
    assert "orthogonal" in result.skipped[0].reason

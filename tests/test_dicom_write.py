"""The CT series writer: valid IOD, exact round trip, refusal of sheared grids, atomic output."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pydicom
import pytest
import SimpleITK as sitk
from _dicom_factory import AXIAL, ORIGIN, PIXEL_SPACING, SAGITTAL, axial_volume, ramp
from pydicom import uid as pduid

from ivcviewer._atomic import dir_mode
from ivcviewer.dicom import load_dicom, write_ct_series, write_ct_slices
from ivcviewer.errors import DicomSeriesError, GeometryError
from ivcviewer.geometry import affine_from_dicom, affine_from_itk
from ivcviewer.volume import Volume


def _dciodvfy_errors(path: Path) -> list[str]:
    out = subprocess.run(["dciodvfy", str(path)], capture_output=True, text=True, check=False)
    return [line for line in (out.stdout + out.stderr).splitlines() if line.startswith("Error")]


@pytest.mark.skipif(shutil.which("dciodvfy") is None, reason="dciodvfy (dicom3tools) not installed")
@pytest.mark.parametrize(
    "syntax", [pduid.ExplicitVRLittleEndian, pduid.ImplicitVRLittleEndian, pduid.JPEG2000Lossless]
)
def test_written_files_pass_dciodvfy(tmp_path: Path, syntax: str) -> None:
    files = write_ct_series(
        axial_volume(n=2), tmp_path / "ct", uid_seed="v", transfer_syntax=syntax
    )
    for f in files:
        assert _dciodvfy_errors(f) == []
    ds = pydicom.dcmread(files[0])
    assert ds.SOPClassUID == pduid.CTImageStorage
    assert ds.file_meta.TransferSyntaxUID == syntax


def test_round_trip_exact_values_and_geometry(tmp_path: Path) -> None:
    vol = axial_volume()
    files = write_ct_series(vol, tmp_path / "ct", uid_seed="rt", window=(50, 350))
    assert [f.name for f in files] == [f"CT{i:04d}.dcm" for i in range(1, 9)]
    ds = pydicom.dcmread(files[3])
    assert [float(v) for v in ds.ImagePositionPatient] == [ORIGIN[0], ORIGIN[1], ORIGIN[2] + 7.5]
    assert [float(v) for v in ds.PixelSpacing] == list(PIXEL_SPACING)
    assert float(ds.SliceThickness) == 2.5
    assert (float(ds.RescaleIntercept), float(ds.RescaleSlope)) == (-1024.0, 1.0)
    assert ds.pixel_array.astype(int).min() == int(vol.array[3].min()) + 1024
    (loaded,) = load_dicom(tmp_path / "ct")
    np.testing.assert_array_equal(loaded.array, vol.array)
    np.testing.assert_allclose(loaded.affine, vol.affine, atol=1e-6)
    assert loaded.metadata.window == (50.0, 350.0)


def test_simpleitk_reads_the_written_geometry(tmp_path: Path) -> None:
    aff = affine_from_dicom(SAGITTAL, ORIGIN, PIXEL_SPACING, (-2.0, 0.0, 0.0))
    vol = Volume(ramp(5), aff)  # slice vector along the normal (-x): order kept by ITK
    write_ct_series(vol, tmp_path / "sag", uid_seed="s")
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(reader.GetGDCMSeriesFileNames(str(tmp_path / "sag")))
    img = reader.Execute()
    itk_aff = affine_from_itk(img.GetOrigin(), img.GetSpacing(), img.GetDirection())
    np.testing.assert_allclose(itk_aff, aff, atol=1e-5)
    np.testing.assert_array_equal(sitk.GetArrayFromImage(img), vol.array)


def test_uids_are_deterministic_with_a_seed(tmp_path: Path) -> None:
    a = write_ct_series(axial_volume(n=2), tmp_path / "a", uid_seed="same")
    b = write_ct_series(axial_volume(n=2), tmp_path / "b", uid_seed="same")
    c = write_ct_series(axial_volume(n=2), tmp_path / "c")
    da, db, dc = (pydicom.dcmread(x[1]) for x in (a, b, c))
    assert da.SOPInstanceUID == db.SOPInstanceUID != dc.SOPInstanceUID
    assert da.SeriesInstanceUID == db.SeriesInstanceUID
    assert da.SOPInstanceUID != pydicom.dcmread(a[0]).SOPInstanceUID


def test_sheared_affine_is_refused_unless_asked(tmp_path: Path) -> None:
    sheared = affine_from_dicom(AXIAL, ORIGIN, PIXEL_SPACING, (0.0, 1.0, 2.5))
    vol = Volume(ramp(4), sheared)
    with pytest.raises(GeometryError, match="sheared by 21.80"):
        write_ct_series(vol, tmp_path / "tilt", uid_seed="t")
    assert not (tmp_path / "tilt").exists()
    files = write_ct_series(vol, tmp_path / "tilt", uid_seed="t", allow_tilt=True)
    ds = pydicom.dcmread(files[2])
    assert float(ds.GantryDetectorTilt) == pytest.approx(21.801, abs=1e-3)
    assert [float(v) for v in ds.ImagePositionPatient] == [-20.0, -28.0, 105.0]


def test_rescale_and_values_that_do_not_fit(tmp_path: Path) -> None:
    vol = Volume(ramp(2) * 2, axial_volume(n=2).affine)
    files = write_ct_series(
        vol, tmp_path / "s2", uid_seed="r", rescale_slope=2, rescale_intercept=-1000
    )
    ds = pydicom.dcmread(files[0])
    assert float(ds.RescaleSlope) == 2.0
    assert int(ds.pixel_array[0, 0]) == (int(vol.array[0, 0, 0]) + 1000) // 2
    wide = np.full((2, 4, 4), 30000, np.int16)
    wide[0] = -30000
    with pytest.raises(DicomSeriesError, match="does not fit 16 bits"):
        write_ct_series(
            Volume(wide, vol.affine), tmp_path / "big", rescale_intercept=0, rescale_slope=0.5
        )
    assert not (tmp_path / "big").exists()


@pytest.mark.filterwarnings("ignore:A value of type .str. cannot be assigned")
def test_output_is_atomic_and_never_overwrites(tmp_path: Path) -> None:
    out = tmp_path / "ct"
    write_ct_series(axial_volume(n=2), out, uid_seed="x")
    assert out.stat().st_mode & 0o777 == dir_mode()  # not the private mode of a temp folder
    before = sorted(p.name for p in out.iterdir())
    with pytest.raises(DicomSeriesError, match="not empty"):
        write_ct_series(axial_volume(n=3), out, uid_seed="x")
    assert sorted(p.name for p in out.iterdir()) == before
    # a failure on the third slice leaves neither the folder nor a temporary one behind
    bad = [{}, {}, {"Rows": "not a number"}]
    with pytest.raises((ValueError, TypeError, OSError)):
        write_ct_slices(
            ramp(3),
            tmp_path / "broken",
            positions_lps=[[0, 0, 0], [0, 0, 1], [0, 0, 2]],
            image_orientation=AXIAL,
            pixel_spacing=(1, 1),
            slice_thickness=1,
            per_slice_tags=bad,
        )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ct"]
    # overwrite replaces the whole series
    files = write_ct_series(axial_volume(n=3), out, uid_seed="y", overwrite=True)
    assert sorted(p.name for p in out.iterdir()) == [f.name for f in files]


def test_extra_tags_set_and_delete(tmp_path: Path) -> None:
    files = write_ct_series(
        axial_volume(n=2),
        tmp_path / "ct",
        uid_seed="e",
        extra_tags={"KVP": "100", "RescaleSlope": None, "SOPClassUID": pduid.MRImageStorage},
    )
    ds = pydicom.dcmread(files[0])
    assert ds.KVP == "100"
    assert "RescaleSlope" not in ds
    assert ds.file_meta.MediaStorageSOPClassUID == pduid.MRImageStorage

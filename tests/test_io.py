"""Volume files: NIfTI, NRRD and MetaImage reading, writing and errors (synthetic data)."""

from __future__ import annotations

import gzip
import os
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import pytest
import SimpleITK as sitk
from _io_factory import RAS_AFFINE, oblique_direction, write_itk, write_nifti, xyz_data

from ivcviewer import geometry
from ivcviewer._deps import import_optional_dependency
from ivcviewer.errors import NoSeriesFoundError, OptionalDependencyError, VolumeFormatError
from ivcviewer.io import (
    is_dicom_file,
    load_volume,
    open_path,
    path_kind,
    read_volume_header,
    save_volume,
)
from ivcviewer.io import open as io_open
from ivcviewer.io import volumes as io_volumes
from ivcviewer.volume import Volume


@pytest.fixture
def indir(tmp_path: Path) -> Path:
    d = tmp_path / "in"
    d.mkdir()
    return d


@pytest.fixture
def outdir(tmp_path: Path) -> Path:
    d = tmp_path / "out"
    d.mkdir()
    return d


# NIfTI -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["ct.nii", "ct.nii.gz"])
def test_nifti_values_and_axes(indir: Path, name: str) -> None:
    data = xyz_data()
    vol = load_volume(write_nifti(indir / name, data))
    assert vol.shape == (5, 6, 7)  # (slice, row, col) = (k, j, i)
    np.testing.assert_array_equal(vol.array, data.transpose(2, 1, 0))
    assert vol.array.dtype == np.int16
    assert vol.array[4, 3, 2] == data[2, 3, 4]


def test_nifti_ras_becomes_lps_on_a_known_voxel(indir: Path) -> None:
    vol = load_volume(write_nifti(indir / "ct.nii.gz", xyz_data()))
    # NIfTI voxel (i, j, k) = (2, 3, 4): RAS = (10 - 2*0.5, -20 + 3*0.75, 30 + 4*2)
    # = (9, -17.75, 38), so LPS = (-9, 17.75, 38); our (slice, row, col) = (k, j, i) = (4, 3, 2).
    np.testing.assert_allclose(vol.voxel_to_lps([4, 3, 2]), [-9.0, 17.75, 38.0])
    np.testing.assert_allclose(vol.spacing, [2.0, 0.75, 0.5])
    # i runs with RAS x decreasing, i.e. towards the patient's left: our column axis points L;
    # j runs with RAS y increasing (anterior), k superior.
    assert geometry.axis_codes(vol.affine) == ("S", "A", "L")


def test_nifti_affine_matches_simpleitk(indir: Path) -> None:
    aff = RAS_AFFINE.copy()
    aff[:3, :3] = oblique_direction() @ aff[:3, :3]  # an oblique (rotated) grid
    path = write_nifti(indir / "obl.nii.gz", xyz_data(), aff)
    vol = load_volume(path)
    img = sitk.ReadImage(str(path))
    ref = geometry.affine_from_itk(img.GetOrigin(), img.GetSpacing(), img.GetDirection())
    np.testing.assert_allclose(vol.affine, ref, atol=1e-4)
    np.testing.assert_array_equal(vol.array, sitk.GetArrayFromImage(img))
    # every voxel centre agrees with ITK's physical point (LPS)
    assert "oblique" in vol.report
    ijk = (4, 1, 6)  # (slice, row, col) -> ITK index (x, y, z) = (6, 1, 4)
    np.testing.assert_allclose(
        vol.voxel_to_lps(ijk), img.TransformIndexToPhysicalPoint((6, 1, 4)), atol=1e-4
    )


def test_qform_sform_disagreement_is_reported(indir: Path) -> None:
    path = write_nifti(indir / "two.nii.gz", xyz_data())
    img = nib.load(str(path))
    shifted = RAS_AFFINE.copy()
    shifted[0, 3] += 5.0  # the qform 5 mm away from the sform
    img.set_qform(shifted, code=1)
    nib.save(img, str(path))
    vol = load_volume(path)
    assert "xform_mismatch" in vol.report
    # the sform wins: voxel 0 at RAS (10, -20, 30) = LPS (-10, 20, 30)
    np.testing.assert_allclose(vol.origin_lps, [-10.0, 20.0, 30.0])
    assert "xform_mismatch" not in load_volume(write_nifti(indir / "one.nii", xyz_data())).report


def test_nifti_scaling_is_applied(indir: Path) -> None:
    stored = np.arange(2 * 3 * 4, dtype=np.int16).reshape(2, 3, 4) * 10
    vol = load_volume(write_nifti(indir / "s.nii.gz", stored, slope=1.0, inter=-1024.0))
    np.testing.assert_array_equal(vol.array, stored.transpose(2, 1, 0).astype(int) - 1024)
    assert vol.array.dtype == np.int16
    assert "rescale_applied" in vol.report
    assert vol.metadata.rescale_applied


def test_nifti_fractional_scaling_gives_float32(indir: Path) -> None:
    stored = np.arange(2 * 3 * 4, dtype=np.int16).reshape(2, 3, 4)
    vol = load_volume(write_nifti(indir / "f.nii.gz", stored, slope=0.5, inter=0.0))
    assert vol.array.dtype == np.float32
    np.testing.assert_allclose(vol.array, stored.transpose(2, 1, 0) * 0.5)


def test_int32_hu_that_fits_becomes_int16_and_wide_values_float32(indir: Path) -> None:
    vol = load_volume(write_nifti(indir / "a.nii.gz", xyz_data(dtype=np.int32)))
    assert vol.array.dtype == np.int16
    wide = xyz_data(dtype=np.int32) * 100
    vol2 = load_volume(write_nifti(indir / "b.nii.gz", wide))
    assert vol2.array.dtype == np.float32
    np.testing.assert_array_equal(vol2.array, wide.transpose(2, 1, 0))


def test_nifti_in_metres_is_converted_to_mm(indir: Path) -> None:
    aff = np.diag([0.001, 0.001, 0.002, 1.0])
    vol = load_volume(write_nifti(indir / "m.nii.gz", xyz_data(), aff, unit="meter"))
    np.testing.assert_allclose(vol.spacing, [2.0, 1.0, 1.0])


def test_nifti_without_orientation_is_reported(indir: Path) -> None:
    vol = load_volume(write_nifti(indir / "n.nii", xyz_data(), qform_code=0, sform_code=0))
    assert "no_orientation" in vol.report
    assert any(i.severity.value == "warning" for i in vol.report.items)


def test_nifti_4d_single_volume_is_accepted(indir: Path) -> None:
    data = xyz_data()[..., None]
    vol = load_volume(write_nifti(indir / "t1.nii.gz", data))
    assert vol.shape == (5, 6, 7)


def test_metadata_and_report(indir: Path) -> None:
    path = write_nifti(indir / "ct.nii.gz", xyz_data())
    vol = load_volume(path)
    assert vol.metadata.source_files == [path]
    assert vol.metadata.modality == "CT"
    assert vol.metadata.window == (40.0, 400.0)
    assert "default_window" in vol.report
    header = read_volume_header(path)
    assert header.shape == vol.shape
    np.testing.assert_allclose(header.affine, vol.affine)


# NRRD / MetaImage ------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["ct.nrrd", "ct.nhdr", "ct.mha", "ct.mhd"])
@pytest.mark.parametrize("oblique", [False, True])
def test_itk_formats_geometry_and_values(indir: Path, name: str, oblique: bool) -> None:
    zyx = xyz_data().transpose(2, 1, 0).copy()
    direction = oblique_direction() if oblique else None
    img = write_itk(indir / name, zyx, direction=direction)
    vol = load_volume(indir / name)
    np.testing.assert_array_equal(vol.array, zyx)
    assert vol.array.dtype == np.int16
    ref = geometry.affine_from_itk(img.GetOrigin(), img.GetSpacing(), img.GetDirection())
    np.testing.assert_allclose(vol.affine, ref, atol=1e-9)
    # (slice, row, col) = (2, 3, 4) is ITK index (x, y, z) = (4, 3, 2)
    np.testing.assert_allclose(
        vol.voxel_to_lps([2, 3, 4]), img.TransformIndexToPhysicalPoint((4, 3, 2)), atol=1e-6
    )
    assert ("oblique" in vol.report) is oblique


def test_nrrd_in_ras_space_is_read_as_lps(indir: Path) -> None:
    """An NRRD header written by hand in RAS space (as Slicer writes some files)."""
    data = np.arange(2 * 3 * 4, dtype=np.int16)
    raw = indir / "ras.raw"
    raw.write_bytes(data.tobytes())
    (indir / "ras.nhdr").write_text(
        "NRRD0004\ntype: short\ndimension: 3\nspace: right-anterior-superior\n"
        "sizes: 4 3 2\nspace directions: (1,0,0) (0,1,0) (0,0,2)\n"
        "kinds: domain domain domain\nendian: little\nencoding: raw\n"
        "space origin: (10,20,30)\ndata file: ras.raw\n"
    )
    vol = load_volume(indir / "ras.nhdr")
    # first voxel at RAS (10, 20, 30) = LPS (-10, -20, 30); the x axis points to R
    np.testing.assert_allclose(vol.origin_lps, [-10, -20, 30])
    np.testing.assert_allclose(vol.voxel_to_lps([1, 2, 3]), [-13, -22, 32])


# Writers ---------------------------------------------------------------------------------


def _volume(affine: np.ndarray | None = None, dtype: Any = np.int16) -> Volume:
    aff = (
        affine
        if affine is not None
        else geometry.affine_from_itk(
            [5.0, -6.0, 7.0], [0.6, 0.7, 2.5], oblique_direction().ravel()
        )
    )
    return Volume(xyz_data(dtype=dtype).transpose(2, 1, 0).copy(), aff)


@pytest.mark.parametrize("name", ["v.nii.gz", "v.nii", "v.nrrd", "v.mha"])
@pytest.mark.parametrize("dtype", [np.int16, np.float32])
def test_save_volume_round_trip(outdir: Path, name: str, dtype: Any) -> None:
    vol = _volume(dtype=dtype)
    if dtype == np.float32:
        vol = vol.with_array(vol.array + np.float32(0.25))  # not whole numbers: stays float
    out = save_volume(vol, outdir / name)
    assert out == (outdir / name).resolve()
    back = load_volume(out)
    np.testing.assert_allclose(back.affine, vol.affine, atol=1e-5)
    np.testing.assert_array_equal(back.array, vol.array)
    assert back.array.dtype == (np.int16 if dtype == np.int16 else np.float32)
    assert sorted(os.listdir(outdir)) == [name]  # no temporary files left
    if name.endswith(".gz"):
        assert out.read_bytes()[:2] == b"\x1f\x8b"  # really gzip-compressed


def test_saved_nifti_is_ras_for_other_tools(outdir: Path) -> None:
    vol = _volume()
    out = save_volume(vol, outdir / "v.nii.gz")
    img = nib.load(str(out))
    assert int(img.header["sform_code"]) == 1 and int(img.header["qform_code"]) == 1
    # nibabel's (i, j, k) = our (col, row, slice); its world is RAS
    ras = img.affine @ [4, 3, 2, 1]
    lps = vol.voxel_to_lps([2, 3, 4])
    np.testing.assert_allclose(ras[:3], [-lps[0], -lps[1], lps[2]], atol=1e-5)
    assert img.header.get_xyzt_units()[0] == "mm"
    # and SimpleITK agrees on where that voxel is
    s = sitk.ReadImage(str(out))
    np.testing.assert_allclose(s.TransformIndexToPhysicalPoint((4, 3, 2)), lps, atol=1e-4)


def test_sheared_grid_saves_to_nifti_not_to_nrrd(outdir: Path) -> None:
    tilt = np.radians(12)
    aff = geometry.affine_from_dicom(
        [1, 0, 0, 0, 1, 0], [0, 0, 0], [0.7, 0.7], [0, 2.5 * np.sin(tilt), 2.5 * np.cos(tilt)]
    )
    vol = _volume(aff)
    back = load_volume(save_volume(vol, outdir / "tilt.nii.gz"))
    np.testing.assert_allclose(back.affine, aff, atol=1e-5)
    assert "gantry_tilt" in back.report
    with pytest.raises(VolumeFormatError, match="sheared"):
        save_volume(vol, outdir / "tilt.nrrd")
    assert not (outdir / "tilt.nrrd").exists()


def test_save_refuses_input_folder_and_bad_endings(indir: Path, outdir: Path) -> None:
    vol = load_volume(write_nifti(indir / "ct.nii.gz", xyz_data()))
    with pytest.raises(VolumeFormatError, match="input"):
        save_volume(vol, indir / "copy.nii.gz")
    (indir / "sub").mkdir()
    with pytest.raises(VolumeFormatError, match="input"):
        save_volume(vol, indir / "sub" / "copy.nii.gz")
    with pytest.raises(VolumeFormatError, match="input"):
        save_volume(_volume(), outdir / "x.nii.gz", inputs=[outdir])
    for bad in ("x.png", "x.mhd", "x.nhdr"):
        with pytest.raises(VolumeFormatError, match="cannot write"):
            save_volume(vol, outdir / bad)
    assert os.listdir(outdir) == []


def test_failed_write_leaves_old_file_and_no_temporary(
    outdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    vol = _volume()
    target = save_volume(vol, outdir / "v.nii.gz")
    before = target.read_bytes()

    def broken(array: Any, affine: Any, path: Any, **kw: Any) -> None:
        Path(path).write_bytes(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(io_volumes.nifti_backend, "write", broken)
    with pytest.raises(OSError, match="disk full"):
        save_volume(vol, target)
    assert target.read_bytes() == before
    assert os.listdir(outdir) == ["v.nii.gz"]


# Errors ----------------------------------------------------------------------------------


def test_4d_nifti_is_refused_naming_the_file(indir: Path) -> None:
    path = write_nifti(indir / "dwi.nii.gz", np.zeros((4, 4, 3, 5), np.int16))
    with pytest.raises(VolumeFormatError, match=r"dwi\.nii\.gz.*4D.*5 volumes"):
        load_volume(path)
    with pytest.raises(VolumeFormatError, match="4D"):
        read_volume_header(path)


def test_2d_nifti_is_refused(indir: Path) -> None:
    path = write_nifti(indir / "flat.nii", np.zeros((4, 4), np.int16))
    with pytest.raises(VolumeFormatError, match=r"flat\.nii.*2D"):
        load_volume(path)


def test_4d_and_vector_itk_images_are_refused(indir: Path) -> None:
    img4 = sitk.Image([4, 4, 3, 2], sitk.sitkInt16)
    sitk.WriteImage(img4, str(indir / "t.mha"))
    with pytest.raises(VolumeFormatError, match=r"t\.mha.*4D"):
        load_volume(indir / "t.mha")
    rgb = sitk.Image([4, 4, 3], sitk.sitkVectorUInt8, 3)
    sitk.WriteImage(rgb, str(indir / "rgb.nrrd"))
    with pytest.raises(VolumeFormatError, match=r"rgb\.nrrd.*3 components"):
        load_volume(indir / "rgb.nrrd")
    img2 = sitk.Image([4, 4], sitk.sitkInt16)
    sitk.WriteImage(img2, str(indir / "flat.nrrd"))
    with pytest.raises(VolumeFormatError, match="2D"):
        load_volume(indir / "flat.nrrd")


def test_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.nii.gz"
    with pytest.raises(FileNotFoundError) as info:
        load_volume(missing)
    assert info.value.filename == str(missing)
    with pytest.raises(FileNotFoundError):
        open_path(tmp_path / "nope")
    with pytest.raises(FileNotFoundError):
        read_volume_header(tmp_path / "nope.mha")


def test_unknown_extension(indir: Path) -> None:
    f = indir / "notes.txt"
    f.write_text("hello")
    with pytest.raises(VolumeFormatError, match=r"notes\.txt.*\.nii"):
        load_volume(f)
    with pytest.raises(NoSeriesFoundError, match=r"notes\.txt.*Accepted: a DICOM folder"):
        open_path(f)


def test_corrupt_and_truncated_files(indir: Path) -> None:
    fake = indir / "fake.nii"
    fake.write_bytes(b"not a nifti file at all" * 20)
    with pytest.raises(VolumeFormatError, match=r"fake\.nii"):
        load_volume(fake)
    good = write_nifti(indir / "good.nii.gz", xyz_data((40, 40, 20)))
    raw = gzip.decompress(good.read_bytes())
    cut = indir / "cut.nii.gz"
    cut.write_bytes(gzip.compress(raw[: len(raw) // 2]))
    with pytest.raises(VolumeFormatError, match=r"cut\.nii\.gz.*truncated"):
        load_volume(cut)
    fake_mha = indir / "fake.mha"
    fake_mha.write_text("garbage\n")
    with pytest.raises(VolumeFormatError, match=r"fake\.mha"):
        load_volume(fake_mha)


def test_missing_optional_dependency_names_feature_and_package(
    indir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_itk(indir / "ct.nrrd", xyz_data())
    import ivcviewer._deps as deps

    real = deps.importlib.import_module

    def fake_import(name: str, *a: Any) -> Any:
        if name == "SimpleITK":
            raise ModuleNotFoundError("No module named 'SimpleITK'", name="SimpleITK")
        return real(name, *a)

    monkeypatch.setattr(deps.importlib, "import_module", fake_import)
    with pytest.raises(OptionalDependencyError, match=r"NRRD.*pip install SimpleITK"):
        load_volume(indir / "ct.nrrd")
    with pytest.raises(ImportError):  # also an ImportError for callers that expect one
        import_optional_dependency("SimpleITK", "x")


# Dispatch --------------------------------------------------------------------------------


def test_open_path_volume_file(indir: Path) -> None:
    path = write_nifti(indir / "ct.nii.gz", xyz_data())
    vols = open_path(path)
    assert len(vols) == 1 and vols[0].shape == (5, 6, 7)
    with pytest.raises(NoSeriesFoundError, match="DICOM input only"):
        open_path(path, series_uid="1.2.3")


def test_dicom_sniffing_and_dispatch(indir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dcm = indir / "IM0001"  # no extension
    dcm.write_bytes(b"\0" * 128 + b"DICM" + b"\0" * 16)
    (indir / "DICOMDIR").write_bytes(b"\0" * 10)
    not_dcm = indir / "IM0002"
    not_dcm.write_bytes(b"\0" * 200)
    assert is_dicom_file(dcm) and is_dicom_file(indir / "DICOMDIR")
    assert not is_dicom_file(not_dcm) and not is_dicom_file(indir)
    assert path_kind(dcm) == "dicom" and path_kind(indir) == "dicom"

    calls: list[tuple[Any, ...]] = []

    class FakeDicom:
        @staticmethod
        def load_dicom(
            path: Any, series_uid: Any = None, on_irregular: Any = None, left_out: Any = None
        ) -> list[Any]:
            calls.append((Path(path), series_uid, on_irregular))
            return ["volume"]

    monkeypatch.setattr(io_open, "_dicom_module", lambda: FakeDicom)
    from ivcviewer.report import ValidationMode

    assert open_path(dcm, series_uid="1.2", on_irregular=ValidationMode.WARN) == ["volume"]
    assert open_path(indir) == ["volume"]
    assert calls == [(dcm, "1.2", ValidationMode.WARN), (indir, None, ValidationMode.RAISE)]
    with pytest.raises(NoSeriesFoundError, match="IM0002"):
        open_path(not_dcm)

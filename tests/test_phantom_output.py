"""The written phantom: a valid DICOM CT series that SimpleITK and ivcviewer read with the same
geometry, the truth label map and landmarks, the manifest, the CLI and the cache."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pydicom
import pytest

from ivcviewer import geometry
from ivcviewer.cli.main import main
from ivcviewer.errors import OutputExistsError
from ivcviewer.phantom import Phantom, build_phantom, cached_phantom, write_phantom
from ivcviewer.phantom import output as phantom_output
from ivcviewer.volume import Volume


@pytest.fixture(scope="module")
def phantom() -> Phantom:
    return build_phantom("small", seed=3)


@pytest.fixture(scope="module")
def written(phantom: Phantom, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_phantom(phantom, tmp_path_factory.mktemp("phantom") / "out")


def test_series_passes_dciodvfy(written: dict[str, Path]) -> None:
    exe = shutil.which("dciodvfy")
    if exe is None:
        pytest.skip("dciodvfy (Debian dicom3tools) is not installed")
    files = sorted(written["ct"].glob("*.dcm"))
    assert len(files) == 72
    for f in files:
        res = subprocess.run([exe, str(f)], capture_output=True, text=True, check=False)
        text = res.stdout + res.stderr
        errors = [line for line in text.splitlines() if line.startswith("Error")]
        assert errors == [], f"{f.name}: {errors}"
        assert "CTImage" in text


def test_dicom_headers_say_synthetic_and_are_deterministic(
    phantom: Phantom, written: dict[str, Path], tmp_path: Path
) -> None:
    ds = pydicom.dcmread(sorted(written["ct"].glob("*.dcm"))[0])
    assert ds.SOPClassUID == pydicom.uid.CTImageStorage
    assert "SYNTHETIC" in str(ds.StudyDescription).upper()
    assert "PHANTOM" in str(ds.PatientName).upper()
    assert "synthetic" in str(ds.SeriesDescription).lower()
    assert float(ds.RescaleIntercept) == -1024.0 and float(ds.RescaleSlope) == 1.0
    assert (float(ds.WindowCenter), float(ds.WindowWidth)) == (40.0, 400.0)
    assert [float(v) for v in ds.ImageOrientationPatient] == [1, 0, 0, 0, 1, 0]
    assert [float(v) for v in ds.PixelSpacing] == [4.0, 4.0]
    assert float(ds.SliceThickness) == 5.0
    np.testing.assert_allclose([float(v) for v in ds.ImagePositionPatient], phantom.ct.origin_lps)
    np.testing.assert_array_equal(ds.pixel_array.astype(int) - 1024, phantom.ct.array[0])
    # same parameters -> same UIDs; another seed -> other UIDs
    again = write_phantom(phantom, tmp_path / "again")
    ds2 = pydicom.dcmread(sorted(again["ct"].glob("*.dcm"))[0], stop_before_pixels=True)
    assert ds2.SeriesInstanceUID == ds.SeriesInstanceUID
    assert ds2.SOPInstanceUID == ds.SOPInstanceUID
    other = write_phantom(build_phantom("small", seed=4), tmp_path / "other")
    ds3 = pydicom.dcmread(sorted(other["ct"].glob("*.dcm"))[0], stop_before_pixels=True)
    assert ds3.SeriesInstanceUID != ds.SeriesInstanceUID


def test_simpleitk_and_ivcviewer_read_the_same_geometry(
    phantom: Phantom, written: dict[str, Path]
) -> None:
    sitk = pytest.importorskip("SimpleITK")
    from ivcviewer.dicom.load import load_dicom

    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(reader.GetGDCMSeriesFileNames(str(written["ct"])))
    img = reader.Execute()
    aff_itk = geometry.affine_from_itk(img.GetOrigin(), img.GetSpacing(), img.GetDirection())
    (vol,) = load_dicom(written["ct"])
    np.testing.assert_allclose(aff_itk, phantom.ct.affine, atol=1e-4)
    np.testing.assert_allclose(vol.affine, phantom.ct.affine, atol=1e-4)
    np.testing.assert_array_equal(sitk.GetArrayFromImage(img), phantom.ct.array)
    np.testing.assert_array_equal(np.asarray(vol.array), phantom.ct.array)
    assert vol.report.warnings == []


def test_truth_labels_and_landmarks_read_back(phantom: Phantom, written: dict[str, Path]) -> None:
    from ivcviewer.annotations.anatomy import Landmarks
    from ivcviewer.io import load_labels

    vol, table = load_labels(written["labels"])
    np.testing.assert_array_equal(np.asarray(vol.array), phantom.labels.array)
    np.testing.assert_allclose(vol.affine, phantom.labels.affine, atol=1e-4)
    assert table.value_of("mass") == phantom.label_value("mass")
    assert table.value_of("inferior_vena_cava") == phantom.label_value("inferior_vena_cava")
    assert len(table) == len(phantom.label_table)
    lm = Landmarks.load_json(written["landmarks"])
    for name, p in phantom.landmarks.points_lps.items():
        np.testing.assert_allclose(lm.point(name), p, atol=1e-3)
    c, r = lm.centreline()
    np.testing.assert_allclose(c, phantom.landmarks.centreline()[0], atol=1e-3)
    assert json.loads(written["landmarks"].read_text())["coordinate_system"] == "LPS"


def test_manifest_describes_the_phantom(phantom: Phantom, written: dict[str, Path]) -> None:
    doc = json.loads(written["manifest"].read_text())
    assert doc["format"] == "ivcviewer.phantom" and doc["synthetic"] is True
    assert doc["params"] == {"size": "small", "seed": 3, "normal": False}
    assert doc["grid"]["shape"] == [72, 96, 96]
    assert (
        doc["files"]["ct"] == "ct"
        and (written["manifest"].parent / doc["files"]["labels"]).is_file()
    )
    assert doc["dicom"]["n_files"] == 72
    mass = doc["truth"]["mass"]
    assert mass["reported_extents_mm"] == {"lr": 105.0, "ap": 89.0, "cc": 132.0}
    for axis, step in (("lr", 4.0), ("ap", 4.0), ("cc", 5.0)):
        assert abs(mass["label_extents_mm"][axis] - mass["reported_extents_mm"][axis]) <= step
    assert "10.37549/AR-D-24-0011" in doc["case"]["doi"]
    names = {e["name"] for e in doc["labels"]}
    assert {"mass", "intravascular_tumour", "liver", "inferior_vena_cava"} <= names
    assert not any(f.name.endswith(".partial") for f in written["manifest"].parent.iterdir())


def test_measured_extents_follow_the_patient_axes_on_any_grid(phantom: Phantom) -> None:
    """The same label map stored with its axes permuted and flipped (a sagittal-like grid)
    measures the same extents along lr, ap and cc."""
    import dataclasses

    axial = phantom_output.measured_extents_mm(phantom)
    arr = phantom.labels.array
    # voxel axes of the new array: (col reversed, slice, row) of the old one
    new = np.transpose(arr, (2, 0, 1))[::-1]
    perm = np.zeros((4, 4))
    perm[3, 3] = 1.0
    n_col = arr.shape[2]
    perm[2, 0] = -1.0  # old col = n_col - 1 - new i
    perm[2, 3] = n_col - 1
    perm[0, 1] = 1.0  # old slice = new j
    perm[1, 2] = 1.0  # old row = new k
    aff = phantom.labels.affine @ perm
    moved = dataclasses.replace(phantom, labels=Volume(new.copy(), aff))
    np.testing.assert_allclose(  # the same voxel, the same place
        geometry.voxel_to_lps(aff, [[3, 7, 11]]),
        geometry.voxel_to_lps(phantom.labels.affine, [[7, 11, n_col - 1 - 3]]),
    )
    permuted = phantom_output.measured_extents_mm(moved)
    assert permuted == pytest.approx(axial)
    assert axial["lr"] != pytest.approx(axial["cc"])  # the axes do differ
    assert phantom_output.measured_extents_mm(phantom, "skin")["lr"] > axial["lr"]


def test_write_refuses_a_non_empty_folder(phantom: Phantom, tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("x")
    with pytest.raises(OutputExistsError, match="not empty"):
        write_phantom(phantom, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt"]


def test_info_json_reports_no_warnings(
    written: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    try:
        import ivcviewer.cli.info  # noqa: F401
    except ImportError:  # pragma: no cover - the info command is another module's
        pytest.skip("ivcviewer info is not available")
    assert main(["info", "--json", str(written["ct"])]) == 0
    doc = json.loads(capsys.readouterr().out)
    (series,) = doc["series"]
    assert series["report"] == [] or all(i["severity"] == "info" for i in series["report"])
    assert series["shape"] == [72, 96, 96]
    assert doc["skipped"] == []


def test_cli_writes_refuses_then_forces(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "ph"
    assert main(["phantom", "--out", str(out), "--size", "small", "--seed", "2", "--normal"]) == 0
    text = capsys.readouterr().out
    assert "DICOM CT series" in text and str(out / "ct") in text
    assert len(list((out / "ct").glob("*.dcm"))) == 72
    doc = json.loads((out / "manifest.json").read_text())
    assert doc["params"] == {"size": "small", "seed": 2, "normal": True}
    assert main(["phantom", "--out", str(out), "--size", "small"]) == 2
    assert "not empty" in capsys.readouterr().err
    assert main(["phantom", "--out", str(out), "--size", "small", "--force"]) == 0
    doc = json.loads((out / "manifest.json").read_text())
    assert doc["params"]["normal"] is False and "mass label extents" in capsys.readouterr().out
    assert len(list((out / "ct").glob("*.dcm"))) == 72


def test_cli_rejects_a_negative_seed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["phantom", "--out", str(tmp_path / "x"), "--seed", "-3"])
    assert exc.value.code == 2
    assert "non-negative" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_cached_phantom_is_built_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    folder = cached_phantom("small", seed=1)
    assert folder.parent == tmp_path / "cache" / "ivcviewer" / "phantom"
    assert (folder / "manifest.json").is_file() and len(list((folder / "ct").glob("*.dcm"))) == 72
    stamp = os.stat(folder / "manifest.json").st_mtime_ns

    def fail(*args: object, **kwargs: object) -> None:
        raise AssertionError("rebuilt a cached phantom")

    monkeypatch.setattr(phantom_output, "build_phantom", fail)
    assert cached_phantom("small", seed=1) == folder
    assert os.stat(folder / "manifest.json").st_mtime_ns == stamp
    assert [p.name for p in folder.parent.iterdir()] == [folder.name]
    # another seed or the normal baseline is another entry
    assert phantom_output.cache_key("small", 1, True) != folder.name


def test_cache_defaults_to_home(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    assert phantom_output.cache_root() == Path.home() / ".cache" / "ivcviewer" / "phantom"

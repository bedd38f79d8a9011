"""``ivcviewer measure`` run in-process: the JSON contract, the table and bad input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
import pytest
from _measure_factory import ellipsoid_mask, grid_affine, labels_volume, voxel_centres

from ivcviewer.annotations import default_case_path
from ivcviewer.cli.main import main
from ivcviewer.io import LabelTable, save_labels, save_volume
from ivcviewer.volume import Volume

REGION_KEYS = {
    "label",
    "name",
    "n_voxels",
    "extents_cm",
    "voxel_cm",
    "obb_cm",
    "obb_axes_lps",
    "max_diameter_cm",
    "long_axis_cm",
    "short_axis_cm",
    "recist",
    "volume_ml",
    "centroid_lps",
    "hu",
    "comparison",
}
HU_KEYS = {"n_voxels", "mean", "std", "min", "max", "median", "p5", "p25", "p75", "p95"}
AXIS_KEYS = {
    "measured_axis",
    "reported_axis",
    "measured_cm",
    "reported_cm",
    "difference_cm",
    "relative_difference",
    "tolerance_cm",
    "passed",
}
SHAPE = (64, 130, 150)
SPACING = (2.5, 0.8, 0.8)
#: The case's mass (10.5 x 8.9 x 13.2 cm, axes assumed lr / ap / cc).
MASS_SEMI_MM = np.array([105.0, 89.0, 132.0]) / 2


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A label map with the mass (label 1, named), a 10%-shrunk copy (label 3) and a small
    unnamed region (label 5); its label table; a CT on the same grid; a CT on another grid."""
    d = tmp_path_factory.mktemp("measure")
    aff = grid_affine(SHAPE, spacing=SPACING, centre_lps=(0.0, 0.0, 0.0))
    c = voxel_centres(SHAPE, aff)
    mass = ellipsoid_mask(c, MASS_SEMI_MM, (0.0, 0.0, 0.0))
    shrunk = ellipsoid_mask(c, 0.9 * MASS_SEMI_MM, (0.0, 0.0, 0.0))
    mass_only = labels_volume({1: mass}, aff)
    small = ellipsoid_mask(c, (4.0, 4.0, 6.0), (-50.0, 45.0, -60.0))
    both = labels_volume({1: mass, 5: small}, aff)
    out = {
        "labels": d / "mass_seg.nii.gz",
        "shrunk": d / "shrunk_seg.nrrd",
        "ct": d / "ct.nii.gz",
        "ct_other": d / "ct_other.mha",
        "names": d / "names.json",
    }
    save_labels(both, LabelTable.from_names({1: "mass", 5: "node"}), out["labels"])
    save_labels(labels_volume({1: shrunk}, aff), LabelTable.from_names({1: "mass"}), out["shrunk"])
    hu = np.where(mass_only.array > 0, 45, -80).astype(np.int16)
    save_volume(Volume(hu, aff), out["ct"])
    save_volume(Volume(np.zeros((10, 10, 10), np.int16), np.eye(4)), out["ct_other"])
    out["names"].write_text(json.dumps({"1": "Mass", "5": "lymph_node"}))
    return out


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    rc = main(["measure", *argv])
    out, err = capsys.readouterr()
    return rc, out, err


def _json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    rc, out, err = _run(capsys, *argv, "--json")
    assert rc == 0, err
    data = json.loads(out)
    assert isinstance(data, dict)
    return data


def test_json_contract_with_ct_and_case(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    case = str(default_case_path())
    data = _json(capsys, str(files["labels"]), "--ct", str(files["ct"]), "--case", case)
    assert data["schema_version"] == 1
    assert data["labelmap"] == str(files["labels"]) and data["ct"] == str(files["ct"])
    assert data["case"] == case
    assert data["grid"]["shape"] == list(SHAPE)
    assert [r["label"] for r in data["regions"]] == [1, 5]
    mass, node = data["regions"]
    assert set(mass) == REGION_KEYS
    assert (mass["name"], node["name"]) == ("mass", "node")

    # the mass measures 10.5 / 8.9 / 13.2 cm within one voxel along each axis
    for axis, semi in zip(("lr", "ap", "cc"), MASS_SEMI_MM, strict=True):
        assert abs(mass["extents_cm"][axis] - semi / 5) <= mass["voxel_cm"][axis] + 1e-9
    assert mass["obb_cm"] == sorted(mass["obb_cm"], reverse=True) and len(mass["obb_cm"]) == 3
    assert mass["max_diameter_cm"] >= mass["obb_cm"][0]
    assert mass["long_axis_cm"] >= mass["short_axis_cm"] > 0
    assert mass["volume_ml"] == pytest.approx(646.0, rel=0.02)
    assert mass["centroid_lps"] == pytest.approx([0.0, 0.0, 0.0], abs=0.1)
    assert len(mass["recist"]["long_axis_lps"]) == 2

    assert set(mass["hu"]) == HU_KEYS
    assert mass["hu"]["mean"] == 45.0 and mass["hu"]["n_voxels"] == mass["n_voxels"]
    assert node["hu"]["max"] == -80.0

    cmp = mass["comparison"]
    assert cmp["finding"] == "mass" and cmp["axes_assumed"] is True
    assert cmp["passed_by_axis"] is True and cmp["passed_order_free"] is True
    assert [a["measured_axis"] for a in cmp["by_axis"]] == ["lr", "ap", "cc"]
    assert all(set(a) == AXIS_KEYS for a in cmp["by_axis"] + cmp["order_free"])
    assert cmp["by_axis"][2]["reported_cm"] == 13.2
    assert node["comparison"] is None  # no finding called "node"


def test_shrunk_region_fails_against_the_case(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    data = _json(capsys, str(files["shrunk"]), "--case", str(default_case_path()))
    (mass,) = data["regions"]
    assert mass["hu"] is None
    cmp = mass["comparison"]
    assert cmp["passed_by_axis"] is False and cmp["passed_order_free"] is False
    assert all(a["difference_cm"] < 0 and not a["passed"] for a in cmp["by_axis"])


def test_names_option_and_default_names_match_by_label_value(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    data = _json(capsys, str(files["labels"]), "--names", str(files["names"]))
    assert [r["name"] for r in data["regions"]] == ["Mass", "lymph_node"]
    assert all(r["hu"] is None and r["comparison"] is None for r in data["regions"])
    # a case-insensitive name matches the finding
    data = _json(
        capsys,
        str(files["labels"]),
        "--names",
        str(files["names"]),
        "--case",
        str(default_case_path()),
    )
    assert data["regions"][0]["comparison"]["finding"] == "mass"
    # without any table the regions are label_<v>, matched by the case's label values
    bare = tmp_path / "bare.nii.gz"
    bare.write_bytes(files["labels"].read_bytes())
    data = _json(capsys, str(bare), "--case", str(default_case_path()))
    assert [r["name"] for r in data["regions"]] == ["label_1", "label_5"]
    assert data["regions"][0]["comparison"]["finding"] == "mass"
    assert data["regions"][1]["comparison"] is None


def test_table_output(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = _run(
        capsys, str(files["shrunk"]), "--ct", str(files["ct"]), "--case", str(default_case_path())
    )
    assert rc == 0, err
    lines = out.splitlines()
    head = next(line for line in lines if line.startswith("label"))
    assert "LR cm" in head and "volume mL" in head
    assert any(line.split()[:2] == ["1", "mass"] for line in lines)
    assert "HU in" in out and "median" in out
    assert "FAIL" in out and "pass" not in out.split("Reported figures")[1]


def test_empty_label_map(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    p = tmp_path / "empty.nii.gz"
    save_labels(Volume(np.zeros((4, 5, 6), np.uint8), np.eye(4)), LabelTable(), p)
    data = _json(capsys, str(p))
    assert data["regions"] == []
    rc, out, err = _run(capsys, str(p))
    assert rc == 0 and "no regions" in out and "holds no label" in err


def _one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("ivcviewer: error:")
    return lines[0]


def test_missing_file_exits_2_with_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    rc, out, err = _run(capsys, str(tmp_path / "nope.nii.gz"), "--json")
    assert rc == 2 and out == ""
    assert "nope.nii.gz" in _one_error_line(err)


def test_not_an_image_exits_2_with_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.nii.gz"
    bad.write_text("this is not a NIfTI file")
    rc, out, err = _run(capsys, str(bad))
    assert rc == 2 and out == ""
    assert "bad.nii.gz" in _one_error_line(err)


def test_ct_on_another_grid_exits_2_naming_both(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    rc, out, err = _run(capsys, str(files["labels"]), "--ct", str(files["ct_other"]))
    assert rc == 2 and out == ""
    line = _one_error_line(err)
    assert "ct_other.mha" in line and "mass_seg.nii.gz" in line and "(10, 10, 10)" in line


def test_bad_case_file_and_tolerance_exit_2(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    rc, _, err = _run(capsys, str(files["labels"]), "--case", str(tmp_path / "none.yaml"))
    assert rc == 2 and "none.yaml" in _one_error_line(err)
    with pytest.raises(SystemExit) as exc:
        _run(capsys, str(files["labels"]), "--case", str(default_case_path()), "--tolerance", "-1")
    assert exc.value.code == 2
    assert "--tolerance" in _one_error_line(capsys.readouterr().err)


@pytest.mark.parametrize("bad", ["-1", "-0.5", "nan", "inf", "-inf", "two"])
@pytest.mark.parametrize("with_case", [False, True])
def test_tolerance_is_checked_by_the_argument_parser(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str], bad: str, with_case: bool
) -> None:
    case = ["--case", str(default_case_path())] if with_case else []
    with pytest.raises(SystemExit) as exc:
        main(["measure", str(files["labels"]), *case, f"--tolerance={bad}"])
    assert exc.value.code == 2
    out, err = capsys.readouterr()
    line = _one_error_line(err)
    assert out == "" and "argument --tolerance" in line and repr(bad) in line


def test_tolerance_zero_is_accepted(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    data = _json(
        capsys, str(files["labels"]), "--case", str(default_case_path()), "--tolerance", "0"
    )
    assert data["regions"][0]["comparison"]["tolerance_rel"] == 0.0


def _small_grid(tmp_path: Path) -> tuple[Path, Volume]:
    """A small label map (NIfTI) and the CT of its grid."""
    from ivcviewer.geometry import affine_from_dicom

    aff = affine_from_dicom([1, 0, 0, 0, 1, 0], [-20.0, -30.0, 100.0], [0.8, 0.7], [0, 0, 2.5])
    lab = np.zeros((6, 20, 24), np.uint8)
    lab[1:4, 5:12, 6:15] = 1
    labels = save_labels(
        Volume(lab, aff), LabelTable.from_names({1: "mass"}), tmp_path / "s.nii.gz"
    )
    hu = np.where(lab > 0, 45, -80).astype(np.int16)
    return labels[0], Volume(hu, aff)


def test_ct_from_a_dicom_folder(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from ivcviewer.dicom import write_ct_series

    labels, ct = _small_grid(tmp_path)
    write_ct_series(ct, tmp_path / "dicom", uid_seed="measure-ct")
    data = _json(capsys, str(labels), "--ct", str(tmp_path / "dicom"))
    (mass,) = data["regions"]
    assert mass["hu"]["n_voxels"] == 3 * 7 * 9 and mass["hu"]["mean"] == 45.0
    assert data["ct"] == str(tmp_path / "dicom")
    one_file = sorted((tmp_path / "dicom").iterdir())[0]
    rc, _, err = _run(capsys, str(labels), "--ct", str(one_file))  # one slice: another grid
    assert rc == 2 and "does not match" in _one_error_line(err)


def test_ct_folder_with_two_series_asks_for_one(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from ivcviewer.dicom import write_ct_series

    labels, ct = _small_grid(tmp_path)
    folder = tmp_path / "dicom"
    write_ct_series(ct, folder / "a", uid_seed="measure-a", series_description="first")
    write_ct_series(ct.with_array(ct.array + 5), folder / "b", uid_seed="measure-b")
    uids = sorted(
        {str(pydicom.dcmread(next((folder / s).iterdir())).SeriesInstanceUID) for s in "ab"}
    )
    rc, out, err = _run(capsys, str(labels), "--ct", str(folder))
    assert rc == 2 and out == ""
    line = _one_error_line(err)
    assert "--ct" in line and "2 series" in line and "Fix: choose one with --series UID" in line
    assert all(u in line for u in uids)
    first = str(pydicom.dcmread(next((folder / "a").iterdir())).SeriesInstanceUID)
    data = _json(capsys, str(labels), "--ct", str(folder), "--series", first)
    assert data["regions"][0]["hu"]["mean"] == 45.0
    rc, _, err = _run(capsys, str(labels), "--series", first)
    assert rc == 2 and "--series needs --ct" in _one_error_line(err)


def test_names_given_a_folder_says_so(files: dict[str, Path], capsys, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    rc, out, err = _run(capsys, str(files["labels"]), "--names", str(tmp_path))
    assert rc == 2 and out == ""
    line = _one_error_line(err)
    assert str(tmp_path) in line and "is a folder, not a file" in line
    assert "no such file" not in line

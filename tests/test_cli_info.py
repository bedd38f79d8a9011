"""``ivcviewer info`` and ``ivcviewer open`` run in-process: the JSON contract and bad input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from _io_factory import write_itk, write_nifti, xyz_data

from ivcviewer import geometry
from ivcviewer.cli import open_cmd
from ivcviewer.cli.main import main
from ivcviewer.dicom import write_ct_series
from ivcviewer.io import load_volume
from ivcviewer.report import ValidationMode
from ivcviewer.volume import Volume

SERIES_KEYS = {
    "series_uid",
    "modality",
    "description",
    "n_images",
    "shape",
    "spacing_mm",
    "affine_lps",
    "report",
    "window",
    "format",
    "stack_label",
    "transfer_syntax",
}


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def _json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    rc, out, err = _run(capsys, "info", *argv, "--json")
    assert rc == 0, err
    data = json.loads(out)
    assert isinstance(data, dict)
    return data


@pytest.fixture
def dicom_folder(tmp_path: Path) -> Path:
    """A small CT series (4 slices of 8x10, sagittal-free axial stack) plus a text file."""
    aff = geometry.affine_from_dicom(
        [1, 0, 0, 0, 1, 0], [-20.0, -30.0, 40.0], [0.8, 0.7], [0, 0, 2.5]
    )
    hu = (np.arange(4 * 8 * 10).reshape(4, 8, 10) - 100).astype(np.int16)
    folder = tmp_path / "dicom"
    write_ct_series(Volume(hu, aff), folder, uid_seed="cli-info", series_description="tiny axial")
    (folder / "notes.txt").write_text("not an image")
    return folder


# info on volume files --------------------------------------------------------------------


def test_info_json_on_nifti(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_nifti(tmp_path / "ct.nii.gz", xyz_data())
    data = _json(capsys, str(path))
    assert set(data) == {"schema_version", "path", "series", "skipped"}
    assert data["schema_version"] == 1 and data["skipped"] == []
    (s,) = data["series"]
    assert set(s) == SERIES_KEYS
    assert s["series_uid"] == "" and s["format"] == "nifti" and s["modality"] == "CT"
    assert s["shape"] == [5, 6, 7] and s["n_images"] == 5
    assert s["spacing_mm"] == [2.0, 0.75, 0.5]
    vol = load_volume(path)
    np.testing.assert_allclose(s["affine_lps"], vol.affine, atol=1e-6)
    assert s["window"] == [40.0, 400.0]
    assert s["transfer_syntax"] is None


def test_info_table_on_nrrd(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_itk(tmp_path / "ct.nrrd", xyz_data().transpose(2, 1, 0).copy())
    rc, out, err = _run(capsys, "info", str(tmp_path / "ct.nrrd"))
    assert rc == 0 and err == ""
    assert "5x6x7" in out and "ct.nrrd" in out and "2.5 x 0.8 x 0.7" in out
    assert "first voxel at LPS (-50, 20, 100)" in out


def test_info_label_map_with_sidecar_is_seg(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_nifti(tmp_path / "seg.nii.gz", np.zeros((3, 3, 3), np.uint8))
    (tmp_path / "seg_labels.json").write_text('{"1": "liver"}')
    assert _json(capsys, str(path))["series"][0]["modality"] == "SEG"


# info on DICOM ---------------------------------------------------------------------------


def test_info_json_on_dicom_folder(
    dicom_folder: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import pydicom.dataset

    def no_pixels(self: Any) -> Any:
        raise AssertionError("info must not read pixel data")

    import ivcviewer.dicom
    import ivcviewer.dicom.load

    monkeypatch.setattr(pydicom.dataset.Dataset, "pixel_array", property(no_pixels))
    for mod in (ivcviewer.dicom, ivcviewer.dicom.load):
        monkeypatch.setattr(mod, "load_series", no_pixels)
        monkeypatch.setattr(mod, "load_dicom", no_pixels)
    data = _json(capsys, str(dicom_folder))
    (s,) = data["series"]
    assert set(s) == SERIES_KEYS
    assert s["format"] == "dicom" and s["modality"] == "CT" and s["description"] == "tiny axial"
    assert s["series_uid"].startswith("1.") and s["n_images"] == 4
    assert s["shape"] == [4, 8, 10]
    np.testing.assert_allclose(s["spacing_mm"], [2.5, 0.8, 0.7])
    np.testing.assert_allclose(s["affine_lps"][0], [0, 0, 0.7, -20.0])
    np.testing.assert_allclose(np.array(s["affine_lps"])[:3, 3], [-20.0, -30.0, 40.0])
    assert all(set(r) == {"code", "severity", "message"} for r in s["report"])
    skipped = data["skipped"]
    assert [Path(f["path"]).name for f in skipped] == ["notes.txt"]
    assert skipped[0]["code"] == "non_image_skipped" and skipped[0]["reason"]


def test_info_table_on_dicom_file(dicom_folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    one = sorted(p for p in dicom_folder.iterdir() if p.name != "notes.txt")[0]
    rc, out, _ = _run(capsys, "info", str(one))
    assert rc == 0
    assert "tiny axial" in out and "1x8x10" in out


# bad input -------------------------------------------------------------------------------


def _one_line_error(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    rc, out, err = _run(capsys, *argv)
    assert rc == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ivcviewer: error:"), err
    assert "Traceback" not in err
    return lines[0]


def test_info_bad_inputs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert "no such file" in _one_line_error(capsys, "info", str(tmp_path / "missing"))
    txt = tmp_path / "report.txt"
    txt.write_text("hello")
    assert "Accepted" in _one_line_error(capsys, "info", str(txt))
    four_d = write_nifti(tmp_path / "fmri.nii.gz", np.zeros((3, 3, 3, 4), np.int16))
    assert "fmri.nii.gz" in _one_line_error(capsys, "info", str(four_d))
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "a.txt").write_text("x")
    assert "no image series" in _one_line_error(capsys, "info", str(empty))


# open ------------------------------------------------------------------------------------


class _FakeLaunch:
    calls: list[tuple[list[str], dict[str, Any]]] = []

    @classmethod
    def open_in_viewer(cls, paths: list[str], **kwargs: Any) -> None:
        cls.calls.append((paths, kwargs))


@pytest.fixture
def fake_launch(monkeypatch: pytest.MonkeyPatch) -> type[_FakeLaunch]:
    _FakeLaunch.calls = []
    monkeypatch.setattr(open_cmd, "_launcher", lambda: _FakeLaunch)
    return _FakeLaunch


def test_open_checks_then_launches(
    dicom_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], fake_launch: Any
) -> None:
    path = write_nifti(tmp_path / "ct.nii.gz", xyz_data())
    assert _run(capsys, "open", str(path))[0] == 0
    uid = _json(capsys, str(dicom_folder))["series"][0]["series_uid"]
    assert (
        _run(capsys, "open", str(dicom_folder), "--series", uid, "--on-irregular", "warn")[0] == 0
    )
    assert fake_launch.calls == [
        ([str(path)], {}),
        ([str(dicom_folder)], {"series_uid": uid, "on_irregular": ValidationMode.WARN}),
    ]


def test_open_bad_input_fails_before_napari(
    dicom_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], fake_launch: Any
) -> None:
    assert "no such file" in _one_line_error(capsys, "open", str(tmp_path / "nope"))
    line = _one_line_error(capsys, "open", str(dicom_folder), "--series", "9.9.9")
    assert "9.9.9" in line and "it holds" in line
    path = write_nifti(tmp_path / "ct.nii.gz", xyz_data())
    assert "DICOM input only" in _one_line_error(capsys, "open", str(path), "--series", "1.2")
    assert fake_launch.calls == []


def test_launcher_contract() -> None:
    """The napari layer's launcher takes what ``open`` passes it."""
    import inspect

    launch = open_cmd._launcher()
    params = inspect.signature(launch.open_in_viewer).parameters
    assert {"paths", "series_uid", "on_irregular"} <= set(params)


def test_docs_cover_the_json_contract() -> None:
    """docs/cli.md documents every series key and every report code."""
    from ivcviewer.report import REPORT_CODES

    doc = (Path(__file__).resolve().parents[1] / "docs" / "cli.md").read_text(encoding="utf-8")
    for key in sorted(SERIES_KEYS | {"schema_version", "skipped", "path"}):
        assert f"| `{key}` |" in doc, key
    for code in REPORT_CODES:
        assert f"| `{code}` |" in doc, code


# report codes ------------------------------------------------------------------------------


def test_report_code_enum_is_the_documented_list() -> None:
    from ivcviewer.report import REPORT_CODES, ReportCode

    assert [c.value for c in ReportCode] == list(REPORT_CODES)
    for code in ReportCode:
        assert code == code.value and code.description == REPORT_CODES[code.value]


def test_report_codes_print_and_serialise_as_their_values() -> None:
    from ivcviewer.report import GeometryReport, ReportCode, Severity

    code = ReportCode.IRREGULAR_SPACING
    assert str(code) == f"{code}" == format(code, "") == "irregular_spacing"
    assert f"{code:>20}" == f"{'irregular_spacing':>20}"
    assert f"{Severity.WARNING}" == str(Severity.WARNING) == "warning"
    assert f"{ValidationMode.RESAMPLE}" == "resample"
    assert (
        json.dumps({"code": code, code: 1})
        == '{"code": "irregular_spacing", "irregular_spacing": 1}'
    )
    report = GeometryReport()
    report.add("gantry_tilt", "warning", "tilted")  # strings are still accepted
    report.add(code, Severity.WARNING, "uneven")
    assert report.codes == [ReportCode.GANTRY_TILT, code]
    assert "gantry_tilt" in report and "gantry_tilt" in set(report.codes)
    item = report.to_list()[0]
    assert item == {"code": "gantry_tilt", "severity": "warning", "message": "tilted"}
    assert type(item["code"]) is str and type(item["severity"]) is str


def test_an_unknown_report_code_is_refused_with_the_valid_ones() -> None:
    from ivcviewer.dicom import SkippedFile
    from ivcviewer.report import GeometryReport, ReportItem

    with pytest.raises(ValueError, match="'gantry-tilt' is not one of .*'gantry_tilt'"):
        GeometryReport().add("gantry-tilt", "warning", "tilted")
    with pytest.raises(ValueError, match="not one of"):
        ReportItem("tilt", "warning", "tilted")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="not one of"):
        SkippedFile(Path("x.dcm"), "skipped", "why")  # type: ignore[arg-type]


def test_info_json_report_codes_are_plain_strings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A stack with a gap and no window: codes in the JSON and the table are bare values."""
    from _dicom_factory import ramp, write_stack

    write_stack(tmp_path / "gap", ramp(4), [0.0, 2.5, 7.5, 10.0], seed="gap", window=None)
    (tmp_path / "gap" / "notes.txt").write_text("not an image")
    rc, out, err = _run(capsys, "info", str(tmp_path / "gap"), "--json")
    assert rc == 0, err
    assert '"code": "missing_slices"' in out and '"code": "default_window"' in out
    assert '"code": "non_image_skipped"' in out and "ReportCode" not in out
    rc, table, err = _run(capsys, "info", str(tmp_path / "gap"))
    assert rc == 0, err
    assert "warning missing_slices: " in table and "info default_window: " in table
    assert ": non_image_skipped: not a DICOM file" in table

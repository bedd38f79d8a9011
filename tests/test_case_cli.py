"""``ivcviewer case new|check|from-drawing``: the template, the check's exit codes and one-line
errors, and a finding added from a region painted on the phantom."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ivcviewer.annotations import load_case
from ivcviewer.cli.main import main
from ivcviewer.io import LabelTable, load_labels, save_labels
from ivcviewer.volume import Volume


@pytest.fixture(scope="module")
def painted(phantom_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A label map on the phantom CT's grid with a box painted (value 4) in the left kidney
    and a speck (value 7) elsewhere."""
    labels, table = load_labels(phantom_dir / "labels.nii.gz")
    kidney = {v for v, n in table.names.items() if n == "kidney_left"}
    ijk = np.argwhere(np.isin(labels.array, list(kidney)))
    c = np.round(ijk.mean(axis=0)).astype(int)
    arr = np.zeros(labels.shape, np.uint8)
    arr[c[0] - 2 : c[0] + 3, c[1] - 3 : c[1] + 4, c[2] - 3 : c[2] + 4] = 4
    arr[0, 0, 0] = 7
    out = tmp_path_factory.mktemp("painted") / "painted.nii.gz"
    save_labels(labels.with_array(arr), LabelTable.from_names({4: "box", 7: "speck"}), out)
    return out


def _one_line(err: str) -> str:
    lines = [x for x in err.splitlines() if x.strip()]
    assert len(lines) == 1, err
    return lines[0]


def test_new_writes_a_template_that_check_accepts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "case.yaml"
    assert main(["case", "new", "--out", str(out)]) == 0
    assert "schema_version: 1" in out.read_text(encoding="utf-8")
    capsys.readouterr()
    assert main(["case", "check", str(out)]) == 0
    summary = capsys.readouterr().out
    assert "a valid case file" in summary and "2 finding(s)" in summary
    assert "renal_mass (mass)" in summary and "centred_in" in summary
    assert "landmarks needed: renal_vein_confluence, ivc_centreline" in summary
    assert len(summary.strip().splitlines()) == 1


def test_new_refuses_an_existing_file_without_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "case.yaml"
    out.write_text("mine\n", encoding="utf-8")
    assert main(["case", "new", "--out", str(out)]) == 2
    line = _one_line(capsys.readouterr().err)
    assert f"--out {out}" in line and "exists" in line and "--force" in line
    assert out.read_text(encoding="utf-8") == "mine\n"
    assert main(["case", "new", "--out", str(out), "--force"]) == 0
    assert load_case(out).case.teaching_example
    assert main(["case", "new", "--out", str(tmp_path / "case.txt")]) == 2
    assert ".yaml" in _one_line(capsys.readouterr().err)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("kind: mass ", "kind: masss "), "findings[0].kind"),
        (("min_share: 0.5 ", "min_share: 1.5 "), "min_share"),
        (("structure: kidney_right     #", "structure: kidney_middle     #"), "kidney_middle"),
        (("  - id: ivc_thrombus", "  - id: renal_mass"), "repeats another finding's id"),
        (("schema_version: 1", "schema_version: 1\nschema_version: 1"), "schema_version"),
    ],
)
def test_check_gives_one_line_and_exit_1_on_a_broken_file(
    change: tuple[str, str],
    expected: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    good = tmp_path / "good.yaml"
    assert main(["case", "new", "--out", str(good)]) == 0
    text = good.read_text(encoding="utf-8")
    assert change[0] in text
    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace(change[0], change[1], 1), encoding="utf-8")
    capsys.readouterr()
    assert main(["case", "check", str(bad)]) == 1
    line = _one_line(capsys.readouterr().err)
    assert line.startswith(f"ivcviewer: error: {bad}")
    assert expected in line and "Fix" in line


def test_check_of_a_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["case", "check", str(tmp_path / "none.yaml")]) == 1
    assert "not found" in _one_line(capsys.readouterr().err)


def test_from_drawing_adds_the_painted_region(
    phantom_dir: Path, painted: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    case = tmp_path / "case.yaml"
    args = ["case", "from-drawing", "--ct", str(phantom_dir / "ct")]
    args += ["--anatomy", str(phantom_dir / "labels.nii.gz"), "--region", str(painted)]
    args += ["--label", "4", "--id", "box", "--name", "Box", "--case", str(case)]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert f"added to {case}" in out and "- id: box" in out
    loaded = load_case(case)
    box = loaded.finding("box")
    assert box.relations.placement.rule == "centred_in"
    assert box.relations.placement.structure == "kidney_left"
    assert box.label_value == 3
    # 7 x 7 x 5 voxels of 4 x 4 x 5 mm: the rounded box that holds them is a little larger
    assert box.relations.shape == "rounded_box"
    assert box.measurements[0].description.endswith("the region itself spans 28 x 28 x 25 mm.")
    extents = box.reported_extents_mm()
    assert extents == pytest.approx({"lr": 28.0, "ap": 28.0, "cc": 25.0}, rel=0.15)
    # the same id again: one line, exit 2, the file as it was
    before = case.read_bytes()
    assert main(args) == 2
    assert "already in the case file" in _one_line(capsys.readouterr().err)
    assert case.read_bytes() == before


def test_from_drawing_refuses_the_case_in_an_input_folder_and_unpainted_labels(
    phantom_dir: Path, painted: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["case", "from-drawing", "--ct", str(phantom_dir / "ct")]
    base += ["--anatomy", str(phantom_dir / "labels.nii.gz"), "--region", str(painted)]
    base += ["--id", "box", "--name", "Box"]
    inside = phantom_dir / "case.yaml"
    assert main([*base, "--label", "4", "--case", str(inside)]) == 2
    assert "refusing to write into" in _one_line(capsys.readouterr().err)
    assert not inside.exists()
    case = tmp_path / "case.yaml"
    assert main([*base, "--case", str(case)]) == 2
    line = _one_line(capsys.readouterr().err)
    assert f"--region {painted}" in line and "[4, 7]" in line and "--label" in line
    assert main([*base, "--label", "5", "--case", str(case)]) == 2
    assert "label value 5 is not painted" in _one_line(capsys.readouterr().err)
    assert not case.exists()


def test_from_drawing_refuses_a_region_on_another_grid(
    phantom_dir: Path, painted: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    labels, table = load_labels(painted)
    cropped = tmp_path / "region" / "cropped.nii.gz"
    cropped.parent.mkdir()
    save_labels(Volume(labels.array[1:].copy(), labels.affine), table, cropped)
    case = tmp_path / "case.yaml"
    args = ["case", "from-drawing", "--ct", str(phantom_dir / "ct")]
    args += ["--anatomy", str(phantom_dir / "labels.nii.gz"), "--region", str(cropped)]
    args += ["--label", "4", "--id", "box", "--name", "Box", "--case", str(case)]
    assert main(args) == 2
    line = _one_line(capsys.readouterr().err)
    assert f"--region {cropped}: is not on the grid of" in line and "Fix" in line
    assert not case.exists()

"""``ivcviewer overlay``: outputs, input sources, and one-line errors with exit status 2."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from _overlay_factory import IDS, NAMES, sample_world, truth_landmarks

from ivcviewer.annotations import default_case_path
from ivcviewer.cli.main import main
from ivcviewer.io import LabelTable, load_labels, save_labels, save_volume
from ivcviewer.volume import Volume


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The synthetic world written as a user would have it: CT, label map + names, landmarks."""
    root = tmp_path_factory.mktemp("inputs")
    w = sample_world()
    (root / "ct").mkdir()
    (root / "seg").mkdir()
    (root / "lm").mkdir()
    ct = save_volume(w.ct, root / "ct" / "ct.nii.gz")
    seg, names = save_labels(w.labels, LabelTable.from_names(NAMES), root / "seg" / "seg.nii.gz")
    lm = truth_landmarks().save_json(root / "lm" / "landmarks.json")
    # a phantom-style truth folder: landmarks, and a label map that also holds the findings
    truth = root / "truth"
    truth.mkdir()
    truth_landmarks().save_json(truth / "landmarks.json")
    arr = w.labels.array.copy()
    arr[(arr == 0) & (w.ct.array > -500)] = 0
    arr[0:3, 0:3, 0:3] = 50  # a 'mass' label far from the anatomy: must be ignored
    names_t = dict(NAMES) | {50: "mass"}
    save_labels(
        w.labels.with_array(arr), LabelTable.from_names(names_t), truth / "truth_labels.nii.gz"
    )
    return {"ct": ct, "seg": seg, "names": names, "landmarks": lm, "truth": truth, "root": root}


def _run(args: list[str]) -> int:
    return main(["overlay", *args])


def _error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.startswith("ivcviewer: error:")]
    assert len(lines) == 1, err
    return lines[0]


def test_outputs_from_a_label_map(inputs: dict[str, Path], tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "out"
    rc = _run(
        [
            str(inputs["ct"]),
            "--case",
            str(default_case_path()),
            "--anatomy",
            str(inputs["seg"]),
            "--out",
            str(out),
        ]
    )
    assert rc == 0
    stdout = capsys.readouterr().out
    assert "Mayo III" in stdout and "mass:" in stdout
    assert "(case file, assumed: Mayo III, segment II; matches)" in stdout
    files = ("labels.nii.gz", "labels_labels.json", "labels.json", "findings.json", "findings.md")
    for name in files:
        assert (out / name).is_file(), name
    wrote = next(ln for ln in stdout.splitlines() if ln.startswith("wrote "))
    assert wrote == "wrote " + ", ".join(str(out / n) for n in files)
    assert not list(out.glob(".*tmp*"))  # no temporary files left behind
    vol, table = load_labels(out / "labels.nii.gz")
    assert table.names == {
        1: "Retroperitoneal mass (leiomyosarcoma)",
        2: "Intravascular tumour (tumour thrombus in the IVC)",
    }
    labels_json = json.loads((out / "labels.json").read_text())
    assert labels_json["1"]["finding_id"] == "mass" and labels_json["1"]["colour"] == "#E6553A"
    assert labels_json["2"]["finding_id"] == "intravascular_tumour"
    # labels.json is also a label table
    _, table2 = load_labels(out / "labels.nii.gz", out / "labels.json")
    assert table2.names == table.names
    doc = json.loads((out / "findings.json").read_text())
    assert doc["inputs"]["anatomy"] == str(inputs["seg"])
    assert doc["anatomy"]["source"] == "labelmap"
    mass = doc["findings"][0]
    assert set(mass["measured"]["extents_cm"]) == {"lr", "ap", "cc"}
    assert mass["measured"]["volume_ml"] > 500
    assert mass["reported"]["extents_cm"]["cc"] == 13.2
    assert doc["ivc_involvement"]["mayo_level"] == "III"
    assert doc["landmarks"]["points"]["renal_vein_confluence"]["position_lps"][2] == pytest.approx(
        0.0, abs=4
    )
    md = (out / "findings.md").read_text()
    assert md.startswith("# Retroperitoneal leiomyosarcoma")
    ref = load_labels(inputs["seg"])[0]
    np.testing.assert_allclose(vol.affine, ref.affine, atol=1e-4)


def test_outputs_from_landmarks_json(inputs: dict[str, Path], tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "out"
    rc = _run(
        [
            str(inputs["ct"]),
            "--case",
            str(default_case_path()),
            "--landmarks",
            str(inputs["landmarks"]),
            "--out",
            str(out),
        ]
    )
    assert rc == 0
    doc = json.loads((out / "findings.json").read_text())
    assert doc["anatomy"]["source"] == "points"
    status = {r["structure"]: r["status"] for r in doc["findings"][0]["rules"]}
    assert status["iliopsoas_right"] == "not_checked"
    assert "warning" in capsys.readouterr().err  # the unchecked 'avoids' rule is said


def test_outputs_from_a_phantom_truth_folder(inputs: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "out"
    rc = _run(
        [
            str(inputs["ct"]),
            "--case",
            str(default_case_path()),
            "--phantom-truth",
            str(inputs["truth"]),
            "--out",
            str(out),
        ]
    )
    assert rc == 0
    vol, _ = load_labels(out / "labels.nii.gz")
    assert not vol.array[0:3, 0:3, 0:3].any()  # the truth's own 'mass' label was not copied
    doc = json.loads((out / "findings.json").read_text())
    status = {r["structure"]: r["status"] for r in doc["findings"][0]["rules"]}
    assert status == {
        "iliopsoas_right": "satisfied",
        "inferior_vena_cava": "satisfied",
        "vertebrae_*": "satisfied",
    }


def test_refuses_to_write_into_the_ct_folder(inputs: dict[str, Path], capsys) -> None:  # type: ignore[no-untyped-def]
    out = inputs["ct"].parent / "overlay"
    rc = _run(
        [
            str(inputs["ct"]),
            "--case",
            str(default_case_path()),
            "--landmarks",
            str(inputs["landmarks"]),
            "--out",
            str(out),
        ]
    )
    assert rc == 2
    assert "refusing to write" in _error_line(capsys)
    assert not out.exists()


def _case_with(tmp_path: Path, old: str, new: str) -> Path:
    text = default_case_path().read_text()
    assert old in text
    p = tmp_path / "cases" / "bad.yaml"
    p.parent.mkdir(exist_ok=True)
    p.write_text(text.replace(old, new, 1))
    return p


@pytest.mark.parametrize(
    ("old", "new", "field", "hint"),
    [
        ("    name: Retroperitoneal mass (leiomyosarcoma)\n", "", "findings[0].name", "is missing"),
        (
            "        unit: cm\n",
            "        unit: inch\n",
            "findings[0].measurements[0].unit",
            "'cm' or 'mm'",
        ),
        (
            "      centre_level: renal_vein_confluence\n",
            "      centre_level: renal_veins\n",
            "findings[0].relations.centre_level",
            "renal_vein_confluence",
        ),
        (
            "      origin_structure: iliopsoas_right\n",
            "      origin_structure: psoas_right\n",
            "findings[0].relations.origin_structure",
            "iliopsoas_right",
        ),
    ],
)
def test_bad_case_file(  # type: ignore[no-untyped-def]
    inputs: dict[str, Path], tmp_path: Path, capsys, old: str, new: str, field: str, hint: str
) -> None:
    bad = _case_with(tmp_path, old, new)
    rc = _run(
        [
            str(inputs["ct"]),
            "--case",
            str(bad),
            "--landmarks",
            str(inputs["landmarks"]),
            "--out",
            str(tmp_path / "out"),
        ]
    )
    assert rc == 2
    line = _error_line(capsys)
    assert str(bad) in line and f"'{field}'" in line and hint in line and "Fix:" in line
    assert not (tmp_path / "out").exists()


def test_missing_structure_is_named(inputs: dict[str, Path], tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    names = {str(v): n for v, n in NAMES.items() if n not in ("kidney_left", "kidney_right")}
    (tmp_path / "names").mkdir()
    table = tmp_path / "names" / "names.json"
    table.write_text(json.dumps(names))
    rc = _run(
        [
            str(inputs["ct"]),
            "--case",
            str(default_case_path()),
            "--anatomy",
            str(inputs["seg"]),
            "--anatomy-names",
            str(table),
            "--out",
            str(tmp_path / "out"),
        ]
    )
    assert rc == 2
    line = _error_line(capsys)
    assert "kidney_left" in line and "kidney_right" in line and "renal_vein_confluence" in line


def test_missing_ivc_is_named(inputs: dict[str, Path], tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    names = {str(v): n for v, n in NAMES.items() if n != "inferior_vena_cava"}
    names[str(IDS["inferior_vena_cava"])] = "label_1"
    (tmp_path / "names").mkdir()
    table = tmp_path / "names" / "names.json"
    table.write_text(json.dumps(names))
    rc = _run(
        [
            str(inputs["ct"]),
            "--case",
            str(default_case_path()),
            "--anatomy",
            str(inputs["seg"]),
            "--anatomy-names",
            str(table),
            "--out",
            str(tmp_path / "out"),
        ]
    )
    assert rc == 2
    assert "inferior_vena_cava" in _error_line(capsys)


def test_argument_errors(inputs: dict[str, Path], tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    out = str(tmp_path / "o")
    rc = _run(
        [
            str(inputs["ct"]),
            "--case",
            str(default_case_path()),
            "--landmarks",
            str(inputs["landmarks"]),
            "--anatomy-names",
            str(inputs["names"]),
            "--out",
            out,
        ]
    )
    assert rc == 2
    assert "--anatomy-names needs --anatomy" in _error_line(capsys)
    for args in (
        [str(inputs["ct"]), "--landmarks", str(inputs["landmarks"]), "--out", out],
        [
            str(inputs["ct"]),
            "--case",
            str(default_case_path()),
            "--landmarks",
            "a.json",
            "--anatomy",
            "b.nii",
            "--out",
            out,
        ],
    ):
        with pytest.raises(SystemExit) as exc:
            _run(args)
        assert exc.value.code == 2
        assert _error_line(capsys)
    empty = tmp_path / "empty"
    empty.mkdir()
    rc = _run(
        [
            str(inputs["ct"]),
            "--case",
            str(default_case_path()),
            "--phantom-truth",
            str(empty),
            "--out",
            out,
        ]
    )
    assert rc == 2
    assert "landmarks.json" in _error_line(capsys)


def test_exit_2_when_nothing_can_be_drawn(inputs: dict[str, Path], tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    # a small CT far from the landmarks: neither finding can be drawn on it
    (tmp_path / "ct").mkdir()
    aff = np.diag([2.0, 2.0, 2.0, 1.0])
    aff[:3, 3] = [400.0, 400.0, 400.0]
    tiny = save_volume(Volume(np.full((8, 8, 8), 40, np.int16), aff), tmp_path / "ct" / "t.nii")
    out = tmp_path / "out"
    args = [str(tiny), "--case", str(default_case_path()), "--landmarks", str(inputs["landmarks"])]
    rc = _run([*args, "--out", str(out)])
    assert rc == 2
    line = _error_line(capsys)
    assert str(tiny) in line and "nothing of the case's findings could be drawn" in line
    assert "outside its field of view" in line and "renal_vein_confluence" in line
    assert "Fix:" in line
    assert not out.exists()


def _irregular_dicom(folder: Path) -> Path:
    from _dicom_factory import STEP, ramp, write_stack

    keep = [0, 1, 2, 4, 5, 6, 7]  # slice 3 missing
    write_stack(folder, ramp()[keep], [STEP * k for k in keep])
    return folder


def test_on_irregular_option(inputs: dict[str, Path], tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    ct = _irregular_dicom(tmp_path / "ct")
    args = [str(ct), "--case", str(default_case_path()), "--landmarks", str(inputs["landmarks"])]
    out = ["--out", str(tmp_path / "out")]
    assert _run([*args, *out]) == 2  # refused by default, naming the option
    line = _error_line(capsys)
    assert "missing" in line and "--on-irregular" in line
    assert "ValidationMode" not in line
    for mode in ("warn", "resample"):
        # loaded now; the landmarks belong to another scan, which is the next error
        assert _run([*args, "--on-irregular", mode, *out]) == 2
        line = _error_line(capsys)
        assert "--on-irregular" not in line and "outside its field of view" in line
    with pytest.raises(SystemExit) as exc:
        _run([*args, "--on-irregular", "ignore", *out])
    assert exc.value.code == 2
    assert "--on-irregular" in _error_line(capsys)


def test_a_fit_error_names_the_file_it_comes_from(  # type: ignore[no-untyped-def]
    inputs: dict[str, Path], tmp_path: Path, capsys
) -> None:
    # a landmark far outside the IVC centreline: the error names the landmarks file
    doc = json.loads(inputs["landmarks"].read_text())
    doc["points"]["renal_vein_confluence"][2] = 1e18
    lm = tmp_path / "lm" / "landmarks.json"
    lm.parent.mkdir()
    lm.write_text(json.dumps(doc))
    args = [str(inputs["ct"]), "--case", str(default_case_path()), "--landmarks", str(lm)]
    assert _run([*args, "--out", str(tmp_path / "out1")]) == 2
    line = _error_line(capsys)
    assert str(lm) in line and "Fix:" in line
    # a finding whose reported figures were removed: the error names the case file
    text = default_case_path().read_text()
    start = text.index("    measurements:")
    end = text.index("\n    relations:", start)
    case = tmp_path / "case" / "case.yaml"
    case.parent.mkdir()
    case.write_text(text[:start] + text[end + 1 :])
    args = [str(inputs["ct"]), "--case", str(case), "--landmarks", str(inputs["landmarks"])]
    assert _run([*args, "--out", str(tmp_path / "out2")]) == 2
    line = _error_line(capsys)
    assert str(case) in line and "Fix:" in line and "measurements" in line
    assert not (tmp_path / "out1").exists() and not (tmp_path / "out2").exists()

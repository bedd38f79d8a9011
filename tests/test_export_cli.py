"""``ivcviewer export`` and ``ivcviewer overlay --seg --sr``: DICOM SEG, SR, NIfTI and NRRD out.

Outputs are read back with the field's readers (highdicom; dcmqi and dciodvfy when present) and
compared with the label map in world space; refusals are one line with exit status 2; a killed
export leaves no file at the output's name.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from _overlay_factory import NAMES, sample_world
from _seg_check import dciodvfy_lines, dcmqi_segments, dcmqi_tool, highdicom_segments, numbered
from _seg_check import on_grid as world_on_grid
from _small_ct_factory import REGION_NAMES, write_small_ct
from pydicom import dcmread

from ivcviewer._atomic import MARKER, verify_set
from ivcviewer.annotations import default_case_path
from ivcviewer.cli.main import main
from ivcviewer.dicom.write import write_ct_series
from ivcviewer.io import LabelTable, load_labels, open_path, save_labels, save_volume
from ivcviewer.volume import Volume

hd = pytest.importorskip("highdicom")
from ivcviewer.interop.sr_read import read_sr  # noqa: E402

SRC = Path(__file__).resolve().parents[1] / "src"
TABLE = REGION_NAMES


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A small CT as DICOM and as NIfTI, and a label map with names in another voxel order."""
    root = tmp_path_factory.mktemp("export")
    written = write_small_ct(root / "ct", seed=0, uid_seed="export")
    ct, labels = written.ct, written.labels
    for name in ("labels", "ctn", "out"):
        (root / name).mkdir()
    # the label map in the canonical (display) voxel order: export must place it by the affines
    path, _ = save_labels(
        labels.to_canonical(), LabelTable.from_names(TABLE), root / "labels" / "labels.nii.gz"
    )
    nifti_ct = save_volume(ct, root / "ctn" / "ct.nii.gz")
    return {"root": root, "ct": ct, "labels": labels, "path": path, "nifti_ct": nifti_ct}


def _export(*args: object) -> int:
    return main(["export", *(str(a) for a in args)])


def _error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.startswith("ivcviewer: error:")]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


# ---------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("case", [False, True])
def test_seg_round_trip(small: dict[str, Any], tmp_path: Path, case: bool, capsys) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "seg.dcm"
    extra = ["--case", default_case_path()] if case else []
    assert (
        _export(small["path"], "--ct", small["root"] / "ct", "--to", "seg", "--out", out, *extra)
        == 0
    )
    assert capsys.readouterr().out == f"wrote {out}\n"
    # highdicom reads back the label map, voxel for voxel in world space
    got = highdicom_segments(out, small["ct"])
    np.testing.assert_array_equal(got, numbered(small["labels"].array))
    seg = hd.seg.segread(out)
    assert [d.SegmentLabel for d in seg.SegmentSequence] == ["mass", "intravascular_tumour"]
    algorithms = {d.SegmentAlgorithmType for d in seg.SegmentSequence}
    assert algorithms == ({"SEMIAUTOMATIC"} if case else {"MANUAL"})
    types = [d.SegmentedPropertyTypeCodeSequence[0].CodeMeaning for d in seg.SegmentSequence]
    if case:  # the case's findings are coded by their kind
        assert types == ["Neoplasm", "Thrombus"]


@pytest.mark.parametrize("to, name", [("nifti", "out.nii.gz"), ("nrrd", "out.nrrd")])
@pytest.mark.parametrize("source", ["labels", "seg"])
def test_label_file_round_trip(  # type: ignore[no-untyped-def]
    small: dict[str, Any], tmp_path: Path, to: str, name: str, source: str, capsys
) -> None:
    labels = small["path"]
    if source == "seg":  # a SEG read back onto its CT
        labels = tmp_path / "in.dcm"
        assert (
            _export(small["path"], "--ct", small["root"] / "ct", "--to", "seg", "--out", labels)
            == 0
        )
    out = tmp_path / name
    assert _export(labels, "--ct", small["root"] / "ct", "--to", to, "--out", out) == 0
    assert out.is_file() and (tmp_path / f"{name.split('.')[0]}_labels.json").is_file()
    vol, table = load_labels(out)
    assert [table.names[v] for v in sorted(table.names)] == ["mass", "intravascular_tumour"]
    # same names at the same world positions (values may be renumbered 1..N by a SEG)
    placed = world_on_grid(vol.array, vol.affine, small["ct"])
    by_name = {table.names[v]: v for v in table.names}
    for value, label in TABLE.items():
        np.testing.assert_array_equal(placed == by_name[label], small["labels"].array == value)
    # written in the CT's voxel order
    np.testing.assert_allclose(vol.affine, small["ct"].affine, atol=1e-4)


def test_nifti_from_a_nifti_ct(small: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "n.nii.gz"
    assert _export(small["path"], "--ct", small["nifti_ct"], "--to", "nifti", "--out", out) == 0
    vol, table = load_labels(out)
    np.testing.assert_array_equal(
        world_on_grid(vol.array, vol.affine, small["ct"]), small["labels"].array
    )
    assert table.names == TABLE


def test_sr_from_a_label_map_writes_its_seg(small: dict[str, Any], tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "report.dcm"
    ct = small["root"] / "ct"
    rc = _export(
        small["path"], "--ct", ct, "--to", "sr", "--out", out, "--case", default_case_path()
    )
    assert rc == 0
    seg = tmp_path / "report_seg.dcm"
    assert capsys.readouterr().out.splitlines() == [
        f"wrote {seg} (the DICOM SEG the report references)",
        f"wrote {out}",
    ]
    rows = read_sr(out)
    assert [r.name for r in rows] == ["mass", "intravascular_tumour"]
    assert {r.segmentation_uid for r in rows} == {str(dcmread(seg).SOPInstanceUID)}
    assert rows[0].reported_mm  # the case's reported figures travel with the report
    # a report on a SEG given as LABELS references that SEG and writes no other
    again = tmp_path / "again" / "sr.dcm"
    again.parent.mkdir()
    assert _export(seg, "--ct", ct, "--to", "sr", "--out", again) == 0
    assert sorted(p.name for p in again.parent.iterdir()) == ["sr.dcm"]
    assert {r.segmentation_uid for r in read_sr(again)} == {str(dcmread(seg).SOPInstanceUID)}


def test_rtstruct_to_seg(small: dict[str, Any], tmp_path: Path) -> None:
    """An RTSTRUCT (written by rt-utils) becomes a SEG of the same voxels and names."""
    rt_utils = pytest.importorskip("rt_utils")
    from ivcviewer.interop.rtstruct_read import read_rtstruct

    rt = rt_utils.RTStructBuilder.create_new(str(small["root"] / "ct"))
    box = np.zeros(small["ct"].shape, bool)
    box[2:6, 10:20, 12:30] = True
    rt.add_roi(mask=box.transpose(1, 2, 0), name="liver", color=[200, 100, 50])
    rt.save(str(tmp_path / "rt.dcm"))
    expected = read_rtstruct(tmp_path / "rt.dcm", small["ct"])
    assert expected.labels.array.any()
    out = tmp_path / "from_rt.dcm"
    assert (
        _export(tmp_path / "rt.dcm", "--ct", small["root"] / "ct", "--to", "seg", "--out", out) == 0
    )
    got = highdicom_segments(out, small["ct"])
    np.testing.assert_array_equal(got, numbered(expected.labels.array))
    assert [d.SegmentLabel for d in hd.seg.segread(out).SegmentSequence] == ["liver"]


# ---------------------------------------------------------------------------- refusals


def test_refuses_a_nifti_ct_for_seg_and_sr(small: dict[str, Any], tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    for to in ("seg", "sr"):
        out = tmp_path / f"{to}.dcm"
        assert _export(small["path"], "--ct", small["nifti_ct"], "--to", to, "--out", out) == 2
        line = _error_line(capsys)
        assert f"--ct {small['nifti_ct']}" in line and "not from DICOM" in line
        assert "--to nifti" in line  # the way out is offered
        assert list(tmp_path.iterdir()) == []


def test_existing_output_kept_unless_force(small: dict[str, Any], tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    ct = small["root"] / "ct"
    out = tmp_path / "seg.dcm"
    out.write_bytes(b"keep me")
    assert _export(small["path"], "--ct", ct, "--to", "seg", "--out", out) == 2
    line = _error_line(capsys)
    assert "is already there" in line and "--force" in line
    assert out.read_bytes() == b"keep me"
    # a report's SEG beside it counts as an output too
    sr = tmp_path / "r.dcm"
    (tmp_path / "r_seg.dcm").write_bytes(b"keep")
    assert _export(small["path"], "--ct", ct, "--to", "sr", "--out", sr) == 2
    assert "r_seg.dcm" in _error_line(capsys) and not sr.exists()
    assert _export(small["path"], "--ct", ct, "--to", "seg", "--out", out, "--force") == 0
    assert dcmread(out).Modality == "SEG"


def test_refusals(small: dict[str, Any], tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    ct = small["root"] / "ct"
    junk = tmp_path / "junk.nii.gz"
    junk.write_bytes(b"not a label map")
    seg = tmp_path / "in.dcm"
    assert _export(small["path"], "--ct", ct, "--to", "seg", "--out", seg) == 0
    sr = tmp_path / "in_sr.dcm"
    assert _export(seg, "--ct", ct, "--to", "sr", "--out", sr) == 0
    capsys.readouterr()
    cases = [
        ([small["path"], "--ct", ct, "--to", "seg", "--out", ct / "x.dcm"], str(ct)),
        ([junk, "--ct", ct, "--to", "nifti", "--out", tmp_path / "o.nii.gz"], "junk.nii.gz"),
        (
            [small["path"], "--ct", tmp_path / "nope", "--to", "seg", "--out", tmp_path / "o.dcm"],
            "nope",
        ),
        ([sr, "--ct", ct, "--to", "nifti", "--out", tmp_path / "o.nii.gz"], "DICOM SR"),
        ([seg, "--ct", ct, "--to", "seg", "--out", tmp_path / "o.dcm"], "already a DICOM SEG"),
        (
            [
                seg,
                "--ct",
                ct,
                "--to",
                "nifti",
                "--names",
                small["path"],
                "--out",
                tmp_path / "o.nii",
            ],
            "--names",
        ),
        ([small["path"], "--ct", ct, "--to", "nrrd", "--out", tmp_path / "o.nii.gz"], ".nrrd"),
    ]
    before = sorted(os.listdir(tmp_path))
    for args, named in cases:
        assert _export(*args) == 2, args
        line = _error_line(capsys)
        assert named in line, line
    assert sorted(os.listdir(tmp_path)) == before
    assert sorted(os.listdir(ct)) == sorted(p.name for p in small["ct"].metadata.source_files)


def test_labels_off_the_ct_grid_are_refused(small: dict[str, Any], tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    shifted = Volume(small["labels"].array, small["labels"].affine.copy())
    shifted.affine[:3, 3] += 0.4
    path, _ = save_labels(shifted, LabelTable.from_names(TABLE), tmp_path / "shifted.nii.gz")
    out = tmp_path / "s.dcm"
    assert _export(path, "--ct", small["root"] / "ct", "--to", "seg", "--out", out) == 2
    assert "is not the voxel grid of --ct" in _error_line(capsys)
    assert not out.exists()


def test_command_line_error_is_one_line(small: dict[str, Any], tmp_path: Path) -> None:
    """The installed entry point, in its own process: one line, exit status 2."""
    out = tmp_path / "seg.dcm"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "ivcviewer",
            "export",
            str(small["path"]),
            "--ct",
            str(small["nifti_ct"]),
            "--to",
            "seg",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(SRC)},
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("ivcviewer: error: --ct ")
    assert not out.exists()


# ---------------------------------------------------------------------------- interruption

#: Runs the command in a child that kills itself (SIGKILL) half-way through its ``n``-th DICOM
#: write: the file being written is cut, as when the machine stops.
_KILLER = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from pydicom import Dataset
    real = Dataset.save_as
    calls = []
    def save_then_die(self, filename, *args, **kwargs):
        real(self, filename, *args, **kwargs)
        calls.append(filename)
        if len(calls) == int(sys.argv[1]):
            data = Path(filename).read_bytes()
            Path(filename).write_bytes(data[: len(data) // 2])
            os.kill(os.getpid(), signal.SIGKILL)
    Dataset.save_as = save_then_die
    from ivcviewer.cli.main import main
    sys.exit(main(sys.argv[2:]))
    """
)


@pytest.mark.parametrize("to, kill_at", [("seg", 1), ("sr", 1), ("sr", 2)])
def test_killed_export_leaves_no_file(
    small: dict[str, Any], tmp_path: Path, to: str, kill_at: int
) -> None:
    out = tmp_path / "out.dcm"
    args = [str(small["path"]), "--ct", str(small["root"] / "ct"), "--to", to, "--out", str(out)]
    proc = subprocess.run(
        [sys.executable, "-c", _KILLER, str(kill_at), "export", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(SRC)},
        check=False,
    )
    assert proc.returncode == -9, proc.stderr
    # neither the output nor (for a report) its SEG is there; only hidden temporaries remain
    assert [p.name for p in tmp_path.iterdir() if not p.name.startswith(".")] == []
    assert not out.exists() and not (tmp_path / "out_seg.dcm").exists()


# ---------------------------------------------------------------------------- overlay


@pytest.fixture(scope="module")
def overlay(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The overlay of the synthetic world, its CT written as DICOM, with --seg --sr."""
    root = tmp_path_factory.mktemp("overlay")
    w = sample_world()
    write_ct_series(w.ct, root / "ct", uid_seed="world")
    (root / "anat").mkdir()
    anatomy, _ = save_labels(w.labels, LabelTable.from_names(NAMES), root / "anat" / "a.nii.gz")
    out = root / "out"
    argv = ["overlay", str(root / "ct"), "--case", str(default_case_path()), "--anatomy",
            str(anatomy), "--out", str(out), "--seg", "--sr"]  # fmt: skip
    (ct,) = open_path(root / "ct")
    return {"root": root, "out": out, "argv": argv, "ct": ct, "anatomy": anatomy}


def test_overlay_writes_seg_and_sr_in_its_set(overlay: dict[str, Any], capsys) -> None:  # type: ignore[no-untyped-def]
    out = overlay["out"]
    assert main(overlay["argv"]) == 0
    wrote = next(ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("wrote "))
    assert wrote.endswith(f"{out / 'seg.dcm'}, {out / 'sr.dcm'}")
    # one set: the marker lists them with their checksums
    assert verify_set(out) == []
    listed = {f["path"] for f in json.loads((out / MARKER).read_text())["files"]}
    assert {"seg.dcm", "sr.dcm", "labels.nii.gz"} <= listed
    doc = json.loads((out / "findings.json").read_text())
    assert doc["outputs"]["seg"] == str(out / "seg.dcm") and doc["outputs"]["sr"] == str(
        out / "sr.dcm"
    )
    md = (out / "findings.md").read_text()
    assert "## DICOM objects" in md and "`seg.dcm`" in md and "`sr.dcm`" in md
    # the SEG holds labels.nii.gz on the CT's images; the report measured its regions
    labels, table = load_labels(out / "labels.nii.gz")
    on_ct = world_on_grid(labels.array, labels.affine, overlay["ct"])
    np.testing.assert_array_equal(
        highdicom_segments(out / "seg.dcm", overlay["ct"]), numbered(on_ct)
    )
    seg = dcmread(out / "seg.dcm", stop_before_pixels=True)
    assert [d.SegmentLabel for d in seg.SegmentSequence] == [
        table.names[v] for v in sorted(table.names)
    ]
    assert {d.SegmentAlgorithmType for d in seg.SegmentSequence} == {"SEMIAUTOMATIC"}
    rows = read_sr(out / "sr.dcm")
    assert [r.name for r in rows] == [table.names[v] for v in sorted(table.names)]
    # the mass's reported figures (the case reports none for the thrombus) are recorded
    assert rows[0].finding_id == "mass" and set(rows[0].reported_mm) == {"lr", "ap", "cc"}
    assert {r.segmentation_uid for r in rows} == {str(seg.SOPInstanceUID)}


def test_overlay_dicom_checked_by_dcmqi_and_dciodvfy(
    overlay: dict[str, Any], tmp_path: Path
) -> None:
    out = overlay["out"]
    if not (out / "sr.dcm").is_file():
        assert main(overlay["argv"]) == 0
    labels, _ = load_labels(out / "labels.nii.gz")
    on_ct = world_on_grid(labels.array, labels.affine, overlay["ct"])
    np.testing.assert_array_equal(
        dcmqi_segments(out / "seg.dcm", overlay["ct"], tmp_path), numbered(on_ct)
    )
    reader = dcmqi_tool("tid1500reader")
    meta = tmp_path / "sr.json"
    proc = subprocess.run(
        [str(reader), "--inputDICOM", str(out / "sr.dcm"), "--outputMetadata", str(meta)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    groups = json.loads(meta.read_text())["Measurements"]
    assert [g["TrackingIdentifier"] for g in groups] == [r.name for r in read_sr(out / "sr.dcm")]
    for name in ("seg.dcm", "sr.dcm"):
        errors, _ = dciodvfy_lines(out / name)
        assert errors == [], (name, errors)


def test_overlay_seg_refused_before_the_fit_for_a_nifti_ct(  # type: ignore[no-untyped-def]
    overlay: dict[str, Any], tmp_path: Path, capsys
) -> None:
    (tmp_path / "ctn").mkdir()
    nifti = save_volume(overlay["ct"], tmp_path / "ctn" / "ct.nii.gz")
    out = tmp_path / "out"
    argv = ["overlay", str(nifti), "--case", str(default_case_path()), "--anatomy",
            str(overlay["anatomy"]), "--out", str(out), "--seg"]  # fmt: skip
    assert main(argv) == 2
    line = _error_line(capsys)
    assert line.startswith("ivcviewer: error: --seg: CT_PATH") and "not read from DICOM" in line
    assert not out.exists()


def test_overlay_seg_refused_for_a_resampled_ct(  # type: ignore[no-untyped-def]
    small: dict[str, Any], tmp_path: Path, capsys
) -> None:
    """A stack with a gap, resampled onto a regular grid, is not on its images: refused first."""
    files = sorted(p.name for p in small["ct"].metadata.source_files)
    (tmp_path / "ct").mkdir()
    for name in files[:4] + files[5:]:  # one slice missing
        (tmp_path / "ct" / name).write_bytes((small["root"] / "ct" / name).read_bytes())
    out = tmp_path / "out"
    argv = ["overlay", str(tmp_path / "ct"), "--case", str(default_case_path()),
            "--anatomy", str(small["path"]), "--on-irregular", "resample", "--out", str(out),
            "--seg"]  # fmt: skip
    assert main(argv) == 2
    line = _error_line(capsys)
    assert line.startswith("ivcviewer: error: --seg: CT_PATH") and "resampled" in line
    assert not out.exists()


@pytest.mark.realdata
def test_real_dicom_ct_report_and_seg(public_ct: Path, tmp_path: Path) -> None:
    """TotalSegmentator's label map of the public DICOM CT (rows stored the other way round):
    the report and its SEG, the SEG equal to the map in world space."""
    folder = public_ct / "totalsegmentator_dicom"
    names = tmp_path / "names.json"
    names.write_text(
        json.dumps({"1": "spleen", "5": "liver", "52": "aorta", "63": "inferior_vena_cava"})
    )
    out = tmp_path / "report.dcm"
    labels = folder / "example_seg_dicom.nii.gz"
    assert (
        _export(labels, "--ct", folder / "series", "--names", names, "--to", "sr", "--out", out)
        == 0
    )
    (ct,) = open_path(folder / "series")
    vol, _ = load_labels(labels)
    on_ct = world_on_grid(vol.array, vol.affine, ct)
    np.testing.assert_array_equal(
        highdicom_segments(tmp_path / "report_seg.dcm", ct), numbered(on_ct)
    )
    rows = {r.name: r for r in read_sr(out)}
    assert {"spleen", "liver", "aorta", "inferior_vena_cava"} <= set(rows)
    assert rows["inferior_vena_cava"].finding == "Inferior vena cava"
    voxel_ml = float(np.prod(ct.spacing)) / 1000.0
    assert rows["liver"].volume_ml == pytest.approx(np.count_nonzero(vol.array == 5) * voxel_ml)

"""``ivcviewer batch``: a manifest's rows as Dask tasks, equal to ``overlay`` run row by row.

The cohort: six small phantoms (seeds 0-5, their anatomy given as the truth folder, the truth
label map, a DICOM SEG of it or the landmarks), the real example CT of ``sample_data/`` with
its label map, and a truncated CT. It runs on a local cluster, and on a real ``dask
scheduler`` with two ``dask worker`` processes on loopback; each time the seven overlays equal
the ``overlay`` command's, the broken row carries the command's own error line, and a rerun
does nothing.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
import pytest

import ivcviewer
from ivcviewer.annotations import default_case_path
from ivcviewer.cli.main import main
from ivcviewer.io import load_labels
from ivcviewer.phantom import build_phantom, write_phantom
from ivcviewer.sample_data import real_abdominal_ct
from ivcviewer.workflows import batch
from ivcviewer.workflows.batch import ManifestRow, RowOptions, RowStatus
from ivcviewer.workflows.export import export_seg

distributed = pytest.importorskip("distributed")
pq = pytest.importorskip("pyarrow.parquet")

#: Rows of the cohort: id -> (ct, anatomy column, anatomy value); paths relative to the root.
PHANTOM_ROWS = {
    "ph0": ("ph0/ct", "phantom_truth", "ph0"),
    "ph1": ("ph1/ct", "phantom_truth", "ph1"),
    "ph2": ("ph2/ct", "anatomy", "ph2/labels.nii.gz"),
    "ph3": ("ph3/ct", "anatomy", "segs/ph3.dcm"),  # a DICOM SEG made on the CT
    "ph4": ("ph4/ct", "landmarks", "ph4/landmarks.json"),
    "ph5": ("ph5/ct", "landmarks", "ph5/landmarks.json"),
}
OVERLAY_OPTION = {
    "phantom_truth": "--phantom-truth",
    "anatomy": "--anatomy",
    "landmarks": "--landmarks",
}
GOOD = [*PHANTOM_ROWS, "real"]
OVERLAY_FILES = (
    "labels.nii.gz",
    "labels_labels.json",
    "labels.json",
    "findings.json",
    "findings.md",
)


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The inputs, the manifest (in its own folder, relative paths) and each row's columns."""
    root = tmp_path_factory.mktemp("cohort")
    rows: dict[str, dict[str, str]] = {}
    for seed, (rid, (ct, column, value)) in enumerate(PHANTOM_ROWS.items()):
        write_phantom(build_phantom("small", seed=seed), root / rid)
        if value.endswith(".dcm"):
            (root / value).parent.mkdir(exist_ok=True)
            export_seg(root / rid / "labels.nii.gz", root / ct, root / value)
        rows[rid] = {"ct": str(root / ct), column: str(root / value)}
    real = real_abdominal_ct()
    rows["real"] = {"ct": str(real.ct), "anatomy": str(real.labels)}
    broken = root / "broken" / "ct.nii.gz"  # a download cut short
    broken.parent.mkdir()
    broken.write_bytes(real.ct.read_bytes()[:5000])
    rows["broken"] = {"ct": str(broken), "phantom_truth": str(root / "ph0")}
    manifest = root / "manifest" / "cohort.csv"
    manifest.parent.mkdir()
    columns = ["id", "ct", "anatomy", "landmarks", "phantom_truth"]
    with open(manifest, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, columns)
        writer.writeheader()
        for rid, cells in rows.items():
            shown = {k: os.path.relpath(v, manifest.parent) for k, v in cells.items()}
            if rid == "real":
                shown = dict(cells)  # absolute paths are taken as they are
            writer.writerow({"id": rid, **shown})
    return {"root": root, "manifest": manifest, "rows": rows, "case": str(default_case_path())}


def _overlay_args(cells: dict[str, str], case: str, out: Path) -> list[str]:
    column = next(c for c in OVERLAY_OPTION if c in cells)
    return [
        "overlay",
        cells["ct"],
        "--case",
        case,
        OVERLAY_OPTION[column],
        cells[column],
        "--out",
        str(out),
    ]


@pytest.fixture(scope="module")
def reference(cohort: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """``ivcviewer overlay`` run row by row: each good row's folder, and the broken row's line."""
    root = tmp_path_factory.mktemp("reference")
    folders = {}
    for rid in GOOD:
        folders[rid] = root / rid
        assert main(_overlay_args(cohort["rows"][rid], cohort["case"], folders[rid])) == 0
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        assert main(_overlay_args(cohort["rows"]["broken"], cohort["case"], root / "broken")) == 2
    (line,) = [ln for ln in err.getvalue().splitlines() if ln.startswith("ivcviewer: error: ")]
    return {"folders": folders, "broken_line": line.removeprefix("ivcviewer: error: ")}


def _env() -> dict[str, str]:
    """The environment of a child process that imports this checkout's ivcviewer."""
    src = str(Path(ivcviewer.__file__).resolve().parents[1])
    path = os.environ.get("PYTHONPATH", "")
    return {**os.environ, "PYTHONPATH": src + (os.pathsep + path if path else "")}


def _table(out: Path) -> dict[str, dict[str, str]]:
    with open(out / "results.csv", newline="", encoding="utf-8") as fh:
        return {r["id"]: r for r in csv.DictReader(fh)}


def _same_as_reference(out: Path, cohort: dict[str, Any], reference: dict[str, Any]) -> None:
    """The batch's table and folders hold what ``overlay`` wrote row by row."""
    table = _table(out)
    assert list(table) == [*PHANTOM_ROWS, "real", "broken"]  # the manifest's order
    for rid in GOOD:
        ref, got = reference["folders"][rid], out / rid
        assert sorted(p.name for p in got.iterdir()) == sorted(
            [*OVERLAY_FILES, "ivcviewer-complete.json"]
        )
        doc_ref = json.loads((ref / "findings.json").read_text())
        doc = json.loads((got / "findings.json").read_text())
        assert doc.pop("outputs")["labels"] == str(got.resolve() / "labels.nii.gz")
        doc_ref.pop("outputs")
        assert doc == doc_ref, rid
        for name in ("labels.json", "labels_labels.json", "findings.md"):
            assert (got / name).read_text() == (ref / name).read_text(), (rid, name)
        labels, _ = load_labels(got / "labels.nii.gz")
        labels_ref, _ = load_labels(ref / "labels.nii.gz")
        np.testing.assert_array_equal(labels.array, labels_ref.array)
        np.testing.assert_allclose(labels.affine, labels_ref.affine, atol=1e-6)
        row = table[rid]
        assert row["status"] == "done" and row["reason"] == ""
        assert row["mayo_level"] == doc["ivc_involvement"]["mayo_level"] == "III"
        for finding in doc["findings"]:
            fid, measured = finding["id"], finding["measured"]
            assert float(row[f"{fid}_volume_ml"]) == measured["volume_ml"]
            for axis in ("lr", "ap", "cc"):
                assert float(row[f"{fid}_{axis}_cm"]) == measured["extents_cm"][axis]
    broken = table["broken"]
    assert broken["status"] == "failed"
    assert broken["reason"] == reference["broken_line"]
    assert "truncated" in broken["reason"] and "\n" not in broken["reason"]
    assert not (out / "broken").exists()
    parquet = pq.read_table(out / "results.parquet").to_pylist()
    assert [r["id"] for r in parquet] == list(table)
    assert parquet[-1]["mass_volume_ml"] is None and parquet[-1]["reason"] == broken["reason"]
    assert parquet[0]["mass_volume_ml"] == float(table["ph0"]["mass_volume_ml"])


def _snapshot(out: Path) -> dict[str, tuple[int, bytes]]:
    """Every file of the rows' folders: its modification time and bytes."""
    return {
        str(p.relative_to(out)): (p.stat().st_mtime_ns, p.read_bytes())
        for p in sorted(out.rglob("*"))
        if p.is_file() and not p.name.startswith("results.")
    }


def _batch(cohort: dict[str, Any], out: Path, *extra: str) -> int:
    return main(
        ["batch", str(cohort["manifest"]), "--case", cohort["case"], "--out", str(out), *extra]
    )


def _check_rerun(cohort: dict[str, Any], out: Path, extra: list[str], capsys: Any) -> None:
    """A second run skips the seven rows (their files untouched) and fails the broken one."""
    before = _snapshot(out)
    first = _table(out)
    assert _batch(cohort, out, *extra) == 1
    stdout = capsys.readouterr().out
    assert "8 rows: 0 done" in stdout and "7 skipped, 1 failed" in stdout
    assert "skipped 7 rows whose overlay" in stdout
    assert _snapshot(out) == before
    table = _table(out)
    assert [r["status"] for r in table.values()] == ["skipped"] * 7 + ["failed"]
    for rid in GOOD:  # the same figures and warnings as the run that made them
        same = {k: v for k, v in table[rid].items() if k not in ("status", "seconds")}
        assert same == {k: v for k, v in first[rid].items() if k not in ("status", "seconds")}
    assert table["broken"]["reason"] == first["broken"]["reason"]


@pytest.mark.slow
def test_local_cluster(cohort, reference, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "out"
    assert _batch(cohort, out, "--workers", "2", "--memory-limit", "2GiB") == 1
    captured = capsys.readouterr()
    assert "8 rows: 7 done on a local cluster (2 workers), 0 skipped, 1 failed" in captured.out
    assert f"failed broken: {reference['broken_line']}" in captured.out
    assert captured.err.count("ivcviewer: batch [") == 8  # one progress line per row
    _same_as_reference(out, cohort, reference)
    _check_rerun(cohort, out, ["--workers", "2"], capsys)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def scheduler(tmp_path: Path) -> Iterator[str]:
    """A ``dask scheduler`` and two ``dask worker`` processes on loopback, stopped by PID."""
    dask = Path(sys.executable).with_name("dask")
    if not dask.exists():
        pytest.skip(f"the dask command is not installed beside {sys.executable}")
    address = f"tcp://127.0.0.1:{_free_port()}"
    logs = tmp_path / "dask-logs"
    logs.mkdir()
    procs: list[subprocess.Popen[bytes]] = []

    def start(name: str, args: list[str]) -> None:
        with open(logs / f"{name}.log", "wb") as log:
            procs.append(
                subprocess.Popen(
                    [str(dask), *args],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=_env(),
                    cwd=tmp_path,
                )
            )

    try:
        start(
            "scheduler",
            [
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                address.rsplit(":")[-1],
                "--no-dashboard",
            ],
        )
        for i in range(2):
            start(
                f"worker{i}",
                [
                    "worker",
                    address,
                    "--nthreads",
                    "1",
                    "--no-nanny",
                    "--host",
                    "127.0.0.1",
                    "--no-dashboard",
                ],
            )
        yield address
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in reversed(procs):
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


@pytest.mark.slow
def test_dask_scheduler_and_workers(
    cohort, reference, scheduler: str, tmp_path: Path, capsys
) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "out"
    assert _batch(cohort, out, "--scheduler", scheduler, "--workers", "2") == 1
    captured = capsys.readouterr()
    assert f"8 rows: 7 done on scheduler {scheduler} (2 workers), 0 skipped" in captured.out
    _same_as_reference(out, cohort, reference)
    _check_rerun(cohort, out, ["--scheduler", scheduler], capsys)


# ----------------------------------------------------------------------------- without Dask


def _options(cohort: dict[str, Any], out: Path) -> RowOptions:
    return RowOptions(cohort["case"], str(out))


def test_a_row_is_run_again_when_its_inputs_change(cohort, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    root = cohort["root"]
    row = ManifestRow(
        "ph4", str(root / "ph4" / "ct"), 2, landmarks=str(root / "ph4/landmarks.json")
    )
    options = _options(cohort, tmp_path)
    assert batch.finished_row(row, options) is None  # nothing written yet
    result = batch.run_row(row, options)
    assert result.status is RowStatus.DONE, result.reason
    done = batch.finished_row(row, options)
    assert done is not None and done.status is RowStatus.SKIPPED
    assert done.measured == result.measured and done.warnings == result.warnings
    # another anatomy for the same id: the folder no longer answers the row
    other = ManifestRow(row.id, row.ct, 2, phantom_truth=str(root / "ph4"))
    assert batch.finished_row(other, options) is None
    # a damaged file: the set is no longer intact
    findings = tmp_path / "ph4" / "findings.md"
    findings.write_text(findings.read_text() + "edited\n")
    assert batch.finished_row(row, options) is None


def test_row_problems_fail_their_row_only(cohort, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    root = cohort["root"]
    manifest = tmp_path / "m" / "rows.csv"
    manifest.parent.mkdir()
    manifest.write_text(
        "id,ct,anatomy,landmarks,phantom_truth\n"
        f"none,{root / 'ph0/ct'},,,\n"
        f"two,{root / 'ph0/ct'},,{root / 'ph0/landmarks.json'},{root / 'ph0'}\n"
        f"missing,{root / 'nowhere.nii.gz'},,,{root / 'ph0'}\n"
    )
    rows = batch.read_manifest(manifest)
    assert "names none of the anatomy columns" in str(rows[0].problem)
    assert "landmarks and phantom_truth, more than one of" in str(rows[1].problem)
    assert rows[2].problem is None
    results = [batch.run_row(r, _options(cohort, tmp_path / "out")) for r in rows]
    assert [r.status for r in results] == [RowStatus.FAILED] * 3
    assert results[0].reason.startswith(f"MANIFEST {manifest} line 2 (none): names none")
    assert "nowhere.nii.gz" in results[2].reason and "\n" not in results[2].reason


def test_the_series_column_chooses_a_series_of_a_folder(cohort, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    root = cohort["root"]
    study = tmp_path / "study"  # two series in one folder, as a study is often exported
    for rid in ("ph0", "ph1"):
        shutil.copytree(root / rid / "ct", study / rid)
    uid = str(pydicom.dcmread(next((study / "ph1").iterdir())).SeriesInstanceUID)
    landmarks = str(root / "ph1" / "landmarks.json")
    options = _options(cohort, tmp_path / "out")
    both = batch.run_row(ManifestRow("both", str(study), 2, landmarks=landmarks), options)
    assert both.status is RowStatus.FAILED
    assert "holds 2 series" in both.reason
    assert both.reason.endswith(
        "Fix: put its UID (or UID:N for stack N of a split series) in the row's series column."
    )
    assert "--series" not in both.reason
    one = batch.run_row(ManifestRow("one", str(study), 3, uid, landmarks=landmarks), options)
    assert one.status is RowStatus.DONE, one.reason
    doc = json.loads((tmp_path / "out" / "one" / "findings.json").read_text())
    assert doc["ct"]["shape"] == [72, 96, 96] and one.measured["mayo_level"] == "III"


def test_a_remote_row_without_the_public_module(cohort, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setitem(sys.modules, "ivcviewer.public", None)  # as if it were not installed
    row = ManifestRow("idc1", "idc:1.2.3.4", 2, phantom_truth=str(cohort["root"] / "ph0"))
    result = batch.run_row(row, _options(cohort, tmp_path))
    assert result.status is RowStatus.FAILED
    assert result.reason.startswith("idc:1.2.3.4: fetching a series needs the module ivcviewer.")
    assert "Fix: install an ivcviewer that has it" in result.reason
    assert not (tmp_path / "idc1").exists()


def test_manifest_paths_are_taken_from_its_folder(tmp_path: Path) -> None:
    folder = tmp_path / "cohort"
    folder.mkdir()
    (folder / "m.csv").write_text(
        "\ufeffID,CT,Anatomy,Series\n"  # a spreadsheet's BOM and capitals
        "a,ct/a,seg/a.dcm,1.2.3\n"
        ",,,\n"  # blank lines are skipped
        "b,https://pacs.example/dicomweb,/abs/b.nii.gz,\n"
    )
    a, b = batch.read_manifest(folder / "m.csv")
    assert a.ct == str(folder / "ct" / "a") and a.anatomy == str(folder / "seg" / "a.dcm")
    assert a.series == "1.2.3" and a.problem is None and not a.remote
    assert b.remote and b.ct == "https://pacs.example/dicomweb" and b.anatomy == "/abs/b.nii.gz"
    assert "a DICOMweb ct needs the study's UID" in str(b.problem)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("id,ct,anatomie\na,b,c\n", "unknown column 'anatomie'; a manifest's columns are id, ct"),
        ("id,anatomy\na,b\n", "the header lacks ct"),
        ("id,ct,anatomy\n", "holds no rows"),
        ("id,ct,anatomy\n../x,b,c\n", "line 2: the id '../x' is not a usable folder name"),
        ("id,ct,anatomy\nresults.csv,b,c\n", "the id 'results.csv' is not a usable folder"),
        ("id,ct,anatomy\na,b,c\na,d,e\n", "line 3: the id 'a' is also on line 2"),
        ("id,ct,anatomy\na,b,c,d\n", "line 2: 4 values for 3 columns"),
    ],
)
def test_bad_manifests_give_one_line(tmp_path: Path, capsys, text: str, expected: str) -> None:  # type: ignore[no-untyped-def]
    manifest = tmp_path / "m" / "rows.csv"
    manifest.parent.mkdir()
    manifest.write_text(text)
    rc = main(
        ["batch", str(manifest), "--case", str(default_case_path()), "--out", str(tmp_path / "out")]
    )
    assert rc == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"ivcviewer: error: MANIFEST {manifest}")
    assert expected in err[0]
    assert not (tmp_path / "out").exists()


def test_output_beside_the_manifest_is_refused(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    manifest = tmp_path / "rows.csv"
    manifest.write_text("id,ct,landmarks\na,ct.nii.gz,lm.json\n")
    out = tmp_path / "out"
    assert (
        main(["batch", str(manifest), "--case", str(default_case_path()), "--out", str(out)]) == 2
    )
    assert "which holds the input" in capsys.readouterr().err
    assert not out.exists()


def test_an_unreachable_scheduler_gives_one_line(tmp_path: Path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from ivcviewer.workflows import batch_dask

    monkeypatch.setattr(batch_dask, "CONNECT_TIMEOUT_S", 1.0)
    manifest = tmp_path / "m" / "rows.csv"
    manifest.parent.mkdir()
    manifest.write_text("id,ct,landmarks\na,ct.nii.gz,lm.json\n")
    address = f"tcp://127.0.0.1:{_free_port()}"  # nothing listens there
    rc = main(
        [
            "batch",
            str(manifest),
            "--case",
            str(default_case_path()),
            "--out",
            str(tmp_path / "out"),
            "--scheduler",
            address,
        ]
    )
    assert rc == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"--scheduler {address}: could not connect" in err[0]


def test_a_lost_worker_fails_its_row_only() -> None:
    from ivcviewer.workflows.batch_dask import ClusterOptions, _lost

    row = ManifestRow("a", "/data/a.nii.gz", 2, landmarks="/data/lm.json")
    killed = _lost(
        row, distributed.KilledWorker("task", "worker", 3), ClusterOptions(memory_limit="2GiB")
    )
    assert killed.status is RowStatus.FAILED
    assert (
        "died" in killed.reason and "(2GiB)" in killed.reason and "--memory-limit" in killed.reason
    )
    gone = ModuleNotFoundError("No module named 'ivcviewer.workflows.batch'")  # no .name
    missing = _lost(row, gone, ClusterOptions())
    assert "could not import ivcviewer (No module named 'ivcviewer.workflows.batch')" in (
        missing.reason
    )
    other = _lost(row, RuntimeError("connection closed"), ClusterOptions())
    assert other.reason.startswith("/data/a.nii.gz: could not be processed (RuntimeError")


def test_results_table_columns(tmp_path: Path) -> None:
    ok = batch.RowResult(
        "a",
        RowStatus.DONE,
        ct="a.nii.gz",
        measured={"mayo_level": "III", "mass_lr_cm": 10.5, "mass_volume_ml": 640.0},
        seconds=1.5,
    )
    bad = batch.RowResult("b", RowStatus.FAILED, "b.nii.gz: no such file.", "b.nii.gz")
    csv_path, parquet_path = batch.write_results([ok, bad], tmp_path)
    header = csv_path.read_text().splitlines()[0].split(",")
    assert header[:3] == ["id", "status", "reason"] and header[-2:] == ["warnings", "seconds"]
    assert header.index("mass_lr_cm") > header.index("ivc_segment")
    rows = list(csv.DictReader(open(csv_path, newline="")))
    assert rows[1]["mass_lr_cm"] == "" and rows[1]["reason"] == "b.nii.gz: no such file."
    table = pq.read_table(parquet_path)
    assert str(table.schema.field("mass_lr_cm").type) == "double"
    assert table.column("mass_lr_cm").to_pylist() == [10.5, None]
    assert not list(tmp_path.glob(".*tmp*"))


def test_progress_is_a_bar_on_a_terminal_and_lines_in_a_log() -> None:
    from ivcviewer.cli.batch_cmd import _Progress

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    results = [
        batch.RowResult("a", RowStatus.DONE, seconds=1.25),
        batch.RowResult("b", RowStatus.FAILED, "b: no such file.", seconds=0.5),
    ]
    log, terminal = io.StringIO(), Terminal()
    for stream in (log, terminal):
        with _Progress(stream) as progress:
            for n, r in enumerate(results, start=1):
                progress(r, n, len(results))
    assert log.getvalue().splitlines() == [
        "ivcviewer: batch [1/2] a: done (1.2 s)",
        "ivcviewer: batch [2/2] b: failed (0.5 s)",
    ]
    last = terminal.getvalue().split("\r")[-1]
    assert last.startswith("batch: 100%") and "2/2" in last and "[2/2] b: failed" in last

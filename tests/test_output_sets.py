"""Output sets: written beside their folder, marked complete, swapped in; never a mix.

Unit tests of :func:`ivcviewer._atomic.output_set` (a new folder, replacing a complete set,
refusing a folder that holds other files, stale temporaries, incomplete sets, failures), the
commands' use of it, and a test that kills ``overlay`` and ``phantom`` at many moments.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import ivcviewer
from ivcviewer import _atomic
from ivcviewer._atomic import MARKER, SetKind, TargetState
from ivcviewer.annotations import default_case_path
from ivcviewer.cli.main import main
from ivcviewer.errors import OutputExistsError

KIND = SetKind("overlay", "overlay", frozenset({"a.txt", "b.txt", "sub"}))


def _write(folder: Path, text: str) -> None:
    (folder / "a.txt").write_text(f"a {text}\n")
    (folder / "b.txt").write_text(f"b {text}\n")
    (folder / "sub").mkdir()
    (folder / "sub" / "c.bin").write_bytes(text.encode() * 100)


def _siblings(target: Path) -> list[str]:
    """Every entry beside ``target`` except ``target`` itself."""
    return sorted(p.name for p in target.parent.iterdir() if p.name != target.name)


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


# ----------------------------------------------------------------------------- the helper


def test_a_new_folder_gets_the_set_and_its_marker(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "out"
    with _atomic.output_set(target, KIND) as folder:
        assert folder.parent == target.parent and folder.name.startswith(".out.ivcviewer-tmp-")
        assert not target.exists()
        _write(folder, "one")
    assert _atomic.verify_set(target) == []
    doc = json.loads((target / MARKER).read_text())
    assert doc["command"] == "overlay" and doc["complete"] is True
    assert doc["ivcviewer_version"] == ivcviewer.__version__ and doc["created_utc"]
    assert [f["path"] for f in doc["files"]] == ["a.txt", "b.txt", "sub/c.bin"]
    assert doc["files"][0]["size"] == len("a one\n") and len(doc["files"][0]["sha256"]) == 64
    assert _siblings(target) == []
    assert _atomic.inspect_target(target, KIND).state is TargetState.COMPLETE


def test_a_complete_set_is_replaced_whole(tmp_path: Path) -> None:
    target = tmp_path / "out"
    with _atomic.output_set(target, KIND) as folder:
        _write(folder, "one")
        (folder / "b.txt").unlink()
    with _atomic.output_set(target, KIND) as folder:
        _write(folder, "two")
    assert (target / "a.txt").read_text() == "a two\n" and (target / "b.txt").is_file()
    assert _atomic.verify_set(target) == []
    assert _siblings(target) == []


def test_the_fallback_without_an_exchange_replaces_it_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "out"
    with _atomic.output_set(target, KIND) as folder:
        _write(folder, "one")
    monkeypatch.setattr(_atomic, "exchange", lambda a, b: False)
    with _atomic.output_set(target, KIND) as folder:
        _write(folder, "two")
    assert (target / "a.txt").read_text() == "a two\n" and _atomic.verify_set(target) == []
    assert _siblings(target) == []


def test_exchange_swaps_two_folders(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "x").write_text("a")
    if not _atomic.exchange(tmp_path / "a", tmp_path / "b"):
        pytest.skip("renameat2(RENAME_EXCHANGE) is not available here")
    assert (tmp_path / "b" / "x").read_text() == "a" and not any((tmp_path / "a").iterdir())


def test_an_empty_folder_is_filled(tmp_path: Path) -> None:
    target = tmp_path / "out"
    target.mkdir()
    assert _atomic.inspect_target(target, KIND).state is TargetState.EMPTY
    with _atomic.output_set(target, KIND) as folder:
        _write(folder, "one")
    assert _atomic.verify_set(target) == []


def test_a_folder_with_other_files_is_refused_or_written_into_with_force(tmp_path: Path) -> None:
    target = tmp_path / "out"
    target.mkdir()
    (target / "notes.txt").write_text("mine")
    (target / "a.txt").write_text("old a")
    before = _snapshot(target)
    with pytest.raises(OutputExistsError) as err:
        with _atomic.output_set(target, KIND, label="--out out") as folder:
            raise AssertionError("never reached")  # pragma: no cover
    msg = str(err.value)
    assert msg.startswith("--out out: is not empty") and "notes.txt" in msg and "Fix:" in msg
    assert "--force" in msg
    assert _snapshot(target) == before and _siblings(target) == []
    with _atomic.output_set(target, KIND, force=True) as folder:
        _write(folder, "new")
    assert (target / "notes.txt").read_text() == "mine"  # kept
    assert (target / "a.txt").read_text() == "a new\n"
    assert (target / MARKER).is_file() and _siblings(target) == []
    # the marker does not make the other files the set's
    found = _atomic.inspect_target(target, KIND)
    assert found.state is TargetState.FOREIGN and found.foreign == ("notes.txt",)


def test_a_set_of_another_command_is_not_replaced(tmp_path: Path) -> None:
    target = tmp_path / "out"
    other = SetKind("phantom", "phantom", frozenset({"a.txt", "b.txt", "sub", "m.json"}))
    with _atomic.output_set(target, other) as folder:
        _write(folder, "one")
        (folder / "m.json").write_text("{}")
    with pytest.raises(OutputExistsError, match="m.json"):
        _atomic.check_target(target, KIND)


def test_a_complete_set_kept_unless_forced_when_asked(tmp_path: Path) -> None:
    target = tmp_path / "out"
    with _atomic.output_set(target, KIND) as folder:
        _write(folder, "one")
    with pytest.raises(OutputExistsError, match="complete overlay written by ivcviewer"):
        _atomic.check_target(target, KIND, replace_complete=False)
    with _atomic.output_set(target, KIND, replace_complete=False, force=True) as folder:
        _write(folder, "two")
    assert (target / "a.txt").read_text() == "a two\n"


def test_stale_temporaries_are_removed_with_a_warning(tmp_path: Path) -> None:
    target = tmp_path / "out"
    dead = _dead_pid()
    stale = [tmp_path / f".out.ivcviewer-tmp-{dead}-abc", tmp_path / f".out.ivcviewer-old-{dead}-d"]
    live = tmp_path / f".out.ivcviewer-tmp-{os.getpid()}-live"
    other = tmp_path / f".other.ivcviewer-tmp-{dead}-x"
    for folder in (*stale, live, other):
        folder.mkdir()
        (folder / "a.txt").write_text("partial")
    with pytest.warns(UserWarning, match="removed 2 temporary folder") as caught:
        with _atomic.output_set(target, KIND, label="--out out") as folder:
            _write(folder, "one")
    text = str(caught[0].message)
    assert text.startswith("--out out:") and stale[0].name in text and stale[1].name in text
    assert not any(p.exists() for p in stale)
    assert live.is_dir() and other.is_dir()  # a running run's, another folder's
    assert _atomic.verify_set(target) == []


def test_an_incomplete_set_is_said_and_replaced(tmp_path: Path) -> None:
    target = tmp_path / "out"
    target.mkdir()
    (target / "a.txt").write_text("half")
    (target / ".b.txt.x1y2.tmp").write_text("half")  # a leftover of a per-file write
    found = _atomic.check_target(target, KIND)
    assert found.state is TargetState.INCOMPLETE
    with pytest.warns(UserWarning, match="incomplete overlay .*interrupted.*replaced"):
        with _atomic.output_set(target, KIND) as folder:
            _write(folder, "one")
    assert _atomic.verify_set(target) == [] and _siblings(target) == []


def test_a_failure_leaves_the_old_set_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "out"
    with _atomic.output_set(target, KIND) as folder:
        _write(folder, "one")
    before = _snapshot(target)
    with pytest.raises(RuntimeError), _atomic.output_set(target, KIND) as folder:
        _write(folder, "two")
        raise RuntimeError("disk full")
    assert _snapshot(target) == before and _siblings(target) == []
    # a new folder: neither it nor the parents made for it stay behind
    new = tmp_path / "made" / "for" / "it"
    with pytest.raises(RuntimeError), _atomic.output_set(new, KIND) as folder:
        raise RuntimeError("disk full")
    assert not (tmp_path / "made").exists()


def test_a_file_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "out"
    target.write_text("x")
    with pytest.raises(OutputExistsError, match="not a folder"):
        _atomic.check_target(target, KIND)


def test_verify_and_extend_the_marker(tmp_path: Path) -> None:
    target = tmp_path / "out"
    with _atomic.output_set(target, KIND) as folder:
        _write(folder, "one")
    (target / "shot.png").write_bytes(b"png")
    assert _atomic.verify_set(target) == ["shot.png: not in the marker"]
    _atomic.extend_marker(target, [target / "shot.png", target / "missing.png"])
    assert _atomic.verify_set(target) == []
    (target / "a.txt").write_text("changed")
    assert _atomic.verify_set(target) == ["a.txt: size or SHA-256 differs from the marker"]
    (target / MARKER).unlink()
    assert _atomic.verify_set(target)[0].endswith(f"no valid {MARKER}")


# ----------------------------------------------------------------------------- the commands


@pytest.fixture(scope="module")
def phantom_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from ivcviewer.phantom import build_phantom, write_phantom

    folder = tmp_path_factory.mktemp("phantom") / "ph"
    write_phantom(build_phantom("small"), folder)
    return folder


def _overlay_args(phantom: Path, case: Path, out: Path) -> list[str]:
    return [
        "overlay", str(phantom / "ct"), "--case", str(case), "--phantom-truth", str(phantom),
        "--out", str(out),
    ]  # fmt: skip


def test_overlay_writes_a_marked_set_and_keeps_its_json(
    phantom_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "ov"
    assert main(_overlay_args(phantom_folder, default_case_path(), out)) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted([MARKER, "findings.json", "findings.md", "labels.json",
                            "labels.nii.gz", "labels_labels.json"])  # fmt: skip
    assert _atomic.verify_set(out) == []
    doc = json.loads((out / "findings.json").read_text())
    assert doc["outputs"] == {
        "labels": str(out.resolve() / "labels.nii.gz"),
        "labels_sidecar": str(out.resolve() / "labels_labels.json"),
        "label_table": str(out / "labels.json"),
        "findings_md": str(out / "findings.md"),
    }
    assert MARKER not in capsys.readouterr().out
    # again: the earlier overlay is replaced without a word
    assert main(_overlay_args(phantom_folder, default_case_path(), out)) == 0
    assert "warning" not in capsys.readouterr().err and _siblings(out) == []


def test_overlay_refuses_a_folder_of_other_files_unless_forced(
    phantom_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "ov"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    assert main(_overlay_args(phantom_folder, default_case_path(), out)) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"ivcviewer: error: --out {out}: is not empty")
    assert "notes.txt" in err[0] and "Fix:" in err[0]
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]
    assert main([*_overlay_args(phantom_folder, default_case_path(), out), "--force"]) == 0
    assert (out / "notes.txt").read_text() == "mine" and (out / "findings.json").is_file()


def test_a_failed_overlay_leaves_nothing_behind(
    phantom_folder: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from ivcviewer.workflows import overlay as overlay_workflow

    real = overlay_workflow.render_markdown

    def fail(*args: object) -> str:
        real(*args)  # type: ignore[arg-type]
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(overlay_workflow, "render_markdown", fail)
    out = tmp_path / "new" / "ov"
    assert main(_overlay_args(phantom_folder, default_case_path(), out)) == 2
    assert "No space left" in capsys.readouterr().err
    assert not (tmp_path / "new").exists()
    # an earlier overlay stays as it was
    monkeypatch.setattr(overlay_workflow, "render_markdown", real)
    assert main(_overlay_args(phantom_folder, default_case_path(), out)) == 0
    before = _snapshot(out)
    monkeypatch.setattr(overlay_workflow, "render_markdown", fail)
    assert main(_overlay_args(phantom_folder, default_case_path(), out)) == 2
    assert _snapshot(out) == before and _siblings(out) == []


def test_phantom_replaces_an_incomplete_folder_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "ph"
    (out / "ct").mkdir(parents=True)
    (out / "ct" / "CT0001.dcm").write_bytes(b"half")
    (out / "labels.nii.gz").write_bytes(b"half")
    assert main(["phantom", "--out", str(out), "--size", "small", "--normal"]) == 0
    err = capsys.readouterr().err
    assert f"--out {out}: held an incomplete phantom" in err
    assert _atomic.verify_set(out) == []
    assert len(list((out / "ct").glob("*.dcm"))) == 72


# ----------------------------------------------------------------------------- kill -9


def _env() -> dict[str, str]:
    src = str(Path(ivcviewer.__file__).resolve().parents[1])
    path = os.environ.get("PYTHONPATH")
    return dict(os.environ, PYTHONPATH=src if not path else f"{src}{os.pathsep}{path}")


def _run(args: list[str]) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "ivcviewer", *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=_env(), check=False)


def _kill_after(args: list[str], delay: float) -> None:
    cmd = [sys.executable, "-m", "ivcviewer", *args]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=_env())
    time.sleep(delay)
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    proc.wait()


def _delays(duration: float, n: int = 24) -> list[float]:
    """Half spread over the whole run, half over its end (where the set is written)."""
    half = n // 2
    early = [duration * i / half for i in range(half)]
    late = [duration * (0.7 + 0.4 * i / (n - half - 1)) for i in range(n - half)]
    return early + late


def _exchange_works(scratch: Path) -> bool:
    a, b = scratch / "exchange-a", scratch / "exchange-b"
    a.mkdir()
    b.mkdir()
    try:
        return _atomic.exchange(a, b)
    finally:
        a.rmdir()
        b.rmdir()


def _kill_many(
    args: list[str],
    target: Path,
    old: dict[str, bytes] | None,
    is_new: object,
    duration: float,
) -> dict[str, int]:
    """Kill the run ``args`` at many moments; ``target`` is always absent, old or new."""
    seen = {"absent": 0, "old": 0, "new": 0}
    exchange_works = _exchange_works(target.parent.parent)
    store = target.parent.parent / f"{target.name}-old-copy"
    if old is not None:
        shutil.copytree(target, store)
    for i, delay in enumerate(_delays(duration)):
        fresh = old is None or i % 4 == 3  # now and then into a folder that does not exist
        if target.exists() and (fresh or _snapshot(target) != old):
            shutil.rmtree(target)
        if not fresh and not target.exists():
            shutil.copytree(store, target)
        _kill_after(args, delay)
        for name in _siblings(target):
            assert name.startswith((f".{target.name}.ivcviewer-tmp-",
                                    f".{target.name}.ivcviewer-old-")), name  # fmt: skip
        if not target.exists():
            # an old set is exchanged for the new one in one step where the system can
            assert fresh or not exchange_works, f"kill after {delay:.2f} s: the old set is gone"
            seen["absent"] += 1
            continue
        if not fresh and _snapshot(target) == old:
            seen["old"] += 1
            continue
        problems = _atomic.verify_set(target)
        assert problems == [], f"kill after {delay:.2f} s left a mixed or partial set: {problems}"
        assert callable(is_new) and is_new(target), f"kill after {delay:.2f} s: not the new set"
        seen["new"] += 1
    return seen


def _next_run_cleans(args: list[str], target: Path) -> None:
    had = _siblings(target)
    done = _run(args)
    assert done.returncode == 0, done.stderr
    if had:
        assert "temporary folder(s) of interrupted runs" in done.stderr
    assert _siblings(target) == [] and _atomic.verify_set(target) == []


@pytest.mark.slow
def test_killed_overlay_leaves_the_old_set_or_the_new_one(
    phantom_folder: Path, tmp_path: Path
) -> None:
    case_b = tmp_path / "case b" / "case.yaml"
    case_b.parent.mkdir()
    shutil.copyfile(default_case_path(), case_b)
    target = tmp_path / "runs" / "ov"
    first = _run(_overlay_args(phantom_folder, default_case_path(), target))
    assert first.returncode == 0, first.stderr
    old = _snapshot(target)
    args = _overlay_args(phantom_folder, case_b, target)
    t0 = time.perf_counter()
    assert _run(_overlay_args(phantom_folder, case_b, tmp_path / "timed")).returncode == 0
    duration = time.perf_counter() - t0

    def is_new(folder: Path) -> bool:
        doc = json.loads((folder / "findings.json").read_text())
        return bool(doc["inputs"]["case"] == str(case_b))

    seen = _kill_many(args, target, old, is_new, duration)
    assert seen["old"] > 0, seen
    _next_run_cleans(args, target)
    assert is_new(target)


@pytest.mark.slow
def test_killed_phantom_leaves_the_old_set_or_the_new_one(tmp_path: Path) -> None:
    target = tmp_path / "runs" / "ph"
    first = _run(["phantom", "--out", str(target), "--size", "small", "--normal"])
    assert first.returncode == 0, first.stderr
    old = _snapshot(target)
    args = ["phantom", "--out", str(target), "--size", "small", "--seed", "1", "--force"]
    t0 = time.perf_counter()
    assert _run([*args[:2], str(tmp_path / "timed"), *args[3:]]).returncode == 0
    duration = time.perf_counter() - t0

    def is_new(folder: Path) -> bool:
        doc = json.loads((folder / "manifest.json").read_text())
        return bool(doc["params"] == {"size": "small", "seed": 1, "normal": False})

    seen = _kill_many(args, target, old, is_new, duration)
    assert seen["old"] > 0, seen
    _next_run_cleans(args, target)
    assert is_new(target)

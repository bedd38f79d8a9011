"""``ivcviewer demo``: the case fitted on the phantom and on the shipped real CT, the overlay
files and screenshots of each, and its one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ivcviewer.cli import demo as demo_cmd
from ivcviewer.cli.main import main

EXPECTED_PNGS = (
    "demo_axial_renal_veins.png",
    "demo_coronal_ivc.png",
    "demo_3d.png",
    "demo_window.png",
)


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(root))
    return root


@pytest.mark.napari
@pytest.mark.slow
def test_demo_without_window_writes_findings_and_screenshots(tmp_path: Path, cache: Path) -> None:
    pytest.importorskip("napari")
    out = tmp_path / "demo out"
    env = dict(os.environ, XDG_CACHE_HOME=str(cache))
    env.pop("DISPLAY", None)  # no screen: the demo starts its own Xvfb
    env.pop("WAYLAND_DISPLAY", None)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "ivcviewer",
            "demo",
            "--size",
            "small",
            "--no-window",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    _assert_findings(out)
    from PIL import Image

    for sub in (demo_cmd.PHANTOM_DIR, demo_cmd.REAL_CT_DIR):
        for name in EXPECTED_PNGS:
            path = out / sub / name
            assert str(path) in proc.stdout
            with Image.open(path) as im:
                rgb = np.asarray(im.convert("RGB"), dtype=float)
            assert rgb.shape[0] >= 500 and rgb.shape[1] >= 500
            assert rgb.std() > 20  # an image, not a black or blank canvas
        # the overlay colours are on the axial view: the mass (#E6553A) tints some pixels red
        with Image.open(out / sub / "demo_axial_renal_veins.png") as im:
            rgb = np.asarray(im.convert("RGB"), dtype=int)
        reddish = (rgb[..., 0] - rgb[..., 2] > 60) & (rgb[..., 0] > 120)
        assert np.count_nonzero(reddish) > 500, sub
    # the phantom went to the cache, not into the output folder
    assert any(cache.rglob("manifest.json"))
    assert not (out / "ct").exists() and not (out / demo_cmd.PHANTOM_DIR / "ct").exists()


def _assert_findings(out: Path) -> None:
    """The overlay files of both CTs, each in its subfolder, with the case's IVC level."""
    for sub, anatomy in (
        (demo_cmd.PHANTOM_DIR, "phantom_truth"),
        (demo_cmd.REAL_CT_DIR, "anatomy"),
    ):
        doc = json.loads((out / sub / "findings.json").read_text(encoding="utf-8"))
        assert doc["ivc_involvement"]["mayo_level"] == "III", sub
        assert {f["id"] for f in doc["findings"]} == {"mass", "intravascular_tumour"}
        assert doc["inputs"][anatomy] is not None
        assert (out / sub / "findings.md").read_text(encoding="utf-8").startswith("# ")
        assert (out / sub / "labels.nii.gz").is_file()
        assert (out / sub / "labels.json").is_file()
    assert not (out / "findings.json").exists()


def test_demo_fits_the_phantom_and_the_real_ct_into_two_folders(
    tmp_path: Path,
    cache: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from ivcviewer.sample_data import real_abdominal_ct

    rendered: list[tuple[demo_cmd.DemoTarget, Path, Path]] = []

    def fake_render(
        target: demo_cmd.DemoTarget, case: Path, out: Path, verbose: bool = False
    ) -> list[Path]:
        rendered.append((target, case, out))
        return [out / "demo_3d.png"]

    monkeypatch.setattr(demo_cmd, "render", fake_render)
    out = tmp_path / "out"
    assert main(["demo", "--size", "small", "--no-window", "--out", str(out)]) == 0
    _assert_findings(out)
    sample = real_abdominal_ct()
    real = json.loads((out / "real_ct" / "findings.json").read_text(encoding="utf-8"))
    assert real["inputs"]["ct"] == str(sample.ct)
    assert real["inputs"]["anatomy"] == str(sample.labels)
    assert real["inputs"]["anatomy_names"] == str(sample.names)
    # each CT rendered into its own folder, the real CT with its label map as the anatomy
    assert [(t.key, o) for t, _, o in rendered] == [
        ("phantom", out / "phantom"),
        ("real_ct", out / "real_ct"),
    ]
    assert rendered[1][0].anatomy_args() == [
        "--anatomy",
        str(sample.labels),
        "--anatomy-names",
        str(sample.names),
    ]
    stdout = capsys.readouterr().out
    assert str(out / "real_ct" / "demo_3d.png") in stdout
    assert "doi:10.1148/ryai.230024" in stdout  # the real CT is cited


def test_demo_refuses_an_output_that_is_a_file(
    tmp_path: Path, cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "a file"
    target.write_text("x", encoding="utf-8")
    assert main(["demo", "--size", "small", "--out", str(target)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("ivcviewer: error:") and "a file" in err[0]
    assert not cache.exists()  # checked before anything is generated


def test_demo_never_writes_into_the_folder_of_the_real_ct(
    tmp_path: Path,
    cache: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    data = tmp_path / "sample data"
    data.mkdir()
    target = demo_cmd.DemoTarget(
        "real_ct", "a real CT", data / "ct.nii.gz", labelmap=data / "seg.nii.gz"
    )
    monkeypatch.setattr(demo_cmd, "real_ct_target", lambda: target)
    before = sorted(data.rglob("*"))
    assert main(["demo", "--size", "small", "--no-window", "--out", str(data / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "refusing to write" in err[0]
    # refused before the phantom's overlay was written
    assert sorted(data.rglob("*")) == before


def test_demo_never_writes_into_the_phantom_folder(
    cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from ivcviewer.phantom import cached_phantom

    phantom = cached_phantom("small")
    before = sorted(p.name for p in phantom.iterdir())
    assert main(["demo", "--size", "small", "--no-window", "--out", str(phantom / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "refusing to write" in err[0]
    assert sorted(p.name for p in phantom.iterdir()) == before


def _proc(returncode: int, stdout: str = "", stderr: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.CompletedProcess(["napari demo"], returncode, stdout=stdout, stderr=stderr)


@pytest.fixture
def demo_inputs(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A CT folder, a case file and a truth folder (their content is never read here)."""
    truth = tmp_path / "phantom"
    ct = truth / "ct"
    ct.mkdir(parents=True)
    (truth / "landmarks.json").write_text("{}", encoding="utf-8")
    case = tmp_path / "cases" / "case.yaml"
    case.parent.mkdir()
    case.write_text("id: x\n", encoding="utf-8")
    return ct, case, truth


def _demo_argv(inputs: tuple[Path, Path, Path], out: Path) -> list[str]:
    ct, case, truth = inputs
    return [
        "render",
        "--ct",
        str(ct),
        "--case",
        str(case),
        "--phantom-truth",
        str(truth),
        "--out",
        str(out),
    ]


def test_napari_demo_lets_a_fault_of_the_program_through(
    demo_inputs: tuple[Path, Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ivcviewer._napari import demo

    def broken(*args: object, **kwargs: object) -> list[Path]:
        raise ValueError("zero-size array to reduction operation maximum")

    monkeypatch.setattr(demo, "has_display", lambda: True)
    monkeypatch.setattr(demo, "render_demo", broken)
    # not turned into "bad input" (exit status 2): the fault keeps its type and traceback
    with pytest.raises(ValueError, match="zero-size array"):
        demo.main(_demo_argv(demo_inputs, tmp_path / "out"))


@pytest.mark.parametrize("display", [True, False])
@pytest.mark.parametrize("inside", ["phantom/ct", "phantom", "cases"])
def test_napari_demo_refuses_an_output_folder_in_an_input(
    demo_inputs: tuple[Path, Path, Path],
    tmp_path: Path,
    inside: str,
    display: bool,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from ivcviewer._napari import demo

    def not_reached(*args: object, **kwargs: object) -> None:
        raise AssertionError("a window or Xvfb started although the output folder is refused")

    monkeypatch.setattr(demo, "has_display", lambda: display)
    monkeypatch.setattr(demo, "xvfb_display", not_reached)
    monkeypatch.setattr(demo, "setup_case_viewer", not_reached)
    monkeypatch.setitem(sys.modules, "napari", None)  # importing napari would fail
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    out = tmp_path / inside / "shots"
    assert demo.main(_demo_argv(demo_inputs, out)) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "refusing to write" in err[0]
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


def test_napari_demo_child_without_a_list_of_files_is_a_display_error(
    demo_inputs: tuple[Path, Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import contextlib
    from collections.abc import Iterator

    from ivcviewer._napari import demo
    from ivcviewer.errors import DisplayError

    @contextlib.contextmanager
    def fake_xvfb(*args: object, **kwargs: object) -> Iterator[str]:
        yield ":12345"

    monkeypatch.setattr(demo, "xvfb_display", fake_xvfb)
    monkeypatch.setattr(
        subprocess, "run", lambda *a, **k: _proc(0, stderr="libGL error: no driver")
    )
    with pytest.raises(DisplayError, match="printed nothing.*libGL error: no driver"):
        demo.render_in_child(*demo_inputs, tmp_path / "out")


def test_demo_tells_a_crash_of_napari_from_bad_input(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    from ivcviewer.errors import DisplayError, IvcviewerError

    bad = demo_cmd.child_error(_proc(2, stderr="ivcviewer: case.yaml: no findings"), "Rendering")
    assert type(bad) is IvcviewerError and "case.yaml: no findings" in str(bad)
    traceback = (
        "Traceback (most recent call last):\n"
        '  File "demo.py", line 9, in render_demo\n'
        "KeyError: 'mass'\n"
    )
    with caplog.at_level(logging.INFO, logger="ivcviewer._child"):
        crash = demo_cmd.child_error(_proc(1, stderr=traceback), "Rendering")
    assert isinstance(crash, DisplayError) and "\n" not in str(crash)
    assert "internal error (exit status 1): KeyError: 'mass'" in str(crash)
    assert 'File "demo.py", line 9' in caplog.text  # shown with --verbose


def test_demo_render_passes_verbose_and_reports_a_missing_list_of_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ivcviewer.errors import DisplayError

    calls: list[list[str]] = []

    def child(cmd: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
        calls.append(cmd)
        return _proc(0, stdout="", stderr="Xvfb: cannot open display\nAborted")

    monkeypatch.setattr(demo_cmd, "_check_napari", lambda: None)
    monkeypatch.setattr(demo_cmd.subprocess, "run", child)
    ct, case, phantom, out = (tmp_path / n for n in ("ct", "case.yaml", "ph", "out"))
    target = demo_cmd.DemoTarget("phantom", "the case phantom", ct, phantom_truth=phantom)
    with pytest.raises(DisplayError, match="printed nothing.*cannot open display \\| Aborted"):
        demo_cmd.render(target, case, out, verbose=True)
    assert "--verbose" in calls[0]
    assert calls[0][calls[0].index("--phantom-truth") + 1] == str(phantom)
    with pytest.raises(DisplayError):
        demo_cmd.render(target, case, out)
    assert "--verbose" not in calls[1]


def test_demo_opens_one_window_per_ct_and_reports_the_first_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both windows are open at once; an error comes after every window is closed."""
    started: list[list[str]] = []

    class FakePopen:
        def __init__(self, cmd: list[str], stderr: Any = None, text: bool = False) -> None:
            started.append(cmd)
            self.args = cmd
            self.failing = "--anatomy" in cmd
            if self.failing:
                stderr.write("ivcviewer: seg.nii.gz: no structure named inferior_vena_cava\n")
                stderr.flush()

        def wait(self) -> int:
            assert len(started) == 2  # the second window started before the first closed
            return 2 if self.failing else 0

    monkeypatch.setattr(demo_cmd, "_check_napari", lambda: None)
    monkeypatch.setattr(demo_cmd.subprocess, "Popen", FakePopen)
    case = tmp_path / "case.yaml"
    targets = [
        demo_cmd.DemoTarget("phantom", "the case phantom", tmp_path / "ct", phantom_truth=tmp_path),
        demo_cmd.DemoTarget(
            "real_ct", "a real CT", tmp_path / "ct.nii.gz", labelmap=tmp_path / "seg.nii.gz"
        ),
    ]
    from ivcviewer.errors import IvcviewerError

    with pytest.raises(IvcviewerError, match="^seg.nii.gz: no structure named"):
        demo_cmd.open_windows(targets, case)
    assert [cmd[cmd.index("--title") + 1] for cmd in started] == [
        "ivcviewer demo: case overlay on the case phantom",
        "ivcviewer demo: case overlay on a real CT",
    ]
    assert all(cmd[cmd.index("--case") + 1] == str(case) for cmd in started)


@pytest.mark.parametrize("inside", ["data", "data/sub"])
def test_napari_demo_refuses_an_output_folder_beside_the_label_map(
    tmp_path: Path,
    inside: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from ivcviewer._napari import demo

    data = tmp_path / "data"
    data.mkdir()
    for name in ("ct.nii.gz", "seg.nii.gz", "seg_labels.json"):
        (data / name).write_text("x", encoding="utf-8")
    case = tmp_path / "case.yaml"
    case.write_text("id: x\n", encoding="utf-8")
    monkeypatch.setattr(demo, "has_display", lambda: True)
    monkeypatch.setitem(sys.modules, "napari", None)  # importing napari would fail
    argv = [
        "render",
        "--ct",
        str(data / "ct.nii.gz"),
        "--case",
        str(case),
        "--anatomy",
        str(data / "seg.nii.gz"),
        "--out",
        str(tmp_path / inside),
    ]
    assert demo.main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "refusing to write" in err[0]
    assert not (tmp_path / "data" / "sub").exists()

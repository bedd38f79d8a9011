"""Opening a viewer and rendering screenshots from paths, with and without a display."""

from __future__ import annotations

import contextlib
import logging
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from _napari_factory import GEOMETRIES, write_dicom_series

from ivcviewer.errors import DisplayError, IvcviewerError, NoSeriesFoundError, VolumeFormatError

pytestmark = pytest.mark.napari

napari = pytest.importorskip("napari")

from ivcviewer import _child  # noqa: E402
from ivcviewer._napari import _display, launch  # noqa: E402
from ivcviewer._napari.widgets.geometry_report import GeometryReportWidget  # noqa: E402


@pytest.fixture(scope="module")
def axial_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("launch")
    return write_dicom_series(GEOMETRIES["axial"], root / "axial", seed="napari-launch")


def _not_black(path: Path) -> bool:
    from PIL import Image

    img = np.asarray(Image.open(path))
    return bool((img[..., :3] > 100).mean() > 0.05)


def test_render_screenshots_with_a_display(
    axial_dir: Path, tmp_path: Path, mock_app_model, qtbot
) -> None:
    out = tmp_path / "shots"
    before = sorted(p.name for p in axial_dir.iterdir())
    paths = launch.render_screenshots(
        [axial_dir], out, views=("axial", "sagittal"), size=(200, 240)
    )
    assert [p.name for p in paths] == ["axial_markers_axial.png", "axial_markers_sagittal.png"]
    from PIL import Image

    for p in paths:
        assert Image.open(p).size == (240, 200)
        assert _not_black(p)
    assert sorted(p.name for p in axial_dir.iterdir()) == before  # nothing written into the input


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("Xvfb") is None, reason="Xvfb is not installed")
def test_render_screenshots_without_a_display_starts_xvfb(
    axial_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    paths = launch.render_screenshots(
        [axial_dir], tmp_path / "x", views=("axial",), size=(160, 160)
    )
    assert [p.name for p in paths] == ["axial_markers_axial.png"]
    assert _not_black(paths[0])
    # a bad path gives the loader's error, not a display error
    with pytest.raises(IvcviewerError, match="not an image"):
        launch.render_screenshots(
            [tmp_path / "x" / paths[0].name], tmp_path / "y", views=("axial",)
        )


def test_xvfb_display_without_xvfb_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_display.shutil, "which", lambda name: None)
    with pytest.raises(_display.DisplayError, match="apt-get install xvfb"):
        with _display.xvfb_display():
            pass


def test_unknown_view_is_refused(axial_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="Argument 'views'"):
        launch.render_screenshots([axial_dir], tmp_path, views=("oblique",))


def test_open_in_viewer_shows_the_series_and_the_report(
    axial_dir: Path, monkeypatch: pytest.MonkeyPatch, mock_app_model, qtbot
) -> None:
    monkeypatch.setattr(napari, "run", lambda *a, **k: None)
    launch.open_in_viewer([str(axial_dir)])
    viewer = napari.current_viewer()
    try:
        assert [layer.name for layer in viewer.layers] == ["axial markers"]
        assert viewer.scene.camera.orientation[0] == "away"
        docks = [
            w for w in viewer.window.dock_widgets.values() if isinstance(w, GeometryReportWidget)
        ]
        assert len(docks) == 1 and docks[0].rows
    finally:
        viewer.close()


def test_open_in_viewer_fails_before_any_window(tmp_path: Path, mock_app_model) -> None:
    (tmp_path / "empty").mkdir()
    before = napari.current_viewer()
    with pytest.raises(NoSeriesFoundError):
        launch.open_in_viewer([str(tmp_path / "empty")])
    assert napari.current_viewer() is before


def test_command_line_reports_bad_input_in_one_line(tmp_path: Path, capsys) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    assert launch.main(["render", "--out", str(tmp_path / "o"), str(text)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("ivcviewer: ") and "notes.txt" in err[0]


def _proc(returncode: int, stdout: str = "", stderr: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.CompletedProcess(["renderer"], returncode, stdout=stdout, stderr=stderr)


def test_command_line_lets_a_fault_of_the_program_through(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a ValueError from numpy or napari is a fault of the program, not bad input (exit 2)
    def broken(*args: object, **kwargs: object) -> list[Path]:
        raise ValueError("operands could not be broadcast together")

    monkeypatch.setattr(launch, "render_screenshots", broken)
    with pytest.raises(ValueError, match="broadcast"):
        launch.main(["render", "--out", str(tmp_path / "o"), str(tmp_path)])


def test_command_line_refuses_an_unknown_view_in_one_line(
    axial_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["render", "--out", str(tmp_path / "o"), "--views", "axial,oblique", str(axial_dir)]
    assert launch.main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "'oblique'" in err[0]
    assert not (tmp_path / "o").exists()


def test_child_output_without_a_list_of_files_is_a_display_error() -> None:
    empty = _proc(0, stdout="", stderr="QXcbConnection: could not connect\nlibGL error: no driver")
    with pytest.raises(DisplayError, match="printed nothing.*libGL error: no driver"):
        _child.child_paths(empty, "Rendering")
    with pytest.raises(DisplayError, match="printed 'Qt warning'"):
        _child.child_paths(_proc(0, stdout="Qt warning\n"), "Rendering")
    assert _child.child_paths(_proc(0, stdout='noise\n["a.png", "b.png"]\n'), "Rendering") == [
        Path("a.png"),
        Path("b.png"),
    ]


def test_child_failures_keep_input_errors_apart_from_faults(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bad_input = _child.child_error(_proc(2, stderr="ivcviewer: x.txt: not an image"), "Rendering")
    assert type(bad_input) is IvcviewerError and str(bad_input) == "x.txt: not an image"
    display = _child.child_error(_proc(3, stderr="ivcviewer: no GL"), "Rendering")
    assert isinstance(display, DisplayError) and "no GL" in str(display)
    traceback = (
        "Traceback (most recent call last):\n"
        '  File "launch.py", line 1, in <module>\n'
        "IndexError: list index out of range\n"
    )
    with caplog.at_level(logging.INFO, logger="ivcviewer._child"):
        crash = _child.child_error(_proc(1, stderr=traceback), "Rendering")
    assert isinstance(crash, DisplayError)
    assert "internal error (exit status 1): IndexError: list index out of range" in str(crash)
    assert "\n" not in str(crash)
    assert 'File "launch.py", line 1' in caplog.text  # the traceback, for --verbose


def test_command_line_reports_a_crashed_renderer_with_status_3(
    axial_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    @contextlib.contextmanager
    def fake_xvfb(*args: object, **kwargs: object) -> Iterator[str]:
        yield ":12345"

    calls: list[list[str]] = []

    def crashed(cmd: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
        calls.append(cmd)
        return _proc(1, stderr="Traceback (most recent call last):\nTypeError: bad operand\n")

    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr(launch, "xvfb_display", fake_xvfb)
    monkeypatch.setattr(subprocess, "run", crashed)
    assert launch.main(["render", "--out", str(tmp_path / "o"), str(axial_dir)]) == 3
    assert len(calls) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "internal error" in err[0] and "TypeError: bad operand" in err[0]


@pytest.mark.parametrize("below", ["", "shots"])
def test_render_refuses_an_output_folder_in_the_input(
    axial_dir: Path,
    below: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = sorted(p.name for p in axial_dir.iterdir())
    out = axial_dir / below if below else axial_dir
    # with a display: before any window opens
    assert launch.main(["render", "--out", str(out), str(axial_dir)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "refusing to write" in err[0]

    # without one: before Xvfb starts
    def no_xvfb(*args: object, **kwargs: object) -> None:
        raise AssertionError("Xvfb started although the output folder is refused")

    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr(launch, "xvfb_display", no_xvfb)
    with pytest.raises(VolumeFormatError, match="refusing to write"):
        launch.render_screenshots([axial_dir], out, views=("axial",))
    assert sorted(p.name for p in axial_dir.iterdir()) == before


def test_render_volumes_refuses_the_folder_of_their_source_files(axial_dir: Path) -> None:
    from ivcviewer._napari.reader import load_volumes

    volumes = load_volumes([axial_dir])
    assert volumes[0].metadata.source_files  # the check relies on them
    before = sorted(p.name for p in axial_dir.iterdir())
    with pytest.raises(VolumeFormatError, match="refusing to write"):
        launch.render_volumes(volumes, axial_dir / "shots", views=("axial",))
    assert sorted(p.name for p in axial_dir.iterdir()) == before

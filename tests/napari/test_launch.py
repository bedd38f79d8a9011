"""Opening a viewer and rendering screenshots from paths, with and without a display."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from _napari_factory import GEOMETRIES, write_dicom_series

from ivcviewer.errors import IvcviewerError, NoSeriesFoundError

pytestmark = pytest.mark.napari

napari = pytest.importorskip("napari")

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

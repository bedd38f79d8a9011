"""``ivcviewer render``: figures of the case fitted on the phantom and on the shipped real CT,
written as one set without a screen, and its one-line refusals."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from _figure_checks import assert_overlay_inside_body, assert_pdf, canvas_part, read_rgb

from ivcviewer._atomic import verify_set
from ivcviewer.annotations import default_case_path
from ivcviewer.cli.main import main
from ivcviewer.workflows.figures import PANEL_FILES, RENDER_SET, VIEW_TITLES

#: Legend width as a fraction of the canvas (``ivcviewer._napari.render.LEGEND_FRACTION``).
LEGEND_FRACTION = 0.42


def _error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("ivcviewer: error:"), err
    return lines[0]


@pytest.fixture
def ct_file(tmp_path: Path) -> Path:
    folder = tmp_path / "input"
    folder.mkdir()
    ct = folder / "ct.nii.gz"
    ct.write_bytes(b"not read: the refusals come first")
    return ct


def test_anatomy_names_without_anatomy_is_refused(ct_file: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    rc = main(
        ["render", str(ct_file), "--case", str(default_case_path()), "--landmarks",
         str(ct_file), "--anatomy-names", str(ct_file), "--out", str(tmp_path / "out")]
    )  # fmt: skip
    assert rc == 2
    assert "--anatomy-names needs --anatomy" in _error_line(capsys)
    assert not (tmp_path / "out").exists()


def test_missing_case_file_is_refused(ct_file: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    missing = tmp_path / "nope.yaml"
    rc = main(
        ["render", str(ct_file), "--case", str(missing), "--landmarks", str(ct_file),
         "--out", str(tmp_path / "out")]
    )  # fmt: skip
    assert rc == 2
    line = _error_line(capsys)
    assert str(missing) in line and "no such file" in line


def test_output_in_an_input_folder_is_refused(ct_file: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    out = ct_file.parent / "figures"
    rc = main(
        ["render", str(ct_file), "--case", str(default_case_path()), "--landmarks",
         str(ct_file), "--out", str(out)]
    )  # fmt: skip
    assert rc == 2
    line = _error_line(capsys)
    assert f"--out {out}" in line and str(ct_file.parent) in line
    assert not out.exists()


def test_output_with_other_files_needs_force(ct_file: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    rc = main(
        ["render", str(ct_file), "--case", str(default_case_path()), "--landmarks",
         str(ct_file), "--out", str(out)]
    )  # fmt: skip
    assert rc == 2
    line = _error_line(capsys)
    assert "notes.txt" in line and "--force" in line
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]


def test_help_imports_neither_numpy_nor_napari() -> None:
    code = (
        "import sys\n"
        "from ivcviewer.cli.main import main\n"
        "for argv in (['--help'], ['render', '--help']):\n"
        "    try:\n"
        "        main(argv)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print('numpy' in sys.modules, 'napari' in sys.modules)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert "render" in proc.stdout and "--phantom-truth" in proc.stdout
    assert proc.stdout.strip().splitlines()[-1] == "False False"


# ------------------------------------------------------------------------------ rendering


def _render(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """``ivcviewer render`` in a process without a screen (it starts its own Xvfb)."""
    import ivcviewer

    env = dict(os.environ)
    # the package under test, whatever the folder the children start in
    src = str(Path(ivcviewer.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join([src, env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    return subprocess.run(
        [sys.executable, "-m", "ivcviewer", "render", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=900,
        cwd=tmp_path,
    )


def _assert_figure_set(out: Path, proc: subprocess.CompletedProcess[str]) -> None:
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert verify_set(out) == []
    assert {p.name for p in out.iterdir()} == set(RENDER_SET.names) | {"ivcviewer-complete.json"}
    assert "rendered 6 files in" in proc.stdout
    for name in VIEW_TITLES:
        path = out / f"{name}.png"
        assert str(path) in proc.stdout
        rgb = read_rgb(path)
        assert rgb.shape[0] >= 300 and rgb.std() > 20, name  # an image, not a blank canvas
        canvas = canvas_part(rgb, LEGEND_FRACTION)
        assert_overlay_inside_body(canvas)
        # the legend shows the findings' colours: coloured pixels right of the canvas
        legend = rgb[:, canvas.shape[1] :]
        assert np.count_nonzero(legend.max(axis=2) - legend.min(axis=2) > 60) > 50, name
        # the scale bar: white pixels in the canvas's lower right corner
        h, w = canvas.shape[:2]
        corner = canvas[int(h * 0.85) :, int(w * 0.6) :]
        assert np.count_nonzero(corner.min(axis=2) > 200) > 20, name
    panel = read_rgb(out / PANEL_FILES[0])
    assert panel.shape[1] > panel.shape[0] * 0.9 and panel.std() > 20
    assert_pdf(out / PANEL_FILES[1])


@pytest.mark.napari
@pytest.mark.slow
def test_render_on_the_phantom(tmp_path: Path) -> None:
    pytest.importorskip("napari")
    from ivcviewer.phantom import cached_phantom
    from ivcviewer.phantom.output import CT_DIR

    phantom = cached_phantom("small")
    out = tmp_path / "figures"
    args = [str(phantom / CT_DIR), "--case", str(default_case_path())]
    proc = _render([*args, "--phantom-truth", str(phantom), "--out", str(out)], tmp_path)
    _assert_figure_set(out, proc)
    # a second run replaces the complete set
    again = _render([*args, "--phantom-truth", str(phantom), "--out", str(out)], tmp_path)
    _assert_figure_set(out, again)
    # with --force, a folder of other files gets the set and keeps its files
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("kept")
    forced = _render(
        [*args, "--phantom-truth", str(phantom), "--out", str(mine), "--force"], tmp_path
    )
    assert forced.returncode == 0, forced.stderr[-2000:]
    assert (mine / "notes.txt").read_text() == "kept"
    assert verify_set(mine) == ["notes.txt: not in the marker"]
    assert {p.name for p in mine.iterdir()} >= set(RENDER_SET.names)


@pytest.mark.napari
@pytest.mark.slow
def test_render_on_the_shipped_real_ct(tmp_path: Path) -> None:
    pytest.importorskip("napari")
    from ivcviewer.sample_data import real_abdominal_ct

    sample = real_abdominal_ct()
    out = tmp_path / "figures"
    proc = _render(
        [str(sample.ct), "--case", str(default_case_path()), "--anatomy", str(sample.labels),
         "--anatomy-names", str(sample.names), "--out", str(out)],
        tmp_path,
    )  # fmt: skip
    _assert_figure_set(out, proc)


@pytest.mark.napari
def test_a_fit_that_fails_is_one_line(tmp_path: Path) -> None:
    pytest.importorskip("napari")
    from ivcviewer.annotations import Landmarks
    from ivcviewer.sample_data import real_abdominal_ct

    # a valid landmarks file without the landmarks the case needs: the fit is refused
    landmarks = Landmarks.from_points({"renal_vein_confluence": [0.0, 0.0, 0.0]}).save_json(
        tmp_path / "landmarks.json"
    )
    out = tmp_path / "figures"
    proc = _render(
        [str(real_abdominal_ct().ct), "--case", str(default_case_path()), "--landmarks",
         str(landmarks), "--out", str(out)],
        tmp_path,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("ivcviewer: error:"), proc.stderr
    assert "Traceback" not in proc.stderr
    assert not out.exists()

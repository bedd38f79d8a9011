"""Fast paths of the loader and the command line: threaded JPEG 2000 / HTJ2K decoding, progress
reports while a stack fills, the terminal bar, and imports that the command line avoids."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pydicom
import pytest
from _dicom_factory import axial_volume, write_volume
from pydicom import uid as pduid
from pydicom.encaps import encapsulate

from ivcviewer._progress import LoadProgress, reporting_progress
from ivcviewer.cli.progress import TerminalBar, terminal_progress
from ivcviewer.dicom import fill as fill_module
from ivcviewer.dicom import load_dicom, pixels
from ivcviewer.errors import DicomSeriesError
from ivcviewer.volume import Volume

imagecodecs = pytest.importorskip("imagecodecs")

HTJ2K_SYNTAXES = (pduid.HTJ2KLossless, pduid.HTJ2KLosslessRPCL, pduid.HTJ2K)
SRC = str(Path(__file__).resolve().parents[1] / "src")


def _noisy_volume(n: int = 6, rows: int = 32, cols: int = 40) -> Volume:
    """A ramp with noise (values that compress poorly, so a wrong decode cannot pass)."""
    vol = axial_volume(n=n, rows=rows, cols=cols)
    noise = np.random.default_rng(7).integers(-40, 40, vol.array.shape)
    return Volume((vol.array + noise).astype(np.int16), vol.affine)


def _to_htj2k(files: list[Path], syntax: str) -> None:
    """Re-encode uncompressed files as High-Throughput JPEG 2000 (lossless codestreams)."""
    for path in files:
        ds = pydicom.dcmread(path)
        stored = ds.pixel_array  # stored values, before the rescale
        frame = imagecodecs.htj2k_encode(np.ascontiguousarray(stored), reversible=True)
        ds.PixelData = encapsulate([bytes(frame)])
        ds["PixelData"].VR = "OB"
        ds.file_meta.TransferSyntaxUID = syntax
        ds.save_as(path, enforce_file_format=True)


def _without_imagecodecs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pixels, "_imagecodecs_jpeg2k", lambda: False)


@pytest.mark.parametrize("syntax", HTJ2K_SYNTAXES)
@pytest.mark.parametrize("threaded", [True, False])
def test_htj2k_series_loads_exactly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, syntax: str, threaded: bool
) -> None:
    vol = _noisy_volume()
    files = write_volume(tmp_path / "ct", vol, seed="htj2k")
    _to_htj2k(files, syntax)
    assert pydicom.dcmread(files[0]).file_meta.TransferSyntaxUID == syntax
    if not threaded:  # pydicom's own decoder plugins (pylibjpeg-openjpeg)
        _without_imagecodecs(monkeypatch)
    assert pixels.threaded_decoding(syntax) is threaded
    (got,) = load_dicom(tmp_path / "ct", workers=2)
    assert got.array.dtype == np.int16
    np.testing.assert_array_equal(got.array, vol.array)
    np.testing.assert_allclose(got.affine, vol.affine, atol=1e-9)


def test_jpeg2000_threads_match_helper_processes_and_uncompressed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    vol = _noisy_volume(n=7)
    write_volume(tmp_path / "j2k", vol, seed="j2k", transfer_syntax=pduid.JPEG2000Lossless)
    write_volume(tmp_path / "raw", vol, seed="raw")
    (threaded,) = load_dicom(tmp_path / "j2k", workers=2)
    (raw,) = load_dicom(tmp_path / "raw", workers=2)
    _without_imagecodecs(monkeypatch)
    monkeypatch.setattr(fill_module, "PROCESS_POOL_MIN_PIXELS", 0)
    (helpers,) = load_dicom(tmp_path / "j2k", workers=2)
    for got in (threaded, raw, helpers):
        np.testing.assert_array_equal(got.array, vol.array)


def test_threaded_decoding_into_float_output(tmp_path: Path) -> None:
    vol = axial_volume(n=3)
    write_volume(
        tmp_path / "ct",
        vol,
        transfer_syntax=pduid.JPEG2000Lossless,
        rescale_slope=0.5,
        rescale_intercept=-1024.0,
    )
    (got,) = load_dicom(tmp_path / "ct", workers=2)
    assert got.array.dtype == np.float32
    np.testing.assert_allclose(got.array, vol.array, atol=0.5)


def test_damaged_htj2k_frame_names_the_file(tmp_path: Path) -> None:
    files = write_volume(tmp_path / "ct", _noisy_volume(n=3), seed="bad")
    _to_htj2k(files, pduid.HTJ2KLossless)
    ds = pydicom.dcmread(files[1])
    ds.PixelData = encapsulate([b"\xff\x4f\xff\x51" + b"\xab" * 200])
    ds.save_as(files[1], enforce_file_format=True)
    with pytest.raises(DicomSeriesError) as info:
        load_dicom(tmp_path / "ct", workers=2)
    text = str(info.value)
    assert text.startswith(f"{files[1]}: pixel data cannot be decoded: ") and "Fix:" in text
    assert "\n" not in text


# ----------------------------------------------------------------------------- progress


def _record(seen: list[tuple[LoadProgress, np.ndarray | None]]) -> object:
    def callback(p: LoadProgress) -> None:
        partial = None if p.array is None else np.array(p.array[: p.rows_ready], copy=True)
        seen.append((p, partial))

    return callback


@pytest.mark.parametrize(
    ("syntax", "workers"),
    [
        (pduid.ExplicitVRLittleEndian, 1),
        (pduid.ExplicitVRLittleEndian, 2),
        (pduid.JPEG2000Lossless, 1),
        (pduid.JPEG2000Lossless, 2),
        (pduid.RLELossless, 1),
    ],
)
def test_progress_fills_the_volume_in_order(tmp_path: Path, syntax: str, workers: int) -> None:
    vol = _noisy_volume(n=9)
    write_volume(tmp_path / "ct", vol, seed="progress", transfer_syntax=syntax)
    seen: list[tuple[LoadProgress, np.ndarray | None]] = []
    (got,) = load_dicom(tmp_path / "ct", workers=workers, progress=_record(seen))  # type: ignore[arg-type]
    np.testing.assert_array_equal(got.array, vol.array)
    assert [p.done for p, _ in seen] == list(range(1, 10))
    assert {p.total for p, _ in seen} == {9}
    assert [p.rows_ready for p, _ in seen] == list(range(1, 10))
    for p, partial in seen:
        assert partial is not None and partial.shape == (p.rows_ready, 32, 40)
        np.testing.assert_array_equal(partial, vol.array[: p.rows_ready])  # final values, in order
    assert seen[-1][0].array is not None
    assert np.shares_memory(seen[-1][0].array, got.array)  # the array handed out is the volume


def test_progress_from_helper_processes_counts_every_image(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _without_imagecodecs(monkeypatch)
    monkeypatch.setattr(fill_module, "PROCESS_POOL_MIN_PIXELS", 0)
    monkeypatch.setattr(fill_module, "DECODE_CHUNK_PIXELS", 1)
    vol = _noisy_volume(n=6)
    write_volume(tmp_path / "ct", vol, seed="helpers", transfer_syntax=pduid.JPEG2000Lossless)
    seen: list[LoadProgress] = []
    (got,) = load_dicom(tmp_path / "ct", workers=2, progress=seen.append)
    np.testing.assert_array_equal(got.array, vol.array)
    assert sorted(p.done for p in seen) == list(range(1, 7))
    assert all(p.array is None for p in seen)  # no order known: no partial volume


def test_enclosing_progress_block_is_used_by_default(tmp_path: Path) -> None:
    write_volume(tmp_path / "ct", axial_volume(n=4), seed="default")
    seen: list[LoadProgress] = []
    with reporting_progress(seen.append):
        load_dicom(tmp_path / "ct", workers=1)
    load_dicom(tmp_path / "ct", workers=1)  # outside the block: nobody listens
    assert [p.done for p in seen] == [1, 2, 3, 4]


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_terminal_bar_only_on_a_terminal(tmp_path: Path) -> None:
    write_volume(tmp_path / "ct", axial_volume(n=5), seed="bar")
    piped, terminal = io.StringIO(), _Terminal()
    with terminal_progress(piped):
        load_dicom(tmp_path / "ct", workers=1)
    with terminal_progress(terminal):
        load_dicom(tmp_path / "ct", workers=1)
    assert piped.getvalue() == ""
    text = terminal.getvalue()
    assert text.endswith("5/5 images\n") and text.count("\n") == 1
    assert "\r" in text and "[" + "#" * 30 + "]" in text


def test_terminal_bar_redraws_at_most_as_often_as_asked() -> None:
    out = io.StringIO()
    bar = TerminalBar(out, redraw_seconds=3600)
    for k in range(1, 101):
        bar(LoadProgress(k, 100, label="CT"))
    draws = out.getvalue().split("\r")[1:]
    assert len(draws) == 2  # the first state and the last
    assert draws[-1].rstrip().endswith("100/100 images")


# ----------------------------------------------------------------------------- imports


def _fresh(code: str) -> dict[str, object]:
    """Run ``code`` in a fresh interpreter; it prints one JSON object."""
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": SRC, "PATH": "/usr/bin:/bin"},
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


HEAVY = ("numpy", "pydicom", "SimpleITK", "scipy", "nibabel", "napari", "imagecodecs")


def test_help_imports_no_numerical_library() -> None:
    got = _fresh(
        "import contextlib, io, json, sys\n"
        "from ivcviewer.cli import main\n"
        "for argv in (['--help'], ['--version'], ['info', '--help'], ['measure', '--help'],\n"
        "             ['overlay', '--help'], ['open', '--help'], ['demo', '--help']):\n"
        "    with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):\n"
        "        main(argv)\n"
        f"print(json.dumps({{m: m in sys.modules for m in {HEAVY!r}}}))\n"
    )
    assert not any(got.values()), got


def test_public_names_still_import_from_their_packages() -> None:
    got = _fresh(
        "import importlib, json\n"
        "out = {}\n"
        "for name in ('ivcviewer', 'ivcviewer.io', 'ivcviewer.phantom', 'ivcviewer.measure',\n"
        "             'ivcviewer.workflows', 'ivcviewer.cli.measure_cmd',\n"
        "             'ivcviewer.cli.overlay_cmd'):\n"
        "    mod = importlib.import_module(name)\n"
        "    names = getattr(mod, '__all__')\n"
        "    values = [getattr(mod, n) for n in names]\n"
        "    out[name] = [n for n, v in zip(names, values) if isinstance(v, type(mod))]\n"
        "    out[name + ' dir'] = sorted(set(names) - set(dir(mod)))\n"
        "print(json.dumps(out))\n"
    )
    assert not any(got.values()), got  # every name resolves, none to a module, dir lists all


def test_lazy_names_are_the_submodules_objects() -> None:
    import ivcviewer
    import ivcviewer.io as io_package
    from ivcviewer.io.volumes import load_volume
    from ivcviewer.volume import Volume as VolumeClass

    assert ivcviewer.Volume is VolumeClass
    assert io_package.load_volume is load_volume
    with pytest.raises(AttributeError, match="no attribute 'no_such_name'"):
        _ = io_package.no_such_name  # type: ignore[attr-defined]

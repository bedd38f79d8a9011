"""The command line's one boundary: any exception becomes one line, warnings are collected.

Readers are monkeypatched to raise each kind of exception a library can raise on a damaged
file; real hostile inputs are built in tmp_path. Every failure must give exit status 2 and one
line on stderr naming the input, never a traceback; with ``-v`` the traceback follows the line.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib
import logging
import os
import struct
import subprocess
import sys
import warnings
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ivcviewer import _child
from ivcviewer.cli import info as info_cmd
from ivcviewer.cli import measure_cmd
from ivcviewer.failures import UNEXPECTED_FIX, collecting_warnings, failure_line

cli_main = importlib.import_module("ivcviewer.cli.main")
SRC = Path(__file__).resolve().parents[1] / "src"


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    rc = cli_main.main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def _one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("ivcviewer: error: "), err
    assert "Traceback" not in err
    return lines[0]


def _digest(path: Path) -> str:
    if path.is_dir():
        return "".join(_digest(p) for p in sorted(path.rglob("*")) if p.is_file())
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _raiser(exc: BaseException) -> Callable[..., Any]:
    def read(*args: Any, **kwargs: Any) -> Any:
        raise exc

    return read


#: What libraries raise on damaged files (the issue's list), each with a message.
LIBRARY_EXCEPTIONS: list[BaseException] = [
    ValueError("Invalid value for VR UI: '1.2.x'"),
    KeyError(np.uint8(7)),
    struct.error("unpack requires a buffer of 4 bytes"),
    RecursionError("maximum recursion depth exceeded"),
    MemoryError(),
    OverflowError("cannot fit 'int' into an index-sized integer"),
    zlib.error("Error -3 while decompressing data: invalid stored block lengths"),
    NotImplementedError("Unknown Value Representation 'XX'"),
    RuntimeError("libjpeg error: Bogus marker length"),
    TypeError("unhashable type: 'list'"),
    IndexError("list index out of range"),
    EOFError("Compressed file ended before the end-of-stream marker was reached"),
    gzip.BadGzipFile("Not a gzipped file (b'\\x8b\\x00')"),
]


@pytest.fixture
def volume_file(tmp_path: Path) -> Path:
    path = tmp_path / "ct.nii.gz"
    path.write_bytes(b"not read: the reader is replaced")
    return path


@pytest.mark.parametrize("exc", LIBRARY_EXCEPTIONS, ids=lambda e: type(e).__name__)
def test_any_exception_of_a_reader_becomes_one_line(
    exc: BaseException,
    volume_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(info_cmd, "read_volume_header", _raiser(exc))
    rc, out, err = _run(capsys, "info", str(volume_file))
    line = _one_line(err)
    assert rc == 2 and out == ""
    assert line.startswith(f"ivcviewer: error: info {volume_file}: could not be processed (")
    assert type(exc).__name__ in line and line.endswith(f"Fix: {UNEXPECTED_FIX}")
    assert len(line) < 400  # the message is cut short


@pytest.mark.parametrize("exc", LIBRARY_EXCEPTIONS[:4], ids=lambda e: type(e).__name__)
def test_measure_names_its_label_map(
    exc: BaseException,
    volume_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(measure_cmd, "measure_labelmap", _raiser(exc))
    rc, _, err = _run(capsys, "measure", str(volume_file), "--json")
    assert rc == 2
    assert f"measure {volume_file}: could not be processed" in _one_line(err)


def test_the_input_that_failed_is_named(
    volume_file: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    case = tmp_path / "case.yaml"
    case.write_text("findings: []\n")
    dicom = tmp_path / "ct"
    (dicom / "a").mkdir(parents=True)

    def read_case(case_path: str) -> None:
        raise RecursionError("maximum recursion depth exceeded while calling a Python object")

    def read_slice(path: Path) -> None:
        raise struct.error("unpack requires a buffer of 8 bytes")

    def measure(labelmap: str, **kwargs: Any) -> None:
        read_case(kwargs["case"])

    monkeypatch.setattr(measure_cmd, "measure_labelmap", measure)
    rc, _, err = _run(capsys, "measure", str(volume_file), "--case", str(case))
    assert rc == 2 and f"measure --case {case}: could not be processed" in _one_line(err)

    def measure_ct(labelmap: str, **kwargs: Any) -> None:
        read_slice(Path(kwargs["ct"]) / "a" / "IM0005.dcm")

    monkeypatch.setattr(measure_cmd, "measure_labelmap", measure_ct)
    rc, _, err = _run(capsys, "measure", str(volume_file), "--ct", str(dicom))
    line = _one_line(err)
    assert rc == 2 and f"measure --ct {dicom / 'a' / 'IM0005.dcm'}: could not be processed" in line


def test_file_errors_name_their_file(
    volume_file: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder = tmp_path / "cases"
    folder.mkdir()
    monkeypatch.setattr(
        measure_cmd,
        "measure_labelmap",
        _raiser(IsADirectoryError(21, "Is a directory", str(folder))),
    )
    rc, _, err = _run(capsys, "measure", str(volume_file), "--case", str(folder))
    line = _one_line(err)
    assert rc == 2 and f"--case {folder}: is a folder where a file is expected. Fix:" in line
    other = tmp_path / "sidecar.json"
    monkeypatch.setattr(measure_cmd, "measure_labelmap", _raiser(PermissionError(13, "x", other)))
    rc, _, err = _run(capsys, "measure", str(volume_file))
    assert rc == 2 and f"{other}: permission denied. Fix:" in _one_line(err)


def test_verbose_prints_the_line_first_then_the_traceback(
    volume_file: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(info_cmd, "read_volume_header", _raiser(KeyError("xyzt")))
    rc, _, err = _run(capsys, "-v", "info", str(volume_file))
    lines = err.strip().splitlines()
    assert rc == 2
    assert lines[0].startswith(f"ivcviewer: error: info {volume_file}: could not be processed")
    assert "Traceback (most recent call last):" in err
    assert lines[-1] == "KeyError: 'xyzt'"


def test_a_domain_error_keeps_its_wording(
    volume_file: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from ivcviewer.errors import VolumeFormatError

    message = f"{volume_file}: not a readable NIfTI file. Fix: check the file."
    monkeypatch.setattr(info_cmd, "read_volume_header", _raiser(VolumeFormatError(message)))
    rc, _, err = _run(capsys, "-v", "info", str(volume_file))
    assert rc == 2 and err == f"ivcviewer: error: {message}\n"


def _noisy_library() -> None:
    """What pydicom, nibabel and numpy do on odd files: warn and log."""
    logging.getLogger("pydicom").warning("Invalid value for VR UI: '1.2.x'")
    logging.getLogger("nibabel.global").error("sizeof_hdr should be 348")
    warnings.warn("The referenced SOP Instance is missing", UserWarning, stacklevel=1)
    warnings.warn("invalid value encountered in divide", RuntimeWarning, stacklevel=1)


def test_warnings_of_a_failed_command_are_not_printed(
    volume_file: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def read(path: Any) -> None:
        _noisy_library()
        raise ValueError("quaternion w2 should be positive")

    monkeypatch.setattr(info_cmd, "read_volume_header", read)
    rc, _, err = _run(capsys, "info", str(volume_file))
    assert rc == 2 and "quaternion" in _one_line(err)


def test_warnings_of_a_command_that_succeeds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import nibabel as nib

    labels = tmp_path / "empty.nii.gz"
    nib.save(nib.Nifti1Image(np.zeros((4, 4, 4), np.uint8), np.eye(4)), str(labels))
    real = measure_cmd.measure_labelmap

    def measure(*args: Any, **kwargs: Any) -> Any:
        _noisy_library()
        return real(*args, **kwargs)

    monkeypatch.setattr(measure_cmd, "measure_labelmap", measure)
    rc, out, err = _run(capsys, "measure", str(labels))
    lines = err.strip().splitlines()
    assert rc == 0 and out
    assert all(ln.startswith("ivcviewer: warning: ") for ln in lines), err
    assert any("holds no label" in ln for ln in lines)  # ivcviewer's own warning
    summary = [ln for ln in lines if "the libraries that read it gave 4 warnings" in ln]
    assert len(summary) == 1 and f"measure {labels}" in summary[0] and "--verbose" in summary[0]
    assert len(lines) == 2  # no raw library line (no "UserWarning:", no source line)

    rc, _, err = _run(capsys, "-v", "measure", str(labels))
    assert rc == 0 and "ivcviewer: warning: pydicom: Invalid value for VR UI" in err
    assert "ivcviewer: warning: nibabel: sizeof_hdr should be 348" in err
    assert "RuntimeWarning: invalid value encountered in divide" in err


def test_collecting_warnings_restores_logging_and_filters() -> None:
    root = logging.getLogger()
    level, handlers, filters = root.level, list(root.handlers), list(warnings.filters)
    with collecting_warnings() as seen:
        _noisy_library()
    assert root.level == level and root.handlers == handlers and warnings.filters == filters
    assert len(seen.library) == 4 and seen.own == []


# Real hostile inputs ------------------------------------------------------------------------


def _nifti_bytes() -> bytes:
    import nibabel as nib

    img = nib.Nifti1Image(np.zeros((6, 6, 6), np.int16), np.eye(4))
    return bytes(img.header.binaryblock) + b"\0" * 4 + bytes(img.get_fdata().astype("<i2"))


def _hostile_files(tmp_path: Path) -> dict[str, Path]:
    rng = np.random.default_rng(14)
    files = {
        "random.nii.gz": rng.integers(0, 256, 4096, dtype=np.uint8).tobytes(),
        "random.nii": rng.integers(0, 256, 4096, dtype=np.uint8).tobytes(),
        "random.nrrd": rng.integers(0, 256, 4096, dtype=np.uint8).tobytes(),
        "random.dcm": rng.integers(0, 256, 4096, dtype=np.uint8).tobytes(),
        "empty.nii.gz": b"",
    }
    good = bytearray(_nifti_bytes())
    units = bytearray(good)
    units[123] = 0xFF  # xyzt_units that nibabel has no name for
    files["units.nii"] = bytes(units)
    quaternion = bytearray(good)
    quaternion[252:256] = struct.pack("<hh", 1, 1)  # qform code 1 ...
    quaternion[256:268] = struct.pack("<3f", 5.0, 5.0, 5.0)  # ... with an impossible rotation
    files["quaternion.nii"] = bytes(quaternion)
    compressed = gzip.compress(bytes(good))
    files["truncated.nii.gz"] = compressed[: len(compressed) // 2]
    out: dict[str, Path] = {}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
        out[name] = tmp_path / name
    return out


@pytest.mark.parametrize("command", ["info", "measure"])
def test_hostile_files_give_one_line(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = _hostile_files(tmp_path)
    before = _digest(tmp_path)
    for name, path in files.items():
        rc, out, err = _run(capsys, command, str(path))
        assert rc == 2, (name, out, err)
        line = _one_line(err)
        assert name in line, line
    assert _digest(tmp_path) == before


def test_a_folder_given_as_case_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import nibabel as nib

    labels = tmp_path / "labels.nii.gz"
    nib.save(nib.Nifti1Image(np.ones((4, 4, 4), np.uint8), np.eye(4)), str(labels))
    folder = tmp_path / "case"
    folder.mkdir()
    before = _digest(tmp_path)
    rc, out, err = _run(capsys, "measure", str(labels), "--case", str(folder), "--json")
    assert rc == 2 and out == "" and str(folder) in _one_line(err)
    assert _digest(tmp_path) == before


def test_failure_line_of_each_kind() -> None:
    line = failure_line(RecursionError("maximum recursion depth exceeded"), "info ct")
    assert line == (
        "info ct: could not be processed (RecursionError: maximum recursion depth exceeded). "
        f"Fix: {UNEXPECTED_FIX}"
    )
    long = failure_line(ValueError("x" * 5000 + "\nsecond line"), "info ct")
    assert "\n" not in long and len(long) < 300 and "..." in long
    assert "(zlib.error: bad)" in failure_line(zlib.error("bad"), "info ct")

    class Unprintable(Exception):
        def __str__(self) -> str:
            raise RuntimeError("no")

    assert "Unprintable). Fix:" in failure_line(Unprintable(), "info ct")


# SimpleITK --------------------------------------------------------------------------------------


def test_itk_warnings_are_turned_off_for_nrrd_input(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    sitk = pytest.importorskip("SimpleITK")
    calls: list[bool] = []
    monkeypatch.setattr(sitk, "ProcessObject_SetGlobalWarningDisplay", calls.append)
    monkeypatch.setattr(info_cmd, "read_volume_header", _raiser(ValueError("bad")))
    nrrd = tmp_path / "ct.nrrd"
    nrrd.write_bytes(b"NRRD0004\n")
    assert _run(capsys, "info", str(nrrd))[0] == 2
    assert calls == [False]
    nifti = tmp_path / "ct.nii"
    nifti.write_bytes(b"x")
    _run(capsys, "info", str(nifti))
    assert calls == [False]  # not for a file SimpleITK does not read


def test_simpleitk_is_imported_only_for_its_formats(tmp_path: Path) -> None:
    nifti = tmp_path / "bad.nii"
    nifti.write_bytes(b"x" * 400)
    code = (
        "import sys\n"
        "import ivcviewer.cli\n"
        "assert 'SimpleITK' not in sys.modules\n"
        f"rc = ivcviewer.cli.main(['info', {str(nifti)!r}])\n"
        "print(rc, 'SimpleITK' in sys.modules)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    assert proc.stdout.strip() == "2 False", proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr


# Child processes ----------------------------------------------------------------------------


def test_a_child_names_the_file_of_a_file_error(capsys: pytest.CaptureFixture[str]) -> None:
    def action() -> None:
        raise IsADirectoryError(21, "Is a directory", "cases")

    assert _child.run_as_child(action, "render ct.nii.gz") == _child.EXIT_INPUT_ERROR
    err = capsys.readouterr().err
    assert err == "ivcviewer: cases: is a folder where a file is expected. Fix: give a file.\n"


def test_the_parent_makes_one_line_of_a_crashed_child(caplog: pytest.LogCaptureFixture) -> None:
    stderr = (
        "ivcviewer: rendering the axial view\n"
        "Traceback (most recent call last):\n"
        '  File "demo.py", line 9, in render_demo\n'
        "ValueError: zero-size array to reduction operation maximum\n"
    )
    proc = subprocess.CompletedProcess(["child"], 1, "", stderr)
    with caplog.at_level(logging.INFO, logger="ivcviewer._child"):
        err = _child.child_error(proc, "Rendering")
    assert "\n" not in str(err)
    assert "(exit status 1): ValueError: zero-size array" in str(err)
    assert "Traceback" in caplog.text


def test_the_parent_takes_the_childs_line_before_its_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    stderr = (
        "QStandardPaths: XDG_RUNTIME_DIR not set\n"
        "ivcviewer: render ct.nii.gz: could not be processed (KeyError: 'a'). Fix: check.\n"
        "Traceback (most recent call last):\n"
        "KeyError: 'a'\n"
    )
    proc = subprocess.CompletedProcess(["child"], 2, "", stderr)
    with caplog.at_level(logging.INFO, logger="ivcviewer._child"):
        err = _child.child_error(proc, "Rendering")
    assert str(err) == "render ct.nii.gz: could not be processed (KeyError: 'a'). Fix: check."
    assert "Traceback" in caplog.text  # kept for --verbose, shown after the error line


@pytest.mark.parametrize(
    ("argv", "option", "fix"),
    [
        (["phantom", "--out", "{out}", "--seed", "9" * 5000], "--seed", True),
        (["phantom", "--out", "{out}", "--seed", "-" + "1" * 300], "--seed", True),
        (["phantom", "--out", "{out}", "--size", "x" * 3000], "--size", False),
        (["measure", "labels.nii.gz", "--tolerance", "x" * 3000], "--tolerance", False),
    ],
)
def test_huge_argument_values_are_quoted_cut_short(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str], option: str, fix: bool
) -> None:
    out_dir = tmp_path / "out"
    with pytest.raises(SystemExit) as exc:
        cli_main.main([a.replace("{out}", str(out_dir)) for a in argv])
    out, err = capsys.readouterr()
    line = _one_line(err)
    assert exc.value.code == 2 and out == ""
    assert f"argument {option}" in line and "characters)" in line and len(line) < 300, line
    assert ("Fix:" in line) == fix and "--help" in line
    assert not out_dir.exists()

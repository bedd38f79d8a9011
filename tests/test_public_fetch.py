"""Fetching from the IDC (offline behaviour), the download check, the cache and credentials."""

from __future__ import annotations

import io
import json
import shutil
import socket
from pathlib import Path

import pytest
from _dicom_factory import axial_volume, write_text_file, write_volume

from ivcviewer.cli.fetch_cmd import StderrProgress
from ivcviewer.cli.main import main
from ivcviewer.public import (
    DicomwebAuth,
    FetchCancelledError,
    PublicDataError,
    cache,
    curated,
    fetch_idc,
)
from ivcviewer.public import fetch as fetch_mod
from ivcviewer.public._place import staging
from ivcviewer.public.dicomweb import PASSWORD_ENV, TOKEN_ENV, USER_ENV
from ivcviewer.public.verify import check_series


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed once the socket is


@pytest.fixture()
def offline(monkeypatch: pytest.MonkeyPatch) -> str:
    """The IDC storage check points at a closed loopback port: a real refused connection."""
    url = f"http://127.0.0.1:{_closed_port()}/idc-open-data"
    monkeypatch.setattr(fetch_mod, "IDC_PROBE_URL", url)
    monkeypatch.setattr(fetch_mod.check_online, "__defaults__", (url, 5.0))
    return url


@pytest.fixture()
def cache_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "cache"
    monkeypatch.setenv(cache.CACHE_ENV, str(root))
    return root


def _series(folder: Path, seed: str = "s", n: int = 4) -> tuple[str, list[Path]]:
    files = write_volume(folder, axial_volume(n=n, rows=8, cols=8), seed=seed)
    import pydicom

    return str(pydicom.dcmread(files[0]).SeriesInstanceUID), files


IDC_UID = curated()[0].series_uid


# the download check ---------------------------------------------------------------------


def test_check_accepts_a_whole_series(tmp_path: Path) -> None:
    uid, files = _series(tmp_path / "a")
    assert check_series(tmp_path / "a", [uid], len(files), "fetch x") == len(files)


def test_check_refuses_a_missing_instance(tmp_path: Path) -> None:
    uid, files = _series(tmp_path / "a")
    files[1].unlink()
    with pytest.raises(PublicDataError, match=r"incomplete \(3 of 4 instances arrived\)"):
        check_series(tmp_path / "a", [uid], 4, "fetch x")


def test_check_refuses_an_empty_download(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    with pytest.raises(PublicDataError, match=r"incomplete \(0 of 12"):
        check_series(tmp_path / "a", ["1.2.3"], 12, "fetch x")


def test_check_refuses_another_series_a_repeat_and_a_non_dicom_file(tmp_path: Path) -> None:
    uid, files = _series(tmp_path / "a")
    _series(tmp_path / "a" / "other", seed="other", n=2)
    with pytest.raises(PublicDataError, match="belongs to series"):
        check_series(tmp_path / "a", [uid], None, "fetch x")
    shutil.rmtree(tmp_path / "a" / "other")
    shutil.copy(files[0], tmp_path / "a" / "copy.dcm")
    with pytest.raises(PublicDataError, match="repeats SOPInstanceUID"):
        check_series(tmp_path / "a", [uid], None, "fetch x")
    (tmp_path / "a" / "copy.dcm").unlink()
    write_text_file(tmp_path / "a" / "notes.dcm")
    with pytest.raises(PublicDataError, match="notes.dcm is not readable DICOM"):
        check_series(tmp_path / "a", [uid], None, "fetch x")


@pytest.mark.parametrize("keep", [0.3, 0.9])
def test_check_refuses_a_truncated_instance(tmp_path: Path, keep: float) -> None:
    uid, files = _series(tmp_path / "a")
    data = files[2].read_bytes()
    files[2].write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(PublicDataError, match="CT0003.dcm is not readable DICOM"):
        check_series(tmp_path / "a", [uid], 4, "fetch x")


def test_check_refuses_a_truncated_compressed_instance(tmp_path: Path, public_ct: Path) -> None:
    source = public_ct / "totalsegmentator_dicom" / "series"
    first = sorted(source.iterdir())[0]
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.dcm").write_bytes(first.read_bytes()[:-1000])  # JPEG 2000, cut
    with pytest.raises(PublicDataError, match="x.dcm is not readable DICOM"):
        check_series(tmp_path / "a", [], None, "fetch x")


def test_staging_renames_only_a_finished_folder(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "er" / "series"
    with pytest.raises(RuntimeError), staging(target, "fetch x") as tmp:
        (tmp / "a.dcm").write_bytes(b"x")
        raise RuntimeError("interrupted")
    assert list(tmp_path.iterdir()) == []  # nor the parents it made
    with staging(target, "fetch x") as tmp:
        (tmp / "a.dcm").write_bytes(b"x")
    assert [p.name for p in target.iterdir()] == ["a.dcm"]
    assert [p.name for p in target.parent.iterdir()] == ["series"]


def test_staging_refuses_a_file_in_the_way(tmp_path: Path) -> None:
    (tmp_path / "series").write_text("mine")
    with pytest.raises(PublicDataError, match="already exists"), staging(tmp_path / "series", "f"):
        pass
    assert (tmp_path / "series").read_text() == "mine"


# fetch_idc ------------------------------------------------------------------------------


def test_offline_fetch_fails_at_once_with_one_line(
    offline: str, cache_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert main(["fetch", IDC_UID, "--to", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "cannot be reached" in err and "no internet access" in err and "Fix:" in err
    assert not out.exists() and not cache_root.exists()


def test_unknown_or_malformed_uids_are_refused(offline: str, tmp_path: Path) -> None:
    with pytest.raises(PublicDataError, match="is not in the Imaging Data Commons index"):
        fetch_idc(["1.2.3.4"], to=tmp_path)
    with pytest.raises(PublicDataError, match="is not a DICOM UID"):
        fetch_idc(["../../etc"], to=tmp_path)
    with pytest.raises(PublicDataError, match="no series UID given"):
        fetch_idc([], to=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_a_cached_series_is_copied_without_network(
    offline: str, cache_root: Path, tmp_path: Path
) -> None:
    _series(cache_root / IDC_UID)
    size = cache.cache_size()
    seen: list[tuple[int, int]] = []
    (folder,) = fetch_idc(
        [IDC_UID], to=tmp_path / "out", progress=lambda d, t, _: seen.append((d, t))
    )
    assert folder == tmp_path / "out" / IDC_UID
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        p.name for p in (cache_root / IDC_UID).iterdir()
    )
    assert seen[-1][0] == seen[-1][1] > 0
    assert cache.cache_size() == size
    # already there: returned as is
    assert fetch_idc([IDC_UID], to=tmp_path / "out") == [folder]


def test_cancel_before_the_download_keeps_nothing(offline: str, tmp_path: Path) -> None:
    with pytest.raises(FetchCancelledError, match="cancelled; nothing was kept"):
        fetch_idc([IDC_UID], to=tmp_path / "out", cancel=lambda: True)
    assert not (tmp_path / "out").exists()


def test_cancel_stops_a_running_download_and_keeps_nothing(tmp_path: Path) -> None:
    """The idc-index child process is stopped (its process group) when cancel() says so."""
    pytest.importorskip("idc_index", reason="idc-index is not installed")
    entry = curated()[0]
    target = tmp_path / "out" / entry.series_uid
    polls: list[int] = []

    def cancel() -> bool:
        polls.append(1)
        return len(polls) > 1  # the child has started by the second poll

    with pytest.raises(FetchCancelledError), staging(target, "fetch") as tmp:
        fetch_mod._download(entry.series_uid, tmp, entry.n_images, None, cancel)
    assert len(polls) == 2
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_a_failed_idc_index_download_is_caught_by_the_check(tmp_path: Path) -> None:
    """idc-index only logs a failed download: the files are checked, nothing is kept."""
    pytest.importorskip("idc_index", reason="idc-index is not installed")
    try:
        fetch_mod.check_online()
    except PublicDataError:
        pass
    else:
        pytest.skip("the IDC storage is reachable: this test needs a machine without internet")
    entry = curated()[0]
    target = tmp_path / "out" / entry.series_uid
    with pytest.raises(PublicDataError, match=r"incomplete \(0 of "), staging(target, "f") as tmp:
        fetch_mod._download(entry.series_uid, tmp, entry.n_images, None, None)
        check_series(tmp, [entry.series_uid], entry.n_images, "fetch")
    assert list(tmp_path.iterdir()) == []


# the cache ------------------------------------------------------------------------------


def test_cache_dir_follows_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(cache.CACHE_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache.cache_dir() == tmp_path / "xdg" / "ivcviewer" / "series"
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path / "mine"))
    assert cache.cache_dir() == tmp_path / "mine"


def test_cache_size_and_clear(cache_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cache.cached("1.2.3") is None and cache.cache_size() == 0
    _, files = _series(cache_root / "1.2.3")
    (cache_root / ".1.2.4.abc.partial").mkdir()
    (cache_root / ".1.2.4.abc.partial" / "x.dcm").write_bytes(b"12345")
    (cache_root / "README.txt").write_text("kept")
    assert cache.cached("1.2.3") == cache_root / "1.2.3"
    assert cache.cached("../cache") is None
    expected = sum(f.stat().st_size for f in files) + 5 + 4
    assert cache.cache_size() == expected
    assert main(["cache", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["series"] == ["1.2.3"] and info["size_bytes"] == expected
    assert main(["cache", "--clear"]) == 0
    out = capsys.readouterr().out
    assert f"removed {(expected - 4) / 1e6:.1f} MB" in out and "0 series" in out
    assert sorted(p.name for p in cache_root.iterdir()) == ["README.txt"]


# credentials and progress -----------------------------------------------------------------


def test_credentials_never_show(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    monkeypatch.setenv(USER_ENV, "ann")
    monkeypatch.setenv(PASSWORD_ENV, "s3cret-pw")
    auth = DicomwebAuth.from_env()
    assert auth.kind == "basic" and auth.password == "s3cret-pw"
    assert "s3cret" not in repr(auth) and "s3cret" not in str(auth)
    monkeypatch.setenv(TOKEN_ENV, "tok-998")
    token = DicomwebAuth.from_env()
    assert token.kind == "bearer" and "tok-998" not in repr(token)


def test_password_from_a_prompt_or_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (TOKEN_ENV, PASSWORD_ENV):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(USER_ENV, "ann")
    asked: list[str] = []
    auth = DicomwebAuth.from_env(prompt=lambda text: asked.append(text) or "typed")
    assert auth.password == "typed" and asked == ["DICOMweb password for ann: "]
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    with pytest.raises(PublicDataError, match=f"Fix: set {PASSWORD_ENV}"):
        DicomwebAuth.from_env()


def test_progress_prints_each_tenth_once() -> None:
    stream = io.StringIO()
    progress = StderrProgress(stream)
    for done in range(21):
        progress(done, 20, "series")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 11
    assert lines[0].startswith("fetch: 0% (0 of 20)") and lines[-1].startswith("fetch: 100%")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["fetch", "--study", "1.2.3"], "--study and --series go with --dicomweb"),
        (["fetch", "--dicomweb", "http://127.0.0.1:9/dw"], "--study UID is missing"),
        (["fetch", "1.2.3", "--dicomweb", "http://127.0.0.1:9/dw", "--study", "1.2"], "drop the"),
        (["fetch", "--dicomweb", "ftp://host/dw", "--study", "1.2"], "is not an http(s) URL"),
        (["fetch", "--dicomweb", "http://127.0.0.1:9/dw", "--study", "1.2;rm"], "not a DICOM UID"),
    ],
)
def test_fetch_argument_errors_are_one_line(
    args: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*args, "--to", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and "Fix:" in err
    assert list(tmp_path.iterdir()) == []

"""``ivcviewer fetch --dicomweb`` and ``search --dicomweb`` against a real Orthanc server.

The fixture starts Debian's Orthanc with its DICOMweb plugin on a free loopback port, with
authentication on (configuration and storage in a temporary folder), uploads the real CT
series of ../shared/public_ct and stops the server by its PID.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import requests

from ivcviewer.cli.main import main
from ivcviewer.io import open_path
from ivcviewer.public import DicomwebAuth, PublicDataError, fetch_dicomweb, search_dicomweb
from ivcviewer.public.dicomweb import PASSWORD_ENV, TOKEN_ENV, USER_ENV

ORTHANC = shutil.which("Orthanc") or "/usr/sbin/Orthanc"
PLUGIN = Path("/usr/share/orthanc/plugins/libOrthancDicomWeb.so")
USER = "radiologist"
PASSWORD = "Pw-7f3kq9-not-echoed"

pytestmark = pytest.mark.realdata


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def ct_series(public_ct: Path) -> Path:
    folder = public_ct / "totalsegmentator_dicom" / "series"
    if not folder.is_dir():
        pytest.skip(f"real DICOM CT series not found at {folder}")
    return folder


@pytest.fixture(scope="module")
def uploadable(tmp_path_factory: pytest.TempPathFactory, ct_series: Path) -> Path:
    """A copy of the real series with the UIDs its anonymisation emptied filled in.

    The files' study, series, SOP instance and SOP class UIDs are empty (the file meta keeps
    the last two); a DICOM archive refuses such instances. The copy takes them from the file
    meta, and fixed study and series UIDs; the pixel data (JPEG 2000) is kept byte for byte.
    """
    import pydicom
    from pydicom.uid import generate_uid

    out = tmp_path_factory.mktemp("uploadable")
    study = generate_uid(entropy_srcs=["ivcviewer-test-study"])
    series = generate_uid(entropy_srcs=["ivcviewer-test-series"])
    for path in sorted(p for p in ct_series.iterdir() if p.is_file()):
        ds = pydicom.dcmread(path)
        ds.StudyInstanceUID = ds.StudyInstanceUID or study
        ds.SeriesInstanceUID = ds.SeriesInstanceUID or series
        ds.SOPInstanceUID = ds.SOPInstanceUID or ds.file_meta.MediaStorageSOPInstanceUID
        ds.SOPClassUID = ds.SOPClassUID or ds.file_meta.MediaStorageSOPClassUID
        ds.save_as(out / path.name, enforce_file_format=True)
    return out


@pytest.fixture(scope="module")
def orthanc(tmp_path_factory: pytest.TempPathFactory, uploadable: Path) -> Iterator[str]:
    """The DICOMweb root URL of a running Orthanc holding the real CT series."""
    if not Path(ORTHANC).is_file() or not PLUGIN.is_file():
        pytest.skip("Orthanc or its DICOMweb plugin is not installed (orthanc orthanc-dicomweb)")
    root = tmp_path_factory.mktemp("orthanc")
    port = _free_port()
    config = {
        "Name": "ivcviewer-test",
        "StorageDirectory": str(root / "db"),
        "IndexDirectory": str(root / "db"),
        "Plugins": [str(PLUGIN)],
        "HttpPort": port,
        "DicomServerEnabled": False,
        "RemoteAccessAllowed": False,
        "AuthenticationEnabled": True,
        "RegisteredUsers": {USER: PASSWORD},
        "DicomWeb": {"Enable": True, "Root": "/dicom-web/"},
    }
    (root / "orthanc.json").write_text(json.dumps(config), encoding="utf-8")
    log = open(root / "orthanc.log", "wb")  # noqa: SIM115 - closed at teardown
    proc = subprocess.Popen([ORTHANC, str(root / "orthanc.json")], stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            if proc.poll() is not None:
                pytest.fail(f"Orthanc exited: {(root / 'orthanc.log').read_text()[-500:]}")
            try:
                if requests.get(f"{base}/system", auth=(USER, PASSWORD), timeout=2).ok:
                    break
            except requests.ConnectionError:
                time.sleep(0.1)
        for path in sorted(uploadable.iterdir()):
            r = requests.post(
                f"{base}/instances", data=path.read_bytes(), auth=(USER, PASSWORD), timeout=30
            )
            r.raise_for_status()
        yield f"{base}/dicom-web"
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


@pytest.fixture()
def creds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    monkeypatch.setenv(USER_ENV, USER)
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)


def _study_and_series(folder: Path) -> tuple[str, str]:
    import pydicom

    ds = pydicom.dcmread(next(iter(sorted(folder.iterdir()))), stop_before_pixels=True)
    return str(ds.StudyInstanceUID), str(ds.SeriesInstanceUID)


def _files_hold(folder: Path, secret: str) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file() and secret.encode() in p.read_bytes()]


def test_fetch_retrieves_the_series_equal_to_the_local_one(
    orthanc: str,
    ct_series: Path,
    uploadable: Path,
    creds: None,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    study, series = _study_and_series(uploadable)
    out = tmp_path / "fetched"
    status = main(
        ["fetch", "--dicomweb", orthanc, "--study", study, "--series", series, "--to", str(out)]
    )
    captured = capsys.readouterr()
    assert status == 0, captured.err
    folder = out / series
    assert captured.out.strip() == str(folder)
    assert "100%" in captured.err
    n_local = len([p for p in ct_series.iterdir() if p.is_file()])
    assert len(list(folder.iterdir())) == n_local
    assert [p.name for p in out.iterdir()] == [series]  # no temporary folder left
    fetched, local = open_path(folder)[0], open_path(ct_series)[0]
    assert fetched.array.shape == local.array.shape
    np.testing.assert_array_equal(fetched.array, local.array)
    np.testing.assert_allclose(fetched.affine, local.affine)
    assert PASSWORD not in captured.out + captured.err
    assert _files_hold(tmp_path, PASSWORD) == []


def test_a_second_fetch_reuses_the_folder(
    orthanc: str, uploadable: Path, creds: None, tmp_path: Path
) -> None:
    study, series = _study_and_series(uploadable)
    auth = DicomwebAuth.from_env()
    first = fetch_dicomweb(orthanc, study, series, to=tmp_path, auth=auth)
    stamp = {p.name: p.stat().st_mtime_ns for p in first.iterdir()}
    seen: list[int] = []
    again = fetch_dicomweb(
        orthanc, study, series, to=tmp_path, auth=auth, progress=lambda d, t, s: seen.append(d)
    )
    assert again == first and seen == []
    assert {p.name: p.stat().st_mtime_ns for p in again.iterdir()} == stamp


def test_wrong_password_gives_one_line_and_leaves_nothing(
    orthanc: str,
    uploadable: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    wrong = "Wrong-pw-5512-zz"
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    monkeypatch.setenv(USER_ENV, USER)
    monkeypatch.setenv(PASSWORD_ENV, wrong)
    study, _ = _study_and_series(uploadable)
    out = tmp_path / "new" / "fetched"
    status = main(["fetch", "--dicomweb", orthanc, "--study", study, "--to", str(out)])
    captured = capsys.readouterr()
    assert status == 2
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert "refused the credentials (HTTP 401)" in lines[0] and USER_ENV in lines[0]
    assert wrong not in captured.err + captured.out and PASSWORD not in captured.err
    assert list(tmp_path.iterdir()) == []  # not even the parent folder


def test_cancel_keeps_nothing(orthanc: str, uploadable: Path, creds: None, tmp_path: Path) -> None:
    study, series = _study_and_series(uploadable)
    polls: list[int] = []

    def cancel() -> bool:
        polls.append(1)
        return len(polls) > 3  # after three instances

    with pytest.raises(PublicDataError, match="cancelled; nothing was kept"):
        fetch_dicomweb(
            orthanc, study, series, to=tmp_path, auth=DicomwebAuth.from_env(), cancel=cancel
        )
    assert list(tmp_path.iterdir()) == []


def test_search_lists_the_series(
    orthanc: str, ct_series: Path, uploadable: Path, creds: None, capsys: pytest.CaptureFixture[str]
) -> None:
    study, series = _study_and_series(uploadable)
    hits = search_dicomweb(orthanc, auth=DicomwebAuth.from_env())
    assert [h.series_uid for h in hits] == [series]
    assert hits[0].study_uid == study and hits[0].modality == "CT"
    assert hits[0].n_images == len(list(ct_series.iterdir()))
    assert main(["search", "--dicomweb", orthanc, "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)[0]["series_uid"] == series
    assert PASSWORD not in captured.out + captured.err


def test_no_credentials_are_refused(
    orthanc: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in (USER_ENV, PASSWORD_ENV, TOKEN_ENV):
        monkeypatch.delenv(name, raising=False)
    assert main(["search", "--dicomweb", orthanc]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "HTTP 401" in err


def test_url_with_credentials_is_refused_before_sending(tmp_path: Path) -> None:
    url = f"http://{USER}:{PASSWORD}@127.0.0.1:9/dicom-web"
    with pytest.raises(PublicDataError) as info:
        fetch_dicomweb(url, "1.2.3", to=tmp_path)
    assert PASSWORD not in str(info.value) and "holds credentials" in str(info.value)
    assert list(tmp_path.iterdir()) == []

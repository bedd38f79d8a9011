"""Fetch series from the Imaging Data Commons (public S3 buckets, through idc-index).

Each series lands in ``<to>/<SeriesInstanceUID>/`` (``to`` defaults to the cache, see
:mod:`ivcviewer.public.cache`): downloaded into a hidden temporary folder by a child process
running idc-index, checked (every instance the index lists present, readable DICOM of that
series), then renamed into place. A series already there, or in the cache, is not downloaded
again. Without internet access the fetch fails at once with one line.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from .._deps import import_optional_dependency
from ._common import Cancel, FetchCancelledError, Progress, PublicDataError, check_cancel, report
from ._place import copy_series, present, staging
from .cache import cache_dir, cached, is_uid
from .idc import index_version, series_rows
from .verify import check_series, dicom_files

#: What is asked to learn whether the IDC storage can be reached (any HTTP answer will do).
IDC_PROBE_URL = "https://s3.amazonaws.com/idc-open-data"
#: Seconds the reachability check waits.
PROBE_TIMEOUT_S = 5.0
#: Seconds between looks at a running download (progress and cancel).
POLL_S = 0.5


def check_online(url: str = IDC_PROBE_URL, timeout: float = PROBE_TIMEOUT_S) -> None:
    """Raise a one-line :class:`PublicDataError` when ``url`` cannot be reached."""
    requests = import_optional_dependency("requests", "fetching public data")
    try:
        requests.head(url, timeout=timeout, allow_redirects=False)
    except requests.RequestException as exc:
        reason = type(exc).__name__
        raise PublicDataError(
            f"fetch: the Imaging Data Commons storage ({url}) cannot be reached ({reason}): "
            "no internet access. Fix: connect to the internet (or set HTTPS_PROXY) and fetch "
            "again; 'ivcviewer search' works offline."
        ) from None


def _check_uids(series_uids: Sequence[str]) -> list[str]:
    uids = [str(u).strip() for u in series_uids]
    if not uids:
        raise PublicDataError("fetch: no series UID given. Fix: give one or more SERIES_UID.")
    bad = [u for u in uids if not is_uid(u)]
    if bad:
        raise PublicDataError(
            f"fetch: {bad[0][:70]!r} is not a DICOM UID (digits and dots). "
            "Fix: copy the series UID from 'ivcviewer search'."
        )
    return list(dict.fromkeys(uids))


def _stop(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except OSError:
        proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def _download(
    uid: str, tmp: Path, total: int, progress: Progress | None, cancel: Cancel | None
) -> None:
    """Run idc-index for one series into ``tmp``, reporting files as they arrive."""
    with tempfile.TemporaryFile() as log:  # a file, not a pipe: a chatty child never blocks
        proc = subprocess.Popen(
            [sys.executable, "-m", "ivcviewer.public._idc_child", uid, str(tmp)],
            stdout=subprocess.DEVNULL,
            stderr=log,
            start_new_session=True,
        )
        try:
            while proc.poll() is None:
                if cancel is not None and cancel():
                    _stop(proc)
                    raise FetchCancelledError(f"fetch {uid}: cancelled; nothing was kept.")
                report(progress, len(dicom_files(tmp)), total, f"series {uid}")
                time.sleep(POLL_S)
        except BaseException:
            if proc.poll() is None:
                _stop(proc)
            raise
        log.seek(0)
        err = log.read().decode(errors="replace")
    if proc.returncode != 0:
        last = (err.strip().splitlines() or ["no message"])[-1][:160]
        raise PublicDataError(
            f"fetch {uid}: the idc-index download failed ({last}); nothing was kept. "
            "Fix: check the connection and fetch again."
        )


def fetch_idc(
    series_uids: Sequence[str],
    to: Path | None = None,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> list[Path]:
    """Download IDC series, each into ``<to>/<SeriesInstanceUID>/``.

    Parameters
    ----------
    series_uids
        SeriesInstanceUIDs found with :func:`~ivcviewer.public.search_idc`.
    to
        Folder receiving one folder per series; default :func:`~ivcviewer.public.cache.cache_dir`.
    progress
        ``progress(done, total, text)``, called as instances arrive.
    cancel
        ``cancel() -> bool``, polled while downloading; True stops, keeping nothing.

    Returns
    -------
    list of Path
        The series folders, in the order asked.

    Raises
    ------
    PublicDataError
        A UID not in the index, no internet access, an incomplete or unreadable download.
    FetchCancelledError
        When ``cancel()`` returned True.
    """
    uids = _check_uids(series_uids)
    rows = series_rows(uids)
    unknown = [u for u in uids if u not in rows]
    if unknown:
        raise PublicDataError(
            f"fetch: series {unknown[0]} is not in the Imaging Data Commons index "
            f"({index_version()}). Fix: find series with 'ivcviewer search'."
        )
    root = Path(to) if to is not None else cache_dir()
    out: list[Path] = []
    online = False
    for uid in uids:
        target = root / uid
        hit = rows[uid]
        check_cancel(cancel, f"fetch {uid}")
        source = cached(uid)
        if present(target):
            out.append(target)
        elif source is not None:
            out.append(copy_series(source, target, f"fetch {uid}"))
        else:
            if not online:
                check_online()
                online = True
            with staging(target, f"fetch {uid}") as tmp:
                _download(uid, tmp, hit.n_images, progress, cancel)
                check_series(tmp, [uid], hit.n_images, f"fetch {uid}")
            out.append(target)
        report(progress, hit.n_images, hit.n_images, f"series {uid} done")
    return out

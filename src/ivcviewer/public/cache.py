"""The local cache of fetched series: one folder per series, named by its SeriesInstanceUID.

A series folder appears only once complete (it is downloaded into a hidden temporary folder
and renamed into place), so a folder named by a UID is always a whole, checked series.
The cache lives in ``$IVCVIEWER_CACHE_DIR`` when set, else ``$XDG_CACHE_HOME/ivcviewer/series``
(``~/.cache/ivcviewer/series``).
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

#: Environment variable that moves the cache.
CACHE_ENV = "IVCVIEWER_CACHE_DIR"

_UID = re.compile(r"^[0-9]+(\.[0-9]+)*$")


def is_uid(text: str) -> bool:
    """Whether ``text`` is a DICOM UID (digits and dots, at most 64 characters).

    >>> is_uid("1.2.840.10008.1.2"), is_uid("../etc"), is_uid("1..2")
    (True, False, False)
    """
    return len(text) <= 64 and bool(_UID.match(text))


def cache_dir() -> Path:
    """The cache folder (not created here)."""
    given = os.environ.get(CACHE_ENV)
    if given:
        return Path(given).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "ivcviewer" / "series"


def cached(series_uid: str) -> Path | None:
    """The cached folder of ``series_uid``, or None when it is not in the cache."""
    if not is_uid(series_uid):
        return None
    path = cache_dir() / series_uid
    return path if path.is_dir() and any(path.iterdir()) else None


def cached_series() -> list[Path]:
    """Every complete series folder in the cache, sorted by name."""
    root = cache_dir()
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.is_dir() and is_uid(p.name))


def _tree_size(path: Path) -> int:
    total = 0
    for folder, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(folder, name)).st_size
            except OSError:
                continue
    return total


def cache_size() -> int:
    """Bytes the cache holds (temporary folders of running fetches included)."""
    root = cache_dir()
    return _tree_size(root) if root.is_dir() else 0


def clear_cache() -> int:
    """Remove every series (and leftover temporary folder) from the cache; returns bytes freed.

    Only the entries a fetch makes (UID folders and hidden ``.partial`` folders) are removed;
    any other file a user put there is left alone.
    """
    root = cache_dir()
    if not root.is_dir():
        return 0
    freed = 0
    for entry in root.iterdir():
        if entry.is_symlink() or not entry.is_dir():
            continue
        if is_uid(entry.name) or (entry.name.startswith(".") and entry.name.endswith(".partial")):
            freed += _tree_size(entry)
            shutil.rmtree(entry, ignore_errors=True)
    return freed

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from ivcviewer import _atomic


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def test_umask_is_read(umask_022: None) -> None:
    assert _atomic.file_mode() == 0o644
    assert _atomic.dir_mode() == 0o755


def test_atomic_file_has_ordinary_permissions(tmp_path: Path, umask_022: None) -> None:
    out = _atomic.write_text(tmp_path / "a.json", "{}\n")
    assert out.read_text() == "{}\n"
    assert stat.S_IMODE(out.stat().st_mode) == 0o644
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]


def test_failed_write_leaves_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "a.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError), _atomic.atomic_file(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("writer failed")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_temp_dir_has_ordinary_permissions(tmp_path: Path, umask_022: None) -> None:
    d = _atomic.temp_dir_beside(tmp_path / "out")
    assert d.parent == tmp_path and d.name.startswith(".out.")
    assert stat.S_IMODE(d.stat().st_mode) == 0o755
    _atomic.discard_dir(d)
    assert not d.exists()

"""The napari reader on a folder whose one irregular series cannot be loaded as asked: the
others open, and the notification names the one left out and why."""

from __future__ import annotations

from pathlib import Path

import pytest
from _split_factory import write_good_and_gapped

from ivcviewer.report import ValidationMode

pytestmark = pytest.mark.napari

napari = pytest.importorskip("napari")
from napari.utils.notifications import notification_manager  # noqa: E402

from ivcviewer._napari import reader  # noqa: E402


def test_reader_opens_the_good_series_and_names_the_bad_one(
    make_napari_viewer, tmp_path: Path
) -> None:
    root = write_good_and_gapped(tmp_path / "study")
    make_napari_viewer(show=True)
    n = len(notification_manager.records)
    layers = reader.read_paths(str(root), on_irregular=ValidationMode.RAISE)
    assert [kw["name"] for _, kw, _ in layers] == [f"good {i}" for i in range(5)]
    notes = [str(r.message) for r in notification_manager.records[n:]]
    assert any("series_left_out" in m and "missing" in m for m in notes), notes
    # by default (resample) the gap is mended and all six open
    assert len(reader.read_paths(str(root), show_report=False)) == 6

"""Long compressed loads in napari: a progress bar, and the slices shown while the rest decode."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pydicom import uid as pduid

pytestmark = pytest.mark.napari

napari = pytest.importorskip("napari")

from _dicom_factory import axial_volume, write_volume  # noqa: E402
from napari.utils.notifications import notification_manager  # noqa: E402

from ivcviewer._napari import progressive, reader  # noqa: E402
from ivcviewer._progress import LoadProgress  # noqa: E402
from ivcviewer.dicom import load_dicom, scan  # noqa: E402
from ivcviewer.volume import Volume  # noqa: E402

N_SLICES = 40


@pytest.fixture(scope="module")
def j2k_series(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 40-slice JPEG 2000 series with noise (every slice differs)."""
    vol = axial_volume(n=N_SLICES, rows=32, cols=32)
    noise = np.random.default_rng(3).integers(-30, 30, vol.array.shape)
    vol = Volume((vol.array + noise).astype(np.int16), vol.affine)
    folder = tmp_path_factory.mktemp("progressive") / "ct"
    write_volume(folder, vol, seed="progressive", transfer_syntax=pduid.JPEG2000Lossless)
    return folder


def _notes_since(n: int) -> list[str]:
    return [str(r.message) for r in notification_manager.records[n:]]


def _finish(qtbot, load: progressive.BackgroundLoad) -> None:
    qtbot.waitUntil(lambda: load.done, timeout=60_000)


def test_slices_appear_in_order_and_the_final_volume_is_the_loaded_one(
    make_napari_viewer, qtbot, j2k_series: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    viewer = make_napari_viewer(show=True)
    scanned = scan(j2k_series)
    (info,) = scanned.series
    assert progressive.wants_background(info)
    layers_at_first_redraw: list[int] = []
    original = progressive._on_progress

    def spy(load: progressive.BackgroundLoad, p: LoadProgress) -> None:
        original(load, p)
        if len(load.rows_shown) == 1 and not layers_at_first_redraw:
            layers_at_first_redraw.append(len(viewer.layers))

    monkeypatch.setattr(progressive, "_on_progress", spy)
    load = progressive.load_in_background(viewer, scanned, info, workers=2, redraw_seconds=0)
    _finish(qtbot, load)
    assert load.error is None and load.volume is not None
    assert layers_at_first_redraw == [1]  # the layer was there at the first slice
    shown = load.rows_shown  # slices filled at each redraw (some skipped while napari is busy)
    assert shown and shown == sorted(set(shown)) and 1 <= shown[0] and shown[-1] <= N_SLICES
    (expected,) = load_dicom(j2k_series)
    (layer,) = viewer.layers
    np.testing.assert_array_equal(load.volume.array, expected.array)
    np.testing.assert_array_equal(
        np.asarray(layer.data), expected.to_canonical().array
    )  # the layer shows the loaded volume, identical values
    assert layer.metadata["series_uid"] == info.series_uid


def test_reader_hands_long_compressed_series_to_the_background(
    make_napari_viewer, qtbot, j2k_series: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    viewer = make_napari_viewer(show=True)
    started: list[progressive.BackgroundLoad] = []
    original = progressive.load_in_background

    def record(*args, **kwargs) -> progressive.BackgroundLoad:
        load = original(*args, **kwargs)
        started.append(load)
        return load

    monkeypatch.setattr(progressive, "load_in_background", record)
    notes = len(notification_manager.records)
    result = reader.read_paths(str(j2k_series))
    assert reader.is_null(result)  # napari adds nothing: the layer comes from the load
    (load,) = started
    _finish(qtbot, load)
    (layer,) = viewer.layers
    (expected,) = load_dicom(j2k_series)
    np.testing.assert_array_equal(np.asarray(layer.data), expected.to_canonical().array)
    qtbot.waitUntil(lambda: bool(_notes_since(notes)), timeout=10_000)
    assert any("geometry" in note.lower() for note in _notes_since(notes))  # the report


def _smash_frame(path: Path) -> None:
    """Damage the frame of a JPEG 2000 file where the header scan cannot see it."""
    data = bytearray(path.read_bytes())
    at = data.rfind(b"\xe0\x7f\x10\x00") + 12 + 8 + 8  # the frame, after the offset table
    data[at : at + 60] = b"\xab" * 60
    path.write_bytes(bytes(data))


def _background_read(
    path: Path, monkeypatch: pytest.MonkeyPatch, qtbot
) -> tuple[progressive.BackgroundLoad, list[str]]:
    """Read ``path`` through the reader (background path); the load and the notifications."""
    started: list[progressive.BackgroundLoad] = []
    original = progressive.load_in_background

    def record(*args, **kwargs) -> progressive.BackgroundLoad:
        started.append(original(*args, **kwargs))
        return started[-1]

    monkeypatch.setattr(progressive, "load_in_background", record)
    notes = len(notification_manager.records)
    assert reader.is_null(reader.read_paths(str(path)))
    (load,) = started
    _finish(qtbot, load)
    qtbot.wait(50)  # the report notification follows the end of the load
    return load, _notes_since(notes)


def test_background_load_leaves_out_an_undecodable_file_and_says_so(
    make_napari_viewer, qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    viewer = make_napari_viewer(show=True)
    files = write_volume(
        tmp_path / "ct",
        axial_volume(n=N_SLICES),
        seed="one-bad",
        transfer_syntax=pduid.JPEG2000Lossless,
    )
    _smash_frame(files[30])
    load, notes = _background_read(tmp_path / "ct", monkeypatch, qtbot)
    assert load.error is None and load.volume is not None and len(viewer.layers) == 1
    assert "unreadable_file" in load.volume.report.codes
    assert any(files[30].name in note for note in notes)  # named in the report notification


def test_failed_background_load_leaves_one_error_and_no_layer(
    make_napari_viewer, qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    viewer = make_napari_viewer(show=True)
    files = write_volume(
        tmp_path / "ct",
        axial_volume(n=N_SLICES),
        seed="all-bad",
        transfer_syntax=pduid.JPEG2000Lossless,
    )
    for path in files:
        _smash_frame(path)
    load, notes = _background_read(tmp_path / "ct", monkeypatch, qtbot)
    assert load.error is not None and len(viewer.layers) == 0
    errors = [n for n in notes if "could not open" in n]
    assert len(errors) == 1 and "pixel data cannot be decoded" in errors[0]
    assert "\n" not in errors[0]


def test_short_or_uncompressed_series_are_read_as_before(
    make_napari_viewer, tmp_path: Path
) -> None:
    make_napari_viewer(show=False)
    write_volume(tmp_path / "raw", axial_volume(n=N_SLICES), seed="raw")
    write_volume(tmp_path / "short", axial_volume(n=4), transfer_syntax=pduid.JPEG2000Lossless)
    for folder in ("raw", "short"):
        assert (
            progressive.open_in_background(
                [str(tmp_path / folder)], None, reader.DEFAULT_ON_IRREGULAR
            )
            is None
        )
        layers = reader.read_paths(str(tmp_path / folder))
        assert not reader.is_null(layers) and layers[0][2] == "image"


def test_napari_progress_bar_counts_every_image(tmp_path: Path, monkeypatch) -> None:
    from napari.utils import progress as napari_progress_class

    updates: list[int] = []
    original_update = napari_progress_class.update

    def update(self, n: int = 1) -> None:
        updates.append(n)
        original_update(self, n)

    monkeypatch.setattr(napari_progress_class, "update", update)
    write_volume(tmp_path / "ct", axial_volume(n=6), seed="bar")
    with progressive.napari_progress():
        load_dicom(tmp_path / "ct", workers=1)
    assert sum(updates) == 6 and all(n >= 0 for n in updates)

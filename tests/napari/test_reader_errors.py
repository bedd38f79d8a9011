"""The napari reader and widgets: any exception becomes one error notification, never a
traceback; damaged files give no layers and a notification naming them."""

from __future__ import annotations

import gzip
import struct
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ivcviewer.errors import IvcviewerError
from ivcviewer.failures import UNEXPECTED_FIX, failure_line

pytestmark = pytest.mark.napari

napari = pytest.importorskip("napari")
from napari.utils.notifications import notification_manager  # noqa: E402

from ivcviewer._napari import reader  # noqa: E402
from ivcviewer._napari import sample_data as napari_samples  # noqa: E402


def _notes_since(n: int) -> list[str]:
    return [str(r.message) for r in notification_manager.records[n:]]


def _nifti(shape: tuple[int, int, int] = (6, 6, 6)) -> bytes:
    import nibabel as nib

    img = nib.Nifti1Image(np.zeros(shape, np.int16), np.eye(4))
    return bytes(img.header.binaryblock) + b"\0" * 4 + np.zeros(shape, "<i2").tobytes()


def _damaged_files(tmp_path: Path) -> list[Path]:
    rng = np.random.default_rng(3)
    good = _nifti()
    units = bytearray(good)
    units[123] = 0xFF  # xyzt_units nibabel has no name for: a KeyError inside nibabel
    files = {
        "truncated.nii.gz": gzip.compress(good)[: len(gzip.compress(good)) // 2],
        "random.dcm": b"\0" * 128 + b"DICM" + rng.integers(0, 256, 2000, np.uint8).tobytes(),
        "units.nii": bytes(units),
        "random.nrrd": rng.integers(0, 256, 2000, np.uint8).tobytes(),
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    return [tmp_path / name for name in files]


def test_damaged_files_give_a_notification_and_no_layers(
    make_napari_viewer: Any, tmp_path: Path
) -> None:
    viewer = make_napari_viewer(show=True)
    for path in _damaged_files(tmp_path):
        assert callable(reader.napari_get_reader(str(path))), path
        n = len(notification_manager.records)
        layers = viewer.open(str(path), plugin="ivcviewer")  # raises nothing
        assert layers == [] and len(viewer.layers) == 0, path
        notes = _notes_since(n)
        errors = [m for m in notes if path.name in m]
        assert len(errors) == 1, notes
        assert errors[0].startswith(f"ivcviewer could not open {path}: ")
        assert "Traceback" not in errors[0] and "\n" not in errors[0]


@pytest.mark.parametrize(
    "exc",
    [
        RecursionError("maximum recursion depth exceeded"),
        MemoryError(),
        struct.error("unpack requires a buffer of 4 bytes"),
        zlib.error("Error -3 while decompressing data"),
        RuntimeError("libjpeg error"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_any_exception_of_the_loaders_becomes_a_notification(
    exc: BaseException, make_napari_viewer: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "ct.nii.gz"
    path.write_bytes(gzip.compress(_nifti()))

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise exc

    monkeypatch.setattr(reader, "read_layer_data", broken)
    viewer = make_napari_viewer(show=True)
    n = len(notification_manager.records)
    assert viewer.open(str(path), plugin="ivcviewer") == []
    notes = [m for m in _notes_since(n) if "ct.nii.gz" in m]
    assert notes == [
        f"ivcviewer could not open {path}: could not be processed "
        f"({failure_line(exc, 'x').split('(', 1)[1].split(')')[0]}). Fix: {UNEXPECTED_FIX}"
    ]


def test_the_case_overlay_buttons_show_one_line(make_napari_viewer: Any) -> None:
    from ivcviewer._napari.widgets.case_overlay import CaseOverlayWidget

    viewer = make_napari_viewer(show=True)
    widget = CaseOverlayWidget(viewer)

    def broken() -> None:
        raise struct.error("unpack requires a buffer of 8 bytes")

    n = len(notification_manager.records)
    assert widget._try(broken) is None
    notes = _notes_since(n)
    assert notes == [
        "Case overlay: could not be processed (struct.error: unpack requires a buffer of 8 "
        f"bytes). Fix: {UNEXPECTED_FIX}"
    ]
    assert widget.status_label.text().startswith("Error: could not be processed (struct.error")

    def refused() -> None:
        raise IvcviewerError("case.yaml: no findings. Fix: add one.")

    n = len(notification_manager.records)
    widget._try(refused)
    assert _notes_since(n) == ["Case overlay: case.yaml: no findings. Fix: add one."]


def test_the_measurement_widgets_show_one_line(
    make_napari_viewer: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ivcviewer._napari.widgets.measure_table import MeasurementTableWidget
    from ivcviewer._napari.widgets.measure_toolbox import MeasureToolboxWidget

    viewer = make_napari_viewer(show=True)
    viewer.add_labels(np.ones((4, 5, 6), np.uint8), name="seg")
    table = MeasurementTableWidget(viewer)
    toolbox = MeasureToolboxWidget(viewer)

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise OverflowError("cannot convert float infinity to integer")

    monkeypatch.setattr(table, "_measure", broken)
    n = len(notification_manager.records)
    table.refresh()  # raises nothing
    assert _notes_since(n) == [
        "Measurement table: could not be processed (OverflowError: cannot convert float "
        f"infinity to integer). Fix: {UNEXPECTED_FIX}"
    ]
    monkeypatch.setattr(toolbox, "draw_region_axes", broken)
    n = len(notification_manager.records)
    toolbox._on_axes_clicked()
    assert _notes_since(n)[0].startswith("Region axes: could not be processed (OverflowError")

    monkeypatch.setattr(table, "set_case", broken)
    n = len(notification_manager.records)
    table._set_case_or_show("/cases/case.yaml")
    assert _notes_since(n)[0].startswith("/cases/case.yaml: could not be processed")


def test_sample_data_raise_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken() -> Any:
        raise zlib.error("Error -3 while decompressing data: invalid block type")

    monkeypatch.setattr(napari_samples, "real_abdominal_ct", broken)
    with pytest.raises(IvcviewerError) as info:
        napari_samples.real_ct_with_anatomy()
    assert str(info.value) == (
        "Sample data 'Real abdominal CT with anatomy': could not be processed (zlib.error: "
        f"Error -3 while decompressing data: invalid block type). Fix: {UNEXPECTED_FIX}"
    )

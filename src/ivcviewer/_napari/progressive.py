"""Long DICOM loads in napari: a progress bar, and the slices on screen while the rest decode.

:func:`load_in_background` reads one scanned series in a background thread. The loader fills
its volume in order along the slice normal (:class:`~ivcviewer._progress.LoadProgress`); as soon
as the first slice is in, an Image layer showing that very array is added (with the series'
geometry and window) and the view is put on the first slice, then redrawn as further slices
arrive. napari's progress bar counts the images. When the load ends the layer gets the loaded
volume (identical values; its own geometry when resampling changed it), or the preview is
removed after a failure; an ``on_done`` callback (the reader's) then shows the report or the
error.

:func:`napari_progress` is the plain progress bar for loads run in the calling thread (the
reader uses it).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from qtpy.QtCore import QObject, Signal

from .. import geometry
from .._progress import LoadProgress, reporting_progress
from ..dicom.scan import ScanResult
from ..dicom.series import SeriesInfo
from ..report import ValidationMode
from ..volume import Volume
from .layers import image_layer_data

#: Series with at least this many compressed images load in the background with a preview.
PROGRESSIVE_MIN_IMAGES = 32

#: Shortest time between two redraws of the preview, in seconds (the first slice is at once).
REDRAW_SECONDS = 0.2


def wants_background(info: SeriesInfo, min_images: int = PROGRESSIVE_MIN_IMAGES) -> bool:
    """Whether ``info`` is worth loading in the background (compressed and long)."""
    return bool(info.pixel_format.compressed) and info.n_images >= min_images


class _Relay(QObject):
    """Carries the loader thread's news to the GUI thread (queued Qt signals)."""

    progressed = Signal(object)
    finished = Signal(object)
    failed = Signal(object)


@dataclass
class BackgroundLoad:
    """One series loading in the background into a layer of ``viewer``.

    ``rows_shown`` lists, in order, how many leading slices were filled at each redraw;
    ``volume`` is the loaded volume once ``done`` (None after a failure, given in ``error``).
    """

    viewer: Any
    info: SeriesInfo
    layer: Any = None
    volume: Volume | None = None
    error: BaseException | None = None
    done: bool = False
    rows_shown: list[int] = field(default_factory=list)
    thread: threading.Thread | None = None
    _relay: _Relay | None = None
    _bar: Any = None
    _counted: int = 0
    _drawing: bool = False
    _layer_kwargs: dict[str, Any] | None = None

    def wait(self, timeout: float | None = None) -> None:
        """Wait for the loader thread (the GUI side still needs the event loop to finish)."""
        if self.thread is not None:
            self.thread.join(timeout)


def _preview_volume(info: SeriesInfo, array: Any) -> Volume:
    """The array being filled, on the series' scanned grid, as a volume for the layer."""
    from ..dicom.load import series_metadata

    return Volume(array, info.affine, metadata=series_metadata(info))


def _show_slice(viewer: Any, info: SeriesInfo, row: int) -> None:
    """Put the view on scanned slice ``row`` (its centre, in napari's world coordinates)."""
    _, rows, cols = info.shape
    centre = geometry.apply_affine(info.affine, [[row, (rows - 1) / 2, (cols - 1) / 2]])[0]
    point = geometry.lps_to_napari(centre)
    if len(viewer.dims.point) == len(point):
        viewer.dims.point = tuple(float(v) for v in point)


def _on_progress(load: BackgroundLoad, p: LoadProgress) -> None:
    """GUI thread: count the images, add the preview layer or redraw it.

    napari handles queued events while it updates its progress bar or adds a layer, so this
    can be re-entered: such nested calls are skipped (the next one, or the end, catches up).
    """
    if load.done or load._drawing:
        return
    load._drawing = True
    try:
        if load._bar is not None:
            load._bar.update(p.done - load._counted)
            load._counted = p.done
        if p.array is None or p.rows_ready < 1 or p.array.shape != tuple(load.info.shape):
            return
        if load.layer is None:
            kwargs = load._layer_kwargs or image_layer_data(_preview_volume(load.info, p.array))[1]
            data = Volume(p.array, load.info.affine).to_canonical().array
            load.layer = load.viewer.add_image(data, **kwargs)
            _show_slice(load.viewer, load.info, 0)
        else:
            load.layer.refresh()
        load.rows_shown.append(p.rows_ready)
    finally:
        load._drawing = False


def _on_finished(load: BackgroundLoad, volume: Volume) -> None:
    """GUI thread: the loaded volume into the layer."""
    load.volume = volume
    data, kwargs, _ = image_layer_data(volume)
    if load.layer is None:
        load.layer = load.viewer.add_image(data, **kwargs)
    else:
        same_grid = load.layer.data.shape == data.shape and np.allclose(
            load.layer.affine.affine_matrix, _layer_affine(kwargs, data.ndim)
        )
        if not same_grid:
            load.viewer.layers.remove(load.layer)
            load.layer = load.viewer.add_image(data, **kwargs)
        else:
            load.layer.data = data
            load.layer.metadata = kwargs["metadata"]
            load.layer.contrast_limits = kwargs["contrast_limits"]
    _close(load)


def _layer_affine(kwargs: dict[str, Any], ndim: int) -> Any:
    """The world matrix napari builds from a layer's ``scale``/``translate``/``affine``."""
    from napari.utils.transforms import Affine

    built = Affine(
        scale=kwargs.get("scale", (1.0,) * ndim),
        translate=kwargs.get("translate", (0.0,) * ndim),
        ndim=ndim,
    )
    if "affine" in kwargs:
        built = Affine(affine_matrix=np.asarray(kwargs["affine"]), ndim=ndim).compose(built)
    return built.affine_matrix


def _on_failed(load: BackgroundLoad, error: BaseException) -> None:
    """GUI thread: the preview removed."""
    load.error = error
    if load.layer is not None and load.layer in load.viewer.layers:
        load.viewer.layers.remove(load.layer)
        load.layer = None
    _close(load)


def _close(load: BackgroundLoad) -> None:
    if load._bar is not None:
        load._bar.close()
        load._bar = None
    load.done = True


def load_in_background(
    viewer: Any,
    scanned: ScanResult,
    info: SeriesInfo,
    *,
    on_irregular: ValidationMode = ValidationMode.RESAMPLE,
    workers: int | None = None,
    redraw_seconds: float = REDRAW_SECONDS,
    on_done: Callable[[BackgroundLoad], None] | None = None,
) -> BackgroundLoad:
    """Load ``info`` (a stack of ``scanned``) in a background thread, showing its slices in
    ``viewer`` as they arrive. The load is :func:`~ivcviewer.dicom.load.load_scanned`'s.

    Returns at once. Must be called from the GUI thread (the layer is added there).
    """
    from napari.utils import progress

    from ..dicom.load import load_scanned

    load = BackgroundLoad(viewer, info)
    relay = _Relay()
    load._relay = relay
    load._bar = progress(total=info.n_images, desc=f"reading {info.description or 'series'}")

    def finished(volume: Volume) -> None:
        _on_finished(load, volume)
        if on_done is not None:
            on_done(load)

    def failed(error: BaseException) -> None:
        _on_failed(load, error)
        if on_done is not None:
            on_done(load)

    relay.progressed.connect(lambda p: _on_progress(load, p))
    relay.finished.connect(finished)
    relay.failed.connect(failed)
    last = [float("-inf"), 0]

    def report(p: LoadProgress) -> None:  # loader thread: pass on the first slice, then throttle
        now = time.monotonic()
        first = last[1] == 0 and p.rows_ready > 0
        if first or p.done >= p.total or now - last[0] >= redraw_seconds:
            last[0], last[1] = now, p.rows_ready
            relay.progressed.emit(p)

    def run() -> None:
        try:
            volume = load_scanned(
                scanned, info, on_irregular=on_irregular, workers=workers, progress=report
            )
        except Exception as exc:  # handed to the GUI thread: one notification
            relay.failed.emit(exc)
            return
        relay.finished.emit(volume)

    load.thread = threading.Thread(target=run, name="ivcviewer-load", daemon=True)
    load.thread.start()
    _prepare_layer(load)
    return load


def _prepare_layer(load: BackgroundLoad) -> None:
    """The preview layer's settings, worked out while the first frames decode.

    They depend only on the scanned geometry, so they are computed on a stand-in array of the
    series' shape whose memory is never touched; this also does the first-use imports of the
    geometry and transform code before the first slice is there.
    """
    if load.info.pixel_format.samples_per_pixel != 1:
        return
    stand_in = np.empty(load.info.shape, dtype=np.int16)  # allocated, never written or read
    volume = _preview_volume(load.info, stand_in)
    if volume.metadata.modality.upper() != "CT":
        return  # the window may come from the values: wait for them
    _, kwargs, _ = image_layer_data(volume)
    _layer_affine(kwargs, 3)
    load._layer_kwargs = kwargs


@contextmanager
def napari_progress() -> Iterator[None]:
    """napari's progress bar for the loads run in the block (one bar per stack)."""
    from napari.utils import progress

    bars: dict[int, Any] = {}

    def update(p: LoadProgress) -> None:
        key = p.total if p.array is None else id(p.array)
        bar = bars.get(key)
        if bar is None:
            bar = bars[key] = progress(total=p.total, desc=f"reading {p.label or 'series'}")
        bar.update(p.done - bar.n)
        if p.done >= p.total:
            bar.close()

    try:
        with reporting_progress(update):
            yield
    finally:
        for bar in bars.values():
            bar.close()


def _first_dicom_is_compressed(path: Path) -> bool:
    """Whether the first DICOM file found at ``path`` is compressed (one header read)."""
    from pydicom import dcmread
    from pydicom.uid import UID

    from ..io.formats import is_dicom_file

    candidates = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    for candidate in candidates[:SNIFF_FILES]:
        if candidate.name.upper() != "DICOMDIR" and is_dicom_file(candidate):
            meta = dcmread(candidate, stop_before_pixels=True, specific_tags=[]).file_meta
            return bool(UID(str(meta.get("TransferSyntaxUID", ""))).is_compressed)
    return False


#: Files looked at to find the first DICOM file of a folder.
SNIFF_FILES = 200


def open_in_background(
    paths: Sequence[str],
    series_uid: str | None,
    on_irregular: ValidationMode,
    on_done: Callable[[BackgroundLoad], None] | None = None,
) -> list[BackgroundLoad] | None:
    """The reader's hook: background loads for one DICOM input of long compressed series.

    ``on_done`` is called (GUI thread) as each load ends. Returns None (the reader then reads as
    usual) unless there is a current viewer, ``paths``
    is one DICOM folder or file whose series are all compressed and long enough
    (:func:`wants_background`), and nothing goes wrong on the way.
    """
    import napari

    from ..dicom import scan
    from ..io.formats import path_kind

    viewer = napari.current_viewer()
    if viewer is None or len(paths) != 1 or path_kind(Path(paths[0])) == "volume":
        return None
    try:
        if not _first_dicom_is_compressed(Path(paths[0])):
            return None
        result = scan(paths[0])
    except Exception:  # the usual reading path reports whatever is wrong
        return None
    chosen = result.get(series_uid) if series_uid else result.series
    if not chosen or not all(wants_background(info) for info in chosen):
        return None
    return [
        load_in_background(viewer, result, info, on_irregular=on_irregular, on_done=on_done)
        for info in chosen
    ]

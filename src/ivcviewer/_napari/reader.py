"""napari reader: DICOM folders and files, DICOMDIR, NIfTI, NRRD and MHA/MHD as CT layers.

:func:`napari_get_reader` is the npe2 reader command. It never raises: it returns ``None`` for
anything ivcviewer cannot read, so that other readers get their turn. The function it returns
reads through :func:`ivcviewer.io.open_path`, gives one Image layer per series (see
:func:`ivcviewer._napari.layers.image_layer_data`), shows the geometry report as a notification
and opens the "Geometry report" dock widget. Any exception (a domain error for an unreadable
or inconsistent series, or a library's own exception on a damaged file) becomes an error
notification naming the path, the reason and the fix, never a traceback; a library's warnings
are collected while reading and summarised in the report notification, never shown raw.
:func:`show_failure` gives the widgets the same lines. :mod:`.reader_honesty` adds what the
layers alone would hide: files left out, label maps without a table beside them, folders
without image series.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

from ..errors import IvcviewerError
from ..failures import collecting_warnings, failure_line
from ..io.formats import is_dicom_file, volume_format
from ..report import ValidationMode
from ..volume import Volume
from .layers import LayerDataTuple, image_layer_data, labels_layer_data, report_summary_text
from .reader_honesty import (
    add_left_out_items,
    label_map_layer,
    label_map_text,
    no_series_reason,
    notify_no_series,
)
from .sr_open import sr_reader

PathOrPaths = str | os.PathLike[str] | Sequence[str | os.PathLike[str]]
ReaderFunction = Callable[[PathOrPaths], list[LayerDataTuple]]

#: What napari's reader machinery takes as "read successfully, nothing to add". Returned after
#: an error notification so that napari does not raise "no reader returned data" on top of it.
NULL_LAYER: list[Any] = [(None,)]

#: At most this many directory entries are looked at when deciding whether to read a folder.
SNIFF_LIMIT = 2000

#: How the napari reader treats an irregular stack: display a correct grid and say so.
DEFAULT_ON_IRREGULAR = ValidationMode.RESAMPLE


def _folder_has_dicom(folder: Path, limit: int = SNIFF_LIMIT) -> bool:
    """True when a DICOM file (or DICOMDIR) is among the first ``limit`` files below ``folder``."""
    seen = 0
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(files):
            seen += 1
            if seen > limit:
                return False
            if is_dicom_file(Path(root) / name):
                return True
    return False


def can_read(path: str | os.PathLike[str]) -> bool:
    """Whether ivcviewer will try to read ``path`` (cheap: names and DICOM preambles only).

    Folders are accepted when they hold DICOM files (``.zarr`` folders never); files when they
    have a volume extension, are a DICOMDIR or start with the DICOM preamble. Never raises.
    """
    try:
        p = Path(path)
        if p.is_dir():
            return not p.name.lower().endswith(".zarr") and _folder_has_dicom(p)
        if not p.is_file():
            return False
        return volume_format(p) is not None or is_dicom_file(p)
    except Exception:  # never raises: a path that cannot even be looked at is not ours
        return False


def _as_paths(path: PathOrPaths) -> list[str]:
    if isinstance(path, (str, os.PathLike)):
        return [os.fspath(path)]
    return [os.fspath(p) for p in path]


def napari_get_reader(path: Any) -> ReaderFunction | None:
    """npe2 reader command: a reader function for ``path``, or ``None``.

    Parameters
    ----------
    path
        A path or a list of paths (napari passes either).

    Returns
    -------
    callable or None
        :func:`read_paths` when every path looks readable, else ``None``. Never raises.
    """
    try:
        paths = _as_paths(path)
    except TypeError:
        return None
    if (report := sr_reader(paths)) is not None:
        return report
    if not paths or not all(can_read(p) for p in paths):
        return None
    reason = no_series_reason(paths[0]) if len(paths) == 1 else None
    if reason is not None:
        return partial(_explain_no_series, reason)
    return read_paths


def _explain_no_series(reason: str, path: PathOrPaths, **kwargs: Any) -> list[Any]:
    """Reader function for a folder without image series: its reason, no layers, no error."""
    return notify_no_series(reason)


def load_volumes(
    paths: Sequence[str | os.PathLike[str]],
    series_uid: str | None = None,
    on_irregular: ValidationMode = DEFAULT_ON_IRREGULAR,
) -> list[Volume]:
    """Read every series at ``paths`` through :func:`ivcviewer.io.open_path`.

    Raises
    ------
    IvcviewerError
        From the loaders (no series, inconsistent geometry, missing decoder, ...).
    OSError
        When a path cannot be read.
    """
    from ..io import open_path

    volumes: list[Volume] = []
    for p in paths:
        volumes.extend(open_path(p, series_uid=series_uid, on_irregular=on_irregular))
    return volumes


def _notify(kind: str, message: str) -> None:
    """Show a napari notification (``info``, ``warning`` or ``error``)."""
    from napari.utils import notifications

    show = {
        "info": notifications.show_info,
        "warning": notifications.show_warning,
        "error": notifications.show_error,
    }[kind]
    show(message)


def failure_text(err: BaseException, where: str) -> str:
    """The line for ``err`` raised while working on ``where`` (a path or a widget's action).

    A domain error keeps its message after ``where`` (or alone, when it starts with ``where``
    already); anything else says what it was and what to do
    (:func:`ivcviewer.failures.failure_line`).

    >>> failure_text(KeyError("xyzt"), "ct.nii")  # doctest: +ELLIPSIS
    "ct.nii: could not be processed (KeyError: 'xyzt'). Fix: check that the file is not ..."
    """
    if isinstance(err, IvcviewerError):
        text = str(err)
        return text if text.startswith(f"{where}:") else f"{where}: {text}"
    return failure_line(err, where)


def show_failure(err: BaseException, where: str, prefix: str = "") -> str:
    """Show ``err`` as one error notification (``prefix`` + :func:`failure_text`), never as a
    traceback; returns the text shown."""
    text = prefix + failure_text(err, where)
    _notify("error", text)
    return text


def _prepare_current_viewer() -> None:
    """Mirror-free 3D for LPS layers and the geometry report docked, in the current viewer."""
    import napari

    from ._viewer import prepare_viewer
    from .widgets.geometry_report import dock_geometry_report

    viewer = napari.current_viewer()
    if viewer is not None:
        prepare_viewer(viewer)
        dock_geometry_report(viewer)


def is_label_map(path: str | os.PathLike[str]) -> bool:
    """A volume file with a label table beside it (``<stem>_labels.json`` or ``.txt``)."""
    from ..io import find_label_sidecar

    return volume_format(path) is not None and find_label_sidecar(path) is not None


def read_layer_data(
    paths: Sequence[str | os.PathLike[str]],
    series_uid: str | None = None,
    on_irregular: ValidationMode = DEFAULT_ON_IRREGULAR,
) -> tuple[list[LayerDataTuple], list[Volume]]:
    """Layer tuples for ``paths``: Labels for label maps with a table and for DICOM SEG and
    RTSTRUCT files (:mod:`.seg_layers`, after the others), else Image per series.

    Returns the tuples and the image volumes (for the report), in input order.

    Raises
    ------
    IvcviewerError, OSError
        From the loaders.
    """
    from ..io import load_labels, volume_stem

    layers: list[LayerDataTuple] = []
    images: list[Volume] = []
    segmentations = [p for p in paths if not series_uid and _is_segmentation(p)]
    for p in paths:
        if p in segmentations:
            continue
        if is_label_map(p) and not series_uid:
            labels, table = load_labels(p)
            layers.append(labels_layer_data(labels, table, name=volume_stem(p)))
            continue
        volumes = load_volumes([p], series_uid=series_uid, on_irregular=on_irregular)
        labelled = None if series_uid else label_map_layer(p, volumes)
        if labelled is not None:
            layers.append(labelled)
            continue
        for v in volumes:
            add_left_out_items(v)
        layers.extend(image_layer_data(v) for v in volumes)
        images.extend(volumes)
    layers.extend(_segmentation_layers(segmentations, images))
    return layers, images


def _is_segmentation(path: str | os.PathLike[str]) -> bool:
    from .seg_layers import is_segmentation_file

    return is_segmentation_file(path)


def _segmentation_layers(
    paths: Sequence[str | os.PathLike[str]], images: Sequence[Volume]
) -> list[LayerDataTuple]:
    """Labels layers of DICOM SEG and RTSTRUCT files, on a CT of this drop or of the viewer
    (after the CT layers, so they are drawn over them); a note per file says where each was
    placed."""
    from .seg_layers import segmentation_layer_data

    out = []
    for p in paths:
        layer, note = segmentation_layer_data(p, also=images)
        out.append(layer)
        _notify("info", note)
    return out


def read_paths(
    path: PathOrPaths,
    series_uid: str | None = None,
    on_irregular: ValidationMode = DEFAULT_ON_IRREGULAR,
    show_report: bool = True,
) -> list[Any]:
    """Reader function: one Image layer tuple per series at ``path``.

    A volume file with a label table beside it (``<stem>_labels.json``, see
    :func:`ivcviewer.io.find_label_sidecar`) becomes a Labels layer with named regions instead.

    Parameters
    ----------
    path
        A path or a list of paths.
    series_uid
        Read only this series.
    on_irregular
        What to do with irregular stacks (default: resample and report it).
    show_report
        Show the geometry report (notification and dock widget).

    Returns
    -------
    list
        Layer data tuples; on any error (an unreadable path, a domain error, a library's
        exception on a damaged file) an error notification is shown and napari's "nothing to
        add" value ``[(None,)]`` is returned.
    """
    from .progressive import napari_progress, open_in_background

    paths = _as_paths(path)
    where = paths[0] if len(paths) == 1 else f"{paths[0]} (+{len(paths) - 1} more)"
    done = partial(_background_done, where)
    if show_report and open_in_background(paths, series_uid, on_irregular, done) is not None:
        return list(NULL_LAYER)  # the layers appear as their slices are decoded
    try:
        with collecting_warnings() as seen, napari_progress():
            layers, volumes = read_layer_data(
                paths, series_uid=series_uid, on_irregular=on_irregular
            )
    except Exception as err:  # the reader's boundary: one notification, never a traceback
        show_failure(err, where, prefix="ivcviewer could not open ")
        return list(NULL_LAYER)
    if show_report and (text := label_map_text(layers)) is not None:
        _notify("info", text)
    if show_report and volumes:
        try:
            _show_report(layers, volumes, seen.library_summary(where, how_to_list=""))
        except Exception as err:  # the layers stand; only the report could not be shown
            show_failure(err, f"the geometry report of {where}")
    return layers


def _background_done(where: str, load: Any) -> None:
    """The end of a background load: its report, or its error (one notification)."""
    if load.error is not None:
        show_failure(load.error, where, prefix="ivcviewer could not open ")
    elif load.volume is not None and load.layer is not None:
        _show_report([(load.layer.data, {"name": load.layer.name}, "image")], [load.volume], None)


def _show_report(
    layers: list[LayerDataTuple], volumes: list[Volume], library_summary: str | None
) -> None:
    """The report notification (with the libraries' warnings, if any) and the dock widget."""
    names = [kw["name"] for _, kw, kind in layers if kind == "image"]
    texts = [report_summary_text(v, n) for v, n in zip(volumes, names, strict=True)]
    if library_summary is not None:
        texts.append(library_summary)
    any_warning = any(v.report.warnings for v in volumes) or library_summary is not None
    _notify("warning" if any_warning else "info", "\n".join(texts))
    _prepare_current_viewer()


def make_reader(
    series_uid: str | None = None,
    on_irregular: ValidationMode = DEFAULT_ON_IRREGULAR,
    show_report: bool = True,
) -> ReaderFunction:
    """A reader function with options bound (for :mod:`ivcviewer._napari.launch`)."""
    return partial(
        read_paths, series_uid=series_uid, on_irregular=on_irregular, show_report=show_report
    )


def is_null(layer_data: Sequence[Any]) -> bool:
    """Whether a reader result is the "nothing to add" value."""
    return len(layer_data) == 1 and len(layer_data[0]) == 1 and layer_data[0][0] is None

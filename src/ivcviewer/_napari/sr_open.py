"""Opening a measurement report (DICOM SR) in napari: its regions go to the Measurement table.

An SR holds no image, so the reader adds no layer: :func:`sr_reader` gives
:func:`ivcviewer._napari.reader.napari_get_reader` a reader function that opens (or shows) the
Measurement table dock of the current viewer and loads the report into it
(:meth:`~ivcviewer._napari.widgets.measure_table.MeasurementTableWidget.load_sr`). A report
ivcviewer cannot read is one notification line.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

from ..errors import IvcviewerError

#: The plugin and the dock widget's display name (napari.yaml).
PLUGIN = "ivcviewer"
TABLE_WIDGET = "Measurement table"


def sr_reader(paths: Sequence[str | os.PathLike[str]]) -> Callable[..., list[Any]] | None:
    """A reader function when ``paths`` is one DICOM SR file, else None. Never raises."""
    from ..interop.sniff import dicom_object_kind  # imported here: napari starts without it

    try:
        if len(paths) == 1 and Path(paths[0]).is_file() and dicom_object_kind(paths[0]) == "sr":
            return partial(open_sr, Path(paths[0]))
    except (OSError, ValueError):
        return None
    return None


def open_sr(report: Path, *_args: Any, **_kwargs: Any) -> list[Any]:
    """Load ``report`` into the current viewer's Measurement table; napari's "no layer" value."""
    import napari
    from napari.utils.notifications import show_error, show_info

    viewer = napari.current_viewer()
    if viewer is None:
        show_error(f"{report}: a measurement report opens in the Measurement table of a viewer.")
        return [(None,)]
    _dock, table = viewer.window.add_plugin_dock_widget(PLUGIN, TABLE_WIDGET)
    try:
        rows = table.load_sr(report)
    except IvcviewerError as err:
        show_error(str(err))
    else:
        show_info(f"{report}: {len(rows)} regions shown in the Measurement table.")
    return [(None,)]

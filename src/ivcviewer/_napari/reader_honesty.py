"""What the napari reader says beyond the layers: files left out, label maps, empty folders.

* :func:`add_left_out_items`: every file a DICOM load left out (a broken header, a truncated
  file, a non-image object) becomes a report item of the volume, so that the "Geometry report"
  dock and the load notification name it, as ``ivcviewer info`` does.
* :func:`label_map_layer`: a volume file that is a label map without a table beside it (see
  :mod:`ivcviewer.io.labelmap_sniff`) becomes a named Labels layer, not a grey image.
* :func:`no_series_reason`: for a folder (or DICOMDIR) holding no image series, ivcviewer's
  own one-line reason; the reader then gives no layers and shows that line.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..report import ReportCode, Severity
from ..volume import Volume
from .layer_tuple import LayerDataTuple

#: Files left out that a volume's report names one by one (the rest are counted).
LEFT_OUT_LISTED = 20

#: Files whose headers are read when deciding whether a folder holds an image series.
SERIES_SNIFF_FILES = 200

#: Metadata key of a Labels layer recognised as a label map: where its names come from.
LABEL_SOURCE_KEY = "label_source"

#: Metadata key of such a layer: how many label values its map holds.
LABELS_PRESENT_KEY = "labels_present"


def add_left_out_items(volume: Volume) -> None:
    """Add a report item (warning) per file the load left out that the report does not name.

    The files are those of ``volume.metadata.extra["skipped"]`` (see
    :func:`ivcviewer.dicom.load_dicom`); one item per file up to :data:`LEFT_OUT_LISTED`, then
    one item counting the rest.
    """
    skipped = volume.metadata.extra.get("skipped") or []
    named = " ".join(i.message for i in volume.report.items)
    todo = [s for s in skipped if str(s.get("path", "")) not in named]
    for entry in todo[:LEFT_OUT_LISTED]:
        code = entry.get("code") or ReportCode.UNREADABLE_FILE.value
        volume.report.add(
            code, Severity.WARNING, f"left out: {entry.get('path')} ({entry.get('reason')})"
        )
    rest = len(todo) - LEFT_OUT_LISTED
    if rest > 0:
        volume.report.add(
            ReportCode.NON_IMAGE_SKIPPED,
            Severity.WARNING,
            f"and {rest} more file(s) left out (ivcviewer info lists them all)",
        )


def label_map_layer(path: str | os.PathLike[str], volumes: list[Volume]) -> LayerDataTuple | None:
    """A named Labels layer when the volume file ``path`` is a label map, else ``None``.

    Parameters
    ----------
    path
        The file read.
    volumes
        What :func:`ivcviewer.io.open_path` returned for it.
    """
    from ..io import label_values, load_labels, volume_format, volume_stem
    from ..io.labelmap_sniff import recognise_label_map
    from .layers import labels_layer_data

    if volume_format(path) is None or len(volumes) != 1:
        return None
    guess = recognise_label_map(path, volumes[0])
    if guess is None:
        return None
    labels, table = load_labels(path, names=guess.table)
    labels.report.extend(guess.report)
    data, kwargs, kind = labels_layer_data(labels, table, name=volume_stem(path))
    kwargs["metadata"][LABEL_SOURCE_KEY] = guess.source
    kwargs["metadata"][LABELS_PRESENT_KEY] = len(label_values(labels.array))
    return (data, kwargs, kind)


def label_map_text(layers: list[LayerDataTuple]) -> str | None:
    """The notification for label maps recognised without a table beside them, or ``None``."""
    lines = []
    for _, kwargs, kind in layers:
        metadata = kwargs.get("metadata", {})
        if kind != "labels" or LABEL_SOURCE_KEY not in metadata:
            continue
        lines.append(
            f"{kwargs.get('name')}: opened as a label map of {metadata.get(LABELS_PRESENT_KEY)} "
            f"label(s); names: {metadata[LABEL_SOURCE_KEY]}"
        )
        warnings = [i for i in metadata.get("geometry_report", []) if i["severity"] == "warning"]
        lines += [f"  {i['code']}: {i['message']}" for i in warnings]
    return "\n".join(lines) or None


def _has_image_header(path: Path) -> bool:
    """Whether one of the first :data:`SERIES_SNIFF_FILES` files at ``path`` is an image."""
    from ..dicom.discover import candidate_files
    from ..dicom.header import read_header

    for n, file in enumerate(candidate_files(path, recursive=True)):
        if n >= SERIES_SNIFF_FILES:
            return True  # too many to look at here: the read itself will say
        if isinstance(file, Path) and isinstance(read_header(file), list):
            return True
    return False


def no_series_reason(path: str | os.PathLike[str]) -> str | None:
    """ivcviewer's one line when the folder or DICOMDIR ``path`` holds no image series.

    ``None`` when it holds one (or may: only the first files are looked at), or when ``path``
    is a volume file or a single DICOM file (its read says what is wrong). Never raises.
    """
    from ..errors import IvcviewerError

    p = Path(path)
    try:
        if not p.is_dir() and p.name.upper() != "DICOMDIR":
            return None
        if _has_image_header(p):
            return None
        from ..dicom import load_dicom

        load_dicom(p)  # raises, with the reasons the files were left out
    except IvcviewerError as err:
        return f"ivcviewer could not open {err}"
    except Exception:  # noqa: BLE001 - undecided: the reader's own read reports it
        return None
    return None


def notify_no_series(reason: str) -> list[Any]:
    """Show ``reason`` as a warning notification; napari's "nothing to add" value."""
    from napari.utils import notifications

    notifications.show_warning(reason)
    return [(None,)]

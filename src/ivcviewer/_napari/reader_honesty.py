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

#: Items of files left out that a volume's report holds at most (the rest are counted).
LEFT_OUT_LISTED = 20

#: Files left out for one reason that make one report item instead of one each.
GROUPED_FROM = 5

#: Files whose headers are read when deciding whether a folder holds an image series.
SERIES_SNIFF_FILES = 200

#: Metadata key of a Labels layer recognised as a label map: where its names come from.
LABEL_SOURCE_KEY = "label_source"

#: Metadata key of such a layer: how many label values its map holds.
LABELS_PRESENT_KEY = "labels_present"


def add_left_out_items(volume: Volume) -> None:
    """Add report items (warnings) for the files the load left out that the report does not name.

    The files are those of ``volume.metadata.extra["skipped"]`` (see
    :func:`ivcviewer.dicom.load_dicom`). Files left out for the same reason are one item when
    there are more than :data:`GROUPED_FROM` of them (the programs and documents on a patient
    CD); at most :data:`LEFT_OUT_LISTED` items, then one counting the rest.
    """
    skipped = volume.metadata.extra.get("skipped") or []
    named = " ".join(i.message for i in volume.report.items)
    groups: dict[tuple[str, str], list[str]] = {}
    for entry in skipped:
        path = str(entry.get("path", ""))
        if path and path not in named:
            key = (str(entry.get("code") or ReportCode.UNREADABLE_FILE), str(entry.get("reason")))
            groups.setdefault(key, []).append(path)
    items: list[tuple[str, str]] = []
    for (code, reason), paths in groups.items():
        if len(paths) < GROUPED_FROM:
            items += [(code, f"left out: {p} ({reason})") for p in paths]
        else:
            names = ", ".join(Path(p).name for p in paths[:3])
            items.append(
                (
                    code,
                    f"left out: {len(paths)} files ({reason}): {names} and {len(paths) - 3} more",
                )
            )
    for code, message in items[:LEFT_OUT_LISTED]:
        volume.report.add(code, Severity.WARNING, message)
    if len(items) > LEFT_OUT_LISTED:
        volume.report.add(
            ReportCode.NON_IMAGE_SKIPPED,
            Severity.WARNING,
            f"and {len(items) - LEFT_OUT_LISTED} more item(s) of files left out "
            "(ivcviewer info lists them all)",
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

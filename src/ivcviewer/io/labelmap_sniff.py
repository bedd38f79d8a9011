"""Label maps that come without a name table beside them: recognise them and find their names.

A volume file opened as a CT may in fact be a label map: TotalSegmentator's multi-label output,
a dcmqi or 3D Slicer NRRD label map. :func:`recognise_label_map` decides from the loaded
volume and the file's header, and says where the names come from, in this order:

1. the file's own header: a NIfTI label-table extension (the ``CaretExtension`` XML that
   TotalSegmentator writes into its multi-label NIfTI), or the NRRD keys ``Segment<i>_Name``,
   ``Segment<i>_LabelValue`` and ``Segment<i>_Color`` that 3D Slicer writes; else the
   ``meta.json`` that dcmqi's ``segimage2itkimage`` writes beside its label maps;
2. TotalSegmentator's ``total`` class map (version 2, shipped in ``label_tables/`` with its
   source and licence), for a map of many labels whose values all lie in that map's range and
   that carries no names: the names are then an assumption and the report says so;
3. default names (``label_<value>``).

A map is recognised without a header table when its values are whole numbers from 0 with 0
the most frequent (the background), at most :data:`MAX_LABELS` other values, in piecewise
constant regions (:func:`equal_neighbours`); or when a NIfTI header declares the intent
``label``. A CT in HU never passes (air and fat are below 0), nor does an image of stored
values (more values, and no constant regions).
"""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..limits import Limits, default_limits
from ..report import GeometryReport, ReportCode, Severity
from ..volume import Volume
from .formats import volume_format, volume_stem
from .labels import LabelEntry, LabelTable, default_color

#: Most distinct non-zero values a label map without a header table may hold.
MAX_LABELS = 255

#: Least share of equal neighbours (see :func:`equal_neighbours`) of a label map without names.
MIN_EQUAL_NEIGHBOURS = 0.7

#: Fewest labels a map without names needs before TotalSegmentator's class map is assumed.
MIN_TOTALSEG_LABELS = 5

#: The TotalSegmentator ``total`` task's class map shipped with ivcviewer (with its licence).
TOTALSEG_TABLE = Path(__file__).resolve().parent / "label_tables" / "totalsegmentator_total_v2.json"

#: The segment metadata dcmqi's ``segimage2itkimage`` writes beside the label maps it makes.
DCMQI_META = "meta.json"

#: Largest NIfTI extension (bytes) read for a label table.
MAX_EXTENSION_BYTES = 4 << 20

PathLike = str | os.PathLike[str]


@dataclass(frozen=True)
class LabelMapGuess:
    """A volume file recognised as a label map.

    Attributes
    ----------
    table
        Names and colours of its values (``None``: default names).
    source
        Where the names come from, in words (for the report and the notification).
    report
        Items to add to the label volume's report (assumed names, say).
    """

    table: LabelTable | None
    source: str
    report: GeometryReport


def header_label_table(path: PathLike, extra: dict[str, Any] | None = None) -> LabelTable | None:
    """The label table stored in a volume file's own header, or ``None``.

    Parameters
    ----------
    path
        A NIfTI file (its ``CaretExtension`` label table is read) or an NRRD file.
    extra
        Header fields kept by the NRRD reader (``Volume.metadata.extra``): the
        ``Segment<i>_*`` keys.
    """
    fmt = volume_format(path)
    if fmt == "nifti":
        return _nifti_caret_table(Path(path))
    return _segment_keys_table(extra or {})


def _nifti_caret_table(path: Path) -> LabelTable | None:
    """Names from a NIfTI ``CaretExtension`` (``<Label Key="1" Red=.. >name</Label>``)."""
    import nibabel as nib

    try:
        extensions = getattr(nib.load(str(path)).header, "extensions", [])
    except Exception:  # noqa: BLE001 - no readable header extension: no table
        return None
    for ext in extensions:
        content = ext.get_content()
        if not isinstance(content, bytes) or len(content) > MAX_EXTENSION_BYTES:
            continue
        if b"<LabelTable" not in content:
            continue
        table = _caret_xml_table(content)
        if table:
            return table
    return None


def _caret_xml_table(content: bytes) -> LabelTable | None:
    """A :class:`LabelTable` from Caret/Connectome Workbench label-table XML.

    >>> xml = b'<C><LabelTable><Label Key="5" Red="0" Green="1" Blue="1">liver</Label>'
    >>> t = _caret_xml_table(xml + b'</LabelTable></C>')
    >>> t[5].name, t[5].rgba
    ('liver', (0.0, 1.0, 1.0, 1.0))
    """
    if b"<!DOCTYPE" in content or b"<!ENTITY" in content:
        return None  # entity definitions: not a label table ivcviewer reads
    try:
        root = ElementTree.fromstring(content)
    except ElementTree.ParseError:
        return None
    entries: dict[int, LabelEntry] = {}
    for label in root.iter("Label"):
        try:
            value = int(label.get("Key", ""))
            rgba = tuple(float(label.get(c, "1")) for c in ("Red", "Green", "Blue", "Alpha"))
        except ValueError:
            continue
        name = (label.text or "").strip()
        if value <= 0 or not name or not all(0.0 <= c <= 1.0 for c in rgba):
            continue
        entries[value] = LabelEntry(name, (rgba[0], rgba[1], rgba[2], rgba[3]))
    return LabelTable(entries) if entries else None


def _segment_keys_table(extra: dict[str, Any]) -> LabelTable | None:
    """Names from NRRD keys ``Segment<i>_Name`` / ``_LabelValue`` / ``_Color`` (3D Slicer).

    >>> t = _segment_keys_table({"Segment0_Name": "liver", "Segment0_LabelValue": "1",
    ...                          "Segment0_Color": "0.5 0.25 1"})
    >>> t[1]
    LabelEntry(name='liver', rgba=(0.5, 0.25, 1.0, 1.0))
    """
    entries: dict[int, LabelEntry] = {}
    for key, name in extra.items():
        if not (key.startswith("Segment") and key.endswith("_Name")):
            continue
        index = key[len("Segment") : -len("_Name")]
        try:
            value = int(str(extra.get(f"Segment{index}_LabelValue", int(index) + 1)))
        except ValueError:
            continue
        if value <= 0 or not str(name).strip():
            continue
        rgba = default_color(value)
        try:
            rgb = [float(c) for c in str(extra.get(f"Segment{index}_Color", "")).split()]
        except ValueError:
            rgb = []
        if len(rgb) == 3 and all(0.0 <= c <= 1.0 for c in rgb):
            rgba = (rgb[0], rgb[1], rgb[2], 1.0)
        entries[value] = LabelEntry(str(name).strip(), rgba)
    return LabelTable(entries) if entries else None


def dcmqi_meta_table(path: PathLike, limits: Limits | None = None) -> LabelTable | None:
    """Names from the ``meta.json`` dcmqi's ``segimage2itkimage`` writes beside its label maps.

    Its ``segmentAttributes`` hold one list of segments per file written: the file ``<k>.nrrd``
    (``.nii.gz``, ...) takes list ``k``; a file of another name takes them all when there is
    one list. ``None`` when there is no such file or it is not dcmqi's (never raises).
    """
    p = Path(path)
    meta = p.with_name(DCMQI_META)
    lim = limits or default_limits()
    try:
        if not meta.is_file() or meta.stat().st_size > lim.max_text_bytes:
            return None
        data = json.loads(meta.read_text(encoding="utf-8", errors="replace"))
        groups = data.get("segmentAttributes") if isinstance(data, dict) else None
        if not isinstance(groups, list) or not groups:
            return None
        stem = volume_stem(p)
        if stem.isdigit() and 1 <= int(stem) <= len(groups):
            groups = [groups[int(stem) - 1]]
        elif len(groups) != 1:
            return None
        return LabelTable.from_json_data({"segmentAttributes": groups}, str(meta))
    except (OSError, ValueError, RecursionError):  # IvcviewerError is a ValueError
        return None


def label_counts(array: NDArray[Any]) -> NDArray[np.int64] | None:
    """Voxels per value of an array that may be a label map, or ``None`` when it cannot be.

    ``None`` for non-integer arrays, negative values, values above 65535, or more than
    :data:`MAX_LABELS` non-zero values. Counted slice by slice (no copy of the volume).

    >>> label_counts(np.array([[[0, 0, 0, 3]]], dtype=np.int16)).tolist()
    [3, 0, 0, 1]
    >>> label_counts(np.array([[[-1000, 40]]], dtype=np.int16)) is None
    True
    """
    a = np.asarray(array)
    if a.dtype.kind not in "iu" or a.size == 0 or a.ndim != 3:
        return None
    if int(a.min()) < 0 or int(a.max()) > 65535:
        return None
    coarse = a[::4, ::4, ::4]
    if np.count_nonzero(np.bincount(coarse.ravel().astype(np.intp))) > MAX_LABELS + 1:
        return None
    counts = np.zeros(int(a.max()) + 1, dtype=np.int64)
    for plane in a:
        c = np.bincount(plane.ravel().astype(np.intp), minlength=counts.size)
        counts += c
    if np.count_nonzero(counts[1:]) > MAX_LABELS:
        return None
    return counts


def equal_neighbours(array: NDArray[Any]) -> float:
    """Of the pairs of neighbouring voxels in a slice (along rows and columns) that touch a
    non-zero value, the share that hold the same value (up to 32 slices are looked at).

    A label map is piecewise constant (about 0.8 to 1: only region borders differ); a CT, even
    cut to 64 grey levels, is not (below 0.6).

    >>> round(equal_neighbours(np.array([[[0, 2, 2, 2, 2, 0], [0, 2, 2, 2, 2, 0]]])), 3)
    0.714
    """
    a = np.asarray(array)
    step = max(1, a.shape[0] // 32)
    equal = touching = 0
    for plane in a[::step]:
        for x, y in ((plane[..., 1:], plane[..., :-1]), (plane[1:], plane[:-1])):
            touches = (x != 0) | (y != 0)
            equal += int(np.count_nonzero((x == y) & touches))
            touching += int(np.count_nonzero(touches))
    return equal / touching if touching else 1.0


def _looks_like_labels(counts: NDArray[np.int64], intent: str, array: NDArray[Any]) -> bool:
    """A NIfTI intent ``label``; or background (0) the most frequent value beside some labels,
    in piecewise constant regions (:data:`MIN_EQUAL_NEIGHBOURS`)."""
    if intent.lower() == "label":
        return True
    if counts.size < 2 or not counts[1:].any() or int(np.argmax(counts)) != 0:
        return False
    return equal_neighbours(array) >= MIN_EQUAL_NEIGHBOURS


@lru_cache(maxsize=1)
def totalsegmentator_total_table() -> LabelTable:
    """TotalSegmentator's ``total`` task class map (version 2, 117 classes), as shipped."""
    data = json.loads(TOTALSEG_TABLE.read_text(encoding="utf-8"))
    return LabelTable.from_json_data(data["labels"], str(TOTALSEG_TABLE))


def _totalsegmentator_guess(values: list[int], name: str) -> LabelMapGuess | None:
    """The TotalSegmentator ``total`` names for a map whose many values all lie in its range."""
    table = totalsegmentator_total_table()
    if len(values) < MIN_TOTALSEG_LABELS or not set(values) <= set(table):
        return None
    report = GeometryReport()
    report.add(
        ReportCode.UNNAMED_LABELS,
        Severity.WARNING,
        f"{name} carries no label names: its {len(values)} values are named after "
        "TotalSegmentator's 'total' class map (version 2), which they fit; a map from another "
        "tool or from TotalSegmentator v1 numbers its structures differently. Fix: put a "
        f"table beside it (<stem>_labels.json) if these names are wrong.",
    )
    return LabelMapGuess(table, "TotalSegmentator 'total' class map v2 (assumed)", report)


def recognise_label_map(path: PathLike, volume: Volume) -> LabelMapGuess | None:
    """Whether the volume file ``path`` (loaded as ``volume``) is a label map, and its names.

    Parameters
    ----------
    path
        The volume file (NIfTI, NRRD, MetaImage).
    volume
        The file as loaded by :func:`ivcviewer.io.load_volume`.

    Returns
    -------
    LabelMapGuess or None
        ``None`` for a CT (or anything that is not a label map).
    """
    if volume_format(path) is None:
        return None
    counts = label_counts(volume.array)
    if counts is None:
        return None
    name = Path(path).name
    table = header_label_table(path, volume.metadata.extra)
    if table is not None:
        return LabelMapGuess(table, f"the label table in the header of {name}", GeometryReport())
    table = dcmqi_meta_table(path)
    if table is not None:
        return LabelMapGuess(table, f"dcmqi's {DCMQI_META} beside {name}", GeometryReport())
    intent = str(volume.metadata.extra.get("intent", ""))
    if not _looks_like_labels(counts, intent, volume.array):
        return None
    values = [int(v) for v in np.flatnonzero(counts) if v != 0]
    guess = _totalsegmentator_guess(values, name)
    if guess is not None:
        return guess
    return LabelMapGuess(None, "no names in the file: label_<value>", GeometryReport())

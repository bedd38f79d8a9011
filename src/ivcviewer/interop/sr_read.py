"""Read the measurement report (DICOM SR TID 1500) ivcviewer writes back into measurement rows.

:func:`read_sr` returns one :class:`SRRegionRow` per volumetric ROI measurement group: the
figures :mod:`.sr_write` records (volume, extents along the patient axes, long and short axes,
maximum 3D diameter, HU mean and SD), the reported figures beside them, and the segment the
group references. :meth:`SRRegionRow.to_entry` gives them in the form of the ``measure``
command's ``--json`` region entries (lengths in cm, volume in mL), so a report read back can be
set beside a fresh measurement. Measurements of other kinds (from other writers) are skipped.
"""

from __future__ import annotations

import os
import re
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydicom import Dataset, dcmread
from pydicom.errors import InvalidDicomError
from pydicom.multival import MultiValue

from .._text import quote
from ..errors import IvcviewerError
from ..measure import PATIENT_AXES
from .sr_write import (
    AXIS_CODES,
    AXIS_WORDS,
    EXTENT_CONCEPT,
    MEASUREMENT_CODES,
    MEASUREMENT_ORIENTATION,
    REPORTED_CONCEPT,
)

#: SR Storage SOP classes a measurement report may come in (Enhanced, Comprehensive, 3D).
SR_CLASSES = (
    "1.2.840.10008.5.1.4.1.1.88.22",
    "1.2.840.10008.5.1.4.1.1.88.33",
    "1.2.840.10008.5.1.4.1.1.88.34",
)

_TRACKING_ID = ("112039", "DCM")
_TRACKING_UID = ("112040", "DCM")
_FINDING = ("121071", "DCM")
_FINDING_SITE = ("363698007", "SCT")
_REFERENCED_SEGMENT = ("121191", "DCM")
_GROUP = ("125007", "DCM")
_DERIVATION = ("121401", "DCM")

_REPORTED = re.compile(
    r"Reported: extent along the (?P<axis>[a-z-]+) axis (?P<mm>[-+0-9.eE]+) mm "
    r"\(finding (?P<finding>\S+?)(?: of case \S+?)?; axis (?P<how>assumed|as reported)\)"
)
_AXIS_OF_WORD = {w: a for a, w in AXIS_WORDS.items()}


class SRReadError(IvcviewerError):
    """A file that is not a measurement report ivcviewer can read."""


@dataclass(frozen=True)
class SRRegionRow:
    """One measurement group of a report: a region's figures (mm, mL, HU) and its references.

    ``label`` is the referenced segment number, ``name`` the tracking identifier; ``hu_mean``
    and ``hu_std`` are None for a region measured without a CT; ``reported_mm`` holds the
    case's reported extents by axis (empty when none were recorded), ``finding_id`` and
    ``axes_assumed`` the case finding they come from.
    """

    label: int
    name: str
    tracking_uid: str
    segmentation_uid: str
    finding: str
    finding_site: str
    volume_ml: float
    extents_mm: dict[str, float]
    long_axis_mm: float
    short_axis_mm: float
    max_diameter_mm: float
    hu_mean: float | None = None
    hu_std: float | None = None
    reported_mm: dict[str, float] = field(default_factory=dict)
    finding_id: str | None = None
    axes_assumed: bool | None = None

    def to_entry(self) -> dict[str, Any]:
        """The row in the form of a ``measure --json`` region entry (cm, mL, HU)."""
        return {
            "label": self.label,
            "name": self.name,
            "extents_cm": {ax: _cm(v) for ax, v in self.extents_mm.items()},
            "max_diameter_cm": _cm(self.max_diameter_mm),
            "long_axis_cm": _cm(self.long_axis_mm),
            "short_axis_cm": _cm(self.short_axis_mm),
            "volume_ml": _num(self.volume_ml),
            "hu": None
            if self.hu_mean is None or self.hu_std is None
            else {"mean": _num(self.hu_mean), "std": _num(self.hu_std)},
            "finding": self.finding_id,
            "reported_cm": {ax: _cm(v) for ax, v in self.reported_mm.items()} or None,
        }


def _num(x: float, ndigits: int = 6) -> float:
    return float(round(float(x), ndigits)) + 0.0


def _cm(mm: float) -> float:
    return _num(mm / 10.0)


def _code(item: Dataset, keyword: str = "ConceptNameCodeSequence") -> tuple[str, str]:
    seq = getattr(item, keyword, None)
    if not seq:
        return ("", "")
    return (str(seq[0].CodeValue), str(seq[0].CodingSchemeDesignator))


def _meaning(item: Dataset) -> str:
    seq = getattr(item, "ConceptCodeSequence", None)
    return str(seq[0].CodeMeaning) if seq else ""


def _children(item: Dataset) -> Iterator[Dataset]:
    yield from getattr(item, "ContentSequence", [])


def _groups(ds: Dataset) -> Iterator[Dataset]:
    """Every measurement group container of the document, depth first."""
    for item in _children(ds):
        if item.get("ValueType") == "CONTAINER" and _code(item) == _GROUP:
            yield item
        else:
            yield from _groups(item)


def _key(c: Any) -> tuple[str, str]:
    return (str(c.value), str(c.scheme_designator))


#: (concept, derivation) -> field name, for the measurements that are not extents.
_FIELDS = {
    (_key(name), None if derivation is None else _key(derivation)): (key, _key(unit))
    for key, (name, unit, derivation, _method) in MEASUREMENT_CODES.items()
}
_AXIS_OF_CODE = {_key(c): ax for ax, c in AXIS_CODES.items()}


def _number(item: Dataset, source: str) -> float:
    mv = getattr(item, "MeasuredValueSequence", None)
    if not mv:
        raise SRReadError(f"{source}: a NUM content item has no measured value.")
    return float(mv[0].NumericValue)


def _num_field(item: Dataset, source: str) -> tuple[str, float] | None:
    """(field, value) of a NUM item this module knows, else None."""
    mods = {_code(c): _code(c, "ConceptCodeSequence") for c in _children(item)}
    name = _code(item)
    if name == _key(EXTENT_CONCEPT):
        axis = _AXIS_OF_CODE.get(mods.get(_key(MEASUREMENT_ORIENTATION), ("", "")))
        return None if axis is None else (f"extent_{axis}", _number(item, source))
    found = _FIELDS.get((name, mods.get(_DERIVATION)))
    if found is None:
        return None
    key, unit = found
    got = _code(item.MeasuredValueSequence[0], "MeasurementUnitsCodeSequence")
    if got != unit:
        raise SRReadError(
            f"{source}: measurement {key} is in unit {got[0]!r}, not {unit[0]!r} as ivcviewer "
            "writes it; this report was not written by ivcviewer."
        )
    return key, _number(item, source)


def _reported(text: str) -> tuple[str, float, str, bool] | None:
    m = _REPORTED.fullmatch(text.strip())
    if m is None or m["axis"] not in _AXIS_OF_WORD:
        return None
    return _AXIS_OF_WORD[m["axis"]], float(m["mm"]), m["finding"], m["how"] == "assumed"


def _row(group: Dataset, source: str) -> SRRegionRow | None:
    values: dict[str, float] = {}
    text: dict[tuple[str, str], str] = {}
    reported: dict[str, float] = {}
    finding_id: str | None = None
    assumed: bool | None = None
    finding = site = seg_uid = ""
    label = 0
    for item in _children(group):
        code, vt = _code(item), item.get("ValueType")
        if vt == "NUM":
            got = _num_field(item, source)
            if got is not None:
                values[got[0]] = got[1]
        elif vt in ("TEXT", "UIDREF"):
            text[code] = str(item.get("TextValue", item.get("UID", "")))
            parsed = _reported(text[code]) if code == _key(REPORTED_CONCEPT) else None
            if parsed is not None:
                reported[parsed[0]], finding_id, assumed = parsed[1], parsed[2], parsed[3]
        elif vt == "CODE" and code == _FINDING:
            finding = _meaning(item)
        elif vt == "CODE" and code == _FINDING_SITE:
            site = _meaning(item)
        elif vt == "IMAGE" and code == _REFERENCED_SEGMENT:
            ref = item.ReferencedSOPSequence[0]
            seg_uid = str(ref.ReferencedSOPInstanceUID)
            number = ref.get("ReferencedSegmentNumber", 0)
            label = int(number[0] if isinstance(number, MultiValue) else number)
    needed = ["volume_ml", "long_axis_mm", "short_axis_mm", "max_diameter_mm"]
    needed += [f"extent_{ax}" for ax in PATIENT_AXES]
    if any(k not in values for k in needed):
        return None
    return SRRegionRow(
        label=label,
        name=text.get(_TRACKING_ID, ""),
        tracking_uid=text.get(_TRACKING_UID, ""),
        segmentation_uid=seg_uid,
        finding=finding,
        finding_site=site,
        volume_ml=values["volume_ml"],
        extents_mm={ax: values[f"extent_{ax}"] for ax in PATIENT_AXES},
        long_axis_mm=values["long_axis_mm"],
        short_axis_mm=values["short_axis_mm"],
        max_diameter_mm=values["max_diameter_mm"],
        hu_mean=values.get("hu_mean"),
        hu_std=values.get("hu_std"),
        reported_mm={ax: reported[ax] for ax in PATIENT_AXES if ax in reported},
        finding_id=finding_id,
        axes_assumed=assumed,
    )


def _checked_row(group: Dataset, index: int, path: Path) -> SRRegionRow | None:
    """:func:`_row`, with a malformed content item reported as one line naming the group."""
    try:
        return _row(group, str(path))
    except (AttributeError, IndexError, KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, SRReadError):
            raise
        raise SRReadError(
            f"{path}: measurement group {index} is malformed ({type(exc).__name__}: "
            f"{quote(str(exc))}); the report cannot be read. Fix: write it again with ivcviewer."
        ) from None


def read_sr(path: str | os.PathLike[str]) -> list[SRRegionRow]:
    """The measurement rows of an ivcviewer measurement report, in document order.

    Groups that lack ivcviewer's figures (volume, the three extents, long and short axes,
    maximum diameter) are skipped.

    Raises
    ------
    SRReadError
        The file is not DICOM, not a Structured Report, or holds no measurement group
        ivcviewer can read.
    FileNotFoundError
        ``path`` does not exist.
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"{p}: no such file; give the path of a DICOM SR file.")
    try:
        ds = dcmread(p)
        ds.walk(lambda _ds, _elem: None)  # parse every element now: a cut file fails here
    except (InvalidDicomError, EOFError, OSError, ValueError, struct.error) as exc:
        raise SRReadError(
            f"{p}: not a readable DICOM file ({type(exc).__name__}: {quote(str(exc))}); give a "
            "DICOM SR file."
        ) from None
    sop_class = str(ds.get("SOPClassUID", ""))
    if sop_class not in SR_CLASSES:
        raise SRReadError(
            f"{p}: not a measurement report (SOPClassUID {sop_class or 'empty'!r}, not an "
            "Enhanced, Comprehensive or Comprehensive 3D SR); give the SR ivcviewer wrote."
        )
    rows = [r for i, g in enumerate(_groups(ds), start=1) if (r := _checked_row(g, i, p))]
    if not rows:
        raise SRReadError(
            f"{p}: the report holds no volumetric measurement group with ivcviewer's figures "
            "(volume, extents, axes, maximum diameter); give the SR ivcviewer wrote."
        )
    return rows


__all__ = ["SRReadError", "SRRegionRow", "read_sr"]

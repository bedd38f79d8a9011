"""Header values of a pydicom dataset read from the raw bytes where that is faster.

pydicom converts a value on first access, which costs more than reading the file; a scan reads
a handful of plain string, decimal and unsigned-short values from thousands of headers, so
:class:`HeaderValues` parses those from the raw little-endian bytes and leaves anything else
(big endian, already converted, unparsable) to pydicom.
"""

from __future__ import annotations

from typing import Any

from pydicom.datadict import tag_for_keyword
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset


def joined(values: tuple[str, ...]) -> str:
    r"""A multi-valued string as DICOM writes it.

    >>> print(joined(("ORIGINAL", "PRIMARY")))
    ORIGINAL\PRIMARY
    """
    return "\\".join(values)


def temporal_index(ds: Dataset) -> str:
    """TemporalPositionIndex (UL), else TemporalPositionIdentifier (IS), as text; ``""`` if none.

    Read through pydicom: both are rare, and the index is binary.
    """
    for keyword in ("TemporalPositionIndex", "TemporalPositionIdentifier"):
        values = _as_list(ds.get(keyword))
        if values:
            return str(values[0]).strip()
    return ""


class BadHeaderValue(ValueError):
    """A header element whose value is not what its keyword must hold (the message says which)."""


#: Tags of the keywords :class:`HeaderValues` reads.
_TAGS: dict[str, int] = {}


class HeaderValues:
    """Header values of a dataset, parsed from the raw little-endian bytes when possible.

    pydicom converts values on first access, which costs more than reading the file; for the
    plain string, decimal and unsigned-short values a scan needs, the raw bytes are parsed
    directly. Anything else (big endian, already converted, unparsable) goes through pydicom.
    """

    def __init__(self, ds: Dataset) -> None:
        self.ds = ds

    def _raw(self, keyword: str) -> bytes | None | bool:
        """Raw value bytes; ``False`` when absent; ``None`` when pydicom must convert it."""
        tag = _TAGS.get(keyword)
        if tag is None:
            tag = _TAGS.setdefault(keyword, int(tag_for_keyword(keyword) or 0))
        elem = self.ds.get_item(tag)
        if elem is None:
            return False
        if isinstance(elem, RawDataElement) and elem.is_little_endian:
            return elem.value if isinstance(elem.value, bytes) else None
        return None

    def text(self, keyword: str) -> str:
        """A single ASCII value (UI, CS, SH, IS as text); ``""`` when absent."""
        raw = self._raw(keyword)
        if raw is False:
            return ""
        if isinstance(raw, bytes):
            return raw.decode("latin-1").strip(" \x00")
        value = self.ds[keyword].value
        return "" if value is None else str(value)

    def texts(self, keyword: str) -> list[str]:
        """A multi-valued string (CS)."""
        raw = self._raw(keyword)
        if raw is False:
            return []
        if isinstance(raw, bytes):
            text = raw.decode("latin-1").strip(" \x00")
            return [v.strip() for v in text.split("\\")] if text else []
        return [str(v) for v in _as_list(self.ds[keyword].value)]

    def numbers(self, keyword: str) -> list[float]:
        """A DS or IS value (one or several numbers); ``[]`` when absent or empty."""
        raw = self._raw(keyword)
        if raw is False:
            return []
        if isinstance(raw, bytes):
            try:
                return [float(v) for v in raw.split(b"\\") if v.strip(b" \x00")]
            except ValueError:
                pass
        value = self.ds[keyword].value
        try:
            return [float(v) for v in _as_list(value)]
        except (TypeError, ValueError) as exc:
            text = repr(value)
            text = text if len(text) <= 60 else text[:59] + "..."
            raise BadHeaderValue(f"{keyword} {text} is not a number or list of numbers") from exc

    def number(self, keyword: str, default: float | None) -> Any:
        """The first number of a DS or IS value, or ``default``."""
        values = self.numbers(keyword)
        return values[0] if values else default

    def ushort(self, keyword: str, default: int | None = None) -> int:
        """A US value; ``default`` (or a ValueError when none) when absent."""
        raw = self._raw(keyword)
        if isinstance(raw, bytes) and len(raw) >= 2:
            return int.from_bytes(raw[:2], "little")
        if raw is None:
            return int(self.ds[keyword].value)
        if default is None:
            raise ValueError(f"{keyword} is missing")
        return default


def _as_list(value: Any) -> list[Any]:
    """A pydicom value as a list (empty for an empty value, one item for a single value)."""
    if value is None or value == "":
        return []
    if isinstance(value, (str, bytes)):
        return [value]
    try:
        return list(value)
    except TypeError:
        return [value]

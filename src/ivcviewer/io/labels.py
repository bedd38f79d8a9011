"""Label tables: the name and colour of each value of a label map.

Value ``0`` is background and is never in a table. Tables are read from

* a JSON object mapping value to name, as TotalSegmentator ships it
  (``{"1": "adrenal_gland_left", "40": "liver", ...}``);
* a JSON object mapping value to ``{"name": ..., "rgba": [r, g, b, a]}`` (floats 0..1; this is
  the sidecar :func:`ivcviewer.io.save_labels` writes) or ``{"name": ..., "color": [r, g, b]}``
  (integers 0..255);
* a dcmqi segmentation JSON (``segmentAttributes`` with ``labelID``, ``SegmentLabel`` and
  ``recommendedDisplayRGBValue``);
* an ITK-SNAP label description file: one line per label,
  ``IDX R G B A VIS MSH "LABEL"`` (R, G, B 0..255; A the opacity 0..1; VIS and MSH ignored).
"""

from __future__ import annotations

import colorsys
import json
import os
import shlex
import stat
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from .._text import quote
from ..errors import ResourceLimitError, VolumeFormatError
from ..limits import Limits, default_limits

RGBA = tuple[float, float, float, float]

_GOLDEN = 0.618033988749895


def _depth(data: Any, limit: int) -> int:
    """How deeply lists and mappings nest in ``data`` (walked without recursion), up to
    ``limit + 1``."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, level)
            if deepest > limit:
                return deepest
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, level + 1) for child in children)
    return deepest


class LabelEntry(NamedTuple):
    """Name and display colour of one label value (``rgba`` floats in 0..1)."""

    name: str
    rgba: RGBA


def default_color(value: int) -> RGBA:
    """A distinct, deterministic colour for a label value (golden-ratio hues).

    >>> default_color(1) == default_color(1), default_color(1) != default_color(2)
    (True, True)
    >>> all(0.0 <= c <= 1.0 for c in default_color(40))
    True
    """
    h = (value * _GOLDEN) % 1.0
    s = 0.55 + 0.3 * ((value * 7) % 3) / 2.0
    r, g, b = colorsys.hsv_to_rgb(h, s, 0.95)
    return (round(r, 4), round(g, 4), round(b, 4), 1.0)


def _as_value(key: object, source: str) -> int:
    if isinstance(key, bool) or not isinstance(key, (int, str)):
        raise VolumeFormatError(
            f"{source}: label key {quote(key)} is a {type(key).__name__}, not an integer. "
            'Fix: use label values such as "1" as keys.'
        )
    text = str(key).strip()
    if not text.lstrip("+-").isdigit() or len(text) > 10:
        raise VolumeFormatError(
            f"{source}: label key {quote(key)} is not an integer (at most 10 digits). "
            'Fix: use label values such as "1" as keys.'
        )
    value = int(text)
    if value < 0:
        raise VolumeFormatError(
            f"{source}: label value {value} is negative. Fix: use values >= 0 (0 is background)."
        )
    return value


def _as_rgba(values: Any, scale: float, source: str, value: int) -> RGBA:
    comps: list[float] = []
    if isinstance(values, (list, tuple)) and len(values) in (3, 4):
        try:
            comps = [float(v) / scale for v in values]
        except (TypeError, ValueError, OverflowError):
            comps = []
    if not comps:
        raise VolumeFormatError(
            f"{source}: colour of label {value} must be a list of 3 or 4 numbers, got "
            f"{quote(values)}. Fix: write it as [r, g, b] or [r, g, b, a]."
        )
    if len(comps) == 3:
        comps.append(1.0)
    if len(comps) != 4 or not all(0.0 <= c <= 1.0 for c in comps):
        rng = "0..255" if scale == 255.0 else "0..1"
        raise VolumeFormatError(
            f"{source}: colour of label {value} must be 3 or 4 numbers in {rng}, got "
            f"{quote(values)}. Fix: scale the colour to {rng}."
        )
    return (comps[0], comps[1], comps[2], comps[3])


def _check_name(name: object, source: str, value: int) -> None:
    """Refuse an empty name (or one that is not text) of label ``value``, naming ``source``."""
    if not isinstance(name, str) or not name.strip():
        raise VolumeFormatError(
            f"{source}: label {value} needs a non-empty name, got {quote(name)}. Fix: "
            "give every label a name (or leave the label out of the table)."
        )


def _checked(entries: dict[int, LabelEntry], source: str) -> dict[int, LabelEntry]:
    """``entries`` after :func:`_check_name` on each, so that a message names ``source``."""
    for value, entry in entries.items():
        _check_name(entry.name, source, value)
    return entries


@dataclass(frozen=True)
class LabelTable(Mapping[int, LabelEntry]):
    """Label value -> :class:`LabelEntry` ``(name, rgba)``.

    Examples
    --------
    >>> t = LabelTable.from_names({40: "liver", 37: "inferior_vena_cava"})
    >>> t[40].name, t.value_of("inferior_vena_cava"), list(t)
    ('liver', 37, [37, 40])
    """

    entries: Mapping[int, LabelEntry] = field(default_factory=dict)

    def __post_init__(self) -> None:
        clean: dict[int, LabelEntry] = {}
        for key in sorted(self.entries):
            value = _as_value(key, "label table")
            entry = self.entries[key]
            name, rgba = entry
            _check_name(name, "label table", value)
            if value == 0:
                continue
            clean[value] = LabelEntry(name.strip(), _as_rgba(rgba, 1.0, "label table", value))
        object.__setattr__(self, "entries", clean)

    # Mapping protocol -------------------------------------------------------------------
    def __getitem__(self, value: int) -> LabelEntry:
        return self.entries[value]

    def __iter__(self) -> Iterator[int]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    # Views ------------------------------------------------------------------------------
    @property
    def names(self) -> dict[int, str]:
        """Value -> name."""
        return {v: e.name for v, e in self.entries.items()}

    @property
    def colors(self) -> dict[int, RGBA]:
        """Value -> ``(r, g, b, a)`` in 0..1 (for example a napari Labels colormap)."""
        return {v: e.rgba for v, e in self.entries.items()}

    def value_of(self, name: str) -> int:
        """The value of the label called ``name`` (exact match, then case-insensitive).

        Raises
        ------
        KeyError
            When no label has that name; the message lists the names there are.
        """
        for v, e in self.entries.items():
            if e.name == name:
                return v
        for v, e in self.entries.items():
            if e.name.lower() == name.lower():
                return v
        known = sorted(e.name for e in self.entries.values())
        raise KeyError(f"No label named {name!r}; the table has {known}.")

    def with_defaults(self, values: Iterable[int]) -> tuple[LabelTable, list[int]]:
        """Add a default entry (``label_<v>``) for each non-zero value missing from the table.

        Returns the new table and the values that were added.
        """
        missing = sorted({int(v) for v in values} - set(self.entries) - {0})
        if not missing:
            return self, []
        entries = dict(self.entries)
        for v in missing:
            entries[v] = LabelEntry(f"label_{v}", default_color(v))
        return LabelTable(entries), missing

    # Constructors -----------------------------------------------------------------------
    @classmethod
    def from_names(cls, names: Mapping[int, str] | Mapping[str, str]) -> LabelTable:
        """A table from value -> name, with default colours."""
        entries = {}
        for key, name in names.items():
            v = _as_value(key, "label names")
            entries[v] = LabelEntry(name, default_color(v))
        return cls(_checked(entries, "label names"))

    @classmethod
    def from_json_data(cls, data: Any, source: str = "label JSON") -> LabelTable:
        """A table from parsed JSON (see the module docstring for the accepted forms)."""
        if isinstance(data, dict) and "segmentAttributes" in data:
            return cls._from_dcmqi(data, source)
        if not isinstance(data, dict):
            raise VolumeFormatError(
                f"{source}: expected a JSON object mapping label value to name, "
                f'got a {type(data).__name__}. Fix: write it as {{"1": "liver", ...}}.'
            )
        entries: dict[int, LabelEntry] = {}
        for key, item in data.items():
            v = _as_value(key, source)
            if isinstance(item, str):
                entries[v] = LabelEntry(item, default_color(v))
            elif isinstance(item, dict) and isinstance(item.get("name"), str) and item["name"]:
                if "rgba" in item:
                    rgba = _as_rgba(item["rgba"], 1.0, source, v)
                elif "color" in item:
                    rgba = _as_rgba(item["color"], 255.0, source, v)
                else:
                    rgba = default_color(v)
                entries[v] = LabelEntry(item["name"], rgba)
            else:
                raise VolumeFormatError(
                    f"{source}: label {quote(key)} must map to a name or to "
                    f'{{"name": ..., "rgba": [...]}}, got {quote(item)}. Fix: give '
                    "every label a non-empty name."
                )
        return cls(_checked(entries, source))

    @classmethod
    def _from_dcmqi(cls, data: dict[str, Any], source: str) -> LabelTable:
        entries: dict[int, LabelEntry] = {}
        groups = data.get("segmentAttributes") or []
        if not isinstance(groups, list):
            raise VolumeFormatError(
                f"{source}: segmentAttributes must be a list of segment lists, got a "
                f"{type(groups).__name__}. Fix: write it as dcmqi does ([[{{...}}, ...]])."
            )
        for group in groups:
            for seg in group if isinstance(group, list) else [group]:
                if not isinstance(seg, dict) or "labelID" not in seg:
                    raise VolumeFormatError(
                        f"{source}: every segmentAttributes item needs a labelID, got "
                        f"{quote(seg)}. Fix: give each segment its labelID."
                    )
                v = _as_value(seg["labelID"], source)
                name = seg.get("SegmentLabel") or seg.get("SegmentDescription") or f"label_{v}"
                rgb = seg.get("recommendedDisplayRGBValue")
                rgba = _as_rgba(rgb, 255.0, source, v) if rgb is not None else default_color(v)
                entries[v] = LabelEntry(str(name), rgba)
        return cls(_checked(entries, source))

    @classmethod
    def from_itksnap_text(cls, text: str, source: str = "ITK-SNAP label file") -> LabelTable:
        """A table from the text of an ITK-SNAP label description file.

        >>> t = LabelTable.from_itksnap_text('0 0 0 0 0 0 0 "Clear Label"\\n'
        ...                                  '5 255 0 0 0.5 1 1 "tumour"')
        >>> t[5]
        LabelEntry(name='tumour', rgba=(1.0, 0.0, 0.0, 0.5))
        """
        entries: dict[int, LabelEntry] = {}
        for n, raw in enumerate(text.splitlines(), start=1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            try:
                fields = shlex.split(line)
            except ValueError as exc:
                raise VolumeFormatError(
                    f"{source}, line {n}: {exc} in {quote(raw)}. Fix: close the quotes."
                ) from None
            if len(fields) != 8:
                raise VolumeFormatError(
                    f"{source}, line {n}: expected 8 fields 'IDX R G B A VIS MSH \"LABEL\"', "
                    f"got {len(fields)} in {quote(raw)}. Fix: one label per line."
                )
            v = _as_value(fields[0], f"{source}, line {n}")
            try:
                r, g, b = (float(x) / 255.0 for x in fields[1:4])
                a = float(fields[4])
            except ValueError:
                raise VolumeFormatError(
                    f"{source}, line {n}: colour fields must be numbers, got "
                    f"{quote(raw)}. Fix: write R G B as 0..255 and A as 0..1."
                ) from None
            entries[v] = LabelEntry(
                fields[7], _as_rgba((r, g, b, a), 1.0, f"{source}, line {n}", v)
            )
            _check_name(fields[7], f"{source}, line {n}", v)
        return cls(entries)

    @classmethod
    def read(cls, path: str | os.PathLike[str], limits: Limits | None = None) -> LabelTable:
        """Read a JSON table or an ITK-SNAP label description file (content decides).

        Parameters
        ----------
        path
            The table file (a regular file; never a FIFO or device).
        limits
            Its largest size (``max_text_bytes``) and deepest nesting (``max_nesting``).

        Raises
        ------
        FileNotFoundError
            When the file does not exist.
        VolumeFormatError
            When it is neither form, not a regular file, or nested too deeply.
        ResourceLimitError
            When it is larger than ``limits.max_text_bytes``.
        """
        p = Path(path)
        lim = limits or default_limits()
        st = os.stat(p)
        if not stat.S_ISREG(st.st_mode):
            raise VolumeFormatError(
                f"{p}: the label table is not a regular file (a FIFO, device or folder), so it "
                "is not read. Fix: give a JSON or ITK-SNAP label file."
            )
        if st.st_size > lim.max_text_bytes:
            raise ResourceLimitError(
                f"{p}: the label table holds {st.st_size:,} bytes, more than the limit of "
                f"{lim.max_text_bytes:,} for a text file. Fix: give the real label table (a "
                "few kilobytes)."
            )
        with open(p, "rb") as fh:
            text = fh.read(lim.max_text_bytes + 1).decode("utf-8", errors="replace")
        if text.lstrip().startswith(("{", "[")):
            try:
                data = json.loads(text)
            except json.JSONDecodeError as exc:
                raise VolumeFormatError(
                    f"{p}: the label table is invalid JSON ({exc}). Fix: correct the JSON."
                ) from None
            except RecursionError:
                data = None
            if data is None or _depth(data, lim.max_nesting) > lim.max_nesting:
                raise VolumeFormatError(
                    f"{p}: the label table nests lists and objects deeper than "
                    f"{lim.max_nesting} levels. Fix: give a flat table (value -> name)."
                )
            return cls.from_json_data(data, str(p))
        return cls.from_itksnap_text(text, str(p))

    # Writers ----------------------------------------------------------------------------
    def to_json_data(self) -> dict[str, dict[str, Any]]:
        """JSON form ``{"<value>": {"name": ..., "rgba": [r, g, b, a]}}`` (floats 0..1)."""
        return {
            str(v): {"name": e.name, "rgba": [round(c, 6) for c in e.rgba]}
            for v, e in self.entries.items()
        }

    def to_itksnap_text(self) -> str:
        """The table as an ITK-SNAP label description file (with the ``Clear Label`` line)."""
        lines = [
            "# ITK-SNAP Label Description File",
            "# IDX   -R-  -G-  -B-  -A--  VIS MSH  LABEL",
            '    0     0    0    0     0   0   0  "Clear Label"',
        ]
        for v, e in self.entries.items():
            r, g, b = (int(round(c * 255)) for c in e.rgba[:3])
            name = e.name.replace('"', "'")
            lines.append(f'{v:5d} {r:5d} {g:4d} {b:4d} {e.rgba[3]:5.3g}   1   1  "{name}"')
        return "\n".join(lines) + "\n"

"""Split the images of one SeriesInstanceUID into stacks before looking for duplicates.

One UID may hold images that are not of one kind: several orientations, matrix sizes, image
types (an original and a derived reconstruction; a magnitude image and a field map in one
enhanced file), echoes, phases or repeated acquisitions. Two images at one position are only
duplicates when they are of the same kind, so :func:`split_stacks` first separates:

1. always: orientation; matrix size and pixel spacing; ImageType (the first three values; the
   frame's FrameType for an enhanced file); EchoNumbers (an enhanced MR frame's echo time);
2. where images share positions: TemporalPositionIndex, then AcquisitionNumber, then the rest
   of ImageType, each only when it takes the shared positions apart into stacks that cover
   the same part of the body (so a step-and-shoot series with one acquisition per rotation
   stays one stack);
3. each vendor mosaic image is a stack of its own (its tiles are the slices).

What is left at one position after that is a true duplicate (reported, and kept or averaged as
the loader's mode says). Stacks are ordered by the values that set them apart, numbers as
numbers (acquisition 2 before acquisition 10).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import geometry
from .header_values import joined
from .records import ImageHeader
from .stack import SPACING_TOLERANCE_MM

#: A stack split off by positions must overlap another by more than this fraction of its extent.
MIN_OVERLAP = 0.5


@dataclass(frozen=True)
class SplitPart:
    """One reason a stack was split off: what differs (``attribute``) and this stack's value."""

    attribute: str
    value: str
    short: str
    """What the stack's description gains (``echo 2``, ``acquisition 10``)."""

    @property
    def long(self) -> str:
        """The attribute and the value, as a stack label names them."""
        return f"{self.attribute} {self.value}"


Stack = tuple[list[ImageHeader], list[SplitPart]]


def natural_key(text: str) -> tuple[Any, ...]:
    """Sort key of ``text`` that orders the numbers in it as numbers.

    >>> sorted(["10", "2", "1", "", "x11", "x9"], key=natural_key)
    ['', '1', '2', '10', 'x9', 'x11']
    """
    parts = re.split(r"(\d+(?:\.\d+)?)", text)
    return tuple((0, float(p), "") if i % 2 else (1, 0.0, p) for i, p in enumerate(parts) if p)


def _image_type_order(value: str) -> tuple[Any, ...]:
    r"""ORIGINAL before DERIVED, then PRIMARY before SECONDARY, then natural order.

    >>> sorted(["DERIVED\\PRIMARY", "ORIGINAL\\SECONDARY", "ORIGINAL\\PRIMARY"],
    ...        key=_image_type_order)
    ['ORIGINAL\\PRIMARY', 'ORIGINAL\\SECONDARY', 'DERIVED\\PRIMARY']
    """
    values = value.split("\\")
    return (
        values[0] != "ORIGINAL",
        len(values) < 2 or values[1] != "PRIMARY",
        natural_key(value),
    )


def _orientation_name(iop: tuple[float, ...]) -> str:
    """``axial``, ``coronal``, ``sagittal`` or ``oblique (...-like)`` for an orientation."""
    n = geometry.slice_normal(iop)
    axis = int(np.argmax(np.abs(n)))
    name = ("sagittal", "coronal", "axial")[axis]
    return name if abs(n[axis]) > 0.99 else f"oblique ({name}-like)"


def _same_orientation(a: tuple[float, ...], b: tuple[float, ...], tol: float = 1e-3) -> bool:
    """Two ImageOrientationPatient values agree within ``tol`` in every component."""
    return bool(np.max(np.abs(np.subtract(a, b))) <= tol)


def _by_orientation(headers: list[ImageHeader]) -> list[Stack]:
    """Clusters of one orientation, in the order they first appear."""
    clusters: list[tuple[tuple[float, ...], list[ImageHeader]]] = []
    for h in headers:
        for rep, members in clusters:
            if _same_orientation(rep, h.record.orientation):
                members.append(h)
                break
        else:
            clusters.append((h.record.orientation, [h]))
    if len(clusters) == 1:
        return [(headers, [])]
    return [
        (
            members,
            [
                SplitPart(
                    "orientation",
                    f"{_orientation_name(rep)} {list(np.round(rep, 4))}",
                    _orientation_name(rep),
                )
            ],
        )
        for rep, members in clusters
    ]


#: The value of an image that a split is keyed on.
_Key = Callable[[ImageHeader], str]
#: The sort order of the values of a split.
_Order = Callable[[str], tuple[Any, ...]]


@dataclass(frozen=True)
class _Attribute:
    """What a split is by: its name, each image's value, a stack's short name, the order."""

    name: str
    key: _Key
    short: Callable[[str], str]
    order: _Order = natural_key


def _matrix(h: ImageHeader) -> str:
    r = h.record
    return (
        f"{r.pixel_format.rows}x{r.pixel_format.columns}, pixel spacing "
        f"{round(r.pixel_spacing[0], 4)}x{round(r.pixel_spacing[1], 4)} mm"
    )


def _split_by(stack: Stack, attribute: _Attribute) -> list[Stack]:
    """Split ``stack`` by an attribute (nothing happens when all its images agree)."""
    headers, parts = stack
    groups: dict[str, list[ImageHeader]] = {}
    for h in headers:
        groups.setdefault(attribute.key(h), []).append(h)
    if len(groups) < 2:
        return [stack]
    return [
        (
            groups[v],
            [*parts, SplitPart(attribute.name, v, attribute.short(v))],
        )
        for v in sorted(groups, key=attribute.order)
    ]


def _distances(headers: list[ImageHeader]) -> np.ndarray[Any, np.dtype[np.float64]]:
    """Distance of each image along the stack's normal, mm."""
    n = geometry.slice_normal(headers[0].record.orientation)
    return np.array([np.dot(h.record.position, n) for h in headers], dtype=float)


def _n_duplicates(d: np.ndarray[Any, np.dtype[np.float64]]) -> int:
    """How many images share a position with the image before them along the normal."""
    return int(np.count_nonzero(np.diff(np.sort(d)) <= SPACING_TOLERANCE_MM))


def _n_positions(d: np.ndarray[Any, np.dtype[np.float64]]) -> int:
    return len(d) - _n_duplicates(d)


def _separates(groups: list[list[ImageHeader]], before: int) -> bool:
    """Whether splitting into ``groups`` takes shared positions apart into overlapping stacks.

    Every group must span at least two positions, the split must remove duplicates, and some
    two groups must overlap along the normal by more than :data:`MIN_OVERLAP` of the shorter
    one's extent (repeated coverage of one region, not consecutive pieces of one stack).
    """
    ds = [_distances(g) for g in groups]
    if any(_n_positions(d) < 2 for d in ds) or sum(_n_duplicates(d) for d in ds) >= before:
        return False
    spans = [(float(d.min()), float(d.max())) for d in ds]
    for i, (lo_a, hi_a) in enumerate(spans):
        for lo_b, hi_b in spans[i + 1 :]:
            overlap = min(hi_a, hi_b) - max(lo_a, lo_b)
            shorter = min(hi_a - lo_a, hi_b - lo_b)
            if overlap > MIN_OVERLAP * shorter:
                return True
    return False


#: The attributes that may take shared positions apart, in the order they are tried.
_BY_POSITION = (
    _Attribute(
        "TemporalPositionIndex",
        lambda h: h.record.temporal_index,
        lambda v: f"temporal position {v}",
    ),
    _Attribute(
        "AcquisitionNumber", lambda h: h.record.acquisition_number, lambda v: f"acquisition {v}"
    ),
    _Attribute("ImageType", lambda h: joined(h.record.image_type), str, _image_type_order),
)


def _split_shared_positions(stack: Stack, tried: int = 0) -> list[Stack]:
    """Split a stack whose images share positions by the first attribute that separates them."""
    headers, _ = stack
    if len(headers) < 2:
        return [stack]
    before = _n_duplicates(_distances(headers))
    if not before:
        return [stack]
    for i in range(tried, len(_BY_POSITION)):
        pieces = _split_by(stack, _BY_POSITION[i])
        if len(pieces) > 1 and _separates([p[0] for p in pieces], before):
            return [s for piece in pieces for s in _split_shared_positions(piece, i + 1)]
    return [stack]


def _split_mosaics(stack: Stack) -> list[Stack]:
    """One stack per mosaic image (each is a volume of its own); other stacks unchanged."""
    headers, parts = stack
    if len(headers) < 2 or all(h.record.mosaic is None for h in headers):
        return [stack]
    by_acq = len({h.record.acquisition_number for h in headers}) == len(headers)
    out: list[Stack] = []
    for h in sorted(
        headers,
        key=lambda h: (natural_key(h.record.acquisition_number), h.record.instance_number),
    ):
        value = h.record.acquisition_number if by_acq else str(h.record.instance_number)
        attribute = "AcquisitionNumber" if by_acq else "InstanceNumber"
        what = "acquisition" if by_acq else "image"
        out.append(([h], [*parts, SplitPart(attribute, value, f"{what} {value}")]))
    return out


def split_stacks(headers: list[ImageHeader]) -> list[Stack]:
    """Split one UID's images into stacks of one kind; each comes with what sets it apart.

    Returns
    -------
    list of (headers, parts)
        In order (orientation as first seen, then the values that set the stacks apart);
        ``parts`` is empty when the UID makes one stack.
    """
    stacks = _by_orientation(headers)
    for attribute in _ALWAYS:
        stacks = [s for stack in stacks for s in _split_by(stack, attribute)]
    stacks = [s for stack in stacks for s in _split_shared_positions(stack)]
    return [s for stack in stacks for s in _split_mosaics(stack)]


def _echo_name(value: str) -> str:
    """``echo 2`` for EchoNumbers 2; ``TE 12 ms`` for an enhanced frame's echo time as is.

    >>> _echo_name("2"), _echo_name("TE 12 ms"), _echo_name("")
    ('echo 2', 'TE 12 ms', 'no echo number')
    """
    if not value:
        return "no echo number"
    return value if value.startswith("TE ") else f"echo {value}"


#: The attributes every stack is split by, in order.
_ALWAYS = (
    _Attribute("matrix", _matrix, lambda v: f"matrix {v}"),
    _Attribute("ImageType", lambda h: joined(h.record.image_type[:3]), str, _image_type_order),
    _Attribute("echo", lambda h: h.record.echo, _echo_name),
)


def split_summary(all_parts: list[list[SplitPart]]) -> str:
    r"""What the stacks of one UID differ in: ``echo 1 vs echo 2``, per attribute.

    >>> a = [SplitPart("echo", "1", "echo 1")]
    >>> b = [SplitPart("echo", "2", "echo 2")]
    >>> split_summary([a, b])
    'echo: echo 1 vs echo 2'
    """
    by_attribute: dict[str, list[str]] = {}
    for parts in all_parts:
        for p in parts:
            seen = by_attribute.setdefault(p.attribute, [])
            if p.short not in seen:
                seen.append(p.short)
    texts = []
    for attribute, values in by_attribute.items():
        shown = values if len(values) <= 4 else [*values[:2], "...", values[-1]]
        texts.append(f"{attribute}: {' vs '.join(shown)}")
    return "; ".join(texts)

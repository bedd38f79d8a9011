"""What the measurement tools compute, without napari: rulers, bidirectionals, the HU probe.

The napari tools (:mod:`ivcviewer._napari.measure_tools`) read a tool layer's lines as LPS
points, with the ``id`` and ``source`` of each line, and show what this module computes from
them: the length written on each ruler, which line of a bidirectional pair is the long axis and
what its text says, the :class:`ManualMeasurement` records of the measurement table, the lines
that span slices as seen on one slice, and the HU probe's status-bar text. Nothing here needs a
viewer, so all of it is tested without one.

Units: lengths in mm, positions in LPS mm.

Examples
--------
>>> segs = polyline_segments([[0, 0, 0], [3, 4, 0], [3, 4, 12]])
>>> ruler_label(segs)
'17.0 mm'
>>> long_axis = polyline_segments([[0, 0, 0], [40, 0, 0]])
>>> short_axis = polyline_segments([[20, -10, 0], [20, 10, 0]])
>>> bidirectional_features([-1, -1], [long_axis, short_axis], ["", ""])["label"].tolist()
['long 40.0 mm', 'short 20.0 mm']
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..errors import MeasurementError
from .lengths import PATIENT_AXES, Segment, float_list, line_length_mm
from .recist import RecistAxes

#: Kinds of manual measurement.
RULER = "ruler"
BIDIRECTIONAL = "bidirectional"

#: A short axis more than this many degrees away from perpendicular gets its angle shown.
PERPENDICULAR_TOLERANCE_DEG = 3.0

#: Shape types measured as lines (their vertices joined in order).
LINE_SHAPES: tuple[str, ...] = ("line", "path", "polyline")

#: Per-line values each tool keeps (the columns of a tool layer's features) and their defaults.
FEATURE_DEFAULTS: dict[str, dict[str, Any]] = {
    RULER: {"id": -1, "length_mm": math.nan, "label": ""},
    BIDIRECTIONAL: {"id": -1, "length_mm": math.nan, "label": "", "axis": "", "source": ""},
}

#: Separates napari's own status text from the HU probe's reading.
PROBE_SEPARATOR = "    \N{BLACK DIAMOND} "

#: The segments of one line (one for a straight line, more for a path), or None for a shape
#: that is not a line.
LineSegments: TypeAlias = tuple[Segment, ...] | None


# ---------------------------------------------------------------------------------------------
# Lengths and their texts
# ---------------------------------------------------------------------------------------------


def format_mm(v: float) -> str:
    """A length as shown on the tools, to 0.1 mm.

    >>> format_mm(52.04)
    '52.0 mm'
    """
    return f"{v:.1f} mm"


def polyline_segments(points_lps: ArrayLike) -> tuple[Segment, ...]:
    """The segments joining consecutive LPS points (rows), each with its length in mm.

    >>> [s.length_mm for s in polyline_segments([[0, 0, 0], [3, 4, 0], [3, 4, 12]])]
    [5.0, 12.0]
    """
    lps = np.asarray(points_lps, dtype=float).reshape(-1, 3)
    return tuple(
        Segment(line_length_mm(p, q), p, q) for p, q in zip(lps[:-1], lps[1:], strict=True)
    )


def ruler_label(segments: Sequence[Segment]) -> str:
    """The text shown on a ruler: its length, the sum of its segments.

    >>> ruler_label(polyline_segments([[0, 0, 0], [0, 0, 52]]))
    '52.0 mm'
    """
    return format_mm(sum(s.length_mm for s in segments))


def axes_angle_deg(a: Segment, b: Segment) -> float:
    """Angle between two segments' directions, in ``[0, 90]`` degrees.

    >>> o = np.zeros(3)
    >>> round(axes_angle_deg(Segment(1.0, o, np.array([1.0, 0, 0])),
    ...                      Segment(1.0, o, np.array([0, 2.0, 0]))), 6)
    90.0
    """
    u = np.asarray(a.end_lps - a.start_lps, dtype=float)
    v = np.asarray(b.end_lps - b.start_lps, dtype=float)
    nu, nv = float(np.linalg.norm(u)), float(np.linalg.norm(v))
    if nu == 0.0 or nv == 0.0:
        return float("nan")
    c = abs(float(u @ v)) / (nu * nv)
    return float(math.degrees(math.acos(min(1.0, c))))


def mark_start_message(point_lps: ArrayLike, key: str) -> str:
    """What the ruler says when its first end point is marked with ``key``.

    >>> mark_start_message([1, 2.25, -3], "m")  # doctest: +NORMALIZE_WHITESPACE
    'Ruler start at LPS 1.0, 2.2, -3.0 mm: move to the end point (any slice or view) and
    press M again.'
    """
    p = np.asarray(point_lps, dtype=float)
    return (
        "Ruler start at LPS " + ", ".join(f"{v:.1f}" for v in p) + " mm: move to the end "
        f"point (any slice or view) and press {key.upper()} again."
    )


def mark_end_message(start_lps: ArrayLike, end_lps: ArrayLike) -> str:
    """What the ruler says when its second end point is marked: the 3D length.

    >>> mark_end_message([0, 0, 0], [30, 0, 40])
    'Ruler: 50.0 mm (3D, LPS)'
    """
    return f"Ruler: {format_mm(line_length_mm(start_lps, end_lps))} (3D, LPS)"


# ---------------------------------------------------------------------------------------------
# Lines of a tool layer: ids, pairs, texts
# ---------------------------------------------------------------------------------------------


def assign_ids(ids: ArrayLike, pair_size: int) -> NDArray[np.int64]:
    """Give every line without an id (``-1``) one; groups hold at most ``pair_size`` lines.

    A new line joins the newest group while it is incomplete, else starts a new group; lines
    beyond ``pair_size`` in a group (pasted copies) start new groups. Lines keep their order,
    so older lines keep their ids. Returns a new array.

    >>> assign_ids([1, 1, 2, -1, -1, -1], 2).tolist()
    [1, 1, 2, 2, 3, 3]
    >>> assign_ids([-1, -1, 3, 3], 1).tolist()
    [4, 5, 3, 6]
    """
    out = np.array(ids, dtype=np.int64)
    seen: Counter[int] = Counter()
    for k, v in enumerate(out):
        if v >= 0:
            seen[int(v)] += 1
            if seen[int(v)] > pair_size:
                out[k] = -1
    counts = Counter(int(v) for v in out if v >= 0)
    for i in np.flatnonzero(out < 0):
        newest = max(counts) if counts else 0
        if counts and counts[newest] < pair_size:
            out[i] = newest
        else:
            out[i] = newest + 1
        counts[int(out[i])] += 1
    return out


def ruler_features(ids: ArrayLike, segments: Sequence[LineSegments]) -> dict[str, NDArray[Any]]:
    """Per-line values of a ruler layer: ``id`` (one per line), ``length_mm`` and ``label``.

    ``ids`` are the lines' current ids (``-1`` for new lines); shapes that are not lines
    (``None``) get a NaN length and no text.

    >>> f = ruler_features([-1, -1], [polyline_segments([[0, 0, 0], [0, 3, 4]]), None])
    >>> f["id"].tolist(), f["label"].tolist()
    ([1, 2], ['5.0 mm', ''])
    """
    ids_out = assign_ids(ids, 1)
    lengths = np.array(
        [math.nan if s is None else sum(x.length_mm for x in s) for s in segments], dtype=float
    )
    labels = np.array(
        ["" if s is None else format_mm(v) for s, v in zip(segments, lengths, strict=True)],
        dtype=object,
    )
    return {"id": ids_out, "length_mm": lengths, "label": labels}


def _first(segs: LineSegments) -> Segment:
    if not segs:
        raise MeasurementError("A bidirectional axis needs a line with two points.")
    return segs[0]


def bidirectional_features(
    ids: ArrayLike, segments: Sequence[LineSegments], sources: Sequence[str] | NDArray[Any]
) -> dict[str, NDArray[Any]]:
    """Per-line values of a bidirectional layer, whose lines go in pairs of equal ``id``.

    Returns ``id``, ``length_mm``, ``axis`` (the longer line of a pair is ``long``, the other
    ``short``), ``label`` (the text on the line: a lone line asks for its short axis; a short
    axis more than
    :data:`PERPENDICULAR_TOLERANCE_DEG` from perpendicular shows its angle) and ``source``.

    >>> a = polyline_segments([[0, 0, 0], [40, 0, 0]])
    >>> b = polyline_segments([[20, -10, 0], [30, 10, 0]])
    >>> f = bidirectional_features([-1, -1, -1], [a, b, a], ["", "", ""])
    >>> f["id"].tolist(), f["axis"].tolist()
    ([1, 1, 2], ['long', 'short', 'long'])
    >>> f["label"].tolist()
    ['long 40.0 mm', 'short 22.4 mm (63° to long)', '40.0 mm: now draw the short axis']
    """
    n = len(segments)
    ids_out = assign_ids(ids, 2)
    lengths = np.array([math.nan if s is None else s[0].length_mm for s in segments], dtype=float)
    axes = np.full(n, "", dtype=object)
    labels = np.full(n, "", dtype=object)
    for pair in np.unique(ids_out):
        members = [int(i) for i in np.flatnonzero(ids_out == pair) if segments[int(i)] is not None]
        if len(members) == 1:
            i = members[0]
            axes[i] = "long"
            labels[i] = f"{format_mm(lengths[i])}: now draw the short axis"
        elif len(members) == 2:
            long_i, short_i = sorted(members, key=lambda k: -lengths[k])
            axes[long_i], axes[short_i] = "long", "short"
            labels[long_i] = f"long {format_mm(lengths[long_i])}"
            angle = axes_angle_deg(_first(segments[long_i]), _first(segments[short_i]))
            text = f"short {format_mm(lengths[short_i])}"
            if math.isfinite(angle) and abs(90.0 - angle) > PERPENDICULAR_TOLERANCE_DEG:
                text += f" ({angle:.0f}\N{DEGREE SIGN} to long)"
            labels[short_i] = text
    return {
        "id": ids_out,
        "length_mm": lengths,
        "label": labels,
        "axis": axes,
        "source": np.array(list(sources), dtype=object),
    }


def cross_slice_lines(
    vertices: Sequence[ArrayLike],
    shape_types: Sequence[str],
    lengths_mm: ArrayLike,
    axis: int,
    here: float,
) -> tuple[list[NDArray[np.float64]], list[str]]:
    """The lines that span slices and cross slice ``here``, flattened onto it, with their texts.

    A line whose vertices lie on one slice (within half a slice) is left out: it is shown
    where it is drawn. ``vertices`` are in data coordinates; ``axis`` is the data axis across
    the slices shown.

    >>> lines, texts = cross_slice_lines([[[0, 1, 1], [4, 5, 1]], [[2, 0, 0], [2, 3, 3]]],
    ...                                  ["line", "line"], [52.0, 4.2], 0, 2.0)
    >>> lines[0].tolist(), texts
    ([[2.0, 1.0, 1.0], [2.0, 5.0, 1.0]], ['52.0 mm (3D)'])
    """
    lengths = np.asarray(lengths_mm, dtype=float)
    out: list[NDArray[np.float64]] = []
    texts: list[str] = []
    for i, (verts, kind) in enumerate(zip(vertices, shape_types, strict=True)):
        v = np.asarray(verts, dtype=float)
        if kind not in LINE_SHAPES or i >= len(lengths):
            continue
        lo, hi = float(v[:, axis].min()), float(v[:, axis].max())
        if hi - lo < 0.5 or not (lo - 0.5 < here < hi + 0.5):
            continue  # on one slice (shown where it is drawn), or not crossing this one
        proj = v.copy()
        proj[:, axis] = here
        out.append(proj)
        texts.append(f"{format_mm(float(lengths[i]))} (3D)")
    return out, texts


# ---------------------------------------------------------------------------------------------
# Records of the measurement table
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ManualMeasurement:
    """A measurement drawn (or computed) on a ruler or bidirectional layer.

    Attributes
    ----------
    kind
        :data:`RULER` or :data:`BIDIRECTIONAL`.
    name
        ``Ruler 1``, ``Bidirectional 2``, ... (numbered per layer in drawing order).
    layer
        Name of the napari layer it was read from.
    segments
        For a ruler, its segments (one for a line, more for a path): ``(start_lps, end_lps,
        length_mm)``; for a bidirectional, the long axis then the short axis.
    source
        Where a computed bidirectional came from (``label 1 (mass), section 12``), else empty.
    """

    kind: str
    name: str
    layer: str
    segments: tuple[Segment, ...]
    source: str = ""

    @property
    def length_mm(self) -> float:
        """A ruler's length (sum of its segments); a bidirectional's long axis."""
        if self.kind == BIDIRECTIONAL:
            return self.segments[0].length_mm
        return float(sum(s.length_mm for s in self.segments))

    @property
    def short_mm(self) -> float | None:
        """A bidirectional's short axis, mm (None for a ruler)."""
        return self.segments[1].length_mm if self.kind == BIDIRECTIONAL else None

    @property
    def angle_deg(self) -> float | None:
        """Angle between a bidirectional's two axes, degrees (90 when perpendicular)."""
        if self.kind != BIDIRECTIONAL:
            return None
        return axes_angle_deg(self.segments[0], self.segments[1])

    @property
    def start_lps(self) -> NDArray[np.float64]:
        """First point, LPS mm."""
        return self.segments[0].start_lps

    @property
    def end_lps(self) -> NDArray[np.float64]:
        """Last point of a ruler (end of the long axis for a bidirectional), LPS mm."""
        seg = self.segments[0] if self.kind == BIDIRECTIONAL else self.segments[-1]
        return seg.end_lps

    def delta_mm(self) -> dict[str, float]:
        """Absolute span of a ruler (or of a long axis) along ``lr``, ``ap``, ``cc``, mm."""
        d = np.abs(self.end_lps - self.start_lps)
        return {ax: float(v) for ax, v in zip(PATIENT_AXES, d, strict=True)}

    def to_dict(self) -> dict[str, Any]:
        """JSON form (mm, LPS mm)."""
        out: dict[str, Any] = {"kind": self.kind, "name": self.name, "layer": self.layer}
        if self.kind == BIDIRECTIONAL:
            out.update(
                long_axis=self.segments[0].to_dict(),
                short_axis=self.segments[1].to_dict(),
                angle_deg=self.angle_deg,
                source=self.source,
            )
        else:
            out.update(
                length_mm=self.length_mm,
                start_lps=float_list(self.start_lps),
                end_lps=float_list(self.end_lps),
                delta_mm=self.delta_mm(),
                segments=[s.to_dict() for s in self.segments],
            )
        return out


def tool_measurements(
    kind: str,
    layer: str,
    ids: ArrayLike,
    segments: Sequence[LineSegments],
    sources: Sequence[str] | NDArray[Any] = (),
) -> list[ManualMeasurement]:
    """The rulers or bidirectionals of one tool layer's lines (incomplete pairs left out).

    Parameters
    ----------
    kind
        The layer's tool, :data:`RULER` or :data:`BIDIRECTIONAL` (anything else: no records).
    layer
        The layer's name.
    ids
        Each line's ``id`` (``-1``: none yet).
    segments
        Each line's segments, None for shapes that are not lines.
    sources
        Each line's ``source`` (bidirectionals).

    Examples
    --------
    >>> a = polyline_segments([[0, 0, 0], [40, 0, 0]])
    >>> b = polyline_segments([[20, -10, 0], [20, 10, 0]])
    >>> [(m.name, m.length_mm, m.short_mm)
    ...  for m in tool_measurements(BIDIRECTIONAL, "bidi", [1, 1, 2], [b, a, a], ["", "", ""])]
    [('Bidirectional 1', 40.0, 20.0)]
    >>> [m.name for m in tool_measurements(RULER, "ruler", [-1, 7], [a, b])]
    ['Ruler 1', 'Ruler 7']
    """
    ids_a = np.asarray(ids, dtype=np.int64)
    if kind == RULER:
        return [
            ManualMeasurement(RULER, f"Ruler {int(ids_a[i]) if ids_a[i] >= 0 else i + 1}", layer, s)
            for i, s in enumerate(segments)
            if s is not None
        ]
    if kind != BIDIRECTIONAL:
        return []
    out = []
    for pair in sorted({int(v) for v in ids_a if v >= 0}):
        members = [int(i) for i in np.flatnonzero(ids_a == pair) if segments[int(i)] is not None]
        if len(members) != 2:
            continue
        a, b = (_first(segments[i]) for i in members)
        long_seg, short_seg = (a, b) if a.length_mm >= b.length_mm else (b, a)
        out.append(
            ManualMeasurement(
                BIDIRECTIONAL,
                f"Bidirectional {pair}",
                layer,
                (long_seg, short_seg),
                source=next((sources[i] for i in members if sources[i]), ""),
            )
        )
    return out


def region_axes_source(label: int, name: str, axes: RecistAxes) -> str:
    """The ``source`` of a bidirectional pair computed from a label region.

    >>> from ivcviewer.measure import recist_axes
    >>> m = np.zeros((6, 6, 5), bool); m[1:5, 2:4, 3] = True  # 4 x 2 voxels on section 3
    >>> axes = recist_axes(m, np.diag([1.0, 1.0, 2.5, 1.0]))
    >>> region_axes_source(1, "mass", axes)
    'label 1 (mass), section 3'
    >>> region_axes_text("mass", axes)
    'mass: long 4.5 mm x short 2.2 mm (section 3)'
    """
    return f"label {label} ({name}), section {axes.section_index}"


def region_axes_text(name: str, axes: RecistAxes) -> str:
    """One line on a region's RECIST axes: both lengths and the section they lie on."""
    return (
        f"{name}: long {axes.long_mm:.1f} mm x short {axes.short_mm:.1f} mm "
        f"(section {axes.section_index})"
    )


# ---------------------------------------------------------------------------------------------
# HU probe
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProbeReading:
    """What the HU probe reads at one position.

    Attributes
    ----------
    layer
        Name of the CT layer read.
    value
        The voxel's value (HU for CT).
    point_lps
        The cursor position, LPS mm.
    ijk
        The voxel's ``(slice, row, col)`` index in the volume as loaded (before the display
        reorientation), or in the layer when the layer has no ivcviewer metadata.
    integral
        The CT holds whole numbers: the value is shown without decimals.

    Examples
    --------
    >>> ProbeReading("CT", 700.0, (-12.34, 45.6, 78.9), (3, 40, 7)).text()
    'HU 700 | LPS -12.3, 45.6, 78.9 mm | ijk 3, 40, 7'
    """

    layer: str
    value: float
    point_lps: tuple[float, float, float]
    ijk: tuple[int, int, int]
    integral: bool = True

    def text(self) -> str:
        """Status-bar text, e.g. ``HU 700 | LPS -12.3, 45.6, 78.9 mm | ijk 3, 40, 7``."""
        hu = f"{self.value:.0f}" if self.integral else f"{self.value:.1f}"
        lps = ", ".join(f"{v:.1f}" for v in self.point_lps)
        ijk = ", ".join(str(v) for v in self.ijk)
        return f"HU {hu} | LPS {lps} mm | ijk {ijk}"


def status_with_reading(status: str, reading: ProbeReading) -> str:
    """napari's status text with the probe's reading after :data:`PROBE_SEPARATOR`.

    >>> r = ProbeReading("CT", -3.5, (0.0, 0.0, 0.0), (0, 0, 0), integral=False)
    >>> status_with_reading("[1 2 3]", r).split(PROBE_SEPARATOR)
    ['[1 2 3]', 'HU -3.5 | LPS 0.0, 0.0, 0.0 mm | ijk 0, 0, 0']
    """
    return f"{status}{PROBE_SEPARATOR}{reading.text()}"


__all__ = [
    "BIDIRECTIONAL",
    "FEATURE_DEFAULTS",
    "LINE_SHAPES",
    "PERPENDICULAR_TOLERANCE_DEG",
    "PROBE_SEPARATOR",
    "RULER",
    "LineSegments",
    "ManualMeasurement",
    "ProbeReading",
    "assign_ids",
    "axes_angle_deg",
    "bidirectional_features",
    "cross_slice_lines",
    "format_mm",
    "mark_end_message",
    "mark_start_message",
    "polyline_segments",
    "region_axes_source",
    "region_axes_text",
    "ruler_features",
    "ruler_label",
    "status_with_reading",
    "tool_measurements",
]

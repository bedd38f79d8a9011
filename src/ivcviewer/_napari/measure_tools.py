"""napari side of the measurement tools: ruler and bidirectional layers, HU probe, volumes.

Everything measured here goes through :mod:`ivcviewer.measure` in LPS millimetres: a layer's
data coordinates are taken to napari world coordinates by the layer's own transform
(:func:`data_to_world_affine`), world ``(z, y, x)`` is LPS reversed
(:func:`ivcviewer.geometry.napari_to_lps`), so lengths are exact on anisotropic and oblique
grids and for lines whose ends lie on different slices.

* **Ruler** (:func:`ensure_tool_layer` with :data:`RULER`): a Shapes layer of lines (or paths)
  whose text shows each length in mm, updated while a line is drawn (the layer's ``set_data``
  event fires on every drag step) and after every edit. Press ``M`` over the image to mark a
  point, move to another slice (or view), press ``M`` again: the line joins the two points in 3D.
* **Bidirectional** (:data:`BIDIRECTIONAL`): lines taken in pairs, the longer is the long axis;
  or both computed from a label region by :func:`ivcviewer.measure.recist_axes`
  (:func:`add_recist_lines`).
* **HU probe** (:class:`HUProbe`): HU of the CT voxel under the cursor, the cursor's LPS mm and
  the voxel's ``(slice, row, col)`` index as loaded, added to napari's status bar.
* :func:`volume_from_layer` rebuilds a core :class:`~ivcviewer.volume.Volume` from an Image or
  Labels layer so that the core measures exact millimetres.

Tool layers take the transform (scale, translate, rotation, affine) of the CT layer they are
drawn on, so that the viewer's slice step stays the CT's and drawn vertices sit on its slices.
"""

from __future__ import annotations

import math
import weakref
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .. import geometry, measure
from ..errors import MeasurementError
from ..volume import Volume, VolumeMetadata
from .layers import UNITS_MM, LayerDataTuple
from .measure_report import BIDIRECTIONAL, RULER, ManualMeasurement, axes_angle_deg

if TYPE_CHECKING:
    import napari
    from napari.layers import Image, Labels, Layer, Shapes

#: ``layer.metadata`` key marking a measurement tool layer; its value is the tool kind.
TOOL_KEY = "ivcviewer_tool"

#: Default layer names of the tools.
LAYER_NAMES: dict[str, str] = {RULER: "Ruler (mm)", BIDIRECTIONAL: "Bidirectional (mm)"}

#: Line colours of the tools.
COLORS: dict[str, str] = {RULER: "#ffd400", BIDIRECTIONAL: "#00e5ff"}

#: Line width of the tools in the layer's data units: one voxel of the CT they are drawn on.
EDGE_WIDTH_VOXELS = 1.0

#: Text size of the lengths, points.
TEXT_SIZE = 11

#: A short axis more than this many degrees away from perpendicular gets its angle shown.
PERPENDICULAR_TOLERANCE_DEG = 3.0

#: ``layer.metadata`` key of the display-only layers that show lines spanning slices.
OVERLAY_KEY = "ivcviewer_tool_overlay"

#: Key that marks a ruler end point under the cursor (any slice, any view).
MARK_KEY = "m"

_FEATURE_DEFAULTS: dict[str, dict[str, Any]] = {
    RULER: {"id": -1, "length_mm": math.nan, "label": ""},
    BIDIRECTIONAL: {"id": -1, "length_mm": math.nan, "label": "", "axis": "", "source": ""},
}


# ---------------------------------------------------------------------------------------------
# Layer geometry
# ---------------------------------------------------------------------------------------------


def data_to_world_affine(layer: Layer) -> NDArray[np.float64]:
    """The layer's data -> napari world map as a 4x4 matrix (3D layers).

    Built from the layer's own ``data_to_world`` at the origin and the three unit steps, so it
    holds whatever scale, translate, rotate, shear and affine the layer has.

    Raises
    ------
    MeasurementError
        When the layer is not 3D.
    """
    if layer.ndim != 3:
        raise MeasurementError(
            f"Layer {layer.name!r} has {layer.ndim} dimensions; measurements need a 3D layer "
            "(slice, row, col) placed in mm."
        )
    origin = np.asarray(layer.data_to_world(np.zeros(3)), dtype=float)
    out = np.eye(4)
    for j in range(3):
        step = np.zeros(3)
        step[j] = 1.0
        out[:3, j] = np.asarray(layer.data_to_world(step), dtype=float) - origin
    out[:3, 3] = origin
    return out


def layer_affine_lps(layer: Layer) -> NDArray[np.float64]:
    """4x4 affine mapping the layer's data index ``(slice, row, col, 1)`` to LPS mm.

    The layer's transform is the truth (it is what is displayed); when the layer carries
    ivcviewer's ``metadata["affine_lps"]`` and it agrees (1e-6 mm), that exact matrix is used.
    """
    aff = geometry.NAPARI_FROM_LPS.T @ data_to_world_affine(layer)
    stored = layer.metadata.get("affine_lps")
    if stored is not None:
        stored_a = np.asarray(stored, dtype=float)
        if stored_a.shape == (4, 4) and np.allclose(stored_a, aff, atol=1e-6, rtol=0.0):
            return stored_a.copy()
    return np.asarray(aff, dtype=float)


def volume_from_layer(layer: Image | Labels) -> Volume:
    """The core Volume of a 3D Image or Labels layer: its data on its LPS grid.

    Raises
    ------
    MeasurementError
        For layers that are not 3D single-channel arrays.
    """
    if getattr(layer, "multiscale", False):
        raise MeasurementError(
            f"Layer {layer.name!r} is multiscale; measure a single-resolution layer."
        )
    if getattr(layer, "rgb", False):
        raise MeasurementError(f"Layer {layer.name!r} is RGB; measurements need CT or labels.")
    arr = np.asarray(layer.data)
    if arr.ndim != 3:
        raise MeasurementError(
            f"Layer {layer.name!r} has data of shape {arr.shape}; measurements need a 3D "
            "(slice, row, col) array."
        )
    md = layer.metadata
    return Volume(
        arr,
        layer_affine_lps(layer),
        VolumeMetadata(
            modality=str(md.get("modality") or "CT"),
            description=str(layer.name),
            series_uid=str(md.get("series_uid") or ""),
        ),
    )


def label_names(layer: Labels) -> dict[int, str]:
    """Region names of a Labels layer: ``metadata["label_names"]``, else features ``name``."""
    names = layer.metadata.get("label_names")
    if isinstance(names, dict) and names:
        return {int(k): str(v) for k, v in names.items()}
    feats = getattr(layer, "features", None)
    if feats is not None and "name" in feats and "index" in feats:
        return {int(i): str(n) for i, n in zip(feats["index"], feats["name"], strict=True)}
    return {}


def world_to_lps(layer: Layer, points_data: ArrayLike) -> NDArray[np.float64]:
    """LPS mm of points given in a layer's data coordinates (rows)."""
    pts = np.asarray(points_data, dtype=float).reshape(-1, 3)
    world = geometry.apply_affine(data_to_world_affine(layer), pts)
    return geometry.napari_to_lps(world)


def lps_to_data(layer: Layer, points_lps: ArrayLike) -> NDArray[np.float64]:
    """A layer's data coordinates of LPS points (rows)."""
    pts = geometry.lps_to_napari(np.asarray(points_lps, dtype=float).reshape(-1, 3))
    inv = np.linalg.inv(data_to_world_affine(layer))
    return geometry.apply_affine(inv, pts)


# ---------------------------------------------------------------------------------------------
# Tool layers
# ---------------------------------------------------------------------------------------------


def reference_image(viewer: napari.Viewer) -> Image | None:
    """The CT layer tools and the probe use: the top visible 3D Image, CT first."""
    from napari.layers import Image

    images = [
        lay
        for lay in reversed(viewer.layers)
        if isinstance(lay, Image) and lay.ndim == 3 and not lay.rgb
    ]
    visible = [lay for lay in images if lay.visible] or images
    for lay in visible:
        if str(lay.metadata.get("modality", "")).upper() == "CT":
            return lay
    return visible[0] if visible else None


def _transform_kwargs(reference: Layer | None) -> dict[str, Any]:
    if reference is None or reference.ndim != 3:
        return {"scale": (1.0, 1.0, 1.0)}
    return {
        "scale": tuple(float(v) for v in reference.scale),
        "translate": tuple(float(v) for v in reference.translate),
        "rotate": np.asarray(reference.rotate, dtype=float),
        "shear": np.asarray(reference.shear, dtype=float),
        "affine": np.asarray(reference.affine.affine_matrix, dtype=float),
    }


def tool_layer_data(
    kind: str, reference: Layer | None = None, name: str | None = None
) -> LayerDataTuple:
    """An empty Shapes layer tuple for a measurement tool.

    Parameters
    ----------
    kind
        :data:`RULER` or :data:`BIDIRECTIONAL`.
    reference
        The CT layer the tool is drawn on: the tool takes its transform, so that drawn
        vertices sit on the CT's slices and the slider keeps the CT's step. None: 1 mm units.
    name
        Layer name (default :data:`LAYER_NAMES`).
    """
    if kind not in LAYER_NAMES:
        raise ValueError(f"Argument 'kind' must be one of {list(LAYER_NAMES)}, got {kind!r}.")
    defaults = _FEATURE_DEFAULTS[kind]
    features = {
        k: np.zeros(0, dtype=object if isinstance(v, str) else type(v)) for k, v in defaults.items()
    }
    color = COLORS[kind]
    kwargs: dict[str, Any] = {
        "name": name or LAYER_NAMES[kind],
        "ndim": 3,
        "shape_type": "line",
        "edge_color": color,
        "face_color": "transparent",
        "edge_width": EDGE_WIDTH_VOXELS,
        "features": features,
        "feature_defaults": defaults,
        "text": {
            "string": "{label}",
            "color": color,
            "size": TEXT_SIZE,
            "anchor": "upper_left",
        },
        "units": UNITS_MM,
        "metadata": {TOOL_KEY: kind},
    }
    kwargs.update(_transform_kwargs(reference))
    return ([], kwargs, "shapes")


def tool_layers(viewer: napari.Viewer, kind: str | None = None) -> list[Shapes]:
    """The viewer's measurement tool layers (of one kind, or all), bottom to top."""
    from napari.layers import Shapes

    return [
        lay
        for lay in viewer.layers
        if isinstance(lay, Shapes)
        and lay.metadata.get(TOOL_KEY) in LAYER_NAMES
        and (kind is None or lay.metadata.get(TOOL_KEY) == kind)
    ]


def ensure_tool_layer(viewer: napari.Viewer, kind: str, *, select: bool = True) -> Shapes:
    """The tool layer of ``kind`` (the active one, the top one, or a new one), ready to draw.

    A new layer takes the transform of :func:`reference_image`. The layer's lengths are kept
    up to date (:func:`attach`), the ``M`` key marks cross-slice ruler points, and with
    ``select`` the layer becomes active in line-drawing mode.
    """
    from napari.layers import Layer

    active = viewer.layers.selection.active
    layers = tool_layers(viewer, kind)
    if active is not None and active in layers:
        layer = active
    elif layers:
        layer = layers[-1]
    else:
        layer = viewer.add_layer(Layer.create(*tool_layer_data(kind, reference_image(viewer))))
    attach(layer, viewer)
    if select:
        viewer.layers.selection.active = layer
        layer.mode = "add_line"
    return layer


# ---------------------------------------------------------------------------------------------
# Lengths shown on the lines
# ---------------------------------------------------------------------------------------------


def shape_segments(layer: Shapes) -> list[tuple[measure.Segment, ...] | None]:
    """Segments (LPS mm) of every shape: lines and paths, None for other shape types."""
    if layer.nshapes == 0:
        return []
    to_world = data_to_world_affine(layer)
    out: list[tuple[measure.Segment, ...] | None] = []
    for verts, kind in zip(layer.data, layer.shape_type, strict=True):
        if kind not in ("line", "path", "polyline") or len(verts) < 2:
            out.append(None)
            continue
        lps = geometry.napari_to_lps(geometry.apply_affine(to_world, np.asarray(verts, float)))
        out.append(
            tuple(
                measure.Segment(measure.line_length_mm(p, q), p, q)
                for p, q in zip(lps[:-1], lps[1:], strict=True)
            )
        )
    return out


def _fmt_mm(v: float) -> str:
    return f"{v:.1f} mm"


def _assign_ids(ids: NDArray[np.int64], pair_size: int) -> NDArray[np.int64]:
    """Give every shape without an id (``-1``) one; groups hold at most ``pair_size`` shapes.

    A new shape joins the newest group while it is incomplete, else starts a new group;
    shapes beyond ``pair_size`` in a group (pasted copies) start new groups. Shapes keep
    their order, so older shapes keep their ids.
    """
    out = ids.copy()
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


def _ruler_features(
    layer: Shapes, segs: list[tuple[measure.Segment, ...] | None]
) -> dict[str, Any]:
    n = layer.nshapes
    ids = _assign_ids(_int_column(layer, "id", n), 1)
    lengths = np.array([math.nan if s is None else sum(x.length_mm for x in s) for s in segs])
    labels = np.array(
        ["" if s is None else _fmt_mm(v) for s, v in zip(segs, lengths, strict=True)], dtype=object
    )
    return {"id": ids, "length_mm": lengths, "label": labels}


def _int_column(layer: Shapes, name: str, n: int) -> NDArray[np.int64]:
    feats = layer.features
    if name not in feats or len(feats) != n:
        return np.full(n, -1, dtype=np.int64)
    col = np.asarray(feats[name], dtype=float)
    return np.where(np.isfinite(col), col, -1).astype(np.int64)


def _str_column(layer: Shapes, name: str, n: int) -> NDArray[Any]:
    feats = layer.features
    if name not in feats or len(feats) != n:
        return np.full(n, "", dtype=object)
    return np.array(["" if v is None or v != v else str(v) for v in feats[name]], dtype=object)


def _first(segs: tuple[measure.Segment, ...] | None) -> measure.Segment:
    if not segs:
        raise MeasurementError("A bidirectional axis needs a line with two points.")
    return segs[0]


def _bidirectional_features(
    layer: Shapes, segs: list[tuple[measure.Segment, ...] | None]
) -> dict[str, Any]:
    n = layer.nshapes
    ids = _assign_ids(_int_column(layer, "id", n), 2)
    lengths = np.array([math.nan if s is None else s[0].length_mm for s in segs])
    axes = np.full(n, "", dtype=object)
    labels = np.full(n, "", dtype=object)
    sources = _str_column(layer, "source", n)
    for pair in np.unique(ids):
        members = [int(i) for i in np.flatnonzero(ids == pair) if segs[i] is not None]
        if len(members) == 1:
            i = members[0]
            axes[i] = "long"
            labels[i] = f"{_fmt_mm(lengths[i])}: now draw the short axis"
        elif len(members) == 2:
            long_i, short_i = sorted(members, key=lambda k: -lengths[k])
            axes[long_i], axes[short_i] = "long", "short"
            labels[long_i] = f"long {_fmt_mm(lengths[long_i])}"
            angle = axes_angle_deg(_first(segs[long_i]), _first(segs[short_i]))
            text = f"short {_fmt_mm(lengths[short_i])}"
            if math.isfinite(angle) and abs(90.0 - angle) > PERPENDICULAR_TOLERANCE_DEG:
                text += f" ({angle:.0f}\N{DEGREE SIGN} to long)"
            labels[short_i] = text
    return {
        "id": ids,
        "length_mm": lengths,
        "label": labels,
        "axis": axes,
        "source": sources,
    }


class _LengthUpdater:
    """Keeps a tool layer's ``id``, ``length_mm`` and ``label`` features (and text) current."""

    def __init__(self, layer: Shapes) -> None:
        self._layer_ref = weakref.ref(layer)
        self._busy = False
        self.pending_lps: NDArray[np.float64] | None = None
        self.overlay: _CrossSliceOverlay | None = None
        layer.events.set_data.connect(self.update)
        layer.events.data.connect(self._on_data)
        self.update()

    def _on_data(self, event: Any = None) -> None:
        action = str(getattr(event, "action", "")).split(".")[-1].lower()
        if action.endswith("ing"):
            return  # adding / removing / changing: emitted before the change
        self.update()

    def update(self, event: Any = None) -> None:
        layer = self._layer_ref()
        if layer is None or self._busy:
            return
        self._busy = True
        try:
            kind = layer.metadata.get(TOOL_KEY)
            segs = shape_segments(layer)
            if kind == BIDIRECTIONAL:
                feats = _bidirectional_features(layer, segs)
            else:
                feats = _ruler_features(layer, segs)
            layer.features = feats
            layer.feature_defaults = _FEATURE_DEFAULTS.get(kind, _FEATURE_DEFAULTS[RULER])
        finally:
            self._busy = False
        if self.overlay is not None:
            self.overlay.update()


class _CrossSliceOverlay:
    """Shows a tool layer's lines that span several slices on every 2D slice they cross.

    napari draws a shape in 2D only on the slice that holds all its vertices, so a ruler between
    two slices would be invisible. This keeps a second, display-only Shapes layer
    (``"<tool layer>: across slices"``) holding, for the slice shown, each such line projected
    onto it, with its 3D length as text (``52.0 mm (3D)``). It follows slice, view and data
    changes; the measurement itself stays on the tool layer.
    """

    def __init__(self, layer: Shapes, viewer: napari.Viewer) -> None:
        self._layer_ref = weakref.ref(layer)
        self._viewer_ref = weakref.ref(viewer)
        self.layer: Shapes | None = None
        dims = viewer.dims.events
        for ev in (dims.point, dims.order, dims.ndisplay):
            ev.connect(self.update)
        viewer.layers.events.removed.connect(self._on_removed)
        layer.events.visible.connect(self._on_visible)

    def _lines(self) -> tuple[list[NDArray[np.float64]], list[str]]:
        """Projected vertices (overlay data coordinates) and texts of the lines to show."""
        layer, viewer = self._layer_ref(), self._viewer_ref()
        if layer is None or viewer is None or viewer.dims.ndisplay != 2 or layer.nshapes == 0:
            return [], []
        hidden = [a for a in range(3) if a not in viewer.dims.displayed[-2:]]
        if viewer.dims.ndim != 3 or len(hidden) != 1:
            return [], []
        axis = hidden[0]
        here = float(np.asarray(layer.world_to_data(viewer.dims.point), dtype=float)[axis])
        lengths = np.asarray(layer.features.get("length_mm", []), dtype=float)
        out: list[NDArray[np.float64]] = []
        texts: list[str] = []
        for i, (verts, kind) in enumerate(zip(layer.data, layer.shape_type, strict=True)):
            v = np.asarray(verts, dtype=float)
            if kind not in ("line", "path", "polyline") or i >= len(lengths):
                continue
            lo, hi = float(v[:, axis].min()), float(v[:, axis].max())
            if hi - lo < 0.5 or not (lo - 0.5 < here < hi + 0.5):
                continue  # on one slice (napari shows it), or not crossing this one
            proj = v.copy()
            proj[:, axis] = here
            out.append(proj)
            texts.append(f"{_fmt_mm(float(lengths[i]))} (3D)")
        return out, texts

    def update(self, event: Any = None) -> None:
        layer, viewer = self._layer_ref(), self._viewer_ref()
        if layer is None or viewer is None or layer not in viewer.layers:
            return
        lines, texts = self._lines()
        if not lines and self.layer is None:
            return
        overlay = self._ensure_layer(layer, viewer)
        with overlay.events.data.blocker():
            overlay.data = []
            if lines:
                overlay.add_lines(lines)
            overlay.features = {"label": np.array(texts, dtype=object)}

    def _ensure_layer(self, layer: Shapes, viewer: napari.Viewer) -> Shapes:
        if self.layer is not None and self.layer in viewer.layers:
            return self.layer
        from napari.layers import Layer

        kind = str(layer.metadata.get(TOOL_KEY))
        data, kwargs, layer_type = tool_layer_data(kind, layer, name=f"{layer.name}: across slices")
        kwargs.update(
            features={"label": np.zeros(0, dtype=object)},
            feature_defaults={"label": ""},
            opacity=0.6,
            metadata={OVERLAY_KEY: kind},
            visible=layer.visible,
        )
        overlay = Layer.create(data, kwargs, layer_type)
        active = viewer.layers.selection.active
        viewer.layers.insert(viewer.layers.index(layer) + 1, overlay)
        if active is not None:
            viewer.layers.selection.active = active
        self.layer = overlay
        return overlay

    def _on_visible(self, event: Any = None) -> None:
        layer = self._layer_ref()
        if self.layer is not None and layer is not None:
            self.layer.visible = layer.visible

    def _on_removed(self, event: Any = None) -> None:
        layer, viewer = self._layer_ref(), self._viewer_ref()
        if viewer is None or self.layer is None:
            return
        if (layer is None or layer not in viewer.layers) and self.layer in viewer.layers:
            viewer.layers.remove(self.layer)


_UPDATERS: weakref.WeakKeyDictionary[Any, _LengthUpdater] = weakref.WeakKeyDictionary()


def attach(layer: Shapes, viewer: napari.Viewer | None = None) -> None:
    """Keep ``layer``'s lengths shown and current.

    With a viewer, also show lines that span slices on every slice they cross
    (:class:`_CrossSliceOverlay`) and bind :data:`MARK_KEY` on the layer. Safe to call again.
    """
    updater = _UPDATERS.get(layer)
    if updater is None:
        updater = _UPDATERS[layer] = _LengthUpdater(layer)
    if viewer is None or updater.overlay is not None:
        return
    updater.overlay = _CrossSliceOverlay(layer, viewer)
    updater.overlay.update()
    viewer_ref = weakref.ref(viewer)

    def _mark(lay: Shapes) -> None:
        v = viewer_ref()
        if v is not None:
            mark_point(lay, v)

    layer.bind_key(MARK_KEY, _mark, overwrite=True)


def cross_slice_layer(layer: Shapes) -> Shapes | None:
    """The display-only layer showing ``layer``'s cross-slice lines, once there is one."""
    updater = _UPDATERS.get(layer)
    if updater is None or updater.overlay is None:
        return None
    return updater.overlay.layer


def refresh_lengths(layer: Shapes) -> None:
    """Recompute a tool layer's lengths now (they also follow every edit by themselves)."""
    updater = _UPDATERS.get(layer)
    if updater is None:
        attach(layer)
    else:
        updater.update()


def add_line_lps(layer: Shapes, start_lps: ArrayLike, end_lps: ArrayLike, **features: Any) -> int:
    """Add a line between two LPS points to a tool layer; returns its shape index.

    ``features`` (for example ``id`` or ``source``) are set on the new line.
    """
    data = lps_to_data(layer, np.stack([np.asarray(start_lps, float), np.asarray(end_lps, float)]))
    if features:
        defaults = dict(_FEATURE_DEFAULTS.get(layer.metadata.get(TOOL_KEY), {}))
        defaults.update(features)
        layer.feature_defaults = defaults
    layer.add_lines([data])
    refresh_lengths(layer)
    return int(layer.nshapes - 1)


def mark_point(layer: Shapes, viewer: napari.Viewer) -> int | None:
    """Mark a ruler end point at the cursor; the second mark adds the line (any two slices).

    Returns the index of the line added by the second mark, else None.
    """
    from napari.utils.notifications import show_info

    if viewer.dims.ndisplay != 2:
        show_info("Ruler points are marked in 2D views (switch off 3D, then press M).")
        return None
    point_lps = geometry.napari_to_lps(np.asarray(viewer.cursor.position, dtype=float)[-3:])
    return mark_point_lps(layer, point_lps)


def mark_point_lps(layer: Shapes, point_lps: ArrayLike) -> int | None:
    """:func:`mark_point` at a given LPS point (mm)."""
    from napari.utils.notifications import show_info

    attach(layer)
    updater = _UPDATERS[layer]
    p = np.asarray(point_lps, dtype=float)
    if updater.pending_lps is None:
        updater.pending_lps = p
        show_info(
            "Ruler start at LPS " + ", ".join(f"{v:.1f}" for v in p) + " mm: move to the end "
            f"point (any slice or view) and press {MARK_KEY.upper()} again."
        )
        return None
    start, updater.pending_lps = updater.pending_lps, None
    index = add_line_lps(layer, start, p)
    show_info(f"Ruler: {_fmt_mm(measure.line_length_mm(start, p))} (3D, LPS)")
    return index


# ---------------------------------------------------------------------------------------------
# Bidirectional from a region
# ---------------------------------------------------------------------------------------------


def add_recist_lines(
    viewer: napari.Viewer,
    axes: measure.RecistAxes,
    source: str = "",
    *,
    jump: bool = True,
) -> Shapes:
    """Draw a region's RECIST long and short axes as one bidirectional pair.

    Parameters
    ----------
    viewer
        The viewer; the bidirectional layer is found or created (:func:`ensure_tool_layer`).
    axes
        From :func:`ivcviewer.measure.recist_axes` or ``RegionMeasurements.recist``.
    source
        What the pair was computed from (shown in the table and export).
    jump
        Move the viewer to the section of the axes.
    """
    layer = ensure_tool_layer(viewer, BIDIRECTIONAL, select=False)
    ids = _int_column(layer, "id", layer.nshapes)
    new_id = int(ids.max()) + 1 if ids.size else 1
    for seg in (axes.long_axis, axes.short_axis):
        add_line_lps(layer, seg.start_lps, seg.end_lps, id=new_id, source=source)
    if jump:
        mid = (axes.long_axis.start_lps + axes.long_axis.end_lps) / 2.0
        jump_to_lps(viewer, mid)
    return layer


def region_recist(labels_layer: Labels, label: int) -> measure.RecistAxes:
    """RECIST axes of one label value of a Labels layer, in LPS mm."""
    vol = volume_from_layer(labels_layer)
    mask = np.asarray(vol.array) == int(label)
    if not mask.any():
        raise MeasurementError(
            f"Label {label} is not present in layer {labels_layer.name!r}; choose a label value "
            "that is painted."
        )
    return measure.recist_axes(mask, vol.affine)


def jump_to_lps(viewer: napari.Viewer, point_lps: ArrayLike) -> None:
    """Move the viewer's slices to the ones through an LPS point."""
    world = geometry.lps_to_napari(np.asarray(point_lps, dtype=float))
    point = list(viewer.dims.point)
    point[-3:] = [float(v) for v in world]
    viewer.dims.point = tuple(point)


# ---------------------------------------------------------------------------------------------
# Manual measurements for the table
# ---------------------------------------------------------------------------------------------


def layer_measurements(layer: Shapes) -> list[ManualMeasurement]:
    """The rulers or bidirectionals of one tool layer (incomplete pairs left out)."""
    kind = layer.metadata.get(TOOL_KEY)
    segs = shape_segments(layer)
    n = layer.nshapes
    ids = _int_column(layer, "id", n)
    if kind == RULER:
        return [
            ManualMeasurement(
                RULER, f"Ruler {int(ids[i]) if ids[i] >= 0 else i + 1}", layer.name, s
            )
            for i, s in enumerate(segs)
            if s is not None
        ]
    if kind != BIDIRECTIONAL:
        return []
    sources = _str_column(layer, "source", n)
    out = []
    for pair in sorted({int(v) for v in ids if v >= 0}):
        members = [int(i) for i in np.flatnonzero(ids == pair) if segs[i] is not None]
        if len(members) != 2:
            continue
        a, b = (_first(segs[i]) for i in members)
        long_seg, short_seg = (a, b) if a.length_mm >= b.length_mm else (b, a)
        out.append(
            ManualMeasurement(
                BIDIRECTIONAL,
                f"Bidirectional {pair}",
                layer.name,
                (long_seg, short_seg),
                source=next((sources[i] for i in members if sources[i]), ""),
            )
        )
    return out


def manual_measurements(layers: Iterable[Layer]) -> list[ManualMeasurement]:
    """Every ruler and bidirectional of the tool layers among ``layers``."""
    out: list[ManualMeasurement] = []
    for layer in layers:
        if layer.metadata.get(TOOL_KEY) in LAYER_NAMES:
            out.extend(layer_measurements(layer))
    return out


# ---------------------------------------------------------------------------------------------
# HU probe
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProbeReading:
    """What the HU probe reads at one world position.

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


#: Separates napari's own status text from the probe's.
PROBE_SEPARATOR = "    \N{BLACK DIAMOND} "


class HUProbe:
    """HU, LPS mm and voxel index under the cursor, appended to napari's status bar.

    napari computes the status (in a worker thread when a window is shown) and sets
    ``viewer.status``; the probe listens to that event (after napari's own status bar has
    drawn it) and sets the status again with its reading appended, so the two never race.

    Parameters
    ----------
    viewer
        The viewer.
    layer
        The CT layer to read; None follows :func:`reference_image` (the top visible CT).
    """

    def __init__(self, viewer: napari.Viewer, layer: Image | None = None) -> None:
        self._viewer_ref = weakref.ref(viewer)
        self.layer = layer
        self.enabled = False
        self.last_reading: ProbeReading | None = None

    @property
    def viewer(self) -> napari.Viewer | None:
        return self._viewer_ref()

    def enable(self) -> None:
        """Start appending readings to the status bar."""
        viewer = self.viewer
        if self.enabled or viewer is None:
            return
        viewer.events.status.connect(self._on_status, position="last")
        self.enabled = True

    def disable(self) -> None:
        """Stop; napari's own status text is left as it is."""
        viewer = self.viewer
        if not self.enabled or viewer is None:
            return
        viewer.events.status.disconnect(self._on_status)
        self.enabled = False

    def image_layer(self) -> Image | None:
        """The layer read: the chosen one while it is in the viewer, else the reference CT."""
        viewer = self.viewer
        if viewer is None:
            return None
        if self.layer is not None and self.layer in viewer.layers:
            return self.layer
        return reference_image(viewer)

    def read(self, world_position: Sequence[float]) -> ProbeReading | None:
        """The reading at a napari world position, or None outside the CT."""
        layer = self.image_layer()
        if layer is None:
            return None
        pos = np.asarray(world_position, dtype=float)[-3:]
        idx = np.round(np.asarray(layer.world_to_data(pos), dtype=float)).astype(int)
        data = layer.data[0] if getattr(layer, "multiscale", False) else layer.data
        shape = np.asarray(data.shape[-3:])
        if np.any(idx < 0) or np.any(idx >= shape):
            return None
        value = np.asarray(data[tuple(int(i) for i in idx)])
        point_lps = geometry.napari_to_lps(pos)
        source = layer.metadata.get("source_affine_lps")
        if source is not None:
            ijk = np.round(geometry.lps_to_voxel(source, point_lps)).astype(int)
        else:
            ijk = idx
        return ProbeReading(
            layer=str(layer.name),
            value=float(value),
            point_lps=(float(point_lps[0]), float(point_lps[1]), float(point_lps[2])),
            ijk=(int(ijk[0]), int(ijk[1]), int(ijk[2])),
            integral=bool(np.issubdtype(value.dtype, np.integer)),
        )

    def _on_status(self, event: Any = None) -> None:
        viewer = self.viewer
        if viewer is None or viewer.dims.ndisplay != 2:
            return
        status = viewer.status
        text = status.get("coordinates", "") if isinstance(status, dict) else str(status)
        if PROBE_SEPARATOR in text:
            return  # already ours
        reading = self.read(viewer.cursor.position)
        self.last_reading = reading
        if reading is None:
            return
        new_text = f"{text}{PROBE_SEPARATOR}{reading.text()}"
        if isinstance(status, dict):
            new = dict(status)
            new["coordinates"] = new_text
            viewer.status = new
        else:
            viewer.status = new_text


_PROBES: weakref.WeakKeyDictionary[Any, HUProbe] = weakref.WeakKeyDictionary()


def hu_probe(viewer: napari.Viewer) -> HUProbe:
    """The viewer's HU probe (one per viewer), enabled."""
    probe = _PROBES.get(viewer)
    if probe is None:
        probe = HUProbe(viewer)
        _PROBES[viewer] = probe
    probe.enable()
    return probe


def status_text(viewer: napari.Viewer) -> str:
    """The status-bar text now shown (napari's coordinates plus the probe's reading)."""
    status = viewer.status
    return str(status.get("coordinates", "")) if isinstance(status, dict) else str(status)


__all__ = [
    "COLORS",
    "LAYER_NAMES",
    "MARK_KEY",
    "TOOL_KEY",
    "HUProbe",
    "ProbeReading",
    "add_line_lps",
    "add_recist_lines",
    "attach",
    "cross_slice_layer",
    "data_to_world_affine",
    "ensure_tool_layer",
    "hu_probe",
    "jump_to_lps",
    "label_names",
    "layer_affine_lps",
    "layer_measurements",
    "lps_to_data",
    "manual_measurements",
    "mark_point",
    "mark_point_lps",
    "reference_image",
    "refresh_lengths",
    "region_recist",
    "shape_segments",
    "status_text",
    "tool_layer_data",
    "volume_from_layer",
    "world_to_lps",
]

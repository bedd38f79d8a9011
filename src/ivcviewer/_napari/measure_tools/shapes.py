"""The measurement tool layers: Shapes layers of rulers or bidirectionals, made, found and read.

A tool layer is marked by ``metadata[TOOL_KEY]`` (its tool kind), takes the transform of the CT
layer it is drawn on, and keeps per-line ``features`` (``id``, ``length_mm``, ``label``, ...)
whose values :mod:`ivcviewer.measure.tools` computes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from ... import geometry
from ...measure.tools import (
    BIDIRECTIONAL,
    FEATURE_DEFAULTS,
    LINE_SHAPES,
    RULER,
    LineSegments,
    ManualMeasurement,
    polyline_segments,
    tool_measurements,
)
from ..layers import UNITS_MM, LayerDataTuple
from .convert import data_to_world_affine

if TYPE_CHECKING:
    import napari
    from napari.layers import Image, Layer, Shapes

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

#: ``layer.metadata`` key of the display-only layers that show lines spanning slices.
OVERLAY_KEY = "ivcviewer_tool_overlay"

#: Key that marks a ruler end point under the cursor (any slice, any view).
MARK_KEY = "m"


# ---------------------------------------------------------------------------------------------
# Making and finding tool layers
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
    defaults = FEATURE_DEFAULTS[kind]
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


# ---------------------------------------------------------------------------------------------
# Reading tool layers
# ---------------------------------------------------------------------------------------------


def shape_segments(layer: Shapes) -> list[LineSegments]:
    """Segments (LPS mm) of every shape: lines and paths, None for other shape types."""
    if layer.nshapes == 0:
        return []
    to_world = data_to_world_affine(layer)
    out: list[LineSegments] = []
    for verts, kind in zip(layer.data, layer.shape_type, strict=True):
        if kind not in LINE_SHAPES or len(verts) < 2:
            out.append(None)
            continue
        lps = geometry.napari_to_lps(geometry.apply_affine(to_world, np.asarray(verts, float)))
        out.append(polyline_segments(lps))
    return out


def int_column(layer: Shapes, name: str, n: int) -> NDArray[np.int64]:
    """A whole-number feature of the layer's ``n`` shapes; ``-1`` where missing or NaN."""
    feats = layer.features
    if name not in feats or len(feats) != n:
        return np.full(n, -1, dtype=np.int64)
    col = np.asarray(feats[name], dtype=float)
    return np.where(np.isfinite(col), col, -1).astype(np.int64)


def str_column(layer: Shapes, name: str, n: int) -> NDArray[Any]:
    """A text feature of the layer's ``n`` shapes; empty where missing."""
    feats = layer.features
    if name not in feats or len(feats) != n:
        return np.full(n, "", dtype=object)
    return np.array(["" if v is None or v != v else str(v) for v in feats[name]], dtype=object)


def layer_measurements(layer: Shapes) -> list[ManualMeasurement]:
    """The rulers or bidirectionals of one tool layer (incomplete pairs left out)."""
    n = layer.nshapes
    return tool_measurements(
        str(layer.metadata.get(TOOL_KEY)),
        layer.name,
        int_column(layer, "id", n),
        shape_segments(layer),
        str_column(layer, "source", n),
    )


def manual_measurements(layers: Iterable[Layer]) -> list[ManualMeasurement]:
    """Every ruler and bidirectional of the tool layers among ``layers``."""
    out: list[ManualMeasurement] = []
    for layer in layers:
        if layer.metadata.get(TOOL_KEY) in LAYER_NAMES:
            out.extend(layer_measurements(layer))
    return out


__all__ = [
    "COLORS",
    "EDGE_WIDTH_VOXELS",
    "LAYER_NAMES",
    "MARK_KEY",
    "OVERLAY_KEY",
    "TEXT_SIZE",
    "TOOL_KEY",
    "int_column",
    "layer_measurements",
    "manual_measurements",
    "reference_image",
    "shape_segments",
    "str_column",
    "tool_layer_data",
    "tool_layers",
]

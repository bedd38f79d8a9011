"""napari side of the measurement tools: ruler and bidirectional layers, HU probe, volumes.

Everything measured here goes through :mod:`ivcviewer.measure` in LPS millimetres: a layer's
data coordinates are taken to napari world coordinates by the layer's own transform
(:func:`data_to_world_affine`), world ``(z, y, x)`` is LPS reversed
(:func:`ivcviewer.geometry.napari_to_lps`), so lengths are exact on anisotropic and oblique
grids and for lines whose ends lie on different slices. What the tools compute from the lines
(lengths, texts, pairs, the probe's text) is in :mod:`ivcviewer.measure.tools`, without napari.

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

Modules: :mod:`.convert` (layer coordinates <-> LPS, layer -> Volume, label names),
:mod:`.shapes` (making, finding and reading tool layers), :mod:`.drawing` (lengths kept
current, the ``M`` key, lines added in LPS), :mod:`.cross_slice` (lines across slices shown on
each slice), :mod:`.region_axes` (a region's RECIST axes drawn), :mod:`.probe`.
"""

from __future__ import annotations

from ...measure.tools import (
    BIDIRECTIONAL,
    PERPENDICULAR_TOLERANCE_DEG,
    RULER,
    ManualMeasurement,
)
from ...measure.tools import assign_ids as _assign_ids
from .convert import (
    data_to_world_affine,
    label_names,
    layer_affine_lps,
    lps_to_data,
    volume_from_layer,
    world_to_lps,
)
from .drawing import (
    add_line_lps,
    attach,
    cross_slice_layer,
    ensure_tool_layer,
    mark_point,
    mark_point_lps,
    refresh_lengths,
)
from .probe import PROBE_SEPARATOR, HUProbe, ProbeReading, hu_probe, status_text
from .region_axes import add_recist_lines, jump_to_lps, region_recist
from .shapes import (
    COLORS,
    EDGE_WIDTH_VOXELS,
    LAYER_NAMES,
    MARK_KEY,
    OVERLAY_KEY,
    TEXT_SIZE,
    TOOL_KEY,
    layer_measurements,
    manual_measurements,
    reference_image,
    shape_segments,
    tool_layer_data,
    tool_layers,
)

__all__ = [
    "BIDIRECTIONAL",
    "COLORS",
    "EDGE_WIDTH_VOXELS",
    "LAYER_NAMES",
    "MARK_KEY",
    "OVERLAY_KEY",
    "PERPENDICULAR_TOLERANCE_DEG",
    "PROBE_SEPARATOR",
    "RULER",
    "TEXT_SIZE",
    "TOOL_KEY",
    "HUProbe",
    "ManualMeasurement",
    "ProbeReading",
    "_assign_ids",
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
    "tool_layers",
    "volume_from_layer",
    "world_to_lps",
]

"""The long and short axes of a label region, drawn as a bidirectional pair on their section.

The axes are computed by :func:`ivcviewer.measure.recist_axes` on the Labels layer's own grid
(:func:`~.convert.volume_from_layer`), in LPS mm.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

from ... import geometry, measure
from ...errors import MeasurementError
from ...measure.tools import BIDIRECTIONAL
from .convert import volume_from_layer
from .drawing import add_line_lps, ensure_tool_layer
from .shapes import int_column

if TYPE_CHECKING:
    import napari
    from napari.layers import Labels, Shapes


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
    ids = int_column(layer, "id", layer.nshapes)
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


__all__ = ["add_recist_lines", "jump_to_lps", "region_recist"]

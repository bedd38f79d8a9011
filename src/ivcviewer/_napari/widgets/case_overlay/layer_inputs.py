"""napari layers read into the plain data the Case overlay model takes.

A CT Image layer gives its :class:`~ivcviewer.volume.Volume`; a Labels layer its Volume and
structure names (:class:`~ivcviewer.widget_models.LabelmapInput`); a Points layer the landmark
name, LPS position and radius of each point (:class:`~ivcviewer.widget_models.PointsInput`).
Nothing here decides anything about the anatomy: the model and the workflows do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from .... import geometry
from ....errors import AnatomyError
from ....volume import Volume
from ....widget_models import LabelmapInput, PointsInput, layer_volume, points_input
from ... import measure_tools as mt
from ...seg_layers import anatomy_names

if TYPE_CHECKING:
    from napari.layers import Image, Labels, Layer, Points


def is_3d(layer: Any) -> bool:
    """A 3D single-channel layer (a CT or a label map the widget can use)."""
    return int(getattr(layer, "ndim", 0)) == 3 and not getattr(layer, "rgb", False)


def layer_volume_of(layer: Image | Labels) -> Volume:
    """The Volume of an Image or Labels layer (ivcviewer's own, else rebuilt from the layer)."""
    vol = layer_volume(layer.metadata)
    return vol if vol is not None else mt.volume_from_layer(layer)


def ct_volume_of(layer: Image) -> Volume:
    """The Volume of a CT Image layer (ivcviewer's own, else rebuilt from the layer)."""
    return layer_volume_of(layer)


def labelmap_input(layer: Labels) -> LabelmapInput:
    """A Labels layer's label map and structure names (names may be empty; a layer read from a
    DICOM SEG names its structures by the segments' codes, :func:`anatomy_names`)."""
    return LabelmapInput(layer_volume_of(layer), anatomy_names(layer), f"layer {layer.name!r}")


def _layer_lps(layer: Layer) -> NDArray[np.float64]:
    """LPS mm of a 3D Points layer's points (through the layer's own transform)."""
    if layer.ndim != 3:
        raise AnatomyError(
            f"Points layer {layer.name!r} has {layer.ndim} dimensions; landmarks need 3D "
            "points (z, y, x) in mm."
        )
    pts = np.asarray(layer.data, dtype=float).reshape(-1, layer.ndim)
    if len(pts) == 0:
        return np.zeros((0, 3))
    world = np.array([np.asarray(layer.data_to_world(p), dtype=float)[-3:] for p in pts])
    return geometry.napari_to_lps(world)


def landmark_ids(layer: Points) -> list[str]:
    """The landmark id of each point (its ``landmark`` feature; empty when it has none)."""
    feats = layer.features
    if "landmark" not in feats:
        return []
    return [str(v) for v in feats["landmark"]]


def points_input_of(layer: Points) -> PointsInput:
    """A Points layer's points named by their ``landmark`` (or ``name``) feature.

    Raises
    ------
    AnatomyError
        The layer names no point, or is not 3D.
    """
    feats = layer.features
    column = "landmark" if "landmark" in feats else "name" if "name" in feats else None
    if column is None:
        raise AnatomyError(
            f"Points layer {layer.name!r} has no 'landmark' feature naming its points. Fix: "
            "click them with the guided mode of the Case overlay widget, or load a landmarks "
            "JSON file."
        )
    radii = np.asarray(feats["radius_mm"], dtype=float) if "radius_mm" in feats else None
    return points_input(
        [str(v) for v in feats[column]], _layer_lps(layer), radii, f"Points layer {layer.name!r}"
    )

"""Core objects to napari layer data tuples: the only code that builds ivcviewer layers.

Every function returns a ``(data, add_kwargs, layer_type)`` tuple that a reader may return or
that ``napari.layers.Layer.create(*tuple)`` / ``viewer._add_layer_from_data(*tuple)`` turns into
a layer.

Coordinates
-----------
napari's world axes are LPS reversed, ``(z, y, x)`` in mm
(:func:`ivcviewer.geometry.lps_to_napari`).
Images and label maps are displayed through :meth:`Volume.to_canonical`: their array axes are
reordered and flipped towards ``(S, P, L)`` so that any acquisition (axial, sagittal, coronal)
slices as axial images with anterior up and the patient's left on the right of the screen. World
positions do not change. The layer's ``metadata["affine_lps"]`` maps the *layer's* data indices
``(slice, row, col, 1)`` to LPS mm; ``metadata["source_affine_lps"]`` is the affine of the array
as loaded (:class:`ivcviewer.widget_models.VolumeLayerInfo` reads and writes these entries).

Modules beside this one hold the rest, and their names are importable from here too:
:mod:`.surface_layers` (meshes and one surface per region, for 3D views),
:mod:`.label_colours` (label tables as names and RGBA colours), :mod:`.geometry_text` (the
geometry summary and the load notification) and :mod:`.layer_tuple` (the tuple type, the units).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .. import geometry
from ..volume import ABDOMEN_WINDOW, Volume
from ..widget_models.layer_metadata import VOLUME_KEY, VolumeLayerInfo, layer_volume
from .geometry_text import (
    GAP_CODES,
    geometry_summary,
    layer_name,
    report_summary_text,
    window_to_limits,
)
from .label_colours import normalise_label_table
from .layer_tuple import UNITS_MM, LayerDataTuple
from .surface_layers import display_smoothing_mm, label_surfaces_layer_data, surface_layer_data


def _contrast_limits(volume: Volume) -> tuple[float, float]:
    """The series window; abdomen 400/40 for CT without one; robust percentiles otherwise."""
    center, width = volume.metadata.window
    has_window = "default_window" not in volume.report.codes
    if width > 0 and (has_window or volume.metadata.modality.upper() == "CT"):
        return window_to_limits(center, width)
    if volume.metadata.modality.upper() == "CT":
        return window_to_limits(*ABDOMEN_WINDOW)
    lo, hi = np.percentile(volume.array[:: max(1, volume.shape[0] // 16)], [1.0, 99.0])
    if hi <= lo:
        hi = lo + 1.0
    return (float(lo), float(hi))


def _base_metadata(volume: Volume, canonical: Volume) -> dict[str, Any]:
    return {
        "series_uid": volume.metadata.series_uid,
        "study_uid": volume.metadata.study_uid,
        "frame_of_reference_uid": volume.metadata.frame_of_reference_uid,
        "modality": volume.metadata.modality,
        "description": volume.metadata.description,
        "source": volume.metadata.source,
        "geometry_report": volume.report.to_list(),
        "geometry": geometry_summary(volume),
        **VolumeLayerInfo.of_volume(volume, canonical).to_metadata(),
    }


def image_layer_data(volume: Volume, *, name: str | None = None) -> LayerDataTuple:
    """An Image layer tuple showing a CT volume in mm with its window.

    Parameters
    ----------
    volume
        The volume as loaded.
    name
        Layer name; by default the series description (or the end of the series UID).

    Returns
    -------
    tuple
        ``(array, kwargs, "image")``: the canonical array (a view, no copy), ``scale`` and
        ``translate`` (or ``affine`` for oblique or tilted grids), ``units`` mm, the window as
        ``contrast_limits``, ``colormap="gray"`` and ``metadata`` (see the module docstring).
    """
    canonical = volume.to_canonical()
    kwargs: dict[str, Any] = dict(canonical.napari_kwargs())
    kwargs.update(
        name=name or layer_name(volume, "CT"),
        colormap="gray",
        contrast_limits=_contrast_limits(volume),
        metadata=_base_metadata(volume, canonical),
    )
    return (canonical.array, kwargs, "image")


def labels_layer_data(
    labels: Volume,
    table: Mapping[int, Any],
    *,
    colors: Mapping[int, Any] | None = None,
    name: str = "Labels",
    opacity: float = 0.5,
) -> LayerDataTuple:
    """A Labels layer tuple with named, coloured regions.

    Parameters
    ----------
    labels
        Integer label map on its own grid (it need not be the CT's grid: world positions agree).
    table
        Names of the label values (see :func:`normalise_label_table`).
    colors
        Optional colours overriding the table's.
    name, opacity
        Layer name and opacity.

    Returns
    -------
    tuple
        ``(array, kwargs, "labels")`` with a direct ``colormap`` dict ``{value: rgba}`` (background
        transparent) and ``features`` ``{"index", "name"}`` so that hovering shows the name.

    Raises
    ------
    ValueError
        If the label map is not of an integer type.
    """
    if not np.issubdtype(labels.array.dtype, np.integer):
        raise ValueError(
            f"Label map {name!r} must hold integers, got dtype {labels.array.dtype}; "
            "round and cast it (for example array.astype(np.uint16))."
        )
    entries = normalise_label_table(table, colors)
    canonical = labels.to_canonical()
    colormap: dict[int | None, tuple[float, float, float, float]] = {
        None: (0.0, 0.0, 0.0, 0.0),
        0: (0.0, 0.0, 0.0, 0.0),
    }
    colormap.update({v: rgba for v, (_, rgba) in entries.items()})
    kwargs: dict[str, Any] = dict(canonical.napari_kwargs())
    metadata = _base_metadata(labels, canonical)
    metadata["label_names"] = {v: n for v, (n, _) in entries.items()}
    kwargs.update(
        name=name,
        colormap=colormap,
        features={
            "index": np.array(list(entries), dtype=int),
            "name": np.array([n for n, _ in entries.values()], dtype=object),
        },
        opacity=opacity,
        metadata=metadata,
    )
    return (canonical.array, kwargs, "labels")


def points_layer_data(
    points_lps: Mapping[str, ArrayLike],
    *,
    name: str = "Landmarks",
    size_mm: float = 6.0,
    color: str = "yellow",
) -> LayerDataTuple:
    """A Points layer tuple of named LPS points, with their names as text.

    Parameters
    ----------
    points_lps
        ``name -> (x, y, z)`` LPS mm.
    name, size_mm, color
        Layer name, point diameter in mm and colour.

    Returns
    -------
    tuple
        ``(points (n, 3) napari world (z, y, x), kwargs, "points")`` with ``features["name"]``,
        ``text`` showing the name, units mm and ``metadata["points_lps"]``.
    """
    names = list(points_lps)
    xyz = np.array([np.asarray(points_lps[n], dtype=float) for n in names]).reshape(-1, 3)
    if not np.all(np.isfinite(xyz)):
        raise ValueError(f"Points {name!r} must have finite LPS coordinates, got {xyz.tolist()}.")
    data: NDArray[np.float64] = geometry.lps_to_napari(xyz)
    kwargs: dict[str, Any] = {
        "name": name,
        "ndim": 3,
        "size": size_mm,
        "face_color": color,
        "border_color": "black",
        "features": {"name": np.array(names, dtype=object)},
        "text": {
            "string": "{name}",
            "color": color,
            "size": 10,
            "anchor": "upper_left",
            "translation": (0.0, -size_mm, size_mm),
        },
        "units": UNITS_MM,
        "metadata": {"points_lps": {n: xyz[i].tolist() for i, n in enumerate(names)}},
    }
    return (data, kwargs, "points")


def lps_of_layer_index(metadata: Mapping[str, Any], ijk: Sequence[float]) -> NDArray[np.float64]:
    """LPS mm of a layer data index (the layer's own axis order) from its metadata."""
    return geometry.apply_affine(np.asarray(metadata["affine_lps"], dtype=float), ijk)


def landmark_points_layer_data(
    points_lps: ArrayLike,
    features: Mapping[str, Sequence[Any] | NDArray[Any]],
    *,
    reference: Volume | None = None,
    colors: Sequence[Any] | None = None,
    name: str = "Landmarks",
    size_mm: float = 8.0,
    text_color: str = "yellow",
    feature_defaults: Mapping[str, Any] | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> LayerDataTuple:
    """A Points layer tuple of landmarks placed on a CT's grid, with per-point features.

    Unlike :func:`points_layer_data` the layer takes the transform of ``reference`` (the CT the
    points belong to), so the viewer's slice step stays the CT's and each point shows on the
    CT slice nearest to it. Points may share a name (the clicked points of a centreline).

    Parameters
    ----------
    points_lps
        ``(n, 3)`` LPS mm (``n`` may be 0: an empty layer to click points into).
    features
        Feature columns, ``n`` values each; ``name`` (when present) is shown as text.
    reference
        The CT volume whose grid the layer takes (None: world mm, step 1 mm).
    colors
        One face colour per point (names, ``#rrggbb`` or RGBA); default ``text_color``.
    name, size_mm, text_color
        Layer name, point diameter (mm, in the image plane) and text colour.
    feature_defaults
        Feature values given to points added by clicking.
    metadata
        Extra layer metadata (``points_lps`` is added).

    Returns
    -------
    tuple
        ``(data (n, 3), kwargs, "points")``.

    Examples
    --------
    >>> import numpy as np
    >>> from ivcviewer import Volume
    >>> aff = np.array([[0, 0, 2.0, 0], [0, 2.0, 0, 0], [5.0, 0, 0, 0], [0, 0, 0, 1]])
    >>> ct = Volume(np.zeros((4, 5, 5), np.int16), aff)  # 5 mm slices, 2 mm pixels
    >>> data, kw, kind = landmark_points_layer_data(
    ...     [[4.0, 2.0, 10.0]], {"name": ["a"]}, reference=ct)
    >>> data.tolist(), kw["scale"], kind
    ([[2.0, 1.0, 2.0]], (5.0, 2.0, 2.0), 'points')
    """
    xyz = np.asarray(points_lps, dtype=float).reshape(-1, 3)
    if not np.all(np.isfinite(xyz)):
        raise ValueError(f"Points {name!r} must have finite LPS coordinates, got {xyz.tolist()}.")
    n = len(xyz)
    feats: dict[str, NDArray[Any]] = {}
    for key, values in features.items():
        if isinstance(values, np.ndarray):
            col = values
        else:
            col = np.asarray(list(values), dtype=object if n == 0 else None)
        if len(col) != n:
            raise ValueError(
                f"Feature {key!r} of points {name!r} has {len(col)} values for {n} points."
            )
        feats[key] = col
    world = geometry.lps_to_napari(xyz)
    kwargs: dict[str, Any] = {}
    if reference is not None:
        canonical = reference.to_canonical()
        kwargs.update(canonical.napari_kwargs())
        data_to_world = geometry.NAPARI_FROM_LPS @ canonical.affine
        data = geometry.apply_affine(np.linalg.inv(data_to_world), world) if n else world
        in_plane = float(np.mean(np.linalg.norm(data_to_world[:3, 1:3], axis=0)))
    else:
        data = world
        in_plane = 1.0
    size = size_mm / in_plane
    text_string = "{name}" if "name" in feats else ""
    kwargs.update(
        name=name,
        ndim=3,
        size=size,
        face_color=list(colors) if colors is not None and n else text_color,
        border_color="black",
        features=feats,
        text={
            "string": text_string,
            "color": text_color,
            "size": 10,
            "anchor": "upper_left",
        },
        units=UNITS_MM,
        out_of_slice_display=False,
        metadata={
            **dict(metadata or {}),
            "points_lps": [p.tolist() for p in xyz],
        },
    )
    if feature_defaults is not None:
        kwargs["feature_defaults"] = dict(feature_defaults)
    return (np.asarray(data, dtype=float).reshape(-1, 3), kwargs, "points")


__all__ = [
    "GAP_CODES",
    "UNITS_MM",
    "VOLUME_KEY",
    "LayerDataTuple",
    "display_smoothing_mm",
    "geometry_summary",
    "image_layer_data",
    "label_surfaces_layer_data",
    "labels_layer_data",
    "landmark_points_layer_data",
    "layer_volume",
    "lps_of_layer_index",
    "normalise_label_table",
    "points_layer_data",
    "report_summary_text",
    "surface_layer_data",
    "window_to_limits",
]

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
as loaded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .. import geometry
from ..io.labels import default_color
from ..mesh import region_surface
from ..volume import ABDOMEN_WINDOW, Volume

LayerDataTuple = tuple[Any, dict[str, Any], str]

#: Units of every ivcviewer layer (napari world axes are mm).
UNITS_MM: tuple[str, str, str] = ("mm", "mm", "mm")

#: Metadata key holding the displayed (canonical) Volume, for widgets; not serialisable.
VOLUME_KEY = "ivcviewer_volume"

#: Report codes that describe gaps or uneven slice spacing.
GAP_CODES: tuple[str, ...] = ("missing_slices", "duplicate_positions", "irregular_spacing")


def _orientation_name(slice_axis_code: str) -> str:
    """``axial``, ``coronal`` or ``sagittal`` from the LPS letter of the slice axis."""
    return {"S": "axial", "I": "axial", "P": "coronal", "A": "coronal"}.get(
        slice_axis_code, "sagittal"
    )


def geometry_summary(volume: Volume) -> dict[str, Any]:
    """What the geometry report widget and the load notification show, as plain values.

    Parameters
    ----------
    volume
        The volume as loaded (acquisition order, before :meth:`Volume.to_canonical`).

    Returns
    -------
    dict
        ``shape`` and ``spacing_mm`` (slice, row, col), ``axes`` (LPS letters of the voxel axes),
        ``orientation`` (axial / coronal / sagittal, plus oblique when the plane is), ``tilt_deg``
        (shear of the grid as loaded), ``tilt_reported`` (the acquisition was tilted),
        ``resampled`` (the loader interpolated), ``gaps`` (messages of gap-like report items,
        empty when the stack is regular),
        ``rescale`` (``"applied"``, ``"missing"`` or ``"not reported"``), ``window`` (center,
        width) and ``report`` (list of ``{code, severity, message}``).
    """
    axes = geometry.axis_codes(volume.affine)
    report = volume.report
    codes = set(report.codes)
    if volume.metadata.rescale_applied or "rescale_applied" in codes:
        rescale = "applied"
    elif "no_rescale" in codes:
        rescale = "missing"
    else:
        rescale = "not reported"
    orientation = _orientation_name(axes[0])
    if "oblique" in codes:
        orientation += " (oblique)"
    return {
        "shape": list(volume.shape),
        "spacing_mm": [round(float(v), 4) for v in volume.spacing],
        "axes": "".join(axes),
        "orientation": orientation,
        "tilt_deg": round(geometry.gantry_tilt_deg(volume.affine), 3),
        "tilt_reported": "gantry_tilt" in codes,
        "resampled": "resampled" in codes,
        "gaps": [f"{i.code}: {i.message}" for i in report.items if i.code in GAP_CODES],
        "rescale": rescale,
        "window": tuple(float(v) for v in volume.metadata.window),
        "modality": volume.metadata.modality,
        "report": report.to_list(),
    }


def window_to_limits(center: float, width: float) -> tuple[float, float]:
    """Contrast limits ``(low, high)`` of a window ``(center, width)``.

    >>> window_to_limits(40, 400)
    (-160.0, 240.0)
    """
    return (float(center) - float(width) / 2.0, float(center) + float(width) / 2.0)


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


def _layer_name(volume: Volume, default: str) -> str:
    md = volume.metadata
    return md.description or (f"series {md.series_uid[-12:]}" if md.series_uid else default)


def _base_metadata(volume: Volume, canonical: Volume) -> dict[str, Any]:
    order, flips = geometry.canonical_axes(volume.affine)
    return {
        "series_uid": volume.metadata.series_uid,
        "study_uid": volume.metadata.study_uid,
        "frame_of_reference_uid": volume.metadata.frame_of_reference_uid,
        "modality": volume.metadata.modality,
        "description": volume.metadata.description,
        "source": volume.metadata.source,
        "geometry_report": volume.report.to_list(),
        "geometry": geometry_summary(volume),
        "affine_lps": canonical.affine.copy(),
        "source_affine_lps": volume.affine.copy(),
        "canonical_order": tuple(order),
        "canonical_flips": tuple(flips),
        VOLUME_KEY: canonical,
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
        name=name or _layer_name(volume, "CT"),
        colormap="gray",
        contrast_limits=_contrast_limits(volume),
        metadata=_base_metadata(volume, canonical),
    )
    return (canonical.array, kwargs, "image")


def _rgba(color: Any) -> tuple[float, float, float, float]:
    """An RGBA tuple (0-1) from RGB(A) in 0-1 or 0-255, or a ``#rrggbb`` string."""
    if isinstance(color, str):
        h = color.lstrip("#")
        if len(h) not in (6, 8):
            raise ValueError(f"Label colour {color!r} must be '#rrggbb' or '#rrggbbaa'.")
        vals = [int(h[i : i + 2], 16) / 255 for i in range(0, len(h), 2)]
    else:
        vals = [float(v) for v in color]
        if len(vals) not in (3, 4):
            raise ValueError(f"Label colour {color!r} must have 3 or 4 components.")
        if max(vals) > 1.0:
            vals = [v / 255 for v in vals]
    if len(vals) == 3:
        vals.append(1.0)
    return (vals[0], vals[1], vals[2], vals[3])


def normalise_label_table(
    table: Mapping[int, Any], colors: Mapping[int, Any] | None = None
) -> dict[int, tuple[str, tuple[float, float, float, float]]]:
    """``{value: (name, rgba)}`` from the label tables the loaders produce.

    Parameters
    ----------
    table
        ``value -> name``, ``value -> {"name": ..., "color": ...}`` or ``value -> object`` with
        a ``name`` attribute and optionally ``color`` / ``rgba`` / ``rgb``. Value 0 (background)
        is ignored.
    colors
        Colours that override the table's (RGB or RGBA, 0-1 or 0-255, or ``#rrggbb``).

    Returns
    -------
    dict
        Sorted by value; values without a colour get
        :func:`ivcviewer.io.labels.default_color` (the colours the label files get).

    Examples
    --------
    >>> t = normalise_label_table({1: "liver", 2: {"name": "IVC", "color": (0, 0, 255)}})
    >>> t[2]
    ('IVC', (0.0, 0.0, 1.0, 1.0))
    >>> t[1][0]
    'liver'
    """
    out: dict[int, tuple[str, tuple[float, float, float, float]]] = {}
    for value in sorted(int(v) for v in table):
        if value == 0:
            continue
        entry = table[value]
        color: Any = None
        if isinstance(entry, str):
            name = entry
        elif isinstance(entry, Mapping):
            name = str(entry.get("name", value))
            color = entry.get("color", entry.get("rgba", entry.get("rgb")))
        else:
            name = str(getattr(entry, "name", value))
            for attr in ("color", "rgba", "rgb"):
                if getattr(entry, attr, None) is not None:
                    color = getattr(entry, attr)
                    break
        if colors is not None and value in colors:
            color = colors[value]
        rgba = _rgba(color) if color is not None else default_color(value)
        out[value] = (name, rgba)
    return out


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


def surface_layer_data(
    vertices_lps: ArrayLike,
    faces: ArrayLike,
    colour: Any,
    name: str,
    *,
    opacity: float = 1.0,
    blending: str = "translucent",
    metadata: Mapping[str, Any] | None = None,
) -> LayerDataTuple:
    """A Surface layer tuple: a triangle mesh in LPS mm, smooth-shaded in one colour.

    Parameters
    ----------
    vertices_lps
        ``(n, 3)`` vertices, LPS mm (for example from :func:`ivcviewer.mesh.region_surface`).
    faces
        ``(m, 3)`` vertex indices of the triangles.
    colour
        The surface's colour (RGB(A) in 0-1 or 0-255, or ``#rrggbb``; see
        :func:`normalise_label_table`).
    name, opacity, blending
        Layer name, opacity and blending.
    metadata
        Extra layer metadata (``vertices_lps`` is added).

    Returns
    -------
    tuple
        ``((vertices (n, 3) napari world (z, y, x), faces), kwargs, "surface")`` with
        ``shading="smooth"``, ``vertex_colors`` (the colour at every vertex) and units mm.
        Each triangle's vertex order is reversed, because the world axes mirror LPS: a triangle
        counter-clockwise seen from outside in LPS stays so in the world (lit on that side).

    Raises
    ------
    ValueError
        For vertices or faces of the wrong shape, faces that index no vertex, non-finite
        vertices or a malformed colour.

    Examples
    --------
    >>> v = [[0.0, 0.0, 0.0], [10.0, 0.0, 0.0], [0.0, 20.0, 0.0], [0.0, 0.0, 30.0]]
    >>> f = [[0, 2, 1], [0, 1, 3], [0, 3, 2], [1, 2, 3]]
    >>> (verts, faces), kw, kind = surface_layer_data(v, f, "#ff0000", "mass")
    >>> verts[1].tolist(), verts[3].tolist(), kind, kw["shading"]
    ([0.0, 0.0, 10.0], [30.0, 0.0, 0.0], 'surface', 'smooth')
    >>> kw["vertex_colors"][0].tolist()
    [1.0, 0.0, 0.0, 1.0]
    """
    xyz = np.asarray(vertices_lps, dtype=float)
    tri = np.asarray(faces)
    if xyz.ndim != 2 or xyz.shape[1] != 3 or len(xyz) == 0:
        raise ValueError(
            f"Surface {name!r}: vertices must be a non-empty (n, 3) LPS array, got shape "
            f"{xyz.shape}."
        )
    if not np.all(np.isfinite(xyz)):
        raise ValueError(f"Surface {name!r}: vertices must be finite LPS coordinates.")
    if tri.ndim != 2 or tri.shape[1] != 3 or not np.issubdtype(tri.dtype, np.integer):
        raise ValueError(
            f"Surface {name!r}: faces must be an (m, 3) integer array, got shape {tri.shape} "
            f"dtype {tri.dtype}."
        )
    if tri.size and (tri.min() < 0 or tri.max() >= len(xyz)):
        raise ValueError(
            f"Surface {name!r}: faces index vertices 0..{len(xyz) - 1}, got indices "
            f"{tri.min()}..{tri.max()}."
        )
    rgba = _rgba(colour)
    world = geometry.lps_to_napari(xyz)
    kwargs: dict[str, Any] = {
        "name": name,
        "shading": "smooth",
        "vertex_colors": np.tile(np.asarray(rgba, dtype=np.float32), (len(world), 1)),
        "opacity": float(opacity),
        "blending": blending,
        "units": UNITS_MM,
        "metadata": {**dict(metadata or {}), "vertices_lps": xyz},
    }
    # (z, y, x) is a mirror image of LPS: reversing each triangle keeps it facing the same
    # side (outwards for region_surface's meshes), which napari's shading relies on
    world_faces = np.ascontiguousarray(tri[:, ::-1], dtype=np.int64)
    return ((world, world_faces), kwargs, "surface")


def display_smoothing_mm(labels: Volume) -> float:
    """The smoothing (mm) that rounds away the staircase of a label map's thickest voxel axis.

    ``0.8`` of the largest spacing, at least 1 mm: 2 mm for 2.5 mm slices. The surface moves
    inwards by about ``sigma**2 / R`` (0.27 mm for a 15 mm radius at 2 mm).

    >>> from ivcviewer import Volume
    >>> display_smoothing_mm(Volume(np.zeros((2, 2, 2), np.uint8), np.diag([0.7, 0.7, 2.5, 1])))
    2.0
    """
    return max(1.0, round(0.8 * float(labels.spacing.max()), 3))


def label_surfaces_layer_data(
    labels: Volume,
    table: Mapping[int, Any],
    *,
    colors: Mapping[int, Any] | None = None,
    smooth_sigma_mm: float | None = None,
    step: int = 1,
    opacity: float = 1.0,
    name_format: str = "{name}",
    metadata: Mapping[str, Any] | None = None,
) -> list[LayerDataTuple]:
    """One smooth Surface layer tuple per named region of a label map (for 3D views).

    Parameters
    ----------
    labels
        Integer label map on its own grid.
    table
        Names (and colours) of the label values to draw (see :func:`normalise_label_table`);
        values absent from the map are skipped.
    colors
        Optional colours overriding the table's.
    smooth_sigma_mm, step
        Passed to :func:`ivcviewer.mesh.region_surface`; by default the smoothing is
        :func:`display_smoothing_mm`.
    opacity
        Opacity of every surface.
    name_format
        Layer name, formatted with ``name`` and ``value``.
    metadata
        Extra metadata of every layer (``label_value`` and ``label_name`` are added).

    Returns
    -------
    list
        :func:`surface_layer_data` tuples, in the order of the label values.
    """
    sigma = display_smoothing_mm(labels) if smooth_sigma_mm is None else smooth_sigma_mm
    present = set(int(v) for v in np.unique(labels.array))
    out: list[LayerDataTuple] = []
    for value, (name, rgba) in normalise_label_table(table, colors).items():
        if value not in present:
            continue
        verts, faces = region_surface(labels, value, smooth_sigma_mm=sigma, step=step)
        md = {**dict(metadata or {}), "label_value": value, "label_name": name}
        out.append(
            surface_layer_data(
                verts,
                faces,
                rgba,
                name_format.format(name=name, value=value),
                opacity=opacity,
                metadata=md,
            )
        )
    return out


def report_summary_text(volume: Volume, name: str | None = None) -> str:
    """One notification text: the series, then each warning's code and message.

    Examples
    --------
    >>> import numpy as np
    >>> from ivcviewer import Volume
    >>> v = Volume(np.zeros((2, 3, 3), np.int16), np.eye(4))
    >>> v.report.add("gantry_tilt", "warning", "tilted 15 degrees")
    >>> print(report_summary_text(v, "CT"))
    CT: 1 geometry warning
      gantry_tilt: tilted 15 degrees
    """
    label = name or _layer_name(volume, "CT")
    warnings = volume.report.warnings
    if not warnings:
        s = ", ".join(f"{v:.3g}" for v in volume.spacing)
        return f"{label}: geometry OK ({volume.shape[0]} slices, spacing {s} mm)"
    plural = "s" if len(warnings) > 1 else ""
    lines = [f"{label}: {len(warnings)} geometry warning{plural}"]
    lines += [f"  {i.code}: {i.message}" for i in warnings]
    return "\n".join(lines)


def layer_volume(metadata: Mapping[str, Any]) -> Volume | None:
    """The displayed (canonical) Volume stored in a layer's metadata, if any."""
    v = metadata.get(VOLUME_KEY)
    return v if isinstance(v, Volume) else None


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

"""Surface layer tuples: triangle meshes in LPS mm, and one smooth surface per labelled region.

Used for 3D views, where a region drawn as a smooth-shaded surface reads better than voxels
(the Case overlay widget's **3D surfaces**).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .. import geometry
from ..mesh import region_surface
from ..volume import Volume
from .label_colours import normalise_label_table, rgba
from .layer_tuple import UNITS_MM, LayerDataTuple


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
    colour_rgba = rgba(colour)
    world = geometry.lps_to_napari(xyz)
    kwargs: dict[str, Any] = {
        "name": name,
        "shading": "smooth",
        "vertex_colors": np.tile(np.asarray(colour_rgba, dtype=np.float32), (len(world), 1)),
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
    for value, (name, colour) in normalise_label_table(table, colors).items():
        if value not in present:
            continue
        verts, faces = region_surface(labels, value, smooth_sigma_mm=sigma, step=step)
        md = {**dict(metadata or {}), "label_value": value, "label_name": name}
        out.append(
            surface_layer_data(
                verts,
                faces,
                colour,
                name_format.format(name=name, value=value),
                opacity=opacity,
                metadata=md,
            )
        )
    return out

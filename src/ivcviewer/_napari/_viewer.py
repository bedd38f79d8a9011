"""Viewer set-up shared by the reader and the launcher."""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    import napari

#: napari's default camera orientation (depth, vertical, horizontal): a mirror image of LPS.
_DEFAULT_ORIENTATION = ("towards", "down", "right")

#: Viewers whose surface lighting :func:`keep_surfaces_lit` already maintains.
_LIT: weakref.WeakSet[Any] = weakref.WeakSet()


def camera(viewer: napari.Viewer) -> Any:
    """The viewer's camera (``viewer.scene.camera`` from napari 0.9, ``viewer.camera`` before)."""
    scene = getattr(viewer, "scene", None)
    return scene.camera if scene is not None else viewer.camera


def prepare_viewer(viewer: napari.Viewer) -> None:
    """Make 3D views of LPS data mirror-free, with surfaces lit from the viewer's side.

    napari's world axes here are LPS reversed ``(z, y, x)``, a left-handed order; with the
    depth axis pointing away from the viewer, the 3D rendering is a proper rotation of the
    patient (an anterior view shows the patient's left on the right of the screen). 2D views
    do not change. See :func:`keep_surfaces_lit` for the lighting.
    """
    cam = camera(viewer)
    _, vertical, horizontal = cam.orientation
    cam.orientation = ("away", vertical, horizontal)
    keep_surfaces_lit(viewer)


def _mirror_free(orientation: Sequence[Any]) -> bool:
    """Whether a camera orientation renders LPS data as a rotation (not a mirror image).

    napari's default is a mirror image of the ``(z, y, x)`` world; each flipped axis toggles.

    >>> _mirror_free(("away", "down", "right")), _mirror_free(("towards", "down", "right"))
    (True, False)
    """
    names = [str(getattr(o, "value", o)) for o in orientation]
    flips = sum(n != d for n, d in zip(names, _DEFAULT_ORIENTATION, strict=True))
    return flips % 2 == 1


def surface_light_direction(
    view_direction: Sequence[float], up_direction: Sequence[float]
) -> NDArray[np.float64]:
    """The direction (vispy scene ``(x, y, z)``, i.e. LPS) light travels for a camera looking
    along ``view_direction`` with ``up_direction`` up (napari world ``(z, y, x)``), in a
    mirror-free rendering: from behind the viewer, above and to the left.

    >>> # anterior view: looking posterior (+y), head (+z) up; light heads back, down and to
    >>> # the screen's right (the patient's left, +x)
    >>> d = surface_light_direction((0, 1, 0), (1, 0, 0))
    >>> bool(d[1] > 0 and d[2] < 0 and d[0] > 0)
    True
    """
    view = np.asarray(view_direction, dtype=float)[::-1]
    up = np.asarray(up_direction, dtype=float)[::-1]
    right = np.cross(view, up)  # screen right, for a rotation of the right-handed LPS space
    light = view - 0.5 * up + 0.35 * right
    return np.asarray(light / np.linalg.norm(light), dtype=float)


def _relight(viewer: napari.Viewer) -> None:
    """Set the light of every surface layer from the camera (3D, mirror-free views only)."""
    if viewer.dims.ndisplay != 3:
        return
    cam = camera(viewer)
    if not _mirror_free(cam.orientation):
        return
    canvas = getattr(getattr(viewer.window, "_qt_viewer", None), "canvas", None)
    visuals = getattr(canvas, "layer_to_visual", None)
    if not visuals:
        return
    light = surface_light_direction(cam.view_direction, cam.up_direction)
    for layer, visual in list(visuals.items()):
        if getattr(layer, "_type_string", "") != "surface":
            continue
        visual._light_direction = light  # what napari re-applies on shading changes
        node = visual.node
        meshdata = getattr(visual, "_meshdata", None)
        if node.shading_filter is not None and getattr(meshdata, "_vertices", None) is not None:
            node.shading_filter.light_dir = tuple(float(v) for v in light)
            node.update()


def keep_surfaces_lit(viewer: napari.Viewer) -> None:
    """Light surface layers from the viewer's side in mirror-free 3D views, now and after
    every camera, display or layer change.

    napari derives a surface's light from the camera as if the view were its default mirror
    image; in the mirror-free views of :func:`prepare_viewer` that light comes from behind
    the surfaces and leaves their visible side dark. The light set here travels away from the
    viewer, from the upper left (:func:`surface_light_direction`); napari's own update runs
    first on each event, this one after it. Calling it again for a viewer does nothing.
    """
    if viewer in _LIT:
        return
    _LIT.add(viewer)
    ref = weakref.ref(viewer)

    def update(_event: Any = None) -> None:
        v = ref()
        if v is not None:
            _relight(v)

    cam = camera(viewer)
    for name in ("view_direction", "angles", "orientation"):
        emitter = getattr(cam.events, name, None)
        if emitter is not None:
            emitter.connect(update, position="last")
    viewer.dims.events.ndisplay.connect(update, position="last")
    viewer.layers.events.inserted.connect(update, position="last")
    update()

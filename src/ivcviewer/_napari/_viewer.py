"""Viewer set-up shared by the reader and the launcher."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import napari


def camera(viewer: napari.Viewer) -> Any:
    """The viewer's camera (``viewer.scene.camera`` from napari 0.9, ``viewer.camera`` before)."""
    scene = getattr(viewer, "scene", None)
    return scene.camera if scene is not None else viewer.camera


def prepare_viewer(viewer: napari.Viewer) -> None:
    """Make 3D views of LPS data mirror-free.

    napari's world axes here are LPS reversed ``(z, y, x)``, a left-handed order; with the
    depth axis pointing away from the viewer, the 3D rendering is a proper rotation of the
    patient (an anterior view shows the patient's left on the right of the screen). 2D views
    do not change.
    """
    cam = camera(viewer)
    _, vertical, horizontal = cam.orientation
    cam.orientation = ("away", vertical, horizontal)

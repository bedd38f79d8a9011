"""The HU probe: HU, LPS mm and voxel index of the CT voxel under the cursor, in the status bar.

The reading and its text are :class:`~ivcviewer.measure.tools.ProbeReading`; this module reads
the voxel from the layer and appends the text to napari's status bar.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ... import geometry
from ...measure.tools import PROBE_SEPARATOR, ProbeReading, status_with_reading
from .shapes import reference_image

if TYPE_CHECKING:
    import napari
    from napari.layers import Image


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
        new_text = status_with_reading(text, reading)
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


__all__ = ["PROBE_SEPARATOR", "HUProbe", "ProbeReading", "hu_probe", "status_text"]

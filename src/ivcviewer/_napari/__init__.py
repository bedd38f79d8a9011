"""The napari layer of ivcviewer: reader, layers, widgets and headless rendering.

This package is the only part of ivcviewer that imports napari, qtpy or magicgui. It turns
core objects (:class:`~ivcviewer.volume.Volume`, label tables, landmark points) into napari
layers; all geometry and measurement logic lives in the core.

Submodules are imported lazily: importing this package does not import napari.
"""

from __future__ import annotations

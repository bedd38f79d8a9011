"""Dock widgets of the napari plugin (magicgui containers or QWidgets)."""

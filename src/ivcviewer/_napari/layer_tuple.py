"""What every layer builder of ivcviewer returns, and the units of its layers."""

from __future__ import annotations

from typing import Any

#: ``(data, add_kwargs, layer_type)``: what a reader returns and ``Layer.create(*t)`` takes.
LayerDataTuple = tuple[Any, dict[str, Any], str]

#: Units of every ivcviewer layer (napari world axes are mm).
UNITS_MM: tuple[str, str, str] = ("mm", "mm", "mm")

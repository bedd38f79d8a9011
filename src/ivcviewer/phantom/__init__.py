"""The case phantom: a synthetic abdominal CT with the case's findings, and its ground truth.

* :func:`build_phantom` generates it in memory (:class:`Phantom`: CT and label
  :class:`~ivcviewer.volume.Volume`, label table, truth landmarks);
* :func:`write_phantom` writes a DICOM CT series, the truth label map (NIfTI and its table),
  the landmarks and a manifest;
* :func:`cached_phantom` does both once and keeps the result in the user cache.

See ``docs/phantom.md`` for what is modelled, the HU table and the limits.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

if TYPE_CHECKING:
    from .build import PHANTOM_VERSION, Phantom, build_phantom, phantom_model
    from .case_specs import reported_mass_extents_mm
    from .grid import SIZES, PhantomGrid
    from .labels import LabelInfo, label_table
    from .output import cache_root, cached_phantom, measured_extents_mm, write_phantom
    from .raster import RegionMask

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        ".build": ("PHANTOM_VERSION", "Phantom", "build_phantom", "phantom_model"),
        ".case_specs": ("reported_mass_extents_mm",),
        ".grid": ("SIZES", "PhantomGrid"),
        ".labels": ("LabelInfo", "label_table"),
        ".output": ("cache_root", "cached_phantom", "measured_extents_mm", "write_phantom"),
        ".raster": ("RegionMask",),
    },
)

__all__ = [
    "PHANTOM_VERSION",
    "SIZES",
    "LabelInfo",
    "Phantom",
    "PhantomGrid",
    "RegionMask",
    "build_phantom",
    "cache_root",
    "cached_phantom",
    "label_table",
    "measured_extents_mm",
    "phantom_model",
    "reported_mass_extents_mm",
    "write_phantom",
]

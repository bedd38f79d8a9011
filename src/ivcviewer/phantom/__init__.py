"""The case phantom: a synthetic abdominal CT with the case's findings, and its ground truth."""

from __future__ import annotations

from .build import PHANTOM_VERSION, Phantom, build_phantom, phantom_model
from .findings import reported_mass_extents_mm
from .grid import SIZES, PhantomGrid
from .labels import LabelInfo, label_table

__all__ = [
    "PHANTOM_VERSION",
    "SIZES",
    "LabelInfo",
    "Phantom",
    "PhantomGrid",
    "build_phantom",
    "label_table",
    "phantom_model",
    "reported_mass_extents_mm",
]

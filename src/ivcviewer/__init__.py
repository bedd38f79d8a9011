"""ivcviewer: a case report's findings as labelled 3D regions on CT, with measurement tools.

The core (this package outside ``_napari``) never imports napari or Qt.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._lazy import lazy_exports
from .errors import IvcviewerError
from .report import GeometryReport, ReportItem, Severity, ValidationMode

if TYPE_CHECKING:
    from .volume import Volume, VolumeMetadata

__version__ = "0.1.0"

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        ".volume": ("Volume", "VolumeMetadata"),
    },
)

__all__ = [
    "GeometryReport",
    "IvcviewerError",
    "ReportItem",
    "Severity",
    "ValidationMode",
    "Volume",
    "VolumeMetadata",
    "__version__",
]

"""ivcviewer: a case report's findings as labelled 3D regions on CT, with measurement tools.

The core (this package outside ``_napari``) never imports napari or Qt.
"""

from __future__ import annotations

from .errors import IvcviewerError
from .report import GeometryReport, ReportItem, Severity, ValidationMode
from .volume import Volume, VolumeMetadata

__version__ = "0.1.0"

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

"""DICOM: discover, load and write CT series.

>>> from ivcviewer.dicom import scan, load_series, load_dicom, write_ct_series
"""

from __future__ import annotations

from .load import load_dicom, load_series
from .scan import ScanResult, SeriesInfo, SkippedFile, scan
from .write import write_ct_series, write_ct_slices

__all__ = [
    "ScanResult",
    "SeriesInfo",
    "SkippedFile",
    "load_dicom",
    "load_series",
    "scan",
    "write_ct_series",
    "write_ct_slices",
]

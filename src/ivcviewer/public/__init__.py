"""Public CT: search the Imaging Data Commons offline, fetch series from it or a DICOMweb server.

* :func:`search_idc`: series of the IDC index (offline), with licences and SEGs.
* :func:`curated`: the shipped list of series suited to the cases.
* :func:`fetch_idc`: download IDC series (internet), checked, into a folder or the cache.
* :func:`search_dicomweb` / :func:`fetch_dicomweb`: QIDO-RS / WADO-RS on any DICOMweb server.
* :mod:`ivcviewer.public.cache`: the local cache of fetched series.
"""

from __future__ import annotations

from . import cache
from ._common import Cancel, FetchCancelledError, Progress, PublicDataError, SeriesHit
from .curated import CuratedSeries, curated
from .dicomweb import DicomwebAuth, fetch_dicomweb, search_dicomweb
from .fetch import fetch_idc
from .idc import search_idc

__all__ = [
    "Cancel",
    "CuratedSeries",
    "DicomwebAuth",
    "FetchCancelledError",
    "Progress",
    "PublicDataError",
    "SeriesHit",
    "cache",
    "curated",
    "fetch_dicomweb",
    "fetch_idc",
    "search_dicomweb",
    "search_idc",
]

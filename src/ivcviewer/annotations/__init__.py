"""Case files (the report's findings) and the anatomy that places them on a CT.

Qt-free. :mod:`.casefile` reads and validates case files, :mod:`.vocabulary` lists the names
they may use, :mod:`.anatomy` derives the landmark set from a label map or reads it from JSON.
:mod:`.fit` places the findings as shapes on the landmarks, :mod:`.rasterise` draws shapes on
any voxel grid, :mod:`.levels` reads the IVC involvement level, and :mod:`.overlay` ties them
together: :func:`fit_case` gives the labelled regions on a CT's grid, measured and checked.
"""

from __future__ import annotations

from .anatomy import Landmarks, Provenance, landmarks_from_labelmap
from .casefile import (
    CaseFile,
    CaseInfo,
    Citation,
    ExpectedInvolvement,
    Finding,
    LandmarkSpec,
    Measurement,
    Relations,
    Rule,
    load_case,
)
from .levels import InvolvementLevel, ivc_involvement
from .library import default_case_path, packaged_cases, packaged_cases_dir
from .overlay import BoneSource, FindingResult, FitOptions, OverlayResult, fit_case

__all__ = [
    "BoneSource",
    "CaseFile",
    "CaseInfo",
    "Citation",
    "ExpectedInvolvement",
    "Finding",
    "FindingResult",
    "FitOptions",
    "InvolvementLevel",
    "LandmarkSpec",
    "Landmarks",
    "Measurement",
    "OverlayResult",
    "Provenance",
    "Relations",
    "Rule",
    "default_case_path",
    "fit_case",
    "ivc_involvement",
    "landmarks_from_labelmap",
    "load_case",
    "packaged_cases",
    "packaged_cases_dir",
]

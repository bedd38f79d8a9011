"""Case files (the report's findings) and the anatomy that places them on a CT.

Qt-free. :mod:`.casefile` reads and validates case files, :mod:`.vocabulary` lists the names
they may use, :mod:`.anatomy` derives the landmark set from a label map or reads it from JSON.
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
    default_case_path,
    load_case,
    packaged_cases,
    packaged_cases_dir,
)

__all__ = [
    "CaseFile",
    "CaseInfo",
    "Citation",
    "ExpectedInvolvement",
    "Finding",
    "LandmarkSpec",
    "Landmarks",
    "Measurement",
    "Provenance",
    "Relations",
    "Rule",
    "default_case_path",
    "landmarks_from_labelmap",
    "load_case",
    "packaged_cases",
    "packaged_cases_dir",
]

"""Case authoring: a drawn region turned into a finding, appended to a case file.

Qt-free. :func:`finding_from_region` describes a region painted on a CT relative to that CT's
anatomy (reference structure, placement, extents, shape, rules), so that it can be fitted to
other CTs; :func:`append_finding` adds it to a case file, keeping the file's text and
comments; :func:`case_template` is the commented template a new case file starts from.
"""

from __future__ import annotations

from .case_text import CASE_SUFFIXES, append_finding, case_template, validate_case_text
from .region import DRAWN_COLOURS, choose_solid, dice, finding_from_region, region_geometry

__all__ = [
    "CASE_SUFFIXES",
    "DRAWN_COLOURS",
    "append_finding",
    "case_template",
    "choose_solid",
    "dice",
    "finding_from_region",
    "region_geometry",
    "validate_case_text",
]

"""Case files: a case report's findings, their reported figures and the anatomy that places them.

A case file is YAML (schema documented in ``docs/case-file.md``). :func:`load_case` reads and
validates one; every error is a :class:`~ivcviewer.errors.CaseFileError` whose message names the
file, the field path (for example ``findings[0].measurements[0].unit``), the rule, the value and
the fix.

The parts of a case file are frozen dataclasses that pydantic validates from the YAML:

- :mod:`.document`: :class:`CaseFile`, :class:`CaseInfo`, :class:`Citation`,
  :class:`LandmarkSpec`, and the file-wide rules;
- :mod:`.findings`: :class:`Finding`, :class:`Measurement`, and the rules within a finding;
- :mod:`.relations`: :class:`Relations`, :class:`Rule`, :class:`ExpectedInvolvement`,
  :class:`Placement`, :class:`PlacementPoint`;
- :mod:`.values`: the field types (the checks of single values) and the mapping checks;
- :mod:`.problems`: :class:`SchemaProblem` and its translation into a ``CaseFileError``;
- :mod:`.loading`: the YAML reader (safe, no duplicate keys) and :func:`load_case`.

Examples
--------
>>> case = load_case(default_case_path())
>>> case.finding("mass").reported_extents_mm()
{'lr': 105.0, 'ap': 89.0, 'cc': 132.0}
>>> case.finding("intravascular_tumour").relations.expected_involvement.mayo_level
'III'
"""

from __future__ import annotations

from ..library import default_case_path
from .document import CaseFile, CaseInfo, Citation, LandmarkSpec
from .findings import Finding, Measurement
from .loading import load_case
from .relations import ExpectedInvolvement, Placement, PlacementPoint, Relations, Rule

__all__ = [
    "CaseFile",
    "CaseInfo",
    "Citation",
    "ExpectedInvolvement",
    "Finding",
    "LandmarkSpec",
    "Measurement",
    "Placement",
    "PlacementPoint",
    "Relations",
    "Rule",
    "default_case_path",
    "load_case",
]

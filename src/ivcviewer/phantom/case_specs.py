"""What the phantom takes from the case file about its findings: their ids, label values and
colours, the mass's reported extents, and where the intravascular tumour ends.

One definition, shared with :mod:`ivcviewer.annotations`: the default case file, read once.
This module sits below the label table (:mod:`.labels`) and the findings' shapes
(:mod:`.findings`), which both use it.
"""

from __future__ import annotations

from functools import lru_cache

from ..annotations.casefile import CaseFile

#: Case-file id of the default case's findings.
MASS_ID = "mass"
TUMOUR_ID = "intravascular_tumour"


@lru_cache(maxsize=1)
def default_case() -> CaseFile:
    """The default case file (loaded once)."""
    from ..annotations import default_case_path, load_case

    return load_case(default_case_path())


def reported_mass_extents_mm() -> dict[str, float]:
    """The mass's reported extents in mm along the assumed axes: ``{'lr', 'ap', 'cc'}``.

    The one place the phantom takes them from: the default case file, through
    :meth:`ivcviewer.annotations.Finding.reported_extents_mm`.

    >>> reported_mass_extents_mm()
    {'lr': 105.0, 'ap': 89.0, 'cc': 132.0}
    """
    return dict(default_case().finding(MASS_ID).reported_extents_mm())


def tumour_top_offset_mm() -> float:
    """Where the case file puts the tumour's upper end relative to the hepatic-vein confluence
    (mm, negative = below)."""
    rel = default_case().finding(TUMOUR_ID).relations
    if rel.to_landmark != "hepatic_vein_confluence":
        return -10.0
    return float(rel.to_offset_mm)


def finding_label_specs() -> dict[str, tuple[int, tuple[int, int, int]]]:
    """Finding id -> (label value, colour) from the case file.

    >>> finding_label_specs()["mass"][0], finding_label_specs()["intravascular_tumour"][0]
    (1, 2)
    """
    case = default_case()
    values = case.label_values()
    out = {}
    for fid in (MASS_ID, TUMOUR_ID):
        rgb = case.finding(fid).colour_rgb or (255, 0, 0)
        out[fid] = (int(values[fid]), (int(rgb[0]), int(rgb[1]), int(rgb[2])))
    return out

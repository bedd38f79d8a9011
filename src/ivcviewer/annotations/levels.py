"""IVC involvement of a venous tumour: the Mayo level (0-IV) and the IVC segment (I-III).

Both are read from where the tumour's upper and lower ends lie among the landmarks, along z
(LPS mm, + towards the head):

``renal``
    ``renal_vein_confluence``; ``ih_low``: ``intrahepatic_ivc_lower`` (where liver starts to
    surround the IVC); ``hepatic``: ``hepatic_vein_confluence`` (the top of that segment, just
    below the diaphragm); ``atrium``: ``cavo_atrial_junction``.

Mayo level, working rule (used for ``mayo_level``):

* ``0``: nothing above the renal-vein confluence (the tumour stays in the renal vein);
* ``I``: the top lies less than 2 cm above the confluence;
* ``II``: 2 cm or more above it, below the intrahepatic IVC (``top < ih_low``);
* ``III``: the top lies in the intrahepatic IVC (``ih_low <= top``) and not above the
  cavo-atrial junction;
* ``IV``: the top lies above the cavo-atrial junction (into the right atrium).

How it relates to the Mayo wording: Mayo II is "below the hepatic veins", III "intrahepatic IVC,
below the diaphragm", IV "above the diaphragm". The retrohepatic IVC below the main hepatic
veins is both "intrahepatic" and "below the hepatic veins"; the working rule calls a tumour that
reaches the liver-surrounded segment III, as radiology reports commonly do (the case report
itself names no level: ivcviewer derives it). The strict reading (``mayo_level_strict``) calls
it III only once it reaches the hepatic-vein confluence. The diaphragm is not a landmark:
between ``hepatic`` and ``atrium`` (the short suprahepatic IVC that crosses it) both rules say
III and a note says that the tumour may be supradiaphragmatic (IV).

IVC segment (leiomyosarcoma practice): ``I`` infrarenal (below ``renal``), ``II`` from the renal
veins to the hepatic veins, ``III`` suprahepatic (above ``hepatic``). A tumour spanning several
segments lists them all (``"I-II"``).

Truncated landmarks (at the edge of the field of view) are bounds: a truncated ``hepatic`` or
``atrium`` lies at or above its stored position. The level is then marked as a lower bound when
the tumour reaches that position (it may continue beyond the scan); a tumour that stays below it
keeps its level.

Examples
--------
>>> from ivcviewer.annotations.anatomy import Landmarks
>>> lm = Landmarks.from_points({
...     "renal_vein_confluence": [0, 0, 0], "intrahepatic_ivc_lower": [0, 0, 50],
...     "hepatic_vein_confluence": [0, 0, 80], "cavo_atrial_junction": [0, 0, 100]})
>>> lv = ivc_involvement(0.0, 70.0, lm)
>>> lv.mayo_level, lv.mayo_level_strict, lv.ivc_segment
('III', 'II', 'II')
>>> ivc_involvement(0.0, 15.0, lm).mayo_level
'I'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import AnatomyError
from .anatomy import Landmarks

#: Mayo level I/II boundary: distance above the renal-vein confluence, mm.
MAYO_I_LIMIT_MM = 20.0

#: Tolerance (mm) before the tumour counts as reaching below or above a segment boundary.
SEGMENT_TOLERANCE_MM = 2.0

_ORDER = ("0", "I", "II", "III", "IV")


@dataclass(frozen=True)
class InvolvementLevel:
    """The IVC involvement of a tumour, with what it was read from.

    Attributes
    ----------
    mayo_level
        Working rule (see the module docstring): ``0``, ``I``, ``II``, ``III`` or ``IV``.
    mayo_level_strict
        The strict reading of the Mayo wording (III from the hepatic-vein confluence up).
    ivc_segments
        IVC segments the tumour spans, in order (``("II",)``, ``("I", "II")``).
    lower_bound
        The tumour reaches a landmark truncated by the field of view: the true level may be
        higher.
    top_z_mm, bottom_z_mm
        The tumour's upper and lower ends (z, LPS mm).
    levels_z_mm
        The landmark levels used (name -> z).
    notes
        Explanations (rule used, truncation, the diaphragm).
    """

    mayo_level: str
    mayo_level_strict: str
    ivc_segments: tuple[str, ...]
    lower_bound: bool
    top_z_mm: float
    bottom_z_mm: float
    top_above_renal_mm: float
    levels_z_mm: dict[str, float]
    notes: list[str] = field(default_factory=list)

    @property
    def ivc_segment(self) -> str:
        """The segments as one text: ``"II"``, ``"I-II"``, ``"I-III"``."""
        if not self.ivc_segments:
            return "none"
        if len(self.ivc_segments) == 1:
            return self.ivc_segments[0]
        return f"{self.ivc_segments[0]}-{self.ivc_segments[-1]}"

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "mayo_level": self.mayo_level,
            "mayo_level_strict": self.mayo_level_strict,
            "ivc_segment": self.ivc_segment,
            "ivc_segments": list(self.ivc_segments),
            "lower_bound": self.lower_bound,
            "top_z_mm": round(self.top_z_mm, 3),
            "bottom_z_mm": round(self.bottom_z_mm, 3),
            "top_above_renal_mm": round(self.top_above_renal_mm, 3),
            "levels_z_mm": {k: round(v, 3) for k, v in self.levels_z_mm.items()},
            "notes": list(self.notes),
        }


def _z(landmarks: Landmarks, name: str) -> float | None:
    return landmarks.z(name) if name in landmarks.points_lps else None


def mayo_at_least(level: str, minimum: str) -> bool:
    """Whether a Mayo level is ``minimum`` or higher.

    >>> mayo_at_least("III", "II"), mayo_at_least("I", "II")
    (True, False)
    """
    return _ORDER.index(level) >= _ORDER.index(minimum)


@dataclass(frozen=True)
class _Levels:
    """The landmark levels a tumour's ends are read against (z, LPS mm; None when absent)."""

    renal: float
    ih_low: float | None
    hepatic: float | None
    atrium: float | None

    @classmethod
    def of(cls, landmarks: Landmarks) -> _Levels:
        """The levels of a landmark set; AnatomyError without ``renal_vein_confluence``."""
        landmarks.require(["renal_vein_confluence"])
        return cls(
            landmarks.z("renal_vein_confluence"),
            _z(landmarks, "intrahepatic_ivc_lower"),
            _z(landmarks, "hepatic_vein_confluence"),
            _z(landmarks, "cavo_atrial_junction"),
        )

    def used(self) -> dict[str, float]:
        """Landmark name -> z of the levels present."""
        levels = {"renal_vein_confluence": self.renal}
        for name, z in (
            ("intrahepatic_ivc_lower", self.ih_low),
            ("hepatic_vein_confluence", self.hepatic),
            ("cavo_atrial_junction", self.atrium),
        ):
            if z is not None:
                levels[name] = z
        return levels


def _mayo_working(top_z_mm: float, lv: _Levels, tolerance_mm: float) -> tuple[str, list[str]]:
    """The Mayo level by the working rule, and notes on the landmarks it did without."""
    notes: list[str] = []
    above = top_z_mm - lv.renal
    if above <= 0:
        mayo = "0"
    elif above < MAYO_I_LIMIT_MM:
        mayo = "I"
    elif lv.atrium is not None and top_z_mm > lv.atrium + tolerance_mm:
        mayo = "IV"
    elif lv.ih_low is not None and top_z_mm >= lv.ih_low:
        mayo = "III"
    elif lv.ih_low is None and lv.hepatic is not None and top_z_mm >= lv.hepatic:
        mayo = "III"
        notes.append(
            "intrahepatic_ivc_lower is absent: III was read from the hepatic-vein confluence."
        )
    else:
        mayo = "II"
        if lv.ih_low is None and lv.hepatic is None:
            notes.append(
                "Neither intrahepatic_ivc_lower nor hepatic_vein_confluence is known: a tumour "
                "2 cm or more above the renal veins is called II (it may be higher)."
            )
    return mayo, notes


def _mayo_strict(
    mayo: str, top_z_mm: float, lv: _Levels, tolerance_mm: float
) -> tuple[str, list[str]]:
    """The strict reading of the Mayo wording (III from the hepatic veins up), with notes on
    where it and the working rule part, and on the diaphragm."""
    hepatic = lv.hepatic
    if mayo in ("0", "I", "IV"):
        strict = mayo
    elif hepatic is not None and top_z_mm >= hepatic:
        strict = "III"
    elif hepatic is None:
        strict = mayo
    else:
        strict = "II"
    notes: list[str] = []
    if mayo == "III" and strict == "II":
        notes.append(
            f"The top lies in the liver-surrounded (intrahepatic) IVC, "
            f"{hepatic - top_z_mm:.1f} mm below the hepatic-vein confluence: III by the "
            "working rule, II by the strict reading of the Mayo wording ('below the hepatic "
            "veins')."
            if hepatic is not None
            else "III by the working rule."
        )
    if mayo == "III" and hepatic is not None and top_z_mm > hepatic + tolerance_mm:
        notes.append(
            "The top lies above the hepatic-vein confluence, in the suprahepatic IVC that "
            "crosses the diaphragm: III if below the diaphragm, IV above it (the diaphragm is "
            "not a landmark)."
        )
    return strict, notes


def _truncation(
    top_z_mm: float, lv: _Levels, truncated: set[str], tolerance_mm: float
) -> tuple[bool, list[str]]:
    """Whether the level is a lower bound (the tumour reaches a truncated landmark), and notes."""
    lower_bound = False
    notes: list[str] = []
    for name, z in (("hepatic_vein_confluence", lv.hepatic), ("cavo_atrial_junction", lv.atrium)):
        if name in truncated and z is not None:
            if top_z_mm >= z - tolerance_mm:
                lower_bound = True
                notes.append(
                    f"{name} is truncated by the field of view (it lies at or above z = "
                    f"{z:.1f} mm) and the tumour reaches it: the level is a lower bound."
                )
            else:
                notes.append(
                    f"{name} is truncated by the field of view (it lies at or above z = "
                    f"{z:.1f} mm); the tumour's top lies {z - top_z_mm:.1f} mm below that "
                    "bound, so the level does not depend on it."
                )
    return lower_bound, notes


def _segments(
    bottom_z_mm: float, top_z_mm: float, lv: _Levels, tolerance_mm: float
) -> tuple[tuple[str, ...], list[str]]:
    """The IVC segments the tumour spans, in order, and a note when III cannot be told."""
    segments: list[str] = []
    if bottom_z_mm < lv.renal - tolerance_mm:
        segments.append("I")
    upper_ii = lv.hepatic if lv.hepatic is not None else lv.atrium
    if top_z_mm > lv.renal + tolerance_mm and (
        upper_ii is None or bottom_z_mm < upper_ii - tolerance_mm
    ):
        segments.append("II")
    if lv.hepatic is not None and top_z_mm > lv.hepatic + tolerance_mm:
        segments.append("III")
    notes: list[str] = []
    if lv.hepatic is None:
        notes.append(
            "hepatic_vein_confluence is absent: segment III (suprahepatic) cannot be told "
            "from segment II."
        )
    return tuple(segments), notes


def ivc_involvement(
    bottom_z_mm: float,
    top_z_mm: float,
    landmarks: Landmarks,
    *,
    tolerance_mm: float = SEGMENT_TOLERANCE_MM,
) -> InvolvementLevel:
    """The Mayo level and IVC segments of a tumour spanning ``bottom_z_mm``-``top_z_mm``.

    Parameters
    ----------
    bottom_z_mm, top_z_mm
        The tumour's lower and upper ends, LPS z mm.
    landmarks
        Needs ``renal_vein_confluence``; ``intrahepatic_ivc_lower``,
        ``hepatic_vein_confluence`` and ``cavo_atrial_junction`` refine it (the rule used
        without one of them is noted).
    tolerance_mm
        How far the tumour must pass a segment boundary to count as reaching across it.

    Raises
    ------
    AnatomyError
        ``renal_vein_confluence`` is absent, or ``bottom_z_mm > top_z_mm``.
    """
    if not bottom_z_mm <= top_z_mm:
        raise AnatomyError(
            f"The tumour's lower end (z = {bottom_z_mm:.1f} mm) lies above its upper end "
            f"(z = {top_z_mm:.1f} mm)."
        )
    lv = _Levels.of(landmarks)
    mayo, notes = _mayo_working(top_z_mm, lv, tolerance_mm)
    strict, strict_notes = _mayo_strict(mayo, top_z_mm, lv, tolerance_mm)
    truncated = set(landmarks.provenance.truncated)
    lower_bound, bound_notes = _truncation(top_z_mm, lv, truncated, tolerance_mm)
    segments, segment_notes = _segments(bottom_z_mm, top_z_mm, lv, tolerance_mm)
    return InvolvementLevel(
        mayo_level=mayo,
        mayo_level_strict=strict,
        ivc_segments=segments,
        lower_bound=lower_bound,
        top_z_mm=float(top_z_mm),
        bottom_z_mm=float(bottom_z_mm),
        top_above_renal_mm=float(top_z_mm - lv.renal),
        levels_z_mm=lv.used(),
        notes=notes + strict_notes + bound_notes + segment_notes,
    )

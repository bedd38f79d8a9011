"""The names of anatomical references: any structure of the anatomy source as a landmark.

A case file places its findings from references, written as text:

``renal_vein_confluence`` (and the other names of :data:`~..vocabulary.LANDMARKS`)
    The vascular levels of the IVC, derived by :func:`.landmarks_from_labelmap`.
``STRUCTURE.centroid`` (a group such as ``vertebrae_*`` stands for all its members)
    The centre of mass of the structure's voxels (islands under 10 % of its largest piece
    dropped).
``STRUCTURE.DIRECTION`` (``superior``, ``inferior``, ``left``, ``right``, ``anterior``,
``posterior``; for a structure of one side also ``medial`` and ``lateral``)
    The structure's extreme along that patient direction: the centroid of its voxels within
    :data:`EXTREME_MM` of its furthest voxel that way (``kidney_left.superior``: the upper
    pole).
``STRUCTURE.surface_DIRECTION`` (or up to three directions combined: ``surface_superior+medial``)
    Where the line from the structure's centroid along that direction leaves the structure
    (the last voxel of the structure on that line, sampled every quarter voxel).
``STRUCTURE.centreline``
    A tubular structure's centreline (:data:`TUBULAR`): per axial band of one slice spacing the
    centroid of its section and the radius of a disc of the same area, smoothed along z with a
    Gaussian of :data:`CENTRELINE_SMOOTHING_MM`. ``inferior_vena_cava.centreline`` is
    ``ivc_centreline``.
``level_T10`` ... ``level_L5``, ``level_S1`` (any ``level_`` + vertebra C1-S1)
    A vertebral level: the centroid of that vertebra's label (``vertebrae_L2``); ``level_S1``
    from ``vertebrae_S1``, else the upper 20 mm of ``sacrum``. Its z is the level.

Directions are those of the patient in LPS: left is +x, posterior +y, superior +z. A
reference resolves from the landmark set first (a point clicked or written under that very
name), then from the label map (:class:`.references.References`).

Examples
--------
>>> parse_reference("kidney_left.superior")
Reference(text='kidney_left.superior', kind='extreme', structure='kidney_left', \
direction='superior')
>>> parse_reference("level_L2").structure
'vertebrae_L2'
>>> direction_vector("medial", "kidney_right").tolist()
[1.0, 0.0, 0.0]
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .. import vocabulary as voc

#: Patient directions as LPS unit vectors.
DIRECTIONS: dict[str, tuple[float, float, float]] = {
    "superior": (0.0, 0.0, 1.0),
    "inferior": (0.0, 0.0, -1.0),
    "left": (1.0, 0.0, 0.0),
    "right": (-1.0, 0.0, 0.0),
    "anterior": (0.0, -1.0, 0.0),
    "posterior": (0.0, 1.0, 0.0),
}

#: Directions that need a structure of one side (``*_left`` / ``*_right``).
SIDED_DIRECTIONS: tuple[str, ...] = ("medial", "lateral")

#: Every direction a reference or a placement may name.
ALL_DIRECTIONS: tuple[str, ...] = (*DIRECTIONS, *SIDED_DIRECTIONS)

#: Structures with a centreline (tubular structures, running mostly cranio-caudally).
TUBULAR: frozenset[str] = frozenset(
    {
        "inferior_vena_cava",
        "aorta",
        "superior_vena_cava",
        "esophagus",
        "trachea",
        "spinal_cord",
        "iliac_artery_left",
        "iliac_artery_right",
        "iliac_vena_left",
        "iliac_vena_right",
        "common_carotid_artery_left",
        "common_carotid_artery_right",
        "portal_vein_and_splenic_vein",
    }
)

#: Vertebrae that name a level (``level_<V>``), head to feet.
VERTEBRAL_LEVELS: tuple[str, ...] = (
    *(f"C{i}" for i in range(1, 8)),
    *(f"T{i}" for i in range(1, 13)),
    *(f"L{i}" for i in range(1, 6)),
    "S1",
)

#: Reference kinds that are points (the others: ``centreline``).
POINT_KINDS: tuple[str, ...] = ("landmark", "centroid", "extreme", "surface", "level")

_IDENT = re.compile(r"^[a-z][a-z0-9_]*$")
_LEVEL_RE = re.compile(r"^level_([CTLS]\d{1,2})$")


@dataclass(frozen=True)
class Reference:
    """A parsed reference (:func:`parse_reference`)."""

    text: str
    kind: str
    structure: str | None = None
    direction: str | None = None

    @property
    def is_point(self) -> bool:
        """Whether the reference is a point (else a centreline)."""
        return self.kind in POINT_KINDS


class BadReference(ValueError):
    """A reference that breaks the grammar: ``problem`` and ``fix`` for the message."""

    def __init__(self, problem: str, fix: str) -> None:
        super().__init__(f"{problem}. Fix: {fix}")
        self.problem = problem
        self.fix = fix


def direction_vector(direction: str, structure: str | None = None) -> NDArray[np.float64]:
    """The LPS unit vector of a direction; ``medial``/``lateral`` need a sided structure.

    >>> direction_vector("lateral", "kidney_left").tolist()
    [1.0, 0.0, 0.0]
    """
    if direction in DIRECTIONS:
        return np.array(DIRECTIONS[direction], dtype=float)
    side = structure.rsplit("_", 1)[-1] if structure else ""
    if direction in SIDED_DIRECTIONS and side in ("left", "right"):
        outward = 1.0 if side == "left" else -1.0  # lateral: away from the midline
        sign = outward if direction == "lateral" else -outward
        return np.array([sign, 0.0, 0.0])
    raise BadReference(
        f"direction {direction!r} needs a structure of one side (*_left or *_right)"
        if direction in SIDED_DIRECTIONS
        else f"{direction!r} is not a direction (known: {', '.join(ALL_DIRECTIONS)})",
        f"use one of {', '.join(DIRECTIONS)}",
    )


def combined_direction(
    towards: tuple[str, ...] | list[str], structure: str | None = None
) -> NDArray[np.float64]:
    """The unit vector of one or more directions combined (their normalised sum).

    >>> np.round(combined_direction(["superior", "medial"], "kidney_left"), 3).tolist()
    [-0.707, 0.0, 0.707]
    """
    v = np.sum([direction_vector(t, structure) for t in towards], axis=0)
    n = float(np.linalg.norm(v))
    if n < 1e-9:
        raise BadReference(
            f"the directions {', '.join(towards)} cancel out",
            "name directions that are not opposite",
        )
    if len(towards) > 1 and float(np.max(np.abs(v))) > n * (1 - 1e-9):
        raise BadReference(
            f"the directions {', '.join(towards)} name the same way twice", "name it once"
        )
    return np.asarray(v / n, dtype=float)


def _known(structure: str, extra: Iterable[str] | bool) -> bool:
    """Whether a structure name is known: a TotalSegmentator name (or group), one of
    ``extra``, or any identifier when ``extra`` is True."""
    if extra is True:
        return bool(_IDENT.match(structure.removesuffix("_*")))
    return voc.is_known_structure(structure) or (extra is not False and structure in set(extra))


def parse_reference(text: str, extra: Iterable[str] | bool = ()) -> Reference:
    """Parse a reference; :class:`BadReference` says what is wrong and how to fix it.

    ``extra``: structure names known besides TotalSegmentator's (a case file's own
    ``structures``, a label map's names); True accepts any identifier (points clicked under
    a name).
    """
    if not isinstance(text, str) or not text:
        raise BadReference(
            "a reference must be a non-empty text", "write one such as 'liver.centroid'"
        )
    if text in voc.LANDMARKS:
        kind = "centreline" if text in voc.POLYLINE_LANDMARKS else "landmark"
        return Reference(text, kind, "inferior_vena_cava" if kind == "centreline" else None)
    m = _LEVEL_RE.match(text)
    if m:
        v = m.group(1)
        if v not in VERTEBRAL_LEVELS:
            raise BadReference(
                f"{text!r} names no vertebra (levels: level_C1 ... level_S1)",
                "write a level such as 'level_L2'",
            )
        return Reference(text, "level", f"vertebrae_{v}")
    if "." not in text:
        hint = voc.closest(text, [*voc.LANDMARKS, *(f"level_{v}" for v in VERTEBRAL_LEVELS)])
        raise BadReference(
            f"{text!r} is neither a landmark ({', '.join(voc.LANDMARKS)}), a vertebral level "
            "(level_T10 ... level_S1) nor STRUCTURE.PART",
            f"use {hint!r}" if hint else "write it like 'kidney_right.centroid'",
        )
    structure, part = text.split(".", 1)
    if not _known(structure, extra):
        hint = voc.closest(structure, voc.STRUCTURES)
        raise BadReference(
            f"{structure!r} is not a known structure name (TotalSegmentator class names, or "
            "a name the case file lists under 'structures')",
            f"use {hint!r}" if hint else "use a TotalSegmentator class name",
        )
    parts = ["centroid", "centreline", *ALL_DIRECTIONS, *(f"surface_{d}" for d in ALL_DIRECTIONS)]
    if part.startswith("surface_") and "+" in part:
        return _combined_surface(text, structure, part[8:].split("+"))
    if part not in parts:
        hint = voc.closest(part, parts)
        raise BadReference(
            f"{part!r} is not a part of a structure (known: centroid, centreline, a direction "
            f"such as 'superior', or 'surface_' + a direction)",
            f"use {hint!r}" if hint else "use 'centroid'",
        )
    if part == "centroid":
        return Reference(text, "centroid", structure)
    if part == "centreline":
        if structure not in TUBULAR:
            raise BadReference(
                f"{structure!r} is not a tubular structure (with a centreline: "
                f"{', '.join(sorted(TUBULAR))})",
                "use its centroid or an extreme instead",
            )
        return Reference(text, "centreline", structure)
    kind, direction = ("surface", part[8:]) if part.startswith("surface_") else ("extreme", part)
    direction_vector(direction, structure)  # medial/lateral need a side
    return Reference(text, kind, structure, direction)


def _combined_surface(text: str, structure: str, directions: list[str]) -> Reference:
    """``STRUCTURE.surface_D1+D2[+D3]``: the surface point along combined directions."""
    for d in directions:
        if d not in ALL_DIRECTIONS:
            hint = voc.closest(d, ALL_DIRECTIONS)
            raise BadReference(
                f"{d!r} is not a direction (known: {', '.join(ALL_DIRECTIONS)})",
                f"use {hint!r}" if hint else "use one of them",
            )
    if len(set(directions)) != len(directions) or len(directions) > 3:
        raise BadReference(
            f"{text!r} must combine two or three different directions", "name each once"
        )
    combined_direction(directions, structure)  # opposite or unsided directions raise
    return Reference(text, "surface", structure, "+".join(directions))


def describe_reference(text: str) -> str:
    """What to click for a point reference, in words.

    >>> describe_reference("kidney_left.surface_superior+medial")
    'the point where a line from the centre of kidney left towards superior and medial leaves it'
    >>> describe_reference("level_L2")
    'the centre of vertebra L2 (its level)'
    """
    r = parse_reference(text)
    s = (r.structure or "").replace("_", " ")
    if r.kind == "landmark":
        return voc.LANDMARKS[text]
    if r.kind == "centroid":
        return f"the centre of {s}"
    if r.kind == "level":
        return f"the centre of vertebra {text[6:]} (its level)"
    if r.kind == "extreme":
        return f"the {r.direction}most point of {s}"
    if r.kind == "surface":
        way = " and ".join((r.direction or "").split("+"))
        return f"the point where a line from the centre of {s} towards {way} leaves it"
    return f"the centreline of {s} (several points along it)"


def is_reference(text: str, extra: Iterable[str] | bool = ()) -> bool:
    """Whether ``text`` is a valid reference."""
    try:
        parse_reference(text, extra)
    except BadReference:
        return False
    return True


def is_point_reference(text: str, extra: Iterable[str] | bool = ()) -> bool:
    """Whether ``text`` is a valid reference to a point (not a centreline).

    >>> is_point_reference("level_L2"), is_point_reference("aorta.centreline")
    (True, False)
    >>> is_point_reference("tumour_bed.centroid"), is_point_reference("tumour_bed.centroid", True)
    (False, True)
    """
    try:
        return parse_reference(text, extra).is_point
    except BadReference:
        return False

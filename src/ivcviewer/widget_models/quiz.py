"""A quiz on a fitted overlay: the answers hidden, the learner marks a finding, then a score.

:func:`quiz_tasks` turns an :class:`~ivcviewer.annotations.overlay.OverlayResult` into tasks:

- ``point``: mark the level of IVC invasion (a point finding) with one point;
- ``region``: outline a mass (a region finding) with the brush, or mark a box by two corners;
- ``top``: mark the top of the tumour inside the IVC (the finding that sets the IVC level).

A :class:`Quiz` holds the tasks, the reference answers (kept out of the tasks, read only once
revealed) and the learner's marks, and scores each mark when revealed:

- a point: its distance in mm to the reference, full marks within :data:`FULL_MARKS_MM`, none
  beyond :data:`NO_MARKS_MM`, linear between;
- the top of the tumour: the same, and the Mayo level the marked top implies
  (:func:`ivcviewer.annotations.levels.ivc_involvement`) against the reference level;
- a region: the Dice coefficient with the reference region (the score) and the error of its
  extents along the patient axes.

Results go to a CSV file for a class (:func:`write_class_csv`). Qt-free and napari-free.
"""

from __future__ import annotations

import csv
import enum
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .. import geometry
from .._atomic import write_text
from ..annotations.levels import ivc_involvement
from ..annotations.overlay import OverlayResult, dice
from ..errors import AnatomyError
from ..measure import extents_mm
from ..workflows.findings_table import AXES

#: A marked point within this distance of the reference scores 100 % (mm).
FULL_MARKS_MM = 5.0

#: A marked point this far or farther from the reference scores 0 % (mm).
NO_MARKS_MM = 50.0

#: Columns of the class CSV file.
CSV_COLUMNS = (
    "learner",
    "case",
    "task",
    "kind",
    "score_pct",
    "distance_mm",
    "dice",
    "extent_error_lr_mm",
    "extent_error_ap_mm",
    "extent_error_cc_mm",
    "mayo_marked",
    "mayo_reference",
    "explanation",
)


class TaskKind(str, enum.Enum):
    """What a task asks the learner to mark."""

    POINT = "point"
    REGION = "region"
    TOP = "top"


@dataclass(frozen=True)
class QuizTask:
    """One question: what to mark (no part of the answer).

    Attributes
    ----------
    key
        The finding's id.
    kind
        What to mark (:class:`TaskKind`).
    prompt
        The question shown to the learner.
    """

    key: str
    kind: TaskKind
    prompt: str


@dataclass(frozen=True)
class Reference:
    """The answer to a task (read only after :meth:`Quiz.reveal`).

    ``point_lps`` for a point or top task, ``mask`` (on the fit's grid) for a region task,
    ``mayo_level`` for a top task.
    """

    name: str
    point_lps: NDArray[np.float64] | None = None
    mask: NDArray[np.bool_] | None = None
    mayo_level: str | None = None


@dataclass(frozen=True)
class QuizScore:
    """The score of one task and how it was reached."""

    key: str
    kind: TaskKind
    score_pct: float
    explanation: str
    distance_mm: float | None = None
    dice: float | None = None
    extent_error_mm: Mapping[str, float] | None = None
    mayo_marked: str | None = None
    mayo_reference: str | None = None


def _top_point(mask: NDArray[np.bool_], affine: NDArray[np.float64]) -> NDArray[np.float64]:
    """The centre of the region's highest voxels (LPS): the top of the tumour."""
    lps = geometry.apply_affine(affine, np.argwhere(mask).astype(float))
    top = lps[lps[:, 2] >= lps[:, 2].max() - 1e-6]
    return np.asarray(top.mean(axis=0), dtype=float)


def quiz_tasks(result: OverlayResult) -> tuple[list[QuizTask], dict[str, Reference]]:
    """The tasks of a fit and their references (point findings, regions, the tumour's top)."""
    tasks: list[QuizTask] = []
    refs: dict[str, Reference] = {}
    grid = np.asarray(result.labels.array)
    regions = {r.id: r for r in result.findings if r.n_voxels}
    points = {p.finding_id: p for p in result.points if p.finding_id is not None}
    for f in result.case.findings:
        if f.id in points:
            tasks.append(QuizTask(f.id, TaskKind.POINT, f"Mark the point: {f.name} (one point)."))
            refs[f.id] = Reference(f.name, np.asarray(points[f.id].position_lps, dtype=float))
        elif f.id in regions and f.id == result.involvement_finding:
            lv = result.involvement
            mask = grid == regions[f.id].label_value
            tasks.append(QuizTask(f.id, TaskKind.TOP, f"Mark the top of the {f.name} (one point)."))
            refs[f.id] = Reference(
                f.name,
                _top_point(mask, result.labels.affine),
                mayo_level=None if lv is None else lv.mayo_level,
            )
        elif f.id in regions:
            tasks.append(
                QuizTask(
                    f.id,
                    TaskKind.REGION,
                    f"Outline the {f.name} with the brush, or mark two opposite corners "
                    "of a box around it.",
                )
            )
            refs[f.id] = Reference(f.name, mask=grid == regions[f.id].label_value)
    return tasks, refs


def distance_score(distance_mm: float) -> float:
    """The score of a point ``distance_mm`` from the reference (percent).

    >>> distance_score(0.0), distance_score(27.5), distance_score(80.0)
    (100.0, 50.0, 0.0)
    """
    frac = (distance_mm - FULL_MARKS_MM) / (NO_MARKS_MM - FULL_MARKS_MM)
    return float(100.0 * min(1.0, max(0.0, 1.0 - frac)))


def _direction_text(delta_lps: NDArray[np.float64]) -> str:
    """Where the mark lies from the reference, along the largest patient axis."""
    names = (("right", "left"), ("anterior", "posterior"), ("inferior", "superior"))
    axis = int(np.argmax(np.abs(delta_lps)))
    if abs(delta_lps[axis]) < 1e-6:
        return "on the reference"
    side = names[axis][1] if delta_lps[axis] > 0 else names[axis][0]
    return f"mostly {side} by {abs(delta_lps[axis]):.1f} mm"


def score_point(key: str, kind: TaskKind, mark_lps: ArrayLike, ref: Reference) -> QuizScore:
    """Score a marked point against the reference point (distance, and Mayo level for a top)."""
    assert ref.point_lps is not None
    mark = np.asarray(mark_lps, dtype=float).reshape(3)
    delta = mark - ref.point_lps
    d = float(np.linalg.norm(delta))
    pct = distance_score(d)
    text = (
        f"Your mark lies {d:.1f} mm from the reference ({ref.name}): "
        f"{_direction_text(delta)}. Full marks within {FULL_MARKS_MM:.0f} mm, none beyond "
        f"{NO_MARKS_MM:.0f} mm: {pct:.0f} %."
    )
    return QuizScore(key, kind, pct, text, distance_mm=d)


def score_top(key: str, mark_lps: ArrayLike, ref: Reference, result: OverlayResult) -> QuizScore:
    """Score a marked tumour top: the distance, and the Mayo level it implies."""
    base = score_point(key, TaskKind.TOP, mark_lps, ref)
    z = float(np.asarray(mark_lps, dtype=float).reshape(3)[2])
    lv = result.involvement
    bottom = z if lv is None else min(lv.bottom_z_mm, z)
    try:
        marked = ivc_involvement(bottom, z, result.landmarks).mayo_level
    except AnatomyError as err:
        return replace(base, explanation=f"{base.explanation} {err}")
    same = "the same as" if marked == ref.mayo_level else "not"
    text = (
        f"{base.explanation} A top at z = {z:.1f} mm implies Mayo level {marked}, {same} the "
        f"reference level {ref.mayo_level or '-'}."
    )
    return QuizScore(
        key,
        TaskKind.TOP,
        base.score_pct,
        text,
        distance_mm=base.distance_mm,
        mayo_marked=marked,
        mayo_reference=ref.mayo_level,
    )


def score_region(
    key: str, drawn: NDArray[np.bool_], ref: Reference, affine: NDArray[np.float64]
) -> QuizScore:
    """Score a drawn region: Dice with the reference (the score) and the extent errors."""
    assert ref.mask is not None
    d = dice(drawn, ref.mask)
    pct = 100.0 * d
    errors: dict[str, float] | None = None
    if drawn.any():
        mine, theirs = extents_mm(drawn, affine), extents_mm(ref.mask, affine)
        errors = {a: mine[a] - theirs[a] for a, _ in AXES}
        ext = ", ".join(f"{a} {errors[a] / 10.0:+.1f} cm" for a, _ in AXES)
        tail = f" Your region's extents minus the reference's: {ext}."
    else:
        tail = " Nothing was drawn."
    text = (
        f"Dice {d:.2f}: twice the overlap of your region and the reference "
        f"({ref.name}) over their summed volumes (1 = identical): {pct:.0f} %." + tail
    )
    return QuizScore(key, TaskKind.REGION, pct, text, dice=d, extent_error_mm=errors)


def box_mask(
    corner_a_lps: ArrayLike, corner_b_lps: ArrayLike, shape: Sequence[int], affine: ArrayLike
) -> NDArray[np.bool_]:
    """The voxels of a grid whose centres lie in the LPS box between two opposite corners."""
    a = np.asarray(corner_a_lps, dtype=float).reshape(3)
    b = np.asarray(corner_b_lps, dtype=float).reshape(3)
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    aff = geometry.as_affine(affine)
    corners = np.array(np.meshgrid(*zip(lo, hi, strict=True), indexing="ij")).reshape(3, -1).T
    ijk = geometry.apply_affine(np.linalg.inv(aff), corners)
    start = np.clip(np.floor(ijk.min(axis=0)).astype(int), 0, np.asarray(shape))
    stop = np.clip(np.ceil(ijk.max(axis=0)).astype(int) + 1, 0, np.asarray(shape))
    out = np.zeros(tuple(int(n) for n in shape), dtype=bool)
    sub = tuple(slice(int(s), int(e)) for s, e in zip(start, stop, strict=True))
    idx = np.indices(tuple(int(e - s) for s, e in zip(start, stop, strict=True)))
    idx = idx.reshape(3, -1).T + start
    if idx.size:
        lps = geometry.apply_affine(aff, idx.astype(float))
        inside = np.all((lps >= lo - 1e-6) & (lps <= hi + 1e-6), axis=1)
        out[sub] = inside.reshape(tuple(int(e - s) for s, e in zip(start, stop, strict=True)))
    return out


class Quiz:
    """The tasks of a fit, the learner's marks and, once revealed, the scores.

    Examples
    --------
    >>> Quiz.empty().tasks, Quiz.empty().revealed
    ([], False)
    """

    def __init__(self, result: OverlayResult | None) -> None:
        self.result = result
        self.tasks, self._refs = ([], {}) if result is None else quiz_tasks(result)
        self._points: dict[str, NDArray[np.float64]] = {}
        self._regions: dict[str, NDArray[np.bool_]] = {}
        self.revealed = False

    @classmethod
    def empty(cls) -> Quiz:
        """A quiz without tasks (before a fit)."""
        return cls(None)

    def task(self, key: str) -> QuizTask:
        """The task of finding ``key``; KeyError naming the tasks when there is none."""
        for t in self.tasks:
            if t.key == key:
                return t
        raise KeyError(f"No quiz task {key!r}; the tasks are {[t.key for t in self.tasks]}.")

    def mark_point(self, key: str, point_lps: ArrayLike) -> None:
        """The learner's point for a point or top task (LPS mm)."""
        if self.task(key).kind == TaskKind.REGION:
            raise AnatomyError(f"Task {key!r} asks for a region. Fix: draw it or mark a box.")
        self._points[key] = np.asarray(point_lps, dtype=float).reshape(3)

    def mark_region(self, key: str, mask: ArrayLike) -> None:
        """The learner's region for a region task (a mask on the fit's grid)."""
        if self.task(key).kind != TaskKind.REGION or self.result is None:
            raise AnatomyError(f"Task {key!r} asks for a point. Fix: mark one point.")
        m = np.asarray(mask, dtype=bool)
        if m.shape != self.result.labels.shape:
            raise AnatomyError(
                f"The region drawn for {key!r} has shape {m.shape}, the CT "
                f"{self.result.labels.shape}. "
                "Fix: draw on a layer of the CT's grid."
            )
        self._regions[key] = m

    def mark_box(self, key: str, corner_a_lps: ArrayLike, corner_b_lps: ArrayLike) -> None:
        """The learner's region as the box between two opposite corners (LPS mm)."""
        if self.result is None:
            raise AnatomyError("No fit to mark on. Fix: fit the overlay first.")
        lab = self.result.labels
        self.mark_region(key, box_mask(corner_a_lps, corner_b_lps, lab.shape, lab.affine))

    def marked(self, key: str) -> bool:
        """Whether task ``key`` has a mark."""
        return key in self._points or key in self._regions

    def reveal(self) -> list[QuizScore]:
        """Reveal the answers and score every task (an unmarked task scores 0 %)."""
        self.revealed = True
        return self.scores()

    def reference(self, key: str) -> Reference:
        """The answer of task ``key``; only once revealed."""
        if not self.revealed:
            raise AnatomyError("The answers are hidden. Fix: reveal them first.")
        self.task(key)
        return self._refs[key]

    def scores(self) -> list[QuizScore]:
        """The score of every task, in task order; only once revealed."""
        return [self.score(t.key) for t in self.tasks]

    def score(self, key: str) -> QuizScore:
        """The score of task ``key``; only once revealed."""
        ref = self.reference(key)
        t = self.task(key)
        assert self.result is not None
        if not self.marked(key):
            return QuizScore(key, t.kind, 0.0, "Not marked: 0 %.")
        if t.kind == TaskKind.REGION:
            return score_region(key, self._regions[key], ref, self.result.labels.affine)
        if t.kind == TaskKind.TOP:
            return score_top(key, self._points[key], ref, self.result)
        return score_point(key, t.kind, self._points[key], ref)


def _fmt(v: float | None, digits: int = 1) -> str:
    return "" if v is None else f"{v:.{digits}f}"


def score_row(learner: str, case_id: str, s: QuizScore) -> dict[str, str]:
    """One row of the class CSV file."""
    err = s.extent_error_mm or {}
    return {
        "learner": learner,
        "case": case_id,
        "task": s.key,
        "kind": s.kind.value,
        "score_pct": _fmt(s.score_pct),
        "distance_mm": _fmt(s.distance_mm),
        "dice": _fmt(s.dice, 3),
        **{f"extent_error_{a}_mm": _fmt(err.get(a)) for a, _ in AXES},
        "mayo_marked": s.mayo_marked or "",
        "mayo_reference": s.mayo_reference or "",
        "explanation": s.explanation,
    }


def class_csv_text(case_id: str, results: Mapping[str, Sequence[QuizScore]]) -> str:
    """The scores of a class (learner -> scores) as CSV text, one row per learner and task."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(CSV_COLUMNS), lineterminator="\n")
    writer.writeheader()
    for learner, scores in results.items():
        for s in scores:
            writer.writerow(score_row(learner, case_id, s))
    return buf.getvalue()


def write_class_csv(
    path: str | Path, case_id: str, results: Mapping[str, Sequence[QuizScore]]
) -> Path:
    """Write :func:`class_csv_text` to ``path`` atomically."""
    return write_text(path, class_csv_text(case_id, results))

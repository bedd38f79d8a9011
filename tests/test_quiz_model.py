"""The quiz on a fitted overlay, without napari: hidden answers, scoring, class CSV."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from _overlay_factory import fit_case_on_small_phantom

from ivcviewer import geometry
from ivcviewer.annotations.overlay import OverlayResult
from ivcviewer.errors import AnatomyError
from ivcviewer.widget_models.quiz import (
    CSV_COLUMNS,
    FULL_MARKS_MM,
    NO_MARKS_MM,
    Quiz,
    TaskKind,
    box_mask,
    distance_score,
    write_class_csv,
)


@pytest.fixture(scope="module")
def fitted(tmp_path_factory: pytest.TempPathFactory) -> OverlayResult:
    """The packaged case fitted on the small phantom from its truth."""
    return fit_case_on_small_phantom(tmp_path_factory.mktemp("phantom"))


def _kinds(quiz: Quiz) -> dict[TaskKind, str]:
    return {t.kind: t.key for t in quiz.tasks}


def test_tasks_ask_for_a_point_a_region_and_the_tumour_top_without_answers(
    fitted: OverlayResult,
) -> None:
    quiz = Quiz(fitted)
    kinds = _kinds(quiz)
    assert set(kinds) == {TaskKind.POINT, TaskKind.REGION, TaskKind.TOP}
    assert kinds[TaskKind.TOP] == fitted.involvement_finding
    for t in quiz.tasks:
        assert "mm" not in t.prompt and "Mayo" not in t.prompt
    with pytest.raises(AnatomyError, match="hidden"):
        quiz.reference(kinds[TaskKind.POINT])
    with pytest.raises(AnatomyError, match="hidden"):
        quiz.scores()


def test_a_perfect_point_scores_100_and_3_cm_lower_scores_less_with_the_distance(
    fitted: OverlayResult,
) -> None:
    key = _kinds(Quiz(fitted))[TaskKind.POINT]
    ref = next(np.asarray(p.position_lps) for p in fitted.points if p.finding_id == key)
    perfect = Quiz(fitted)
    perfect.mark_point(key, ref)
    s = perfect.reveal()[[t.key for t in perfect.tasks].index(key)]
    assert s.score_pct == 100.0 and s.distance_mm == pytest.approx(0.0)
    off = Quiz(fitted)
    off.mark_point(key, ref - [0.0, 0.0, 30.0])  # 3 cm towards the feet
    s = next(x for x in off.reveal() if x.key == key)
    assert s.distance_mm == pytest.approx(30.0)
    assert s.score_pct < 100.0
    assert s.score_pct == pytest.approx(distance_score(30.0))
    assert "30.0 mm" in s.explanation and "inferior" in s.explanation


def test_distance_score_is_full_near_and_zero_far() -> None:
    assert distance_score(FULL_MARKS_MM) == 100.0
    assert distance_score(NO_MARKS_MM) == 0.0
    assert 0.0 < distance_score((FULL_MARKS_MM + NO_MARKS_MM) / 2) < 100.0


def test_region_scored_by_dice_and_extent_error(fitted: OverlayResult) -> None:
    quiz = Quiz(fitted)
    key = _kinds(quiz)[TaskKind.REGION]
    r = next(r for r in fitted.findings if r.id == key)
    truth = np.asarray(fitted.labels.array) == r.label_value
    quiz.mark_region(key, truth)
    assert quiz.reveal()[0].score_pct == pytest.approx(100.0)
    half = truth.copy()
    zs = np.flatnonzero(truth.any(axis=(1, 2)))
    half[zs[len(zs) // 2] :] = False  # the lower half only
    quiz2 = Quiz(fitted)
    quiz2.mark_region(key, half)
    s = next(x for x in quiz2.reveal() if x.key == key)
    n_half, n_all = np.count_nonzero(half), np.count_nonzero(truth)
    assert s.dice == pytest.approx(2 * n_half / (n_half + n_all))
    assert s.extent_error_mm is not None and s.extent_error_mm["cc"] < -20.0
    assert abs(s.extent_error_mm["lr"]) < 30.0
    assert "Dice" in s.explanation and "cc" in s.explanation


def test_box_marks_the_voxels_between_two_corners(fitted: OverlayResult) -> None:
    lab = fitted.labels
    a, b = lab.voxel_to_lps((2, 3, 4)), lab.voxel_to_lps((5, 9, 6))
    mask = box_mask(a, b, lab.shape, lab.affine)
    ijk = np.argwhere(mask)
    assert np.count_nonzero(mask) == 4 * 7 * 3
    assert ijk.min(axis=0).tolist() == [2, 3, 4] and ijk.max(axis=0).tolist() == [5, 9, 6]
    assert geometry.apply_affine(lab.affine, ijk.astype(float)).shape == (84, 3)


def test_top_mark_gives_the_mayo_level_it_implies(fitted: OverlayResult) -> None:
    lv = fitted.involvement
    assert lv is not None
    key = _kinds(Quiz(fitted))[TaskKind.TOP]
    good = Quiz(fitted)
    mask = np.asarray(fitted.labels.array) == next(
        r.label_value for r in fitted.findings if r.id == key
    )
    top = geometry.apply_affine(fitted.labels.affine, np.argwhere(mask).astype(float))
    top = top[top[:, 2] == top[:, 2].max()].mean(axis=0)
    good.mark_point(key, top)
    s = next(x for x in good.reveal() if x.key == key)
    assert s.score_pct == 100.0 and s.mayo_marked == lv.mayo_level == s.mayo_reference
    renal = fitted.landmarks.points_lps["renal_vein_confluence"]
    low = Quiz(fitted)
    low.mark_point(key, np.asarray(renal, dtype=float) + [0.0, 0.0, 10.0])
    s = next(x for x in low.reveal() if x.key == key)
    assert s.mayo_marked == "I" and s.mayo_marked != s.mayo_reference
    assert "Mayo level I," in s.explanation


def test_unmarked_tasks_score_zero_and_the_class_csv_has_a_row_per_task(
    fitted: OverlayResult, tmp_path: Path
) -> None:
    quiz = Quiz(fitted)
    key = _kinds(quiz)[TaskKind.POINT]
    ref = next(np.asarray(p.position_lps) for p in fitted.points if p.finding_id == key)
    quiz.mark_point(key, ref)
    scores = quiz.reveal()
    assert [s.score_pct for s in scores if s.key != key] == [0.0] * (len(scores) - 1)
    out = write_class_csv(tmp_path / "class.csv", fitted.case.case.id, {"A": scores, "B": []})
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert len(rows) == len(scores) and {r["learner"] for r in rows} == {"A"}
    row = next(r for r in rows if r["task"] == key)
    assert row["score_pct"] == "100.0" and row["distance_mm"] == "0.0"


def test_marks_of_the_wrong_kind_are_refused(fitted: OverlayResult) -> None:
    quiz = Quiz(fitted)
    kinds = _kinds(quiz)
    with pytest.raises(AnatomyError, match="region"):
        quiz.mark_point(kinds[TaskKind.REGION], (0.0, 0.0, 0.0))
    with pytest.raises(AnatomyError, match="point"):
        quiz.mark_region(kinds[TaskKind.POINT], np.zeros(fitted.labels.shape, bool))
    with pytest.raises(AnatomyError, match="shape"):
        quiz.mark_region(kinds[TaskKind.REGION], np.zeros((2, 2, 2), bool))
    with pytest.raises(KeyError, match="no_such"):
        quiz.task("no_such")

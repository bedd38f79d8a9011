"""The "Quiz" dock on the phantom sample with its truth: hidden answers, marks, scores, CSV."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from _tour_quiz_factory import any_colour

pytestmark = pytest.mark.napari

napari = pytest.importorskip("napari")
from napari.layers import Layer  # noqa: E402

from ivcviewer._napari import launch, sample_data  # noqa: E402
from ivcviewer._napari.widgets.case_overlay import AnatomySource, CaseOverlayWidget  # noqa: E402
from ivcviewer._napari.widgets.quiz import MARKS_LAYER, REGION_LAYER, QuizWidget  # noqa: E402
from ivcviewer.widget_models.quiz import TaskKind  # noqa: E402


@pytest.fixture
def quiz(make_napari_viewer):
    """The phantom sample with its truth labels and landmarks, fitted, and the Quiz dock."""
    viewer = make_napari_viewer(show=True)
    added = [viewer.add_layer(Layer.create(*t)) for t in sample_data.phantom_ct_with_truth("small")]
    ct_layer = added[0]
    overlay = CaseOverlayWidget(viewer)
    viewer.window.add_dock_widget(overlay, name="Case overlay")
    overlay.set_ct_layer(ct_layer)
    overlay.set_source(AnatomySource.PHANTOM_TRUTH, sample_data.phantom_folder("small"))
    overlay.run()
    widget = QuizWidget(viewer, overlay)
    viewer.window.add_dock_widget(widget, name="Quiz")
    launch.set_canvas_size(viewer, (400, 400))
    return viewer, overlay, widget


def _views_of_every_finding(viewer, overlay) -> list[np.ndarray]:
    """Screenshots through each finding (axial and coronal)."""
    shots = []
    for e in overlay.model.entries:
        if e.centre_lps is not None:
            for view in ("axial", "coronal"):
                launch.set_view(viewer, view, e.centre_lps)
                shots.append(launch.screenshot(viewer))
    return shots


def test_nothing_of_the_answer_is_visible_before_reveal(quiz) -> None:
    viewer, overlay, widget = quiz
    before = _views_of_every_finding(viewer, overlay)
    assert max(any_colour(img) for img in before) > 100  # the answers were visible
    tasks = widget.start()
    assert {t.kind for t in tasks} == {TaskKind.POINT, TaskKind.REGION, TaskKind.TOP}
    shown = [layer.name for layer in viewer.layers if layer.visible]
    assert set(shown) == {viewer.layers[0].name, MARKS_LAYER, REGION_LAYER}
    for name in (sample_data.TRUTH_NAME, sample_data.LANDMARKS_NAME):
        assert not viewer.layers[name].visible
    assert not overlay.parent().isVisible()  # the details pane with names and sizes
    assert widget.parent().isVisible()
    text = widget.prompt_label.text() + " ".join(
        widget.task_combo.itemText(i) for i in range(widget.task_combo.count())
    )
    assert " mm" not in text and "Mayo" not in text and " cm" not in text
    for img in _views_of_every_finding(viewer, overlay):
        assert any_colour(img) == 0
    widget.reveal()
    assert overlay.parent().isVisible() and viewer.layers[sample_data.TRUTH_NAME].visible
    assert max(any_colour(img) for img in _views_of_every_finding(viewer, overlay)) > 100


def _reference_point(overlay, key: str) -> np.ndarray:
    p = next(p for p in overlay.model.result.points if p.finding_id == key)
    return np.asarray(p.position_lps, dtype=float)


def test_a_perfect_mark_scores_100_and_3_cm_lower_less_with_the_distance_shown(
    quiz, tmp_path: Path
) -> None:
    _viewer, overlay, widget = quiz
    widget.start()
    key = next(t.key for t in widget.quiz.tasks if t.kind == TaskKind.POINT)
    widget.learner_edit.setText("perfect")
    widget.add_mark(key, _reference_point(overlay, key))
    s = next(s for s in widget.reveal() if s.key == key)
    assert s.score_pct == 100.0 and s.distance_mm == pytest.approx(0.0, abs=1e-6)
    assert "perfect: " in widget.scores_view.toPlainText()

    widget.start()
    widget.learner_edit.setText("lower")
    widget.add_mark(key, _reference_point(overlay, key) - [0.0, 0.0, 30.0])
    s = next(s for s in widget.reveal() if s.key == key)
    assert s.distance_mm == pytest.approx(30.0) and s.score_pct < 100.0
    shown = widget.scores_view.toPlainText()
    assert "30.0 mm" in shown and f"{s.score_pct:.0f} %" in shown

    out = widget.export_csv(tmp_path / "class.csv")
    rows = [r for r in csv.DictReader(out.open(encoding="utf-8")) if r["task"] == key]
    assert {r["learner"]: r["distance_mm"] for r in rows} == {"perfect": "0.0", "lower": "30.0"}


def test_a_region_painted_or_boxed_is_scored_by_dice(quiz) -> None:
    _viewer, overlay, widget = quiz
    result = overlay.model.result
    widget.start()
    key = next(t.key for t in widget.quiz.tasks if t.kind == TaskKind.REGION)
    value = next(r.label_value for r in result.findings if r.id == key)
    truth = np.asarray(result.labels.array) == value
    widget.select_task(key)
    widget.region_layer.data = truth.astype(np.uint8)  # as painted with the brush
    s = next(s for s in widget.reveal() if s.key == key)
    assert s.dice == pytest.approx(1.0) and s.score_pct == pytest.approx(100.0)

    widget.start()
    ijk = np.argwhere(truth)
    lo, hi = ijk.min(axis=0), ijk.max(axis=0)
    widget.add_mark(key, result.labels.voxel_to_lps(tuple(int(v) for v in lo)))
    widget.add_mark(key, result.labels.voxel_to_lps(tuple(int(v) for v in hi)))
    s = next(s for s in widget.reveal() if s.key == key)
    box = int(np.prod(hi - lo + 1))
    n = int(np.count_nonzero(truth))
    assert s.dice == pytest.approx(2 * n / (n + box))
    assert s.extent_error_mm is not None
    assert max(abs(v) for v in s.extent_error_mm.values()) < 1e-6

"""The "Quiz" dock: hide the answers of the Case overlay's fit, let the learner mark, score.

**Start** hides every answer: each layer that is not an Image (the fitted findings and
landmarks, the phantom sample's truth labels and landmarks, surfaces) and every other dock (the
Case overlay's details pane shows names and sizes). The learner marks each task
(:class:`~ivcviewer.widget_models.quiz.QuizTask`) in the ``Quiz marks`` Points layer (a point,
or two opposite corners of a box) or paints the region in the ``Quiz region`` Labels layer.
**Reveal** shows the answers again and the scores with their explanation; **Export CSV** writes
the scores of every learner of the session (:func:`~ivcviewer.widget_models.quiz.write_class_csv`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from qtpy.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from ... import geometry
from ...errors import AnatomyError
from ...widget_models.quiz import Quiz, QuizScore, QuizTask, TaskKind, write_class_csv
from ..layers import labels_layer_data
from .case_overlay import CaseOverlayWidget
from .tour import dock_of, find_case_overlay

if TYPE_CHECKING:
    import napari
    from napari.layers import Labels, Layer, Points

WIDGET_NAME = "Quiz"
MARKS_LAYER = "Quiz marks"
REGION_LAYER = "Quiz region"


class QuizWidget(QWidget):
    """The "Quiz" dock widget (see :mod:`ivcviewer._napari.widgets.quiz`).

    Parameters
    ----------
    napari_viewer
        The viewer (injected by napari).
    overlay
        The Case overlay widget whose fit is asked about (default: the one docked, or a new one).
    """

    def __init__(
        self, napari_viewer: napari.Viewer, overlay: CaseOverlayWidget | None = None
    ) -> None:
        super().__init__()
        self._viewer = napari_viewer
        self.overlay = overlay if overlay is not None else find_case_overlay(napari_viewer)
        self.quiz = Quiz.empty()
        self.class_scores: dict[str, list[QuizScore]] = {}
        self._hidden_layers: list[Layer] = []
        self._hidden_docks: list[QWidget] = []
        self.marks_layer: Points | None = None
        self.region_layer: Labels | None = None
        self.learner_edit = QLineEdit("learner 1", self)
        self.task_combo = QComboBox(self)
        self.prompt_label = QLabel("Fit an overlay, then press Start.", self)
        self.prompt_label.setWordWrap(True)
        self.start_btn = QPushButton("Start (hide the answers)", self)
        self.reveal_btn = QPushButton("Reveal and score", self)
        self.export_btn = QPushButton("Export CSV...", self)
        self.scores_view = QTextBrowser(self)
        layout = QVBoxLayout(self)
        row = QHBoxLayout()
        row.addWidget(QLabel("Learner", self))
        row.addWidget(self.learner_edit, 1)
        layout.addLayout(row)
        layout.addWidget(self.start_btn)
        layout.addWidget(self.task_combo)
        layout.addWidget(self.prompt_label)
        layout.addWidget(self.reveal_btn)
        layout.addWidget(self.scores_view, 1)
        layout.addWidget(self.export_btn)
        try_ = self.overlay._try
        self.start_btn.clicked.connect(lambda: try_(self.start))
        self.reveal_btn.clicked.connect(lambda: try_(self.reveal))
        self.export_btn.clicked.connect(self._export_dialog)
        self.task_combo.currentIndexChanged.connect(self._on_task)

    # -- start: hide the answers ----------------------------------------------------------

    def start(self) -> list[QuizTask]:
        """Hide every answer and ask the first task; AnatomyError before a fit."""
        result = self.overlay.model.result
        if result is None:
            raise AnatomyError("No fitted overlay to ask about. Fix: fit the overlay first.")
        self._restore()
        self.quiz = Quiz(result)
        self.scores_view.setPlainText("")
        self._add_mark_layers()
        mine = {id(self.marks_layer), id(self.region_layer)}
        self._hidden_layers = [
            layer
            for layer in self._viewer.layers
            if layer._type_string != "image" and id(layer) not in mine and layer.visible
        ]
        for layer in self._hidden_layers:
            layer.visible = False
        self._hide_docks()
        self.task_combo.blockSignals(True)
        self.task_combo.clear()
        for t in self.quiz.tasks:
            self.task_combo.addItem(f"{t.kind.value}: {t.key}", t.key)
        self.task_combo.blockSignals(False)
        self.select_task(self.quiz.tasks[0].key)
        return list(self.quiz.tasks)

    def _hide_docks(self) -> None:
        mine = dock_of(self)
        docks = [dock_of(w) for w in self._viewer.window.dock_widgets.values()]
        self._hidden_docks = [d for d in docks if d is not mine and d.isVisible()]
        for d in self._hidden_docks:
            d.hide()

    def _add_mark_layers(self) -> None:
        from napari.layers import Layer, Points

        result = self.overlay.model.result
        assert result is not None
        layers = self._viewer.layers
        for old in (self.marks_layer, self.region_layer):
            if old is not None and old in layers:
                layers.remove(old)
        empty = result.labels.with_array(np.zeros(result.labels.shape, dtype=np.uint8))
        data = labels_layer_data(
            empty, {1: "Your region"}, colors={1: "#00FF00"}, name=REGION_LAYER
        )
        self.region_layer = self._viewer.add_layer(Layer.create(*data))
        self.marks_layer = self._viewer.add_layer(
            Points(
                np.empty((0, 3)),
                ndim=3,
                name=MARKS_LAYER,
                size=6,
                face_color="white",
                features={"task": np.array([], dtype=object)},
            )
        )

    def select_task(self, key: str) -> QuizTask:
        """Ask task ``key``: its prompt, and the layer to mark it in made active."""
        task = self.quiz.task(key)
        self.task_combo.setCurrentIndex([t.key for t in self.quiz.tasks].index(key))
        self.prompt_label.setText(task.prompt)
        pts, region = self.marks_layer, self.region_layer
        if pts is not None:
            pts.feature_defaults["task"] = key
        if task.kind == TaskKind.REGION and region is not None:
            self._viewer.layers.selection.active = region
            region.mode = "paint"
        elif pts is not None:
            self._viewer.layers.selection.active = pts
            pts.mode = "add"
        return task

    def _on_task(self, index: int) -> None:
        if 0 <= index < len(self.quiz.tasks):
            self.overlay._try(lambda: self.select_task(self.quiz.tasks[index].key))

    # -- marks ----------------------------------------------------------------------------

    def add_mark(self, key: str, point_lps: Any) -> None:
        """Add a point for task ``key`` to the marks layer (as a click would)."""
        self.select_task(key)
        assert self.marks_layer is not None
        world = geometry.lps_to_napari(np.asarray(point_lps, dtype=float).reshape(1, 3))
        self.marks_layer.add(world)

    def _read_marks(self) -> None:
        """The marks of every task, from the layers into the quiz."""
        pts, region = self.marks_layer, self.region_layer
        tasks = [str(v) for v in pts.features["task"]] if pts is not None else []
        for t in self.quiz.tasks:
            rows = [i for i, k in enumerate(tasks) if k == t.key]
            lps = (
                geometry.napari_to_lps(np.asarray(pts.data)[rows])
                if pts is not None and rows
                else np.empty((0, 3))
            )
            if t.kind != TaskKind.REGION:
                if len(lps):
                    self.quiz.mark_point(t.key, lps[-1])
            elif region is not None and np.any(region.data):
                self.quiz.mark_region(t.key, np.asarray(region.data) > 0)
            elif len(lps) >= 2:
                self.quiz.mark_box(t.key, lps[-2], lps[-1])

    # -- reveal ---------------------------------------------------------------------------

    def reveal(self) -> list[QuizScore]:
        """Read the marks, show the answers again, score and explain."""
        if not self.quiz.tasks:
            raise AnatomyError("No quiz running. Fix: press Start first.")
        self._read_marks()
        scores = self.quiz.reveal()
        self._restore()
        learner = self.learner_edit.text().strip() or "learner"
        self.class_scores[learner] = scores
        total = sum(s.score_pct for s in scores) / max(1, len(scores))
        lines = [f"{learner}: {total:.0f} % overall."]
        for s in scores:
            lines.append(f"{s.key} ({s.kind.value}): {s.score_pct:.0f} %. {s.explanation}")
        self.scores_view.setPlainText("\n\n".join(lines))
        return scores

    def _restore(self) -> None:
        for layer in self._hidden_layers:
            if layer in self._viewer.layers:
                layer.visible = True
        for d in self._hidden_docks:
            d.show()
        self._hidden_layers, self._hidden_docks = [], []

    def export_csv(self, path: str | Path) -> Path:
        """Write the scores of every learner revealed so far (CSV, atomically)."""
        result = self.overlay.model.result
        if not self.class_scores or result is None:
            raise AnatomyError("No scores yet. Fix: reveal a quiz first.")
        return write_class_csv(path, result.case.case.id, self.class_scores)

    def _export_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export scores", "quiz.csv", "CSV (*.csv)")
        if path:
            self.overlay._try(lambda: self.export_csv(path))

"""The inputs of the Case overlay widget: the case file, the CT layer and the anatomy source.

One page per anatomy source (a folder or file path with a browse button, or a layer picker),
shown by the source chosen. Every edit goes to the model; the panel redraws from the model's
``case_changed`` and ``source_changed`` listeners.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from qtpy.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QMenu,
    QPushButton,
    QStackedWidget,
    QWidget,
)

from ....annotations import CaseFile, packaged_cases
from ....widget_models import AnatomyInput, CaseOverlayModel
from ....widget_models.case_overlay import shipped_case_title
from ..measure_common import LayerCombo
from .layer_inputs import is_3d

if TYPE_CHECKING:
    import napari

#: A callable that runs a function and shows its domain errors (the dock's).
Runner = Callable[[Callable[[], Any]], Any]

ELLIPSIS = "\N{HORIZONTAL ELLIPSIS}"


class SourcePanel(QWidget):
    """Case file row, CT picker, anatomy source picker and its page.

    Parameters
    ----------
    viewer
        The viewer whose layers the pickers list.
    model
        The widget's model (edits go there).
    run
        Runs a callable and shows its errors (the dock's ``_try``).
    """

    def __init__(
        self, viewer: napari.Viewer, model: CaseOverlayModel, run: Runner, parent: QWidget
    ) -> None:
        from napari.layers import Image, Labels, Points

        super().__init__(parent)
        self._model = model
        self._run = run
        self.case_edit = QLineEdit(self)
        browse_case = QPushButton(f"Browse{ELLIPSIS}", self)
        packaged = QPushButton("Shipped", self)
        packaged.setToolTip(
            "The case files shipped with ivcviewer: the published case and the teaching examples"
        )
        self.shipped_menu = QMenu(packaged)
        for path in packaged_cases():
            action = self.shipped_menu.addAction(shipped_case_title(path))
            if action is None:  # pragma: no cover - Qt returns the new action
                continue
            action.setData(str(path))
            action.triggered.connect(lambda _c=False, p=path: self._run(lambda: model.set_case(p)))
        packaged.setMenu(self.shipped_menu)
        self.ct_combo = LayerCombo(viewer, Image, accept=is_3d, parent=self)
        self.source_combo = QComboBox(self)
        for s in AnatomyInput:
            self.source_combo.addItem(s.value, s)
        self.source_stack = QStackedWidget(self)
        self.path_edit: dict[AnatomyInput, QLineEdit] = {}
        for s in AnatomyInput:
            if s.needs_path:
                self._add_page(s, self._path_page(s))
        self.labels_combo = LayerCombo(viewer, Labels, accept=is_3d, parent=self)
        self.points_combo = LayerCombo(viewer, Points, parent=self)
        self._add_page(AnatomyInput.LABELMAP_LAYER, self.labels_combo)
        self._add_page(AnatomyInput.POINTS_LAYER, self.points_combo)
        self.names_edit = QLineEdit(self)
        self.names_edit.setPlaceholderText("label names JSON (default: <stem>_labels.json)")

        case_row = QHBoxLayout()
        case_row.addWidget(self.case_edit, 1)
        case_row.addWidget(browse_case)
        case_row.addWidget(packaged)
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Case file", case_row)
        form.addRow("CT", self.ct_combo)
        form.addRow("Anatomy", self.source_combo)
        form.addRow("", self.source_stack)
        form.addRow("", self.names_edit)

        self.case_edit.editingFinished.connect(self._on_case_edited)
        browse_case.clicked.connect(self._browse_case)
        self.source_combo.currentIndexChanged.connect(self._on_combo)
        self.names_edit.textChanged.connect(self._on_names)
        model.events.case_changed.connect(self._show_case)
        model.events.source_changed.connect(self._show_source)

    # -- pages ------------------------------------------------------------------------------

    def _path_page(self, source: AnatomyInput) -> QWidget:
        page = QWidget(self)
        row = QHBoxLayout(page)
        row.setContentsMargins(0, 0, 0, 0)
        edit = QLineEdit(page)
        btn = QPushButton(f"Browse{ELLIPSIS}", page)
        btn.clicked.connect(lambda _c=False, src=source: self._browse_source(src))
        edit.textChanged.connect(lambda text, src=source: self._model.set_path(src, text))
        row.addWidget(edit, 1)
        row.addWidget(btn)
        self.path_edit[source] = edit
        return page

    def _add_page(self, source: AnatomyInput, page: QWidget) -> None:
        self.source_stack.addWidget(page)
        page.setProperty("source", source.value)

    # -- model -> view ----------------------------------------------------------------------

    def _show_case(self, case: CaseFile) -> None:
        self.case_edit.setText(str(case.path))

    def _show_source(self, source: AnatomyInput) -> None:
        index = list(AnatomyInput).index(source)
        if self.source_combo.currentIndex() != index:
            self.source_combo.setCurrentIndex(index)
        for s, edit in self.path_edit.items():
            text = self._model.paths.get(s, "")
            if edit.text() != text:
                edit.setText(text)
        if self.names_edit.text() != self._model.names_path:
            self.names_edit.setText(self._model.names_path)
        for i in range(self.source_stack.count()):
            page = self.source_stack.widget(i)
            if page is not None and page.property("source") == source.value:
                self.source_stack.setCurrentIndex(i)
        self.names_edit.setVisible(source == AnatomyInput.LABELMAP_FILE)

    # -- view -> model ----------------------------------------------------------------------

    def _on_combo(self, _index: int = 0) -> None:
        self._model.set_source(AnatomyInput(self.source_combo.currentData()))

    def _on_names(self, text: str) -> None:
        self._model.names_path = str(text)

    def _on_case_edited(self) -> None:
        text = self.case_edit.text().strip()
        case = self._model.case
        if text and (case is None or text != str(case.path)):
            self._run(lambda: self._model.set_case(text))

    def _browse_case(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Case file", self.case_edit.text(), "Case files (*.yaml *.yml)"
        )
        if path:
            self._run(lambda: self._model.set_case(path))

    def _browse_source(self, source: AnatomyInput) -> None:
        edit = self.path_edit[source]
        if source == AnatomyInput.PHANTOM_TRUTH:
            path = QFileDialog.getExistingDirectory(self, "Phantom truth folder", edit.text())
        else:
            filt = (
                "Landmarks (*.json)"
                if source == AnatomyInput.LANDMARKS_JSON
                else "Label maps (*.nii *.nii.gz *.nrrd *.mha *.mhd)"
            )
            path, _ = QFileDialog.getOpenFileName(self, source.value, edit.text(), filt)
        if path:
            edit.setText(path)

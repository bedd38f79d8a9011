"""The "Case overlay" dock widget: lays out the panels and forwards to the model.

:class:`CaseOverlayWidget` holds a :class:`~ivcviewer.widget_models.CaseOverlayModel` (the case,
the anatomy source, the fit, the findings list, the guide), reads the napari layers it needs
into plain data for it (:mod:`.layer_inputs`), and shows what the model says: the layers of a
fit (:mod:`.layer_data`), the findings list (:mod:`.findings_view`), the guide
(:mod:`.guide_panel`, :mod:`.clicked_layer`) and the 3D surfaces (:mod:`.surfaces`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from qtpy.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from .... import geometry
from ....annotations import CaseFile, Landmarks, default_case_path
from ....annotations.overlay import OverlayResult
from ....errors import AnatomyError
from ....volume import Volume
from ....widget_models import (
    AnatomyInput,
    CaseOverlayModel,
    FindingEntry,
    GuideStep,
    LabelmapInput,
    PointsInput,
)
from ....workflows import Anatomy
from ....workflows.findings_table import ALL_FINDINGS
from ..measure_common import NapariConnections
from .clicked_layer import ClickedLandmarks
from .findings_view import FindingsView
from .guide_panel import GuidePanel
from .layer_data import findings_layer_data, landmarks_layer_data
from .layer_inputs import ct_volume_of, labelmap_input, points_input_of
from .source_pages import SourcePanel
from .surfaces import FindingSurfaces

if TYPE_CHECKING:
    import napari
    from napari.layers import Image, Labels, Layer, Points, Surface

#: The plugin's name in napari.yaml and the widget's display name there.
PLUGIN_NAME = "ivcviewer"
WIDGET_NAME = "Case overlay"


class CaseOverlayWidget(QWidget):
    """The "Case overlay" dock widget (see :mod:`ivcviewer._napari.widgets.case_overlay`).

    Parameters
    ----------
    napari_viewer
        The viewer (injected by napari).
    """

    def __init__(self, napari_viewer: napari.Viewer) -> None:
        super().__init__()
        self._viewer = napari_viewer
        self.model = CaseOverlayModel()
        self._findings_layer: Labels | None = None
        self._landmarks_layer: Points | None = None
        self._surfaces = FindingSurfaces(napari_viewer)
        self._clicked = ClickedLandmarks(napari_viewer, self.model)

        self.sources = SourcePanel(napari_viewer, self.model, self._try, self)
        run_btn = QPushButton("Fit overlay", self)
        run_btn.setToolTip("Fit the case's findings to the CT from the anatomy source")
        self.surfaces_check = QCheckBox("3D surfaces", self)
        self.surfaces_check.setToolTip(
            "Show the fitted findings as smooth surfaces in 3D views (in place of the labels)"
        )
        self.status_label = QLabel("", self)
        self.status_label.setWordWrap(True)
        self.guide = GuidePanel(self.model, self)
        self.findings = FindingsView(self.model, self)

        layout = QVBoxLayout(self)
        layout.addWidget(self.sources)
        run_row = QHBoxLayout()
        run_row.addWidget(run_btn, 1)
        run_row.addWidget(self.surfaces_check)
        layout.addLayout(run_row)
        layout.addWidget(self.status_label)
        layout.addWidget(self.guide)
        layout.addWidget(self.findings, 1)

        self._alias_children()
        run_btn.clicked.connect(lambda: self._try(self.run))
        self._connect_guide()
        self.surfaces_check.toggled.connect(lambda _on: self._try(self._update_surfaces))
        self.model.events.status_changed.connect(self.status_label.setText)
        self.model.events.fitted.connect(self._show_fit)
        self.model.events.selection_changed.connect(self._show_selection)
        self._napari = NapariConnections(self)
        self._napari.connect(napari_viewer.dims.events.ndisplay, self._sync_3d)

        self.model.set_case(default_case_path())
        self.model.set_source(self.model.source)
        self.ct_combo.layer_changed.connect(self._source_of_ct)
        self._source_of_ct(self.ct_combo.layer())

    def _alias_children(self) -> None:
        """The panels' widgets as attributes of the dock (scripts and tests use them)."""
        s, g, f = self.sources, self.guide, self.findings
        self.case_edit = s.case_edit
        self.ct_combo = s.ct_combo
        self.source_combo = s.source_combo
        self.source_stack = s.source_stack
        self.path_edit = s.path_edit
        self.names_edit = s.names_edit
        self.labels_combo = s.labels_combo
        self.points_combo = s.points_combo
        self.guide_label = g.guide_label
        self.radius_spin = g.radius_spin
        self.start_btn = g.start_btn
        self.back_btn = g.back_btn
        self.next_btn = g.next_btn
        self.done_btn = g.done_btn
        self.level_label = f.level_label
        self.findings_list = f.findings_list
        self.details = f.details

    def _connect_guide(self) -> None:
        g = self.guide
        g.start_btn.clicked.connect(lambda: self._try(self.start_guide))
        g.back_btn.clicked.connect(lambda: self._try(self.model.guide.back))
        g.next_btn.clicked.connect(lambda: self._try(self.next_step))
        g.done_btn.clicked.connect(lambda: self._try(self.finish_guide))
        g.save_btn.clicked.connect(self._save_dialog)
        g.load_btn.clicked.connect(self._load_dialog)
        g.radius_spin.valueChanged.connect(self._on_radius)
        self.model.guide.finished.connect(self._guide_finished)

    def _try(self, fn: Callable[[], Any]) -> Any:
        """Run ``fn``; any exception becomes one line in the widget and an error notice (a
        domain error with its own message, anything else with what it was and the fix)."""
        from napari.utils.notifications import show_error

        from ...reader import failure_text

        try:
            return fn()
        except Exception as err:  # a button's boundary: one line, never a traceback
            if isinstance(err, KeyError) and err.args and isinstance(err.args[0], str):
                text = f"{WIDGET_NAME}: {err.args[0]}"
            else:
                text = failure_text(err, WIDGET_NAME)
            self.status_label.setText(f"Error: {text.removeprefix(WIDGET_NAME + ': ')}")
            show_error(text)
            return None

    # -- inputs -----------------------------------------------------------------------------

    @property
    def case(self) -> CaseFile | None:
        """The case file whose findings are fitted."""
        return self.model.case

    def set_case(self, path: str | Path) -> CaseFile:
        """Use the case file at ``path`` (validated; the previous case stays on error)."""
        return self.model.set_case(path)

    @property
    def source(self) -> AnatomyInput:
        """The anatomy source chosen."""
        return self.model.source

    def set_source(
        self,
        source: AnatomyInput | str,
        path: str | Path | None = None,
        *,
        layer: Layer | None = None,
        names_path: str | Path | None = None,
    ) -> None:
        """Choose the anatomy source and its folder, file or layer."""
        src = AnatomyInput(source)
        self.model.set_source(src, path, names_path)
        if layer is not None:
            combo = self.labels_combo if src == AnatomyInput.LABELMAP_LAYER else self.points_combo
            combo.set_layer(layer)

    def set_ct_layer(self, layer: Image) -> None:
        """Fit the findings on this CT layer's grid."""
        self.ct_combo.set_layer(layer)

    def _source_of_ct(self, layer: Layer | None) -> None:
        """Take the anatomy source a CT layer names (a sample's), unless a path is given."""
        from ...sample_data import anatomy_source_of

        found = anatomy_source_of(getattr(layer, "metadata", None))
        if found is not None and not any(p.strip() for p in self.model.paths.values()):
            self.set_source(found[0], found[1], names_path=found[2])

    def _ct_layer(self) -> Image:
        layer = self.ct_combo.layer()
        if layer is None:
            raise AnatomyError("No CT layer to fit the findings on. Fix: open a CT first.")
        return layer

    def _layer_inputs(self) -> tuple[LabelmapInput | None, PointsInput | None]:
        """The chosen source's layer read into plain data (None for the other sources)."""
        src = self.model.source
        if src == AnatomyInput.LABELMAP_LAYER:
            labels = self.labels_combo.layer()
            return (None if labels is None else labelmap_input(labels)), None
        if src == AnatomyInput.POINTS_LAYER:
            points = self.points_combo.layer()
            return None, (None if points is None else points_input_of(points))
        return None, None

    def anatomy(self) -> Anatomy:
        """The anatomy of the chosen source (landmarks, and a label map when there is one)."""
        labelmap, points = self._layer_inputs()
        return self.model.resolve_anatomy(labelmap, points)

    # -- fitting ----------------------------------------------------------------------------

    def run(self) -> OverlayResult:
        """Fit the case to the CT and show the findings (layers, list, IVC level).

        Raises
        ------
        IvcviewerError
            For a missing input, a landmark the case needs and the source lacks, and the other
            errors of :func:`ivcviewer.workflows.fit_overlay`.
        """
        ct_layer = self._ct_layer()
        ct = ct_volume_of(ct_layer)
        labelmap, points = self._layer_inputs()
        return self.model.fit(ct, str(ct_layer.name), labelmap=labelmap, points=points)

    @property
    def result(self) -> OverlayResult | None:
        """The last fit (None before the first)."""
        return self.model.result

    def _show_fit(self, result: OverlayResult) -> None:
        """Replace the layers of the previous fit with this fit's."""
        from napari.layers import Layer

        layers = self._viewer.layers
        for old in (self._findings_layer, self._landmarks_layer):
            if old is not None and old in layers:
                layers.remove(old)
        ct = self.model.ct if self.model.ct is not None else result.labels
        self._findings_layer = self._viewer.add_layer(Layer.create(*findings_layer_data(result)))
        self._landmarks_layer = self._viewer.add_layer(
            Layer.create(*landmarks_layer_data(result, ct))
        )
        self._update_surfaces()

    @property
    def findings_layer(self) -> Labels | None:
        """The ``Case findings`` Labels layer of the last fit."""
        return self._findings_layer

    @property
    def landmarks_layer(self) -> Points | None:
        """The ``Case landmarks`` Points layer of the last fit."""
        return self._landmarks_layer

    # -- 3D surfaces ------------------------------------------------------------------------

    @property
    def surface_layers(self) -> list[Surface]:
        """The findings' Surface layers (empty unless **3D surfaces** is ticked after a fit)."""
        return self._surfaces.layers

    def set_surfaces(self, on: bool) -> list[Surface]:
        """Tick or untick **3D surfaces**; returns the surface layers now shown."""
        if self.surfaces_check.isChecked() == bool(on):
            self._update_surfaces()
        else:
            self.surfaces_check.setChecked(bool(on))  # toggled -> _update_surfaces
        return self.surface_layers

    def _update_surfaces(self) -> None:
        self._surfaces.rebuild(
            self.model.result,
            self._findings_layer,
            self.ct_combo.layer(),
            self.surfaces_check.isChecked(),
        )

    def _sync_3d(self, _event: Any = None) -> None:
        self._surfaces.sync(self._findings_layer, self.ct_combo.layer())

    # -- findings tour ----------------------------------------------------------------------

    def finding_keys(self) -> list[str]:
        """The keys of the findings list, in order."""
        return self.model.finding_keys()

    def select_finding(self, key: str) -> None:
        """Select a finding of the list (by id, or :data:`ALL_FINDINGS`)."""
        self.model.select(key)

    def _show_selection(self, e: FindingEntry) -> None:
        """Show the selected finding alone (or every finding) and go to it."""
        labels = self._findings_layer
        if labels is not None and labels in self._viewer.layers:
            if e.label_value is not None and e.drawn:
                labels.selected_label = int(e.label_value)
                labels.show_selected_label = True
            else:
                labels.show_selected_label = False
        pts = self._landmarks_layer
        if pts is not None and pts in self._viewer.layers:
            pts.selected_data = set()
            if e.label_value is None and e.centre_lps is not None and e.key != ALL_FINDINGS:
                lm = self.model.point_landmark(e.key)
                names = [str(v) for v in pts.features["landmark"]]
                if lm in names:
                    pts.selected_data = {names.index(lm)}
        if e.centre_lps is not None:
            self.go_to(e.centre_lps)

    def go_to(self, point_lps: Sequence[float]) -> None:
        """Move the slices (all three world axes) to an LPS point."""
        world = geometry.lps_to_napari(np.asarray(point_lps, dtype=float))
        n = self._viewer.dims.ndim
        axes = list(range(n - 3, n))
        self._viewer.dims.set_point(axes, tuple(float(v) for v in world))

    # -- guided clicking --------------------------------------------------------------------

    @property
    def clicked_layer(self) -> Points | None:
        """The ``Clicked landmarks`` layer (None before guided clicking or loading)."""
        return self._clicked.layer

    @property
    def current_step(self) -> GuideStep | None:
        """The landmark asked for now (None when not guiding)."""
        return self.model.guide.current

    def _ct_volume(self) -> Volume | None:
        layer = self.ct_combo.layer()
        return None if layer is None else ct_volume_of(layer)

    def start_guide(self) -> None:
        """Ask for the case's landmarks one at a time in the ``Clicked landmarks`` layer."""
        self.model.require_case()
        layer = self._clicked.ensure(self._ct_volume())
        self.points_combo.set_layer(layer)
        self._viewer.layers.selection.active = layer
        layer.mode = "add"
        self.model.start_guide()

    def goto_step(self, index: int) -> None:
        """Ask for step ``index`` (clamped); past the last step the guide finishes."""
        self.model.guide.goto(index)

    def next_step(self) -> None:
        """Go to the next landmark not clicked yet (or finish)."""
        self.model.guide.next()

    def finish_guide(self) -> None:
        """Stop asking; the clicked layer becomes the anatomy source."""
        self.model.finish_guide()

    def _guide_finished(self) -> None:
        """The guide stopped: the clicked layer is left for panning, and chosen as source."""
        layer = self._clicked.present()
        if layer is not None:
            layer.mode = "pan_zoom"
            self.points_combo.set_layer(layer)

    def _on_radius(self, value: float) -> None:
        self.model.radius_mm = float(value)
        self._clicked.apply_defaults()

    def clicked_landmarks(self) -> Landmarks:
        """The landmark set of the ``Clicked landmarks`` layer."""
        layer = self._clicked.layer
        if layer is None:
            raise AnatomyError("No landmarks clicked yet. Fix: press Start and click them.")
        return self.model.clicked_landmarks(points_input_of(layer))

    def save_landmarks(self, path: str | Path) -> Path:
        """Save the clicked landmarks as a landmarks JSON file (atomically)."""
        return self.clicked_landmarks().save_json(path)

    def load_landmarks(self, path: str | Path) -> Points:
        """Load a landmarks JSON file into the ``Clicked landmarks`` layer (replacing it)."""
        lm = Landmarks.load_json(path)
        layer = self._clicked.ensure(self._ct_volume(), lm)
        self.set_source(AnatomyInput.POINTS_LAYER, layer=layer)
        return layer

    def _save_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Save landmarks", "landmarks.json", "Landmarks (*.json)"
        )
        if path:
            out = self._try(lambda: self.save_landmarks(path))
            if out is not None:
                self.status_label.setText(f"Landmarks saved to {out}.")

    def _load_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load landmarks", "", "Landmarks (*.json)")
        if path:
            self._try(lambda: self.load_landmarks(path))


def dock_case_overlay(viewer: napari.Viewer) -> CaseOverlayWidget:
    """Dock the Case overlay widget in ``viewer`` (the plugin's, when napari knows the plugin)."""
    window = viewer.window
    try:
        from npe2 import PluginManager

        PluginManager.instance().get_manifest(PLUGIN_NAME)
        _, widget = window.add_plugin_dock_widget(PLUGIN_NAME, WIDGET_NAME)
        if isinstance(widget, CaseOverlayWidget):
            return widget
    except KeyError:
        pass
    widget = CaseOverlayWidget(viewer)
    window.add_dock_widget(widget, name=WIDGET_NAME, area="right")
    return widget

"""The ``Clicked landmarks`` Points layer of guided clicking, kept in step with the guide.

:class:`ClickedLandmarks` adds the layer, tells the model's guide what it holds after every
click, gives the next click the defaults of the landmark asked for, and removes the earlier
point that a new click of the same landmark replaces.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ....annotations import Landmarks
from ....volume import Volume
from ....widget_models import CaseOverlayModel, GuideStep
from .layer_data import clicked_layer_data
from .layer_inputs import landmark_ids

if TYPE_CHECKING:
    import napari
    from napari.layers import Points


class ClickedLandmarks:
    """The clicked-landmarks layer of one widget (None until guiding starts or a load)."""

    def __init__(self, viewer: napari.Viewer, model: CaseOverlayModel) -> None:
        self._viewer = viewer
        self._model = model
        self.layer: Points | None = None
        self._n = 0
        self._pending = False
        model.guide.ask.connect(self.apply_defaults)

    def present(self) -> Points | None:
        """The layer, when it is still in the viewer."""
        if self.layer is not None and self.layer in self._viewer.layers:
            return self.layer
        return None

    def ensure(self, ct: Volume | None, landmarks: Landmarks | None = None) -> Points:
        """The layer (added when missing; replaced when ``landmarks`` are given)."""
        from napari.layers import Layer

        current = self.present()
        if current is not None and landmarks is None:
            return current
        case = self._model.require_case()
        steps = self._model.guide.steps
        fresh = Layer.create(
            *clicked_layer_data(
                landmarks, case, ct, steps[0] if steps else None, self._model.radius_mm
            )
        )
        if current is not None:
            self._viewer.layers.remove(current)
        layer = self._viewer.add_layer(fresh)
        self.layer = layer
        self._n = len(layer.data)
        layer.events.data.connect(self._on_data)
        layer.events.features.connect(self._on_features)
        self._model.guide.set_clicked(landmark_ids(layer))
        return layer

    def apply_defaults(self, step: GuideStep | None = None) -> None:
        """Give the next click the landmark asked for (its name, radius and colour)."""
        layer = self.layer
        defaults = self._model.click_defaults()
        if layer is None or defaults is None:
            return
        features, colour = defaults
        # napari applies new defaults (and the current colour) to the selected points: the
        # point just clicked is selected, and must keep its own name
        layer.selected_data = set()
        layer.feature_defaults = features
        layer.current_face_color = colour

    def _on_data(self, event: Any = None) -> None:
        layer = self.layer
        if layer is None:
            return
        action = str(getattr(event, "action", "added")).lower()
        if not action.endswith(("added", "removed", "changed")):
            return
        n = len(layer.data)
        if n > self._n and action.endswith("added") and self._model.guide.current is not None:
            # napari selects the new point after this event and then copies the selected
            # point's features into the defaults: the next landmark is asked for once that is
            # done (the features event that ends the addition)
            self._pending = True
        self._n = n
        self._model.guide.set_clicked(landmark_ids(layer))

    def _on_features(self, event: Any = None) -> None:
        layer = self.layer
        if not self._pending or layer is None or self._model.guide.current is None:
            return
        self._pending = False
        old = self._model.guide.replaced_points(landmark_ids(layer))
        if old:
            layer.selected_data = set(old)
            layer.remove_selected()
            self._n = len(layer.data)
        self._model.guide.click_landed(landmark_ids(layer))

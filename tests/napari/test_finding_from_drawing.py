"""The "Finding from drawing" dock: a region painted on the phantom becomes a finding of a case
file, shown in the dock; errors are notifications, not tracebacks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ivcviewer.annotations import load_case
from ivcviewer.phantom import build_phantom
from ivcviewer.volume import Volume
from ivcviewer.widget_models import layer_volume

pytestmark = pytest.mark.napari

napari = pytest.importorskip("napari")
from napari.layers import Layer  # noqa: E402

from ivcviewer._napari.layers import image_layer_data, labels_layer_data  # noqa: E402
from ivcviewer._napari.widgets.finding_from_drawing import (  # noqa: E402
    FindingFromDrawingWidget,
)


@pytest.fixture
def dock(make_napari_viewer):
    ph = build_phantom("small", normal=True)
    viewer = make_napari_viewer(show=True)
    ct = viewer.add_layer(Layer.create(*image_layer_data(ph.ct, name="phantom CT")))
    anatomy = viewer.add_layer(
        Layer.create(*labels_layer_data(ph.labels, ph.label_names(), name="anatomy"))
    )
    blank = Volume(np.zeros(ph.ct.shape, np.uint8), ph.ct.affine)
    painted = viewer.add_layer(Layer.create(*labels_layer_data(blank, {}, name="painted")))
    w = FindingFromDrawingWidget(viewer)
    viewer.window.add_dock_widget(w, name="Finding from drawing")
    # the layers are guessed: the CT, the Labels layer with structure names, the other one
    assert (w.ct_combo.layer(), w.anatomy_combo.layer()) == (ct, anatomy)
    assert w.region_combo.layer() is painted
    return viewer, w, ph, ct, painted


def _paint_in_liver(ph, ct_layer, painted, value: int) -> None:
    """Paint discs with the layer's brush on five slices through the liver's centre."""
    canonical = layer_volume(ct_layer.metadata)
    centre = ph.mask("liver")
    lps = ph.ct.voxel_to_lps(np.argwhere(centre).mean(axis=0)[None])[0]
    k, r, c = np.round(canonical.lps_to_voxel(lps[None])[0]).astype(int)
    painted.brush_size = 9
    painted.selected_label = value
    for dk in range(-2, 3):
        painted.paint((k + dk, r, c), value, refresh=True)


def test_painted_region_is_added_to_the_case_file_and_shown(dock, tmp_path: Path) -> None:
    viewer, w, ph, ct, painted = dock
    _paint_in_liver(ph, ct, painted, 5)
    assert int((np.asarray(painted.data) == 5).sum()) > 100
    case = tmp_path / "drawn.yaml"
    w.case_edit.setText(str(case))
    w.id_edit.setText("liver_lesion")
    w.name_edit.setText("Liver lesion")
    w.kind_combo.setCurrentText("lesion")
    w.label_spin.setValue(5)
    w.add_button.click()

    loaded = load_case(case)
    lesion = loaded.finding("liver_lesion")
    assert lesion.kind == "lesion"
    assert lesion.relations.placement.rule == "centred_in"
    assert lesion.relations.placement.structure == "liver"
    assert [str(r.rule) for r in lesion.relations.rules] == ["mostly_within"]
    assert [f.id for f in loaded.findings] == ["renal_mass", "ivc_thrombus", "liver_lesion"]
    shown = w.shown_text
    assert shown.startswith(f"# added to {case}")
    assert "- id: liver_lesion" in shown and "structure: liver" in shown
    assert "Drawn on layer" in shown
    assert lesion.description.startswith("Drawn on layer 'phantom CT': a region of")

    # the same id again: a notification, the file and the dock as they were
    before = case.read_bytes()
    assert w.add_to_case() is None
    assert "'liver_lesion' is already in the case file" in w.last_error
    assert case.read_bytes() == before
    assert w.shown_text == shown


def test_nothing_painted_is_an_error_not_a_file(dock, tmp_path: Path) -> None:
    viewer, w, *_ = dock
    case = tmp_path / "drawn.yaml"
    w.case_edit.setText(str(case))
    w.id_edit.setText("nothing")
    w.name_edit.setText("Nothing")
    assert w.add_to_case() is None
    assert w.last_error.startswith("Finding from drawing: layer 'painted': nothing is painted")
    assert not case.exists()
    assert w.shown_text == w.model.shown_text  # still the hint


def test_case_file_in_the_folder_of_the_opened_ct_is_refused(
    make_napari_viewer, phantom_dir: Path
) -> None:
    viewer = make_napari_viewer(show=True)
    (ct,) = viewer.open(str(phantom_dir / "ct"), plugin="ivcviewer")
    assert ct.source.path is not None
    w = FindingFromDrawingWidget(viewer)
    viewer.window.add_dock_widget(w, name="Finding from drawing")
    canonical = layer_volume(ct.metadata)
    anatomy = np.zeros(canonical.shape, np.uint8)
    anatomy[10:20, 30:40, 30:40] = 1
    anatomy_layer = viewer.add_layer(
        Layer.create(
            *labels_layer_data(canonical.with_array(anatomy), {1: "liver"}, name="anatomy")
        )
    )
    region = np.zeros(canonical.shape, np.uint8)
    region[12:15, 32:36, 32:36] = 1
    painted = viewer.add_layer(
        Layer.create(*labels_layer_data(canonical.with_array(region), {}, name="painted"))
    )
    w.ct_combo.set_layer(ct)
    w.anatomy_combo.set_layer(anatomy_layer)
    w.region_combo.set_layer(painted)
    case = phantom_dir / "ct" / "drawn.yaml"  # inside the DICOM folder the CT came from
    w.case_edit.setText(str(case))
    w.id_edit.setText("inside")
    w.name_edit.setText("Inside")
    assert w.add_to_case() is None
    assert "refusing to write into" in w.last_error
    assert not case.exists()

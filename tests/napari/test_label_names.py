"""Label names: one source of truth (the layer's features; metadata derived) and the dock."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ivcviewer.errors import IvcviewerError
from ivcviewer.io import load_labels
from ivcviewer.volume import Volume

pytestmark = pytest.mark.napari

napari = pytest.importorskip("napari")
from napari.layers import Labels  # noqa: E402

from ivcviewer._napari import measure_tools as mt  # noqa: E402
from ivcviewer._napari.layer_label_table import (  # noqa: E402
    NAMES_KEY,
    keep_names_in_step,
    layer_label_table,
)
from ivcviewer._napari.layers import labels_layer_data  # noqa: E402
from ivcviewer._napari.widgets.label_names import NO_LAYER_TEXT, LabelNamesWidget  # noqa: E402


def _ivcviewer_labels() -> Labels:
    arr = np.zeros((4, 6, 8), np.uint8)
    arr[1, 1:3, 1:3] = 1
    arr[2, 3:5, 4:7] = 2
    vol = Volume(arr, np.diag([1.5, 1.0, 1.0, 1.0]))
    return Labels.create(*labels_layer_data(vol, {1: "liver", 2: "kidney_right"}, name="anat"))


def _names_agree(layer: Labels) -> dict[int, str]:
    """The names, after checking that features, metadata and every reader say the same."""
    from_features = dict(zip(layer.features["index"], layer.features["name"], strict=True))
    assert {int(k): v for k, v in from_features.items()} == layer.metadata[NAMES_KEY]
    assert mt.label_names(layer) == layer.metadata[NAMES_KEY] == layer_label_table(layer).names
    return dict(layer.metadata[NAMES_KEY])


def test_dock_renames_recolours_and_adds_and_every_reader_agrees(
    make_napari_viewer, tmp_path: Path
) -> None:
    viewer = make_napari_viewer(show=True)
    layer = viewer.add_layer(_ivcviewer_labels())
    dock = LabelNamesWidget(viewer)
    viewer.window.add_dock_widget(dock, name="Label names")
    assert dock.layer is layer and dock.title == "Labels of 'anat'"
    assert [(v, n) for v, n, _ in dock.rows] == [(1, "liver"), (2, "kidney_right")]

    dock.rename(2, "  right kidney ")
    dock.recolour(1, "#ff8000")
    added = dock.add_label("tumour")
    assert added == 3 and layer.selected_label == 3
    assert _names_agree(layer) == {1: "liver", 2: "right kidney", 3: "tumour"}
    assert tuple(layer.get_color(1)) == pytest.approx((1.0, 128 / 255, 0.0, 1.0), abs=1e-6)
    assert dock.rows[0] == (1, "liver", (255, 128, 0, 255))

    # a name typed into the table goes the same way
    dock._table.item(0, 1).setText("hepar")
    assert _names_agree(layer)[1] == "hepar"
    with pytest.raises(IvcviewerError, match="non-empty name"):
        dock.rename(1, "  ")

    # the writer takes the same names and colours
    layer.data[0, 0, 0] = 3
    out = tmp_path / "named.nii.gz"
    viewer.layers.save(str(out), selected=True, plugin="ivcviewer")
    _, table = load_labels(out)
    assert table.names == {1: "hepar", 2: "right kidney", 3: "tumour"}
    assert table[1].rgba == pytest.approx((1.0, 128 / 255, 0.0, 1.0), abs=1e-6)


def test_features_are_the_truth_and_metadata_follows_them(make_napari_viewer) -> None:
    viewer = make_napari_viewer(show=True)
    layer = viewer.add_layer(_ivcviewer_labels())
    keep_names_in_step(layer)
    # napari's own features table (or a script) changes a name: metadata and readers follow
    layer.features = {"index": np.array([1, 2]), "name": np.array(["liver", "IVC"], dtype=object)}
    assert _names_agree(layer) == {1: "liver", 2: "IVC"}
    # a stale metadata copy never wins over the features
    layer.metadata[NAMES_KEY] = {1: "old", 2: "older"}
    assert mt.label_names(layer) == {1: "liver", 2: "IVC"}
    # a layer whose features name nothing still reads the names it carries in metadata
    bare = Labels(np.zeros((2, 2, 2), np.uint8), metadata={NAMES_KEY: {5: "spleen"}})
    assert mt.label_names(bare) == {5: "spleen"}


def test_dock_on_a_napari_layer_finds_painted_values_and_keeps_their_colours(
    make_napari_viewer,
) -> None:
    viewer = make_napari_viewer(show=True)
    dock = LabelNamesWidget(viewer)
    assert dock.title == NO_LAYER_TEXT and dock.rows == []
    data = np.zeros((3, 5, 5), np.uint8)
    data[0, 1, 1], data[1, 2, 2], data[2, 3, 3] = 4, 9, 6
    layer = viewer.add_labels(data)
    shown = {v: tuple(layer.get_color(v)) for v in (4, 6, 9)}
    dock.rename(9, "cyst")  # 4 and 6 are painted, not named: they keep their colour
    assert {v: tuple(layer.get_color(v)) for v in (4, 6)} == {v: shown[v] for v in (4, 6)}
    assert dock.find_painted() == [4, 6]
    assert _names_agree(layer) == {4: "label_4", 6: "label_6", 9: "cyst"}
    assert tuple(layer.get_color(9)) == pytest.approx(shown[9])
    assert dock.find_painted() == []
    viewer.layers.selection.active = None
    viewer.layers.selection.clear()
    assert dock.layer is None and dock.title == NO_LAYER_TEXT

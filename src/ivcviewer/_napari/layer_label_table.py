"""The names and colours of a Labels layer's values: one source of truth for every widget.

The truth is napari's own: a label's **name** is the ``name`` column of the layer's
``features`` table (the row whose ``index`` column is the label value: what napari shows when
the pointer is over a label, and what napari's features table edits), its **colour** is the
layer's ``colormap``. ``metadata["label_names"]`` (which older layers and ivcviewer's records
carry) is derived from ``features``: :func:`set_layer_label_table` writes both, and
:func:`keep_names_in_step` rewrites the metadata whenever napari changes the features.

:func:`layer_label_table` gives the :class:`~ivcviewer.io.LabelTable` every ivcviewer widget
and writer reads; :func:`table_of_state` the same from a layer's state (what npe2 writers
get).
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from ..io import LabelEntry, LabelTable, default_color, label_values

if TYPE_CHECKING:
    from napari.layers import Labels

#: The derived copy of the names in ``layer.metadata`` (value -> name).
NAMES_KEY = "label_names"
#: Layers whose metadata already follows their features.
_IN_STEP: weakref.WeakSet[Any] = weakref.WeakSet()
#: Transparent: the background and values no label uses.
CLEAR = (0.0, 0.0, 0.0, 0.0)


def _feature_names(features: Any) -> dict[int, str]:
    """Value -> name from a features table with ``index`` and ``name`` columns."""
    if features is None or "index" not in features or "name" not in features:
        return {}
    out: dict[int, str] = {}
    for index, name in zip(features["index"], features["name"], strict=True):
        value = int(index)
        text = "" if name is None else str(name).strip()
        if value > 0 and text and text.lower() != "nan":
            out[value] = text
    return out


def _colour(colormap: Any, value: int) -> tuple[float, float, float, float]:
    """The RGBA colour ``colormap`` gives ``value`` (any napari label colormap)."""
    if colormap is None:
        return default_color(value)
    rgba = np.asarray(colormap.map(np.array([value])), dtype=float).reshape(-1)[:4]
    return (float(rgba[0]), float(rgba[1]), float(rgba[2]), float(rgba[3]))


def names_of_state(features: Any, metadata: Mapping[str, Any] | None = None) -> dict[int, str]:
    """Value -> name from ``features``; only when they name nothing from the derived
    ``metadata["label_names"]`` (a layer made before its features were set)."""
    names = _feature_names(features)
    stored = None if metadata is None else metadata.get(NAMES_KEY)
    if not names and isinstance(stored, Mapping):
        for key, name in stored.items():
            text = str(name).strip()
            if int(key) > 0 and text:
                names[int(key)] = text
    return names


def table_of_state(
    features: Any,
    colormap: Any,
    metadata: Mapping[str, Any] | None = None,
    painted_values: Iterable[int] = (),
) -> LabelTable:
    """The label table of a layer given by its ``features``, ``colormap`` and ``metadata``
    (names by :func:`names_of_state`, colours by ``colormap``); each of ``painted_values``
    without a name is added as ``label_<value>`` in the colour it is shown in."""
    names = names_of_state(features, metadata)
    for value in {int(v) for v in painted_values} - set(names) - {0}:
        names[value] = f"label_{value}"
    return LabelTable({v: LabelEntry(n, _colour(colormap, v)) for v, n in names.items()})


def layer_label_table(layer: Labels) -> LabelTable:
    """The names and colours of a Labels layer's values (named values only)."""
    return table_of_state(layer.features, layer.colormap, layer.metadata)


def label_names(layer: Labels) -> dict[int, str]:
    """Value -> name of a Labels layer (:func:`names_of_state`)."""
    return names_of_state(getattr(layer, "features", None), layer.metadata)


#: What a direct colormap made from napari's cyclic one shows for values it does not list (so
#: that a value painted later is seen until it is named and coloured).
UNLISTED = (0.8, 0.8, 0.8, 1.0)


def _colour_dict(layer: Labels, table: LabelTable, painted_values: Iterable[int]) -> dict[Any, Any]:
    """A direct colormap: the table's colours; other values keep the colour they are shown in
    (those the old colormap lists, ``painted_values``, and all the painted values when the old
    colormap is napari's cyclic one)."""
    from napari.utils.colormaps import DirectLabelColormap

    old = layer.colormap
    values = {int(v) for v in painted_values}
    if isinstance(old, DirectLabelColormap):
        values |= {int(k) for k in old.color_dict if k is not None}
        unlisted = tuple(float(c) for c in old.color_dict.get(None, CLEAR))
    else:
        values |= set(label_values(np.asarray(layer.data)))
        unlisted = UNLISTED
    out: dict[Any, Any] = {None: unlisted, 0: CLEAR}
    for value in sorted(values - set(table) - {0}):
        out[value] = _colour(old, value)
    for value, rgba in table.colors.items():
        out[value] = rgba
    return out


def set_layer_label_table(
    layer: Labels, table: LabelTable, painted_values: Iterable[int] = ()
) -> None:
    """Give a Labels layer the names and colours of ``table``.

    Writes ``features`` (``index``, ``name``; other columns of named rows are kept), the
    colormap (a direct one; values outside the table keep the colour they are shown in, see
    :func:`_colour_dict`) and the derived ``metadata["label_names"]``.
    """
    from napari.utils.colormaps import DirectLabelColormap

    old = layer.features
    values = list(table)
    feats: dict[str, Any] = {
        "index": np.array(values, dtype=int),
        "name": np.array([table[v].name for v in values], dtype=object),
    }
    if "index" in old and len(old):
        rows = {int(i): k for k, i in enumerate(old["index"])}
        for column in old.columns:
            if column in feats:
                continue
            col = old[column].to_numpy()
            feats[column] = np.array(
                [col[rows[v]] if v in rows else None for v in values], dtype=object
            )
    layer.colormap = DirectLabelColormap(color_dict=_colour_dict(layer, table, painted_values))
    layer.features = feats
    layer.metadata[NAMES_KEY] = table.names


def _sync_metadata(layer: Labels) -> None:
    layer.metadata[NAMES_KEY] = names_of_state(layer.features, layer.metadata)


def keep_names_in_step(layer: Labels) -> None:
    """Rewrite ``metadata["label_names"]`` from ``features`` now and whenever they change."""
    _sync_metadata(layer)
    if layer not in _IN_STEP:
        layer.events.features.connect(lambda _e=None: _sync_metadata(layer))
        _IN_STEP.add(layer)


__all__ = [
    "NAMES_KEY",
    "keep_names_in_step",
    "label_names",
    "layer_label_table",
    "names_of_state",
    "set_layer_label_table",
    "table_of_state",
]

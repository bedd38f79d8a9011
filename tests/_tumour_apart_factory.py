"""A label map whose tumour is labelled apart from the IVC, from the small phantom's truth.

As a segmentation with a tumour class gives it: the IVC's lumen where no tumour is
(``inferior_vena_cava``), the intravascular tumour under a label of its own named as the case's
finding (``intravascular_tumour``), the other structures as they are; the mass is left out (the
fit must place it).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ivcviewer.io import LabelTable, load_labels, save_labels
from ivcviewer.volume import Volume

#: The label left out of the anatomy.
MASS = "mass"


def tumour_apart_labelmap(phantom_folder: Path) -> tuple[Volume, dict[int, str]]:
    """The truth label map of a written phantom without the mass, and its names."""
    labels, table = load_labels(phantom_folder / "labels.nii.gz")
    names = table.names
    assert "intravascular_tumour" in names.values() and "inferior_vena_cava" in names.values()
    arr = np.asarray(labels.array).copy()
    arr[arr == table.value_of(MASS)] = 0
    kept = {v: n for v, n in names.items() if n != MASS}
    return labels.with_array(arr), kept


def write_tumour_apart_labelmap(phantom_folder: Path, out: Path) -> tuple[Path, Volume, dict]:
    """Write :func:`tumour_apart_labelmap` as ``out`` (with its ``_labels.json``)."""
    labels, names = tumour_apart_labelmap(phantom_folder)
    _, table = load_labels(phantom_folder / "labels.nii.gz")
    kept = LabelTable({v: table[v] for v in names})
    out.parent.mkdir(parents=True, exist_ok=True)
    path, _ = save_labels(labels, kept, out)
    return path, labels, names

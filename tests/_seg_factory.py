"""Small DICOM CT series with SEG objects made by highdicom on them, for the SEG reader tests."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import highdicom as hd
import numpy as np
import pydicom
from numpy.typing import NDArray
from pydicom.dataset import Dataset
from pydicom.sr.codedict import codes

from ivcviewer.dicom import write_ct_series
from ivcviewer.io import open_path
from ivcviewer.volume import Volume

#: Segment label -> (category, type) used when a test gives no codes.
DEFAULT_CODES = {
    "liver": (codes.SCT.Organ, codes.SCT.Liver),
    "kidney": (codes.SCT.Organ, codes.SCT.Kidney),
}


def dicom_ct(folder: Path, volume: Volume, seed: str = "ct") -> tuple[Volume, list[Dataset]]:
    """Write ``volume`` as a CT series into ``folder``; the CT read back and its datasets."""
    files = write_ct_series(volume, folder, uid_seed=seed)
    ct = open_path(folder)[0]
    return ct, [pydicom.dcmread(f) for f in files]


def write_seg(
    path: Path,
    sources: Sequence[Dataset],
    masks: NDArray[np.generic],
    labels: Sequence[str],
    *,
    kind: str = "binary",
    colours: Mapping[str, tuple[int, int, int]] | None = None,
    segment_codes: Sequence[tuple[hd.sr.CodedConcept, ...]] | None = None,
) -> Path:
    """A SEG of ``masks`` on the CT ``sources`` (in slice order), one segment per label.

    ``masks`` is ``(slice, row, col, segment)`` booleans for ``binary``, ``(slice, row, col)``
    segment numbers for ``labelmap``, or ``(slice, row, col, segment)`` floats 0..1 for
    ``fractional``.
    """
    descriptions = []
    for i, label in enumerate(labels, start=1):
        if segment_codes is not None:
            cat, typ, *mod = segment_codes[i - 1]
        else:
            cat, typ = DEFAULT_CODES.get(label.lower(), (codes.SCT.Tissue, codes.SCT.Tissue))
            mod = []
        rgb = (colours or {}).get(label)
        desc = hd.seg.SegmentDescription(
            i,
            label,
            cat,
            typ,
            hd.seg.SegmentAlgorithmTypeValues.MANUAL,
            display_color=hd.color.CIELabColor.from_rgb(*rgb) if rgb else None,
        )
        if mod:
            item = Dataset()
            item.CodeValue, item.CodingSchemeDesignator = mod[0].value, mod[0].scheme_designator
            item.CodeMeaning = mod[0].meaning
            desc.SegmentedPropertyTypeModifierCodeSequence = [item]
        descriptions.append(desc)
    seg_type = {
        "binary": hd.seg.SegmentationTypeValues.BINARY,
        "labelmap": hd.seg.SegmentationTypeValues.LABELMAP,
        "fractional": hd.seg.SegmentationTypeValues.FRACTIONAL,
    }[kind]
    pixels = masks.astype(np.float32 if kind == "fractional" else np.uint8)
    seg = hd.seg.Segmentation(
        list(sources),
        pixels,
        seg_type,
        descriptions,
        hd.UID(),
        1,
        hd.UID(),
        1,
        "ivcviewer tests",
        "factory",
        "1",
        "1",
    )
    seg.save_as(path)
    return path

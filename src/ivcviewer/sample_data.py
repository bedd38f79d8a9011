"""The sample data shipped with ivcviewer: a real abdominal CT with its anatomy label map.

The TotalSegmentator example CT (abdomen and pelvis, 3 mm, without contrast) and the label map
of its 62 structures with their names; CC BY 4.0, with the attribution and the source in
``ATTRIBUTION.md`` beside the files. The files live in ``sample_data/`` at the top of the
source checkout; a wheel carries them in ``ivcviewer/data/sample_data`` (see
:mod:`ivcviewer._shipped`). Nothing is downloaded.

Qt-free: napari's *Open Sample* menu (``ivcviewer._napari.sample_data``) and ``ivcviewer demo``
both open these paths.

Examples
--------
>>> sample = real_abdominal_ct()
>>> sample.ct.name, sample.labels.name
('example_ct.nii.gz', 'example_ct_totalseg_v1.nii.gz')
>>> sample.names.name
'example_ct_totalseg_v1_labels.json'
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ._shipped import shipped_dir
from .errors import IvcviewerError

#: Folder of the sample data inside the installed package (under ``ivcviewer/data``).
PACKAGED_SAMPLE_DATA = "sample_data"

#: Folder of the sample data at the top of the source checkout.
CHECKOUT_SAMPLE_DATA = "sample_data"

#: File names of the real abdominal CT's files.
REAL_CT_FILE = "example_ct.nii.gz"
REAL_LABELS_FILE = "example_ct_totalseg_v1.nii.gz"
REAL_NAMES_FILE = "example_ct_totalseg_v1_labels.json"
ATTRIBUTION_FILE = "ATTRIBUTION.md"

#: How a figure or a result that uses the real CT cites it.
REAL_CT_CITATION = (
    "Wasserthal J, et al. TotalSegmentator: robust segmentation of 104 anatomic structures in CT "
    "images. Radiol Artif Intell 2023;5(5):e230024. doi:10.1148/ryai.230024 (CC BY 4.0)"
)


@dataclass(frozen=True)
class SampleCT:
    """A shipped CT with its anatomy label map.

    Attributes
    ----------
    ct
        The CT (a NIfTI volume in HU).
    labels
        The anatomy label map, on the CT's grid and affine.
    names
        The label map's names (JSON ``{"value": "structure name"}``); it is the
        ``<stem>_labels.json`` beside the label map, which :func:`ivcviewer.io.load_labels`
        finds by itself.
    attribution
        Source, citation, licence and changes.
    citation
        One line to cite the data with.
    """

    ct: Path
    labels: Path
    names: Path
    attribution: Path
    citation: str


def sample_data_dir() -> Path:
    """Folder of the shipped sample data.

    Raises
    ------
    IvcviewerError
        When the installation lacks it.
    """
    return shipped_dir(PACKAGED_SAMPLE_DATA, CHECKOUT_SAMPLE_DATA)


def real_abdominal_ct() -> SampleCT:
    """The real abdominal CT with its TotalSegmentator label map and the label names.

    Raises
    ------
    IvcviewerError
        When one of its files is missing from the installation.
    """
    folder = sample_data_dir()
    sample = SampleCT(
        ct=folder / REAL_CT_FILE,
        labels=folder / REAL_LABELS_FILE,
        names=folder / REAL_NAMES_FILE,
        attribution=folder / ATTRIBUTION_FILE,
        citation=REAL_CT_CITATION,
    )
    missing = [p.name for p in (sample.ct, sample.labels, sample.names) if not p.is_file()]
    if missing:
        raise IvcviewerError(
            f"Sample data folder {folder}: lacks {', '.join(missing)} of the real abdominal CT. "
            "Fix: reinstall ivcviewer (pip install --force-reinstall ivcviewer), or in a "
            f"checkout run 'git checkout -- {CHECKOUT_SAMPLE_DATA}'."
        )
    return sample


__all__ = [
    "ATTRIBUTION_FILE",
    "REAL_CT_CITATION",
    "REAL_CT_FILE",
    "REAL_LABELS_FILE",
    "REAL_NAMES_FILE",
    "SampleCT",
    "real_abdominal_ct",
    "sample_data_dir",
]

"""Volume files (NIfTI, NRRD, MetaImage), label maps with their names, and one opener for all.

* :func:`load_volume` / :func:`save_volume`: CT volumes in NIfTI (``.nii``, ``.nii.gz``), NRRD
  (``.nrrd``, ``.nhdr``) and MetaImage (``.mha``, ``.mhd``); NIfTI's RAS becomes LPS here.
* :func:`load_labels` / :func:`save_labels`: label maps and their :class:`LabelTable`
  (value -> name and colour).
* :func:`open_path`: a DICOM folder, DICOMDIR, DICOM file or volume file -> volumes.
* :func:`read_volume_header`: a volume file's geometry without its voxels.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

if TYPE_CHECKING:
    from .formats import ACCEPTED, is_dicom_file, path_kind, volume_format, volume_stem
    from .header import VolumeHeader
    from .labels import LabelEntry, LabelTable, default_color
    from .open import open_path
    from .volumes import (
        find_label_sidecar,
        label_sidecar_path,
        label_values,
        load_labels,
        load_volume,
        read_volume_header,
        save_labels,
        save_volume,
    )

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        ".formats": ("ACCEPTED", "is_dicom_file", "path_kind", "volume_format", "volume_stem"),
        ".header": ("VolumeHeader",),
        ".labels": ("LabelEntry", "LabelTable", "default_color"),
        ".open": ("open_path",),
        ".volumes": (
            "find_label_sidecar",
            "label_sidecar_path",
            "label_values",
            "load_labels",
            "load_volume",
            "read_volume_header",
            "save_labels",
            "save_volume",
        ),
    },
)

__all__ = [
    "ACCEPTED",
    "LabelEntry",
    "LabelTable",
    "VolumeHeader",
    "default_color",
    "find_label_sidecar",
    "is_dicom_file",
    "label_sidecar_path",
    "label_values",
    "load_labels",
    "load_volume",
    "open_path",
    "path_kind",
    "read_volume_header",
    "save_labels",
    "save_volume",
    "volume_format",
    "volume_stem",
]

"""What kind of DICOM object a file holds, from the first elements of its header only.

:func:`dicom_object_kind` reads the file meta and the dataset up to ``Modality`` (0008,0060),
never the pixel data or the long per-frame sequences of a segmentation, so the napari reader and
the command line can ask it of any file cheaply.
"""

from __future__ import annotations

import os
from typing import Literal

import pydicom
from pydicom.errors import InvalidDicomError

from ..dicom.bounded_file import BoundedFile

ObjectKind = Literal["seg", "rtstruct", "sr"]

#: Segmentation Storage and Label Map Segmentation Storage.
SEG_CLASSES = frozenset({"1.2.840.10008.5.1.4.1.1.66.4", "1.2.840.10008.5.1.4.1.1.66.7"})
#: RT Structure Set Storage.
RTSTRUCT_CLASSES = frozenset({"1.2.840.10008.5.1.4.1.1.481.3"})
#: The structured report storage classes a measurement report may use (basic, enhanced,
#: comprehensive, comprehensive 3D, extensible).
SR_CLASSES = frozenset(
    {
        "1.2.840.10008.5.1.4.1.1.88.11",
        "1.2.840.10008.5.1.4.1.1.88.22",
        "1.2.840.10008.5.1.4.1.1.88.33",
        "1.2.840.10008.5.1.4.1.1.88.34",
        "1.2.840.10008.5.1.4.1.1.88.35",
    }
)
_BY_MODALITY: dict[str, ObjectKind] = {"SEG": "seg", "RTSTRUCT": "rtstruct", "SR": "sr"}

#: Last element read: (0008,0060) Modality.
_MODALITY_TAG = 0x00080060


def _kind_of_class(uid: str) -> ObjectKind | None:
    if uid in SEG_CLASSES:
        return "seg"
    if uid in RTSTRUCT_CLASSES:
        return "rtstruct"
    if uid in SR_CLASSES:
        return "sr"
    return None


def dicom_object_kind(path: str | os.PathLike[str]) -> ObjectKind | None:
    """``"seg"``, ``"rtstruct"`` or ``"sr"`` for a DICOM file of that kind, else None.

    The SOPClassUID decides (the dataset's, else the file meta's MediaStorageSOPClassUID); the
    Modality only when neither is set. Anything else (an image, a file that is not DICOM, a
    folder, an unreadable or damaged header) gives None: this never raises.

    >>> dicom_object_kind(__file__) is None
    True
    """
    try:
        if not os.path.isfile(path):
            return None
        with open(path, "rb") as fp:
            size = os.fstat(fp.fileno()).st_size
            ds = pydicom.filereader.read_partial(
                BoundedFile(fp, size),  # type: ignore[arg-type]
                stop_when=lambda tag, vr, length: tag > _MODALITY_TAG,
            )
    except (
        InvalidDicomError,
        OSError,
        ValueError,
        TypeError,
        EOFError,
        KeyError,
        AttributeError,
        NotImplementedError,
        OverflowError,
    ):
        return None
    sop = str(ds.get("SOPClassUID", "") or "").strip()
    meta = getattr(ds, "file_meta", None)
    media = str(meta.get("MediaStorageSOPClassUID", "") or "").strip() if meta else ""
    for uid in (sop, media):
        if uid:
            kind = _kind_of_class(uid)
            if kind is not None or uid == sop:
                return kind
    return _BY_MODALITY.get(str(ds.get("Modality", "") or "").strip().upper())

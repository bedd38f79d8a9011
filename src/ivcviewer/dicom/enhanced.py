"""Per-frame geometry and rescale of enhanced (multi-frame) images from their functional groups.

Enhanced CT (and the legacy converted enhanced classes) store each frame's position,
orientation, pixel spacing and rescale in the Shared Functional Groups Sequence (values common
to all frames) or the Per-frame Functional Groups Sequence (one item per frame); a per-frame
value wins over a shared one. The frame type (CT/MR/PET Image Frame Type Sequence), the
TemporalPositionIndex (Frame Content Sequence) and the EffectiveEchoTime (MR Echo Sequence) tell
the different kinds of images one file may hold apart (a magnitude image and a field map, two
echoes, several phases).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydicom.dataset import Dataset

from ..errors import DicomSeriesError


@dataclass(frozen=True)
class FrameGeometry:
    """What the functional groups say about one frame."""

    position: tuple[float, float, float] | None
    orientation: tuple[float, ...] | None
    pixel_spacing: tuple[float, float] | None
    slice_thickness: float | None
    rescale: tuple[float, float] | None  # (slope, intercept)
    window: tuple[float, float] | None
    frame_type: tuple[str, ...] = ()
    temporal_index: str = ""
    echo_time: str = ""


#: Functional group macros whose item holds the FrameType of a frame.
_FRAME_TYPE_MACROS = (
    "CTImageFrameTypeSequence",
    "MRImageFrameTypeSequence",
    "PETFrameTypeSequence",
)


def _item(seq_owner: Dataset | None, keyword: str) -> Dataset | None:
    """First item of sequence ``keyword`` in ``seq_owner``, if any."""
    if seq_owner is None:
        return None
    seq = seq_owner.get(keyword)
    if not seq:
        return None
    first: Dataset = seq[0]
    return first


def _lookup(shared: Dataset | None, frame: Dataset | None, macro: str) -> Dataset | None:
    """The macro's item, per-frame first, then shared."""
    return _item(frame, macro) or _item(shared, macro)


def _floats(value: Any) -> tuple[float, ...] | None:
    if value is None:
        return None
    try:
        return tuple(float(v) for v in value)
    except TypeError:
        return (float(value),)


def _text(value: Any) -> str:
    """A single value as text (``""`` for none); whole numbers without a decimal point.

    >>> _text(None), _text(12.0), _text(7.5), _text(3)
    ('', '12', '7.5', '3')
    """
    if value is None or value == "":
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _kind(shared: Dataset | None, frame: Dataset | None) -> tuple[tuple[str, ...], str, str]:
    """FrameType, TemporalPositionIndex and EffectiveEchoTime of one frame (empty when absent)."""
    frame_type: tuple[str, ...] = ()
    for macro in _FRAME_TYPE_MACROS:
        item = _lookup(shared, frame, macro)
        if item is not None and item.get("FrameType"):
            value = item.FrameType
            frame_type = tuple(
                str(v).strip().upper() for v in ([value] if isinstance(value, str) else value)
            )
            break
    content = _lookup(shared, frame, "FrameContentSequence")
    temporal = _text(content.get("TemporalPositionIndex")) if content is not None else ""
    echo = _lookup(shared, frame, "MREchoSequence")
    echo_time = _text(echo.get("EffectiveEchoTime")) if echo is not None else ""
    return frame_type, temporal, echo_time


def frame_geometries(ds: Dataset, path: Path) -> list[FrameGeometry]:
    """Per-frame geometry, rescale and window of an enhanced multi-frame dataset.

    Raises
    ------
    DicomSeriesError
        When the Per-frame Functional Groups Sequence does not hold one item per frame.
    """
    n = int(ds.get("NumberOfFrames", 1) or 1)
    shared = _item(ds, "SharedFunctionalGroupsSequence")
    per_frame = ds.get("PerFrameFunctionalGroupsSequence")
    if per_frame is not None and len(per_frame) != n:
        raise DicomSeriesError(
            f"{path}: PerFrameFunctionalGroupsSequence has {len(per_frame)} items for "
            f"NumberOfFrames {n}; the file is inconsistent and its frames cannot be placed."
        )
    out: list[FrameGeometry] = []
    for i in range(n):
        frame = per_frame[i] if per_frame is not None else None
        pos_item = _lookup(shared, frame, "PlanePositionSequence")
        ori_item = _lookup(shared, frame, "PlaneOrientationSequence")
        meas_item = _lookup(shared, frame, "PixelMeasuresSequence")
        pvt_item = _lookup(shared, frame, "PixelValueTransformationSequence")
        voi_item = _lookup(shared, frame, "FrameVOILUTSequence")
        position = _floats(pos_item.get("ImagePositionPatient")) if pos_item else None
        orientation = _floats(ori_item.get("ImageOrientationPatient")) if ori_item else None
        spacing = _floats(meas_item.get("PixelSpacing")) if meas_item else None
        thickness = meas_item.get("SliceThickness") if meas_item else None
        rescale = None
        if pvt_item is not None and "RescaleSlope" in pvt_item and "RescaleIntercept" in pvt_item:
            rescale = (float(pvt_item.RescaleSlope), float(pvt_item.RescaleIntercept))
        window = None
        if voi_item is not None and "WindowCenter" in voi_item and "WindowWidth" in voi_item:
            c, w = _floats(voi_item.WindowCenter), _floats(voi_item.WindowWidth)
            if c and w:
                window = (c[0], w[0])
        frame_type, temporal, echo_time = _kind(shared, frame)
        out.append(
            FrameGeometry(
                position=(position[0], position[1], position[2])
                if position and len(position) == 3
                else None,
                orientation=orientation if orientation and len(orientation) == 6 else None,
                pixel_spacing=(spacing[0], spacing[1]) if spacing and len(spacing) == 2 else None,
                slice_thickness=float(thickness) if thickness not in (None, "") else None,
                rescale=rescale,
                window=window,
                frame_type=frame_type,
                temporal_index=temporal,
                echo_time=echo_time,
            )
        )
    return out

"""What the header of one DICOM image says, and why a file is left out.

The records a header read produces (:class:`ImageRecord` with its :class:`PixelFormat`, and
:class:`ImageHeader` with the series-level attributes used for grouping), the
:class:`SkippedFile` of a file that is left out, and the SOP class and transfer syntax
vocabularies that decide which files make volumes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydicom import uid as pduid

from ..report import ReportCode, report_code
from .mosaic import MosaicLayout

#: Single-frame cross-sectional image classes whose files are stacked into volumes.
SINGLE_FRAME_CLASSES: frozenset[str] = frozenset(
    {
        pduid.CTImageStorage,
        pduid.MRImageStorage,
        pduid.PositronEmissionTomographyImageStorage,
    }
)

#: Enhanced (multi-frame) cross-sectional classes read through their functional groups.
MULTI_FRAME_CLASSES: frozenset[str] = frozenset(
    {
        pduid.EnhancedCTImageStorage,
        pduid.LegacyConvertedEnhancedCTImageStorage,
        pduid.EnhancedMRImageStorage,
        pduid.LegacyConvertedEnhancedMRImageStorage,
        pduid.EnhancedPETImageStorage,
        pduid.LegacyConvertedEnhancedPETImageStorage,
    }
)

#: Secondary capture classes (screenshots, scanned documents): never stacked.
SECONDARY_CAPTURE_CLASSES: frozenset[str] = frozenset(
    {
        pduid.SecondaryCaptureImageStorage,
        pduid.MultiFrameSingleBitSecondaryCaptureImageStorage,
        pduid.MultiFrameGrayscaleByteSecondaryCaptureImageStorage,
        pduid.MultiFrameGrayscaleWordSecondaryCaptureImageStorage,
        pduid.MultiFrameTrueColorSecondaryCaptureImageStorage,
    }
)

#: Uncompressed little-endian syntaxes whose pixel bytes can be read in place.
NATIVE_LE_SYNTAXES: frozenset[str] = frozenset(
    {pduid.ImplicitVRLittleEndian, pduid.ExplicitVRLittleEndian}
)


@dataclass(frozen=True)
class SkippedFile:
    """A file a scan left out, with a report code and the reason."""

    path: Path
    code: ReportCode
    reason: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "code", report_code(self.code))

    def to_dict(self) -> dict[str, str]:
        """JSON form ``{path, code, reason}``."""
        return {"path": str(self.path), "code": self.code.value, "reason": self.reason}


@dataclass(frozen=True)
class PixelFormat:
    """How the stored pixel values of a stack are encoded."""

    rows: int
    columns: int
    bits_allocated: int
    bits_stored: int
    pixel_representation: int
    samples_per_pixel: int
    photometric: str
    transfer_syntax: str

    @property
    def frame_bytes(self) -> int:
        """Bytes of one uncompressed frame."""
        return self.rows * self.columns * self.samples_per_pixel * self.bits_allocated // 8

    @property
    def compressed(self) -> bool:
        """The pixel data is encapsulated (compressed)."""
        return bool(pduid.UID(self.transfer_syntax).is_compressed)


@dataclass(frozen=True)
class ImageRecord:
    """One image (a file, or one frame of a multi-frame file) as its header describes it."""

    path: Path
    frame: int
    n_frames: int
    sop_class_uid: str
    position: tuple[float, float, float]
    orientation: tuple[float, ...]
    pixel_spacing: tuple[float, float]
    slice_thickness: float | None
    rescale: tuple[float, float] | None
    window: tuple[float, float] | None
    instance_number: int
    acquisition_number: str
    image_type: tuple[str, ...]
    pixel_format: PixelFormat
    data_offset: int | None
    """Absolute byte offset of this frame's stored values, for uncompressed little-endian
    files whose PixelData element was checked; ``None`` means: decode through pydicom."""
    echo: str = ""
    """EchoNumbers (or, for an enhanced MR frame, its EffectiveEchoTime in ms); ``""`` if none."""
    temporal_index: str = ""
    """TemporalPositionIndex (or TemporalPositionIdentifier); ``""`` if none."""
    mosaic: MosaicLayout | None = None
    """How the slices of a vendor mosaic image are tiled (``None``: an ordinary image)."""

    def describe(self) -> str:
        """The file, and the frame number (from 1) when the file holds several frames."""
        return str(self.path) + (f" frame {self.frame + 1}" if self.n_frames > 1 else "")


@dataclass(frozen=True)
class ImageHeader:
    """Series-level attributes of one image, used for grouping."""

    record: ImageRecord
    series_uid: str
    study_uid: str
    frame_of_reference_uid: str
    modality: str
    description: str
    series_number: int | None
    patient_id: str

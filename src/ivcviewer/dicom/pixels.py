"""Stored pixel values: in-place reads of uncompressed frames, decoders for compressed ones,
and the modality LUT (RescaleSlope/Intercept) to HU.

Uncompressed little-endian frames are read straight from the file into the caller's output
array (no intermediate copy). JPEG 2000 and High-Throughput JPEG 2000 frames are decoded by
imagecodecs' OpenJPEG straight into the output array; it releases the GIL, so threads decode
frames in parallel. Other compressed frames go through pydicom's decoder plugins (pylibjpeg
with its openjpeg, libjpeg and rle back ends, or Pillow); a missing decoder raises
:class:`~ivcviewer.errors.MissingDecoderError` naming the transfer syntax and the package to
install.
"""

from __future__ import annotations

import importlib.util
import struct
import zlib
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pydicom import uid as pduid

from ..errors import DicomSeriesError, MissingDecoderError
from .bounded_file import dcmread_bounded
from .library_messages import first_notes, library_messages

#: pip packages that provide a decoder for each compressed transfer syntax.
DECODER_PACKAGES: dict[str, str] = {
    pduid.JPEG2000Lossless: "pylibjpeg pylibjpeg-openjpeg",
    pduid.JPEG2000: "pylibjpeg pylibjpeg-openjpeg",
    pduid.HTJ2KLossless: "pylibjpeg pylibjpeg-openjpeg",
    pduid.HTJ2KLosslessRPCL: "pylibjpeg pylibjpeg-openjpeg",
    pduid.HTJ2K: "pylibjpeg pylibjpeg-openjpeg",
    pduid.JPEGBaseline8Bit: "pylibjpeg pylibjpeg-libjpeg",
    pduid.JPEGExtended12Bit: "pylibjpeg pylibjpeg-libjpeg",
    pduid.JPEGLossless: "pylibjpeg pylibjpeg-libjpeg",
    pduid.JPEGLosslessSV1: "pylibjpeg pylibjpeg-libjpeg",
    pduid.JPEGLSLossless: "pylibjpeg pylibjpeg-libjpeg",
    pduid.JPEGLSNearLossless: "pylibjpeg pylibjpeg-libjpeg",
    pduid.RLELossless: "pylibjpeg pylibjpeg-rle",
}


#: Transfer syntaxes whose frames imagecodecs' OpenJPEG decodes on threads (GIL released):
#: JPEG 2000 (lossless and lossy) and High-Throughput JPEG 2000 (lossless, lossless RPCL, lossy).
THREADED_SYNTAXES: frozenset[str] = frozenset(
    (
        pduid.JPEG2000Lossless,
        pduid.JPEG2000,
        pduid.HTJ2KLossless,
        pduid.HTJ2KLosslessRPCL,
        pduid.HTJ2K,
    )
)


@cache
def _imagecodecs_jpeg2k() -> bool:
    """Whether imagecodecs with its OpenJPEG codec is installed (checked once)."""
    if importlib.util.find_spec("imagecodecs") is None:
        return False
    import imagecodecs

    return bool(getattr(imagecodecs, "JPEG2K", None) and imagecodecs.JPEG2K.available)


def threaded_decoding(transfer_syntax: str) -> bool:
    """Whether frames of ``transfer_syntax`` are decoded on threads by imagecodecs.

    >>> threaded_decoding("1.2.840.10008.1.2.1")
    False
    """
    return str(transfer_syntax) in THREADED_SYNTAXES and _imagecodecs_jpeg2k()


def syntax_name(transfer_syntax: str) -> str:
    """Readable name of a transfer syntax.

    >>> syntax_name("1.2.840.10008.1.2.4.90")
    'JPEG 2000 Image Compression (Lossless Only)'
    """
    return str(pduid.UID(transfer_syntax).name)


def check_decoder(transfer_syntax: str, path: Path | str) -> None:
    """Raise :class:`MissingDecoderError` when no installed plugin decodes ``transfer_syntax``.

    Uncompressed syntaxes always pass.
    """
    ts = pduid.UID(transfer_syntax)
    if not ts.is_compressed or threaded_decoding(ts):
        return
    package = DECODER_PACKAGES.get(str(ts), "pylibjpeg pylibjpeg-openjpeg pylibjpeg-libjpeg")
    from pydicom.pixels.decoders.base import get_decoder

    try:
        decoder = get_decoder(ts)
    except NotImplementedError as exc:
        raise MissingDecoderError(
            f"{path}: pixel data uses the transfer syntax {ts.name} ({ts}), which no pydicom "
            f"decoder supports; convert the series (for example with dcmtk's dcmdjpeg) first."
        ) from exc
    if not decoder.is_available:
        raise MissingDecoderError(
            f"{path}: pixel data is compressed with {ts.name} ({ts}) and no decoder for it is "
            f"installed; install one with: pip install {package}"
        )


def read_native_frame(path: Path, offset: int, out: NDArray[Any]) -> None:
    """Read one uncompressed little-endian frame at ``offset`` straight into ``out``.

    ``out`` must be C-contiguous with exactly the frame's byte size.

    Raises
    ------
    DicomSeriesError
        When the file is shorter than expected (truncated since the scan).
    """
    view = out.data.cast("B")
    with open(path, "rb", buffering=0) as f:
        f.seek(offset)
        got = 0
        while got < len(view):
            n = f.readinto(view[got:])
            if not n:
                raise DicomSeriesError(
                    f"{path}: pixel data ends after {got} of {len(view)} bytes (the file is "
                    "truncated); restore the file or load with it left out."
                )
            got += n


def decode_jpeg2k_frames(
    path: str, frames: Sequence[int], outs: Sequence[NDArray[Any] | None]
) -> list[NDArray[Any]]:
    """Decode JPEG 2000 / HTJ2K frames of one file with imagecodecs (stored values, no rescale).

    Each frame is decoded into its entry of ``outs`` when that is an array of the frame's shape
    and item size (bits are taken as they come; the caller applies BitsStored and the sign), or
    into a new array when it is None. The decoder runs without the GIL, so several threads
    decode at once. Returns the decoded arrays.

    Raises
    ------
    DicomSeriesError
        When the file cannot be read again or a frame cannot be decoded (as
        :func:`decode_frames`).
    """
    import imagecodecs
    from pydicom.encaps import get_frame

    with library_messages() as notes:
        try:
            ds = dcmread_bounded(path)
            n_frames = int(ds.get("NumberOfFrames", 1) or 1)
            decoded = []
            for frame, out in zip(frames, outs, strict=True):
                data = get_frame(ds.PixelData, frame, number_of_frames=n_frames)
                decoded.append(imagecodecs.jpeg2k_decode(data, numthreads=1, out=out))
            failure: BaseException | None = None
        except DECODE_FAILURES as exc:
            failure = exc
    if failure is None:
        return decoded
    raise DicomSeriesError(decode_failure_message(path, failure, notes)) from failure


def decode_frames(path: str, frames: Sequence[int]) -> list[NDArray[Any]]:
    """Decode frames of one file through pydicom's pixel decoders (stored values, no rescale).

    Runs in worker processes too, so it takes and returns picklable values.

    Raises
    ------
    DicomSeriesError
        When the file cannot be read again or a frame cannot be decoded: one line naming the
        file, what is wrong in ivcviewer's words and the fix, the decoder's words after it.
    """
    from pydicom.pixels.decoders.base import get_decoder

    with library_messages() as notes:
        try:
            ds = dcmread_bounded(path)
            ts = ds.file_meta.TransferSyntaxUID
            decoder = get_decoder(ts)
            out = []
            for frame in frames:
                arr, _ = decoder.as_array(ds, index=frame)
                out.append(arr)
            failure: BaseException | None = None
        except DECODE_FAILURES as exc:
            failure = exc
    if failure is None:
        return out
    raise DicomSeriesError(decode_failure_message(path, failure, notes)) from failure


#: What pydicom and its decoder plugins (openjpeg, libjpeg, Pillow, the RLE decoders) raise on
#: damaged pixel data.
DECODE_FAILURES: tuple[type[BaseException], ...] = (
    ValueError,
    RuntimeError,
    OSError,
    EOFError,
    AttributeError,
    KeyError,
    IndexError,
    TypeError,
    NotImplementedError,
    OverflowError,
    struct.error,
    zlib.error,
    MemoryError,
)

#: Library wording -> what it means, in the order tried.
_DECODE_CAUSES: tuple[tuple[str, str], ...] = (
    ("End of file reached before delimiter", "the file ends inside its pixel data (truncated)"),
    ("no 'Pixel Data'", "the file ends inside its pixel data (truncated)"),
    ("Basic Offset Table", "the offset table of its compressed frames is damaged"),
    (
        "matches the expected number for uncompressed",
        ("its pixel data is stored uncompressed, yet the TransferSyntaxUID says compressed"),
    ),
    ("Expected explicit VR", "its data set is not encoded as its TransferSyntaxUID says"),
    ("Expected implicit VR", "its data set is not encoded as its TransferSyntaxUID says"),
    ("cannot identify image", "a compressed frame is damaged (no decoder recognises it)"),
    ("Unable to decode", "a compressed frame is damaged (every installed decoder failed)"),
    ("libjpeg error", "a JPEG frame is damaged (the JPEG decoder failed)"),
    ("J2K", "a JPEG 2000 frame is damaged (the JPEG 2000 decoder failed)"),
    ("Jpeg2k", "a JPEG 2000 frame is damaged (the JPEG 2000 decoder failed)"),
    ("RLE", "an RLE frame is damaged (the RLE decoder failed)"),
)


def decode_failure_message(path: str, exc: BaseException, notes: Sequence[str] = ()) -> str:
    """One line saying why the pixel data of ``path`` cannot be decoded, and what to do.

    >>> decode_failure_message("a.dcm", ValueError("End of file reached before delimiter"))[:66]
    'a.dcm: pixel data cannot be decoded: the file ends inside its pixe'
    """
    detail = " ".join(f"{type(exc).__name__}: {exc}".split())
    words = " ".join([detail, *notes])
    if isinstance(exc, MemoryError):
        cause = "decoding it needs more memory than is free (its declared size may be damaged)"
    else:
        cause = next(
            (meaning for key, meaning in _DECODE_CAUSES if key in words),
            "the pixel data is damaged",
        )
    note = f"; pydicom: {first_notes(list(notes), 1)}" if notes and notes[0] not in detail else ""
    text = detail + note
    text = text if len(text) <= 240 else text[:239] + "..."
    return (
        f"{path}: pixel data cannot be decoded: {cause}. Fix: restore the file from its source, "
        f"or move it out of the folder to load the rest of the series ({text})."
    )


def decode_batch(items: Sequence[tuple[str, Sequence[int]]]) -> list[list[NDArray[Any]]]:
    """:func:`decode_frames` for several files (one task of a worker pool)."""
    return [decode_frames(path, frames) for path, frames in items]


def stored_view(buffer: NDArray[np.int16], pixel_representation: int) -> NDArray[Any]:
    """The int16 buffer seen with the stored values' signedness (same memory)."""
    return buffer.view(np.uint16) if pixel_representation == 0 else buffer


def fix_bits_stored(stored: NDArray[Any], bits_stored: int, signed: bool) -> tuple[int, int]:
    """Clear (or sign-extend) the bits above BitsStored in place; return ``(min, max)``.

    >>> a = np.array([0x0FFF, 0xF001], dtype=np.uint16)
    >>> fix_bits_stored(a, 12, False), a.tolist()
    ((1, 4095), [4095, 1])
    >>> b = np.array([0x0FFF], dtype=np.uint16).view(np.int16)
    >>> fix_bits_stored(b, 12, True), b.tolist()
    ((-1, -1), [-1])
    """
    lo, hi = int(stored.min()), int(stored.max())
    nbits = stored.dtype.itemsize * 8
    if bits_stored >= nbits:
        return lo, hi
    if signed:
        top = (1 << (bits_stored - 1)) - 1
        if lo >= -top - 1 and hi <= top:
            return lo, hi
        shift = nbits - bits_stored
        np.left_shift(stored, shift, out=stored)
        np.right_shift(stored, shift, out=stored)
    else:
        if hi < (1 << bits_stored):
            return lo, hi
        np.bitwise_and(stored, (1 << bits_stored) - 1, out=stored)
    return int(stored.min()), int(stored.max())


def rescale_in_place_int16(
    buffer: NDArray[np.int16], lo: int, hi: int, slope: float, intercept: float
) -> bool:
    """Turn stored values in ``buffer`` into HU in place when the result fits int16.

    ``lo``/``hi`` are the stored minimum and maximum (with their true signedness). The
    arithmetic runs modulo 2**16 on the int16 buffer, which is exact when the final values fit.
    Returns False (buffer untouched) when the slope or intercept is not integral or the HU
    range does not fit int16.

    >>> b = np.array([0, 1024, 4095], dtype=np.uint16).view(np.int16)
    >>> rescale_in_place_int16(b, 0, 4095, 1.0, -1024.0), b.tolist()
    (True, [-1024, 0, 3071])
    """
    if slope != int(slope) or intercept != int(intercept):
        return False
    s, b = int(slope), int(intercept)
    hu = (s * lo + b, s * hi + b)
    if min(hu) < -32768 or max(hu) > 32767 or not (-32768 <= s <= 32767 and -32768 <= b <= 32767):
        return False
    if s != 1:
        np.multiply(buffer, np.int16(s), out=buffer, casting="unsafe")
    if b != 0:
        np.add(buffer, np.int16(b), out=buffer, casting="unsafe")
    return True


def stored_dtype(bits_allocated: int, pixel_representation: int) -> np.dtype[Any]:
    """numpy dtype of uncompressed stored values.

    >>> stored_dtype(16, 0), stored_dtype(8, 1)
    (dtype('uint16'), dtype('int8'))
    """
    kinds = {8: "i1", 16: "i2", 32: "i4"}
    if bits_allocated not in kinds:
        raise DicomSeriesError(
            f"BitsAllocated {bits_allocated} is not supported for CT volumes (8, 16 or 32)."
        )
    code = kinds[bits_allocated]
    return np.dtype(("<" + code) if pixel_representation else ("<u" + code[1:]))

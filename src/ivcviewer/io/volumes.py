"""Volume files (NIfTI, NRRD, MetaImage) and label maps: read and write :class:`Volume` s."""

from __future__ import annotations

import contextlib
import json
import os
import stat
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .. import geometry
from .._files import file_kind
from ..errors import IvcviewerError, ResourceLimitError, VolumeFormatError
from ..limits import Limits, default_limits
from ..report import GeometryReport, ReportCode, Severity
from ..volume import ABDOMEN_WINDOW, Volume, VolumeMetadata, hu_dtype
from . import nifti_backend, sitk_backend
from .formats import (
    atomic_output,
    check_output_path,
    not_found,
    volume_format,
    volume_stem,
    write_text_atomic,
)
from .header import VolumeHeader
from .labels import LabelTable

PathLike = str | os.PathLike[str]
#: What ``load_labels(names=...)`` accepts.
LabelNames = PathLike | Mapping[int, str] | LabelTable | None

#: Sidecar names tried next to a label map ``<stem>.<ext>``, in order.
SIDECAR_ENDINGS: tuple[str, ...] = ("_labels.json", "_labels.txt")

#: Smallest direction component, in absolute value, of an axis counted as aligned (~0.8 deg).
_ALIGNED_COS = 1.0 - 1e-4


def _format_of(path: Path) -> str:
    fmt = volume_format(path)
    if fmt is None:
        if not path.exists():
            raise not_found(path)
        raise VolumeFormatError(
            f"{path}: {_what_it_is(path)}, not a volume file; a volume file is a regular file "
            "ending in .nii, .nii.gz, .nrrd, .nhdr, .mha or .mhd. Fix: give a volume file with "
            "one of these endings (DICOM input is opened with open_path)."
        )
    return fmt


def _what_it_is(path: Path) -> str:
    """What ``path`` is, in words: a folder, a FIFO, a device, or a file with some ending."""
    mode = path.stat().st_mode
    if not stat.S_ISREG(mode):
        return file_kind(mode)
    suffix = path.suffix
    if not suffix:
        return "a file with no ending"
    return f"a file ending in {suffix if len(suffix) <= 24 else suffix[:21] + '...'!r}"


@contextlib.contextmanager
def reading(path: Path, what: str = "volume file") -> Iterator[None]:
    """The one place where an image library's exceptions become ivcviewer's errors.

    Domain errors and the operating system's "not found" / "permission denied" pass through;
    anything else raised while ``path`` is read (nibabel's ``HeaderDataError``, a ``KeyError``
    or ``ValueError`` from a damaged header, SimpleITK's ``RuntimeError``, a ``RecursionError``,
    ...) becomes a :class:`~ivcviewer.errors.VolumeFormatError` naming the file, with the
    library's detail in parentheses at the end; a ``MemoryError`` becomes a
    :class:`~ivcviewer.errors.ResourceLimitError`.
    """
    try:
        yield
    except (IvcviewerError, FileNotFoundError, PermissionError, IsADirectoryError):
        raise
    except MemoryError:
        raise ResourceLimitError(
            f"{path}: reading the {what} ran out of memory. Fix: check the file (its header "
            "may declare too large an image), or free memory and try again."
        ) from None
    except Exception as exc:  # the library boundary: every other failure is the file's
        detail = " ".join(str(exc).split())
        detail = detail if len(detail) <= 160 else detail[:157] + "..."
        raise VolumeFormatError(
            f"{path}: the {what} cannot be read; it is damaged or not what its name says. Fix: "
            f"check that the file is complete and export it again ({type(exc).__name__}"
            + (f": {detail})" if detail else ")")
        ) from None


def _backend_read(path: Path, limits: Limits) -> tuple[VolumeHeader, NDArray[Any]]:
    if not path.exists():
        raise not_found(path)
    if path.is_dir():
        raise VolumeFormatError(
            f"{path}: a folder, not a volume file; a volume file is a regular file ending in "
            ".nii, .nii.gz, .nrrd, .nhdr, .mha or .mhd. Fix: give a volume file (a DICOM folder "
            "is opened with open_path)."
        )
    fmt = _format_of(path)
    with reading(path):
        if fmt == "nifti":
            return nifti_backend.read(path, limits)
        return sitk_backend.read(path, limits)


def read_volume_header(path: PathLike, *, limits: Limits | None = None) -> VolumeHeader:
    """Read a volume file's header only: shape ``(slice, row, col)``, LPS affine, type.

    Parameters
    ----------
    path
        A ``.nii``, ``.nii.gz``, ``.nrrd``, ``.nhdr``, ``.mha`` or ``.mhd`` file.
    limits
        The memory budget the declared size must fit (default: :func:`default_limits`).

    Returns
    -------
    VolumeHeader
        With a report (orientation, scaling, obliquity).

    Raises
    ------
    FileNotFoundError
        When the file does not exist.
    VolumeFormatError
        For an unknown ending, an unreadable file or damaged header, or a 2D, 4D or vector
        image.
    ResourceLimitError
        For a header that declares more voxels than the memory budget allows.
    """
    p = Path(path)
    if not p.exists():
        raise not_found(p)
    fmt = _format_of(p)
    with reading(p):
        if fmt == "nifti":
            header = nifti_backend.read_header(p, limits)
        else:
            header = sitk_backend.read_header(p, limits)
        _geometry_report(header)
    return header


def _geometry_report(header: VolumeHeader) -> None:
    d = geometry.direction_from_affine(header.affine)
    if np.any(np.max(np.abs(d), axis=0) < _ALIGNED_COS):
        codes = "".join(geometry.axis_codes(header.affine))
        header.report.add(
            ReportCode.OBLIQUE,
            Severity.INFO,
            f"the voxel axes are oblique to the patient axes (closest: {codes}); "
            "shown with a full affine",
        )
    tilt = geometry.gantry_tilt_deg(header.affine)
    if tilt > 0.01:
        header.report.add(
            ReportCode.GANTRY_TILT,
            Severity.WARNING,
            f"the grid is sheared by {tilt:.2f} degrees (slice axis not normal to the image "
            "plane); kept as a sheared affine",
        )


def _metadata(header: VolumeHeader, modality: str) -> VolumeMetadata:
    return VolumeMetadata(
        modality=modality,
        description=header.description or header.path.name,
        window=ABDOMEN_WINDOW,
        source_files=[header.path],
        source=str(header.path),
        rescale_applied=header.scaled,
        extra={"format": header.format, **header.extra},
    )


def _hu_array(values: NDArray[Any]) -> NDArray[Any]:
    """HU values as ``int16`` when they are whole numbers that fit, else ``float32``."""
    if values.size == 0:
        return values.astype(np.int16)
    vmin, vmax = float(np.nanmin(values)), float(np.nanmax(values))
    if values.dtype.kind in "biu":
        integral = True
    else:
        integral = bool(np.all(np.isfinite(values))) and bool(np.all(values == np.round(values)))
    dtype = hu_dtype(vmin, vmax, integral)
    return values if values.dtype == dtype else values.astype(dtype)


def load_volume(path: PathLike, *, limits: Limits | None = None) -> Volume:
    """Read a NIfTI, NRRD or MetaImage CT volume.

    The array is ``(slice, row, col)`` with the file's scaling (NIfTI ``scl_slope`` /
    ``scl_inter``) applied: ``int16`` when the values are whole numbers that fit, else
    ``float32``. NIfTI's RAS affine is converted to LPS. Volume files carry no modality: CT is
    assumed, and the abdomen window 400/40 is used.

    Parameters
    ----------
    path
        A ``.nii``, ``.nii.gz``, ``.nrrd``, ``.nhdr``, ``.mha`` or ``.mhd`` file.
    limits
        The memory budget the declared size must fit (default: :func:`default_limits`).

    Returns
    -------
    Volume
        With a report (``default_window``, and ``rescale_applied``, ``oblique``,
        ``no_orientation`` when they apply).

    Raises
    ------
    FileNotFoundError
        When the file does not exist.
    VolumeFormatError
        For an unknown ending, an unreadable, damaged or truncated file, a 2D or 4D image, or
        non-scalar voxels.
    ResourceLimitError
        For a header that declares more voxels than the memory budget allows.
    """
    p = Path(path)
    header, values = _backend_read(p, limits or default_limits())
    _geometry_report(header)
    array = _hu_array(values)
    report = GeometryReport()
    report.extend(header.report)
    report.add(
        ReportCode.DEFAULT_WINDOW, Severity.INFO, "no window in the file: abdomen 400/40 used"
    )
    return Volume(array, header.affine, _metadata(header, "CT"), report)


def find_label_sidecar(path: PathLike) -> Path | None:
    """The label table next to a label map: ``<stem>_labels.json`` (or ``_labels.txt``).

    ``<stem>`` is the file name without its volume ending, so ``seg.nii.gz`` looks for
    ``seg_labels.json``.
    """
    p = Path(path)
    for ending in SIDECAR_ENDINGS:
        candidate = p.with_name(volume_stem(p) + ending)
        if candidate.is_file():
            return candidate
    return None


def label_sidecar_path(path: PathLike) -> Path:
    """Where :func:`save_labels` writes the JSON table of the label map ``path``."""
    p = Path(path)
    return p.with_name(volume_stem(p) + SIDECAR_ENDINGS[0])


def _label_array(values: NDArray[Any], path: PathLike) -> NDArray[Any]:
    """Integer label values in the smallest unsigned type, or an error naming the file."""
    if values.dtype.kind == "b":
        values = values.astype(np.uint8)
    if values.dtype.kind == "f":
        finite = np.isfinite(values)
        frac = np.zeros(values.shape, dtype=bool)
        np.not_equal(values, np.round(values), out=frac, where=finite)
        bad = ~finite | frac
        if bad.any():
            example = values[bad].flat[0]
            raise VolumeFormatError(
                f"{path}: a label map must hold whole numbers, but {int(bad.sum())} voxels do "
                f"not (for example {example!r}). Is this an image rather than a label map? "
                "Round or threshold it first."
            )
    elif values.dtype.kind not in "iu":
        raise VolumeFormatError(
            f"{path}: label values of type {values.dtype} are not numbers; a label map holds "
            "whole numbers. Fix: store the label map as unsigned integers."
        )
    if values.size == 0:
        return values.astype(np.uint8)
    vmin, vmax = float(values.min()), float(values.max())
    if vmin < 0:
        raise VolumeFormatError(
            f"{path}: label values must be >= 0 (0 is background), found {vmin:g}. Fix: store "
            "the label map as unsigned integers, without scaling (slope 1, intercept 0)."
        )
    for dtype in (np.uint8, np.uint16, np.uint32):
        if vmax <= np.iinfo(dtype).max:
            return values if values.dtype == dtype else values.astype(dtype)
    raise VolumeFormatError(
        f"{path}: label values must be whole numbers from 0 to {2**32 - 1}, found {vmax:g} "
        "(a scaling in the header, such as a NIfTI scl_slope, may make them so). Fix: store the "
        "label map as unsigned integers, without scaling (slope 1, intercept 0)."
    )


def label_values(array: NDArray[Any]) -> list[int]:
    """The distinct non-zero values of an integer label array, ascending.

    >>> label_values(np.array([[[0, 3, 3, 1]]], dtype=np.uint8))
    [1, 3]
    """
    a = np.asarray(array)
    if a.size == 0:
        return []
    if a.dtype.kind == "u" and a.dtype.itemsize <= 2:
        counts = np.bincount(a.ravel())
        return [int(v) for v in np.flatnonzero(counts) if v != 0]
    return [int(v) for v in np.unique(a) if v != 0]


def _table_from(names: LabelNames, path: Path, limits: Limits) -> tuple[LabelTable | None, str]:
    if isinstance(names, LabelTable):
        return names, "given"
    if isinstance(names, Mapping):
        return LabelTable.from_names({int(k): str(v) for k, v in names.items()}), "given"
    if names is None:
        sidecar = find_label_sidecar(path)
        if sidecar is None:
            return None, ""
        return LabelTable.read(sidecar, limits), str(sidecar)
    table_path = Path(names)
    if table_path.is_dir():
        raise VolumeFormatError(
            f"{table_path}: the label table of {path.name} (argument 'names'; --names or "
            "--anatomy-names on the command line) is a folder, not a file. Fix: give the table "
            "file itself (a JSON value -> name table or an ITK-SNAP label description .txt)."
        )
    if not table_path.exists():
        raise not_found(table_path)
    return LabelTable.read(table_path, limits), str(table_path)


def load_labels(
    path: PathLike, names: LabelNames = None, *, limits: Limits | None = None
) -> tuple[Volume, LabelTable]:
    """Read a label map and the name and colour of each value.

    Parameters
    ----------
    path
        A label map in a volume format (``.nii``, ``.nii.gz``, ``.nrrd``, ``.mha``, ...).
    names
        Where the names come from: a JSON table (value -> name, as TotalSegmentator ships it,
        or the sidecar :func:`save_labels` writes, or a dcmqi segmentation JSON), an ITK-SNAP
        label description file, a mapping value -> name, or a :class:`LabelTable`. ``None``
        looks for a sidecar ``<stem>_labels.json`` (then ``<stem>_labels.txt``) beside the file.
    limits
        The memory budget of the map and the size and nesting limits of the table (default:
        :func:`default_limits`).

    Returns
    -------
    tuple of Volume and LabelTable
        The label volume (unsigned integers in the smallest type that holds them, modality
        ``SEG``) and its table. Values in the map but not in the table get default names
        (``label_<v>``) and the report says so (``unnamed_labels``).

    Raises
    ------
    FileNotFoundError
        When the file or the named table does not exist.
    VolumeFormatError
        When the values are not whole numbers >= 0, the file or table cannot be read, or
        ``names`` is a folder.
    """
    p = Path(path)
    lim = limits or default_limits()
    header, values = _backend_read(p, lim)
    _geometry_report(header)
    array = _label_array(values, p)
    table, table_source = _table_from(names, p, lim)
    report = GeometryReport()
    report.extend(header.report)
    given = table is not None
    full, missing = (table or LabelTable()).with_defaults(label_values(array))
    if missing:
        shown = ", ".join(str(v) for v in missing[:10]) + (" ..." if len(missing) > 10 else "")
        if given:
            report.add(
                ReportCode.UNNAMED_LABELS,
                Severity.WARNING,
                f"{len(missing)} label values of {p.name} are not in the table "
                f"{table_source}: {shown}; named label_<value>",
            )
        else:
            report.add(
                ReportCode.UNNAMED_LABELS,
                Severity.INFO,
                f"no label table given or found beside {p.name} "
                f"(looked for {volume_stem(p)}{SIDECAR_ENDINGS[0]}); values named label_<value>",
            )
    meta = _metadata(header, "SEG")
    meta.extra["label_table"] = table_source
    return Volume(array, header.affine, meta, report), full


def _inputs_of(volume: Volume, inputs: Iterable[PathLike]) -> list[PathLike]:
    return [*volume.metadata.source_files, *inputs]


def _write_image(volume: Volume, array: NDArray[Any], out: Path, *, labels: bool) -> None:
    fmt = volume_format(out)
    with atomic_output(out) as tmp:
        if fmt == "nifti":
            nifti_backend.write(
                array, volume.affine, tmp, description=volume.metadata.description, labels=labels
            )
        else:
            sitk_backend.write(array, volume.affine, tmp)


def save_volume(volume: Volume, path: PathLike, *, inputs: Iterable[PathLike] = ()) -> Path:
    """Write a volume as NIfTI (``.nii``/``.nii.gz``, RAS affine), NRRD or MHA, atomically.

    Parameters
    ----------
    volume
        What to write; its array type is kept.
    path
        The output file; its ending chooses the format.
    inputs
        Further input files or folders (besides ``volume.metadata.source_files``) whose folders
        must not be written into.

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    VolumeFormatError
        For an ending that is not writable, an output inside an input folder, or a sheared
        grid written to NRRD/MHA.
    """
    out = check_output_path(path, _inputs_of(volume, inputs))
    _write_image(volume, volume.array, out, labels=False)
    return out


def save_labels(
    volume: Volume, table: LabelTable, path: PathLike, *, inputs: Iterable[PathLike] = ()
) -> tuple[Path, Path]:
    """Write a label map (NIfTI, NRRD or MHA) and its JSON table ``<stem>_labels.json``.

    Every non-zero value of the map must be in ``table``. Both files are written atomically
    and never into an input folder.

    Returns
    -------
    tuple of Path
        The label map and the JSON sidecar.

    Raises
    ------
    VolumeFormatError
        For non-integer or negative values, values missing from the table, a bad ending, or
        an output inside an input folder.
    """
    out = check_output_path(path, _inputs_of(volume, inputs))
    array = _label_array(np.asarray(volume.array), out)
    missing = sorted(set(label_values(array)) - set(table))
    if missing:
        raise VolumeFormatError(
            f"{out}: label values {missing[:10]} have no entry in the label table; add them "
            "(LabelTable.with_defaults gives default names) before saving."
        )
    sidecar = label_sidecar_path(out)
    _write_image(volume, array, out, labels=True)
    write_text_atomic(sidecar, json.dumps(table.to_json_data(), indent=1) + "\n")
    return out, sidecar

"""Label maps as files other tools open: ``.nii.gz`` / ``.nii`` / ``.nrrd`` with their names.

:func:`write_label_file` writes a label map and its name table (the JSON sidecar
``<stem>_labels.json`` that :func:`ivcviewer.io.load_labels` and the napari reader find by
themselves, with each label's name and RGBA colour); :func:`write_image_file` writes a CT.

Both write the voxels in the order of the grid they are given: callers that display a volume
on another grid (the napari layers show every volume on its canonical grid) hand over the
volume on the grid of the source CT, so a file written here has the source CT's voxel order
and affine. Both refuse to replace an existing file unless ``force`` is given, never write
into the folder of an input, and write through temporary files renamed into place: an
interrupted write leaves the old files (or none), never a partial one.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from .._atomic import discard_dir, temp_dir_beside
from ..errors import OutputExistsError
from ..io import LabelTable, label_sidecar_path, label_values, save_labels, save_volume
from ..io.formats import check_output_path, not_found
from ..volume import Volume

PathLike = str | os.PathLike[str]

#: Endings :func:`write_label_file` writes.
LABEL_FILE_SUFFIXES: tuple[str, ...] = (".nii.gz", ".nii", ".nrrd")
#: Endings :func:`write_image_file` writes.
IMAGE_FILE_SUFFIXES: tuple[str, ...] = (".nii.gz", ".nii")


def _refuse_existing(paths: Iterable[Path], force: bool) -> None:
    """Raise :class:`OutputExistsError` for the first path that exists, unless ``force``."""
    if force:
        return
    for p in paths:
        if p.exists() or p.is_symlink():
            raise OutputExistsError(
                f"{p}: exists and would be replaced. Fix: choose another file name, or "
                "confirm the replacement (force=True, --force on the command line)."
            )


def complete_table(labels: Volume, table: LabelTable) -> LabelTable:
    """``table`` with a default entry (``label_<v>``) for each value of ``labels`` it lacks.

    >>> import numpy as np
    >>> v = Volume(np.array([[[0, 1, 3]]], np.uint8), np.eye(4))
    >>> complete_table(v, LabelTable.from_names({1: "liver"})).names
    {1: 'liver', 3: 'label_3'}
    """
    full, _ = table.with_defaults(label_values(labels.array))
    return full


def write_label_file(
    labels: Volume,
    table: LabelTable,
    out: PathLike,
    force: bool = False,
    *,
    inputs: Iterable[PathLike] = (),
) -> tuple[Path, Path]:
    """Write a label map (``.nii.gz``, ``.nii`` or ``.nrrd``) and its name table beside it.

    Parameters
    ----------
    labels
        Integer label map on the grid to write (the source CT's grid: its voxel order and
        affine are written as they are).
    table
        Names and colours of the labels; values of the map missing from it are written as
        ``label_<value>`` (:func:`complete_table`).
    out
        The label map file; the table goes to ``<stem>_labels.json`` beside it.
    force
        Replace existing files (the label map or its table).
    inputs
        Further input files or folders (besides ``labels.metadata.source_files``) whose
        folders must not be written into.

    Returns
    -------
    tuple of Path
        The label map and its table.

    Raises
    ------
    OutputExistsError
        When a file exists and ``force`` is not given.
    VolumeFormatError
        For another ending, values that are not whole numbers >= 0, or an output inside an
        input folder.
    """
    target = check_output_path(out, [*labels.metadata.source_files, *inputs], LABEL_FILE_SUFFIXES)
    sidecar = label_sidecar_path(target)
    if not target.parent.is_dir():
        raise not_found(target.parent)
    _refuse_existing((target, sidecar), force)
    full = complete_table(labels, table)
    # Both files are finished in a private folder beside the target and renamed into place
    # (the table first): an interrupted write leaves no partial file and no new table
    # without its map.
    work = temp_dir_beside(target)
    try:
        written, table_file = save_labels(labels, full, work / target.name, inputs=inputs)
        os.replace(table_file, sidecar)
        os.replace(written, target)
    finally:
        discard_dir(work)
    return target, sidecar


def write_image_file(
    volume: Volume, out: PathLike, force: bool = False, *, inputs: Iterable[PathLike] = ()
) -> Path:
    """Write a CT volume as NIfTI (``.nii.gz`` or ``.nii``) in its own voxel order.

    Raises
    ------
    OutputExistsError
        When the file exists and ``force`` is not given.
    VolumeFormatError
        For another ending or an output inside an input folder.
    """
    target = check_output_path(out, [*volume.metadata.source_files, *inputs], IMAGE_FILE_SUFFIXES)
    _refuse_existing((target,), force)
    return save_volume(volume, target, inputs=inputs)


__all__ = [
    "IMAGE_FILE_SUFFIXES",
    "LABEL_FILE_SUFFIXES",
    "complete_table",
    "write_image_file",
    "write_label_file",
]

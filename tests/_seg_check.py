"""Reading a written SEG back with the field's own tools (highdicom, dcmqi, dciodvfy)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

from ivcviewer import geometry
from ivcviewer.volume import Volume

#: Where CI installs dicom3tools' validator.
DCIODVFY = "/usr/bin/dciodvfy"


def dcmqi_tool(name: str) -> Path:
    """A dcmqi command line tool from the venv's bin folder (skip if absent)."""
    tool = Path(sys.executable).parent / name
    if not tool.is_file():
        pytest.skip(f"dcmqi's {name} not found beside {sys.executable} (pip install dcmqi)")
    return tool


def on_grid(array: NDArray[Any], affine: NDArray[np.float64], ct: Volume) -> NDArray[Any]:
    """Put the non-zero voxels of ``array`` (placed by ``affine``) on the CT's grid, by their
    world positions; every one must land on a CT voxel centre inside the CT."""
    out = np.zeros(ct.shape, dtype=np.int64)
    idx = np.argwhere(array != 0)
    if idx.size == 0:
        return out
    vox = geometry.apply_affine(np.linalg.inv(ct.affine) @ affine, idx)
    rounded = np.rint(vox).astype(int)
    assert np.abs(vox - rounded).max() < 1e-2, "voxels off the CT's voxel centres"
    assert (rounded >= 0).all() and (rounded < np.array(ct.shape)).all(), "voxels outside"
    out[tuple(rounded.T)] = array[tuple(idx.T)]
    return out


def numbered(labels_on_ct: NDArray[Any]) -> NDArray[np.int64]:
    """The label map with its values replaced by segment numbers 1..N in value order."""
    values = np.unique(labels_on_ct[labels_on_ct > 0])
    out = np.zeros(labels_on_ct.shape, dtype=np.int64)
    for number, v in enumerate(values, start=1):
        out[labels_on_ct == v] = number
    return out


def dcmqi_segments(seg: Path, ct: Volume, workdir: Path) -> NDArray[np.int64]:
    """The segment numbers dcmqi's ``segimage2itkimage`` reads from ``seg``, on the CT's grid."""
    import SimpleITK as sitk

    tool = dcmqi_tool("segimage2itkimage")
    out_dir = workdir / "dcmqi"
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.mkdir(parents=True)
    proc = subprocess.run(
        [str(tool), "--inputDICOM", str(seg), "--outputDirectory", str(out_dir), "-t", "nrrd"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    images = sorted(out_dir.glob("*.nrrd"))
    assert images, f"dcmqi wrote no image: {sorted(p.name for p in out_dir.iterdir())}"
    total = np.zeros(ct.shape, dtype=np.int64)
    for path in images:
        img = sitk.ReadImage(str(path))
        aff = geometry.affine_from_itk(img.GetOrigin(), img.GetSpacing(), img.GetDirection())
        placed = on_grid(sitk.GetArrayFromImage(img), aff, ct)
        assert not (np.logical_and(total > 0, placed > 0)).any(), "segments overlap"
        total += placed
    return total


def highdicom_segments(seg: Path, ct: Volume) -> NDArray[np.int64]:
    """The segment numbers highdicom reads from ``seg`` (as a volume), on the CT's grid."""
    import highdicom as hd

    vol = hd.seg.segread(seg).get_volume(combine_segments=True, relabel=False)
    return on_grid(np.asarray(vol.array), np.asarray(vol.affine, dtype=float), ct)


def dciodvfy_lines(path: Path) -> tuple[list[str], list[str]]:
    """dciodvfy's ``Error`` and ``Warning`` lines for ``path`` (skip if it is absent)."""
    tool = shutil.which("dciodvfy") or DCIODVFY
    if not Path(tool).is_file():
        pytest.skip("dciodvfy not installed (Debian package dicom3tools)")
    proc = subprocess.run([tool, str(path)], capture_output=True, text=True, timeout=300)
    lines = (proc.stdout + proc.stderr).splitlines()
    return [x for x in lines if x.startswith("Error")], [x for x in lines if x.startswith("Warn")]

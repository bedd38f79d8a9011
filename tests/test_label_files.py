"""Label files with their names: written in the grid given, never over a file unasked, never
partly."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from ivcviewer import geometry
from ivcviewer.errors import OutputExistsError, VolumeFormatError
from ivcviewer.interop.label_files import write_image_file, write_label_file
from ivcviewer.io import LabelEntry, LabelTable, load_labels, load_volume, nifti_backend
from ivcviewer.volume import Volume, VolumeMetadata

#: A sagittal acquisition (rows head to feet, columns anterior to posterior, slices to the
#: left): far from the canonical grid, so a writer that reorders the voxels is caught.
SAGITTAL = geometry.affine_from_dicom(
    (0, 1, 0, 0, 0, -1), (-15.0, -20.0, 60.0), (1.2, 0.9), (1.5, 0.0, 0.0)
)


def _labels() -> Volume:
    arr = np.zeros((5, 6, 7), np.uint8)
    arr[1:3, 2:4, 1:5] = 1
    arr[3, 0:2, 5:7] = 7
    arr[4, 5, 6] = 9  # a value the table does not name
    return Volume(arr, SAGITTAL, VolumeMetadata(description="painted"))


def _table() -> LabelTable:
    return LabelTable(
        {
            1: LabelEntry("liver", (0.8, 0.4, 0.3, 1.0)),
            7: LabelEntry("tumour thrombus", (0.0, 0.0, 1.0, 0.5)),
        }
    )


@pytest.mark.parametrize("ending", [".nii.gz", ".nii", ".nrrd"])
def test_label_file_keeps_voxel_order_affine_names_and_colours(tmp_path: Path, ending: str) -> None:
    labels = _labels()
    out, sidecar = write_label_file(labels, _table(), tmp_path / f"seg{ending}")
    assert sidecar == tmp_path / "seg_labels.json" and sidecar.is_file()
    back, table = load_labels(out)
    assert np.array_equal(back.array, labels.array)  # same order: no canonical reordering
    assert np.allclose(back.affine, SAGITTAL, atol=1e-4)
    assert table.names == {1: "liver", 7: "tumour thrombus", 9: "label_9"}
    assert table[7].rgba == pytest.approx((0.0, 0.0, 1.0, 0.5))
    assert sorted(os.listdir(tmp_path)) == sorted([out.name, sidecar.name])  # no leftovers


def test_existing_files_are_kept_unless_forced(tmp_path: Path) -> None:
    out, sidecar = write_label_file(_labels(), _table(), tmp_path / "seg.nii.gz")
    before = out.read_bytes()
    other = Volume(np.zeros((5, 6, 7), np.uint8), SAGITTAL)
    with pytest.raises(OutputExistsError, match="seg.nii.gz: exists.*force"):
        write_label_file(other, LabelTable(), out)
    assert out.read_bytes() == before
    out.unlink()  # the table alone is also kept
    with pytest.raises(OutputExistsError, match="seg_labels.json: exists"):
        write_label_file(other, LabelTable(), out)
    write_label_file(other, LabelTable(), out, force=True)
    back, table = load_labels(out)
    assert not back.array.any() and len(table) == 0


def test_an_interrupted_write_leaves_the_old_files_and_no_partial_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out, sidecar = write_label_file(_labels(), _table(), tmp_path / "seg.nii.gz")
    old_map, old_table = out.read_bytes(), sidecar.read_bytes()
    real_write = nifti_backend.write

    def killed_mid_way(array, affine, path, **kw):  # type: ignore[no-untyped-def]
        real_write(array, affine, path, **kw)
        Path(path).write_bytes(Path(path).read_bytes()[:100])  # half a file, then the stop
        raise KeyboardInterrupt

    monkeypatch.setattr(nifti_backend, "write", killed_mid_way)
    with pytest.raises(KeyboardInterrupt):
        write_label_file(
            Volume(np.ones((5, 6, 7), np.uint8), SAGITTAL), LabelTable(), out, force=True
        )
    with pytest.raises(KeyboardInterrupt):
        write_label_file(_labels(), _table(), tmp_path / "new.nii.gz")
    assert sorted(os.listdir(tmp_path)) == ["seg.nii.gz", "seg_labels.json"]
    assert out.read_bytes() == old_map and sidecar.read_bytes() == old_table


def test_bad_outputs_are_refused_with_the_rule(tmp_path: Path) -> None:
    with pytest.raises(VolumeFormatError, match=r"seg.tif.*\.nii\.gz, \.nii, \.nrrd"):
        write_label_file(_labels(), _table(), tmp_path / "seg.tif")
    src = tmp_path / "input"
    src.mkdir()
    (src / "ct.nii.gz").write_bytes(b"")
    with pytest.raises(VolumeFormatError, match="refusing to write into"):
        write_label_file(_labels(), _table(), src / "seg.nii.gz", inputs=[src / "ct.nii.gz"])
    with pytest.raises(FileNotFoundError):
        write_label_file(_labels(), _table(), tmp_path / "missing" / "seg.nii.gz")
    assert sorted(os.listdir(src)) == ["ct.nii.gz"]


def test_image_file_keeps_its_voxel_order(tmp_path: Path) -> None:
    ct = Volume(np.arange(5 * 6 * 7, dtype=np.int16).reshape(5, 6, 7) - 1000, SAGITTAL)
    out = write_image_file(ct, tmp_path / "ct.nii.gz")
    back = load_volume(out)
    assert np.array_equal(back.array, ct.array) and np.allclose(back.affine, SAGITTAL, atol=1e-4)
    with pytest.raises(OutputExistsError):
        write_image_file(ct, out)
    assert write_image_file(ct, out, force=True) == out
    with pytest.raises(VolumeFormatError, match=r"ct.nrrd.*\.nii\.gz, \.nii"):
        write_image_file(ct, tmp_path / "ct.nrrd")


_CHILD = """
import sys, threading
import numpy as np
from pathlib import Path
from ivcviewer.io import nifti_backend, LabelTable
from ivcviewer.interop.label_files import write_label_file
from ivcviewer.volume import Volume

real = nifti_backend.write
def stalled(array, affine, path, **kw):
    real(array, affine, path, **kw)
    Path(path).write_bytes(Path(path).read_bytes()[:200])
    print("half written", flush=True)
    threading.Event().wait()  # killed here

nifti_backend.write = stalled
arr = np.zeros((8, 9, 10), np.uint8); arr[2:5, 3:6, 4:8] = 1
write_label_file(Volume(arr, np.eye(4)), LabelTable.from_names({1: "liver"}), sys.argv[1],
                 force=True)
"""


def test_a_killed_writer_leaves_no_file_at_the_target(tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys

    out = tmp_path / "seg.nii.gz"
    src = Path(__file__).resolve().parents[1] / "src"
    env = {**os.environ, "PYTHONPATH": str(src)}
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(out)], stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "half written"
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait()
    assert not out.exists() and not (tmp_path / "seg_labels.json").exists()
    # only the hidden work folder of the killed write is left, never a file at the target
    assert all(name.startswith(".seg.nii.gz.") for name in os.listdir(tmp_path))

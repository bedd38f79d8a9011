"""Honest in napari: what is left out is shown, what can load loads, label maps are named.

Opened as a user opens them (``viewer.open(..., plugin="ivcviewer")`` in a shown viewer):
a 20-slice JPEG 2000 series with one truncated file gives the other 19 and a reported gap; a
file with a broken header is named in the notification and the "Geometry report" dock; a folder
with no image series gives ivcviewer's own line and no napari error; label maps without a
table beside them open as named Labels layers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import pytest
from _dicom_factory import axial_volume, truncate, write_volume
from pydicom import uid as pduid

pytestmark = pytest.mark.napari

napari = pytest.importorskip("napari")
from napari.utils.notifications import notification_manager  # noqa: E402

from ivcviewer._napari import reader  # noqa: E402
from ivcviewer._napari.widgets.geometry_report import GeometryReportWidget  # noqa: E402

N = 20


def _notes_since(n: int) -> list[str]:
    return [str(r.message) for r in notification_manager.records[n:]]


def _open(viewer: Any, path: Path) -> tuple[list[Any], list[str]]:
    """Open ``path`` with the plugin as File > Open does; the layers and the new notifications."""
    n = len(notification_manager.records)
    layers = viewer.open(str(path), plugin="ivcviewer")
    return layers, _notes_since(n)


def _dock_rows(viewer: Any) -> dict[str, str]:
    docked = [w for w in viewer.window.dock_widgets.values() if isinstance(w, GeometryReportWidget)]
    assert len(docked) == 1
    docked[0].refresh()
    return {item: value for item, value in docked[0].rows}


def test_one_truncated_file_of_twenty_leaves_a_reported_gap(
    make_napari_viewer: Any, tmp_path: Path
) -> None:
    files = write_volume(
        tmp_path / "ct", axial_volume(n=N), seed="trunc", transfer_syntax=pduid.JPEG2000Lossless
    )
    bad = files[9]
    bad.write_bytes(bad.read_bytes()[:-20])  # ends inside its pixel data
    viewer = make_napari_viewer(show=True)
    layers, notes = _open(viewer, tmp_path / "ct")
    (layer,) = layers
    assert layer.data.shape[0] == N
    shown = "\n".join(notes)
    assert str(bad) in shown and "unreadable_file" in shown, notes
    rows = _dock_rows(viewer)
    assert rows["Gaps"] != "none"
    unreadable = [v for k, v in rows.items() if k.endswith("unreadable_file")]
    assert len(unreadable) == 1 and str(bad) in unreadable[0]
    # the other 19 slices are the source's own values (slice k of the ramp: 100 k - 1000 ...)
    source = axial_volume(n=N).array
    present = [k for k in range(N) if k != 9]  # the canonical layer may flip axes: sum slices
    sums = {int(s) for s in np.asarray(layer.data).sum(axis=(1, 2))}
    assert {int(s) for s in source[present].sum(axis=(1, 2))} <= sums


def test_a_file_with_a_broken_header_shows_in_the_dock_and_notification(
    make_napari_viewer: Any, tmp_path: Path
) -> None:
    files = write_volume(tmp_path / "ct", axial_volume(n=N), seed="header")
    broken = files[-1]  # the last slice: no gap betrays it
    truncate(broken, 200)
    viewer = make_napari_viewer(show=True)
    layers, notes = _open(viewer, tmp_path / "ct")
    (layer,) = layers
    assert layer.data.shape[0] == N - 1
    shown = "\n".join(notes)
    assert str(broken) in shown and "geometry OK" not in shown, notes
    rows = _dock_rows(viewer)
    left_out = [v for k, v in rows.items() if k.startswith("warning: unreadable_file")]
    assert len(left_out) == 1 and str(broken) in left_out[0], rows


def test_many_files_left_out_for_one_reason_make_one_item(
    make_napari_viewer: Any, tmp_path: Path
) -> None:
    write_volume(tmp_path / "ct", axial_volume(n=4), seed="notes")
    for i in range(30):  # the programs and documents of a patient CD
        (tmp_path / "ct" / f"viewer{i:02d}.dll").write_bytes(b"MZ" + bytes(300))
    viewer = make_napari_viewer(show=True)
    (layer,), notes = _open(viewer, tmp_path / "ct")
    left = [i for i in layer.metadata["geometry_report"] if i["message"].startswith("left out")]
    assert [i["message"] for i in left] == [
        "left out: 30 files (not a DICOM file): viewer00.dll, viewer01.dll, viewer02.dll "
        "and 27 more"
    ]
    assert any("left out: 30 files" in m for m in notes), notes


def test_the_items_of_files_left_out_are_bounded() -> None:
    from ivcviewer._napari.reader_honesty import LEFT_OUT_LISTED, add_left_out_items
    from ivcviewer.volume import Volume

    volume = Volume(np.zeros((2, 3, 3), np.int16), np.eye(4))
    volume.metadata.extra["skipped"] = [
        {"path": f"/ct/IM{i}", "code": "unreadable_file", "reason": f"damaged element {i}"}
        for i in range(LEFT_OUT_LISTED + 7)
    ]
    volume.report.add("unreadable_file", "error", "1 file(s) cannot be read: /ct/IM0 (damaged)")
    add_left_out_items(volume)
    messages = [i.message for i in volume.report.items[1:]]
    assert len(messages) == LEFT_OUT_LISTED + 1
    assert not any("/ct/IM0 " in m for m in messages)  # named by the report already
    assert messages[0] == "left out: /ct/IM1 (damaged element 1)"
    assert messages[-1].startswith("and 6 more item(s) of files left out")


def test_a_folder_with_no_image_series_says_why_without_a_napari_error(
    make_napari_viewer: Any, tmp_path: Path
) -> None:
    folder = tmp_path / "nothing"
    files = write_volume(folder, axial_volume(n=2), seed="none")
    for f in files:
        truncate(f, 200)  # DICOM files, none of them an image that reads
    (folder / "notes.txt").write_text("scanner notes\n")
    viewer = make_napari_viewer(show=True)
    layers, notes = _open(viewer, folder)  # raises nothing: no "refused the file"
    assert layers == [] and len(viewer.layers) == 0
    ours = [m for m in notes if str(folder) in m]
    assert len(ours) == 1, notes
    assert ours[0].startswith(f"ivcviewer could not open {folder}: no image series found")
    assert "\n" not in ours[0] and "Fix:" in ours[0] and "Traceback" not in ours[0]
    assert not any("refused" in m or "returned no data" in m for m in notes)


def test_a_folder_with_an_image_series_is_not_scanned_twice_to_decide(tmp_path: Path) -> None:
    write_volume(tmp_path / "ct", axial_volume(n=3), seed="ok")
    assert reader.napari_get_reader(str(tmp_path / "ct")) is reader.read_paths


def _caret_nifti(path: Path, values: dict[int, str]) -> Path:
    a = np.zeros((12, 10, 8), np.uint8)
    for n, v in enumerate(values):
        a[2 + n, 2:5, 2:5] = v
    img = nib.Nifti1Image(a, np.diag([2.0, 2.0, 3.0, 1.0]))
    rows = "".join(
        f'<Label Key="{v}" Red="0" Green="1" Blue="0" Alpha="1"><![CDATA[{name}]]></Label>'
        for v, name in values.items()
    )
    xml = f"<CaretExtension><LabelTable>{rows}</LabelTable></CaretExtension>".encode()
    img.header.extensions.append(nib.nifti1.Nifti1Extension(0, xml))
    nib.save(img, str(path))
    return path


def test_a_label_map_with_names_in_its_header_opens_as_named_labels(
    make_napari_viewer: Any, tmp_path: Path
) -> None:
    path = _caret_nifti(tmp_path / "seg.nii.gz", {5: "liver", 63: "inferior_vena_cava"})
    viewer = make_napari_viewer(show=True)
    (layer,), notes = _open(viewer, path)
    assert layer.__class__.__name__ == "Labels" and layer.name == "seg"
    assert layer.metadata["label_names"] == {5: "liver", 63: "inferior_vena_cava"}
    assert any(m.startswith("seg: opened as a label map of 2 label(s)") for m in notes), notes
    world = tuple(layer.data_to_world(np.argwhere(np.asarray(layer.data) == 63)[0]))
    viewer.dims.point = world
    assert "inferior_vena_cava" in str(layer.get_status(world, world=True)["coordinates"])


@pytest.mark.realdata
def test_real_label_maps_open_as_named_labels(make_napari_viewer: Any, public_ct: Path) -> None:
    viewer = make_napari_viewer(show=True)
    (liver,), notes = _open(viewer, public_ct / "dcmqi_ct3slice" / "liver_seg.nrrd")
    assert liver.__class__.__name__ == "Labels"
    assert liver.metadata["label_names"] == {1: "label_1"}
    assert any("liver_seg: opened as a label map of 1 label(s)" in m for m in notes), notes
    (ts,), notes = _open(viewer, public_ct / "totalsegmentator_dicom" / "example_seg_dicom.nii.gz")
    assert ts.__class__.__name__ == "Labels"
    names = ts.metadata["label_names"]
    assert names[5] == "liver" and names[63] == "inferior_vena_cava" and names[52] == "aorta"
    present = {int(v) for v in np.unique(np.asarray(ts.data)) if v}
    assert present <= set(names) and len(present) == 31
    assert any(f"example_seg_dicom: opened as a label map of {len(present)} label(s)" in m
               for m in notes)  # fmt: skip
    (ct,), _ = _open(viewer, public_ct / "totalsegmentator_abdomen" / "example_ct.nii.gz")
    assert ct.__class__.__name__ == "Image"  # a CT stays a CT


def test_a_nested_dicomdir_opens_every_series_it_names(
    make_napari_viewer: Any, tmp_path: Path
) -> None:
    from _dicom_factory import dicomdir_referencing, write_dicomdir

    for name, n in (("DISC1", 3), ("DISC2", 4)):
        files = write_volume(tmp_path / f"{name}-source", axial_volume(n=n), seed=name)
        write_dicomdir(files, tmp_path / "media" / name)
    root = dicomdir_referencing(
        tmp_path / "media", [["DISC1", "DICOMDIR"], ["DISC2", "DICOMDIR"], ["DISC3", "IM1"]]
    )
    viewer = make_napari_viewer(show=True)
    layers, notes = _open(viewer, root)
    assert sorted(layer.data.shape[0] for layer in layers) == [3, 4]
    missing = [m for m in notes if "DISC3/IM1" in m]
    assert missing, notes  # the file it lists but lacks is named, once per layer report


def test_a_dicomdir_whose_files_are_missing_gives_one_line(
    make_napari_viewer: Any, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    from _dicom_factory import dicomdir_referencing

    root = dicomdir_referencing(tmp_path / "media", [["IMG", f"IM{i:04d}"] for i in range(200)])
    viewer = make_napari_viewer(show=True)
    capfd.readouterr()
    layers, notes = _open(viewer, root)
    assert layers == []
    ours = [m for m in notes if str(root) in m]
    assert len(ours) == 1 and "200 files listed in this DICOMDIR are missing" in ours[0], notes
    _, err = capfd.readouterr()
    assert "IM0001" not in err  # nothing printed per missing file


@pytest.mark.realdata
def test_a_truncated_file_of_a_real_jpeg2000_series(
    make_napari_viewer: Any, public_ct: Path, tmp_path: Path
) -> None:
    import shutil

    source = public_ct / "totalsegmentator_dicom" / "series"
    copy = tmp_path / "series"
    shutil.copytree(source, copy)
    copy.chmod(0o755)
    for f in copy.iterdir():
        f.chmod(0o644)
    bad = sorted(copy.iterdir())[10]
    bad.write_bytes(bad.read_bytes()[:-5000])
    viewer = make_napari_viewer(show=True)
    (intact,), _ = _open(viewer, source)
    (layer,), notes = _open(viewer, copy)
    assert layer.data.shape == intact.data.shape == (20, 512, 512)
    assert any(str(bad) in m for m in notes), notes
    same = [
        k
        for k in range(20)
        if np.array_equal(np.asarray(layer.data[k]), np.asarray(intact.data[k]))
    ]
    assert len(same) == 19  # every slice but the gap is the intact series' own


def test_an_unnamed_multi_label_map_takes_totalsegmentators_names_and_says_so(
    make_napari_viewer: Any, tmp_path: Path
) -> None:
    a = np.zeros((24, 12, 40), np.uint8)  # NIfTI (i, j, k): k is the slice axis
    for n, v in enumerate((5, 52, 63, 64, 88, 89)):
        a[2:22, 2:10, 6 * n : 6 * n + 5] = v
    nib.save(nib.Nifti1Image(a, np.eye(4)), str(tmp_path / "segmentations.nii.gz"))
    viewer = make_napari_viewer(show=True)
    (layer,), notes = _open(viewer, tmp_path / "segmentations.nii.gz")
    assert layer.metadata["label_names"][63] == "inferior_vena_cava"
    (note,) = [m for m in notes if m.startswith("segmentations: opened as a label map of 6")]
    assert "TotalSegmentator" in note and "assumed" in note and "unnamed_labels" in note

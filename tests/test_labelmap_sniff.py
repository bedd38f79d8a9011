"""Label maps without a table beside them: recognised from their values and header, and named."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
import SimpleITK as sitk
from _io_factory import write_itk, write_nifti, xyz_data

from ivcviewer.io import open_path
from ivcviewer.io.labelmap_sniff import (
    MAX_LABELS,
    recognise_label_map,
    totalsegmentator_total_table,
)


def _labels(
    shape: tuple[int, int, int] = (40, 16, 16), values: tuple[int, ...] = (1, 2)
) -> np.ndarray:
    """A uint8 map: background, and one block of 5 x 6 x 10 voxels per value."""
    a = np.zeros(shape, np.uint8)
    for n, v in enumerate(values):
        a[5 * n : 5 * n + 5, 2:8, 1:11] = v  # regions of several voxels, as segmentations have
    return a


def _guess(path: Path):  # noqa: ANN202 - the LabelMapGuess or None
    (volume,) = open_path(path)
    return recognise_label_map(path, volume)


def test_a_ct_is_not_a_label_map(tmp_path: Path) -> None:
    ct = write_nifti(tmp_path / "ct.nii.gz", xyz_data((20, 16, 12)))
    assert _guess(ct) is None
    # whole numbers from 0 where background is not the most frequent value: an image
    bright = np.full((20, 16, 12), 40, np.int16)
    bright[:2] = 0
    assert _guess(write_nifti(tmp_path / "bright.nii.gz", bright)) is None
    # an 8-bit image on a black background: few values, background first, but no regions
    noisy = np.zeros((20, 16, 16), np.uint8)
    noisy[:, 4:12, 4:12] = np.random.default_rng(0).integers(1, 200, (20, 8, 8))
    assert _guess(write_nifti(tmp_path / "noisy.nii.gz", noisy)) is None


def test_few_values_with_background_make_a_label_map_with_default_names(tmp_path: Path) -> None:
    guess = _guess(write_nifti(tmp_path / "seg.nii.gz", _labels()))
    assert guess is not None and guess.table is None and "label_<value>" in guess.source


def test_too_many_values_are_an_image(tmp_path: Path) -> None:
    many = np.zeros((20, 20, 20), np.uint16)
    many.flat[: MAX_LABELS + 1] = np.arange(1, MAX_LABELS + 2)
    assert _guess(write_nifti(tmp_path / "many.nii.gz", many)) is None


def test_a_nifti_label_intent_is_a_label_map(tmp_path: Path) -> None:
    full = np.ones((6, 6, 6), np.uint8)  # no background at all, but declared labels
    img = nib.Nifti1Image(full, np.eye(4))
    img.header.set_intent("label")
    nib.save(img, str(tmp_path / "intent.nii.gz"))
    guess = _guess(tmp_path / "intent.nii.gz")
    assert guess is not None and guess.table is None


def _caret(labels: dict[int, str]) -> bytes:
    rows = "".join(
        f'<Label Key="{v}" Red="1.0" Green="0.5" Blue="0.0" Alpha="1"><![CDATA[{n}]]></Label>'
        for v, n in labels.items()
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><CaretExtension><VolumeInformation Index="0">'
        f"<LabelTable>{rows}</LabelTable></VolumeInformation></CaretExtension>"
    ).encode()


def test_names_from_a_nifti_label_table_extension(tmp_path: Path) -> None:
    img = nib.Nifti1Image(_labels(values=(5, 63)), np.eye(4))
    img.header.extensions.append(nib.nifti1.Nifti1Extension(0, _caret({5: "liver", 63: "ivc"})))
    nib.save(img, str(tmp_path / "ts.nii.gz"))
    guess = _guess(tmp_path / "ts.nii.gz")
    assert guess is not None and guess.table is not None
    assert guess.table.names == {5: "liver", 63: "ivc"}
    assert guess.table[5].rgba == (1.0, 0.5, 0.0, 1.0)
    assert "header" in guess.source


def test_an_extension_with_entities_is_not_read(tmp_path: Path) -> None:
    evil = (
        b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaa">]>'
        b'<LabelTable><Label Key="1">&a;</Label></LabelTable>'
    )
    img = nib.Nifti1Image(_labels(), np.eye(4))
    img.header.extensions.append(nib.nifti1.Nifti1Extension(0, evil))
    nib.save(img, str(tmp_path / "evil.nii.gz"))
    guess = _guess(tmp_path / "evil.nii.gz")
    assert guess is not None and guess.table is None


def test_names_from_nrrd_segment_keys(tmp_path: Path) -> None:
    path = tmp_path / "seg.nrrd"
    img = write_itk(path, _labels(values=(1, 2)))
    for key, value in {
        "Segment0_Name": "liver",
        "Segment0_LabelValue": "1",
        "Segment0_Color": "0.86 0.5 0.4",
        "Segment1_Name": "thoracic spine",
        "Segment1_LabelValue": "2",
    }.items():
        img.SetMetaData(key, value)
    sitk.WriteImage(img, str(path))
    guess = _guess(path)
    assert guess is not None and guess.table is not None
    assert guess.table.names == {1: "liver", 2: "thoracic spine"}
    assert guess.table[1].rgba == (0.86, 0.5, 0.4, 1.0)


def test_many_labels_in_totalsegmentators_range_take_its_names(tmp_path: Path) -> None:
    values = (5, 52, 63, 64, 88, 89)
    guess = _guess(write_nifti(tmp_path / "segmentations.nii.gz", _labels(values=values)))
    assert guess is not None and guess.table is totalsegmentator_total_table()
    assert [guess.table[v].name for v in (5, 52, 63)] == ["liver", "aorta", "inferior_vena_cava"]
    (item,) = guess.report.items
    assert (
        item.severity == "warning" and "TotalSegmentator" in item.message and "Fix:" in item.message
    )
    # a value outside its 117 classes: not TotalSegmentator's map
    other = _guess(write_nifti(tmp_path / "other.nii.gz", _labels(values=(*values, 200))))
    assert other is not None and other.table is None
    # too few labels to tell
    few = _guess(write_nifti(tmp_path / "few.nii.gz", _labels(values=(1, 2, 3))))
    assert few is not None and few.table is None


def test_the_shipped_class_map_names_its_source_and_licence() -> None:
    import json

    from ivcviewer.io.labelmap_sniff import TOTALSEG_TABLE

    doc = json.loads(TOTALSEG_TABLE.read_text(encoding="utf-8"))
    assert "wasserth/TotalSegmentator" in doc["source"] and "Apache-2.0" in doc["licence"]
    assert (TOTALSEG_TABLE.parent / "LICENSE-TotalSegmentator-repo").is_file()
    table = totalsegmentator_total_table()
    assert list(table) == list(range(1, 118))


@pytest.mark.realdata
def test_real_label_maps_are_recognised(public_ct: Path) -> None:
    liver = _guess(public_ct / "dcmqi_ct3slice" / "liver_seg.nrrd")
    assert liver is not None and liver.table is None  # dcmqi wrote no names into it
    spine = _guess(public_ct / "dcmqi_ct3slice" / "liver_spine_seg.nrrd")
    assert spine is not None
    ts = _guess(public_ct / "totalsegmentator_dicom" / "example_seg_dicom.nii.gz")
    assert ts is not None and ts.table is not None
    assert ts.table[5].name == "liver" and ts.table[63].name == "inferior_vena_cava"
    assert ts.table.names == {v: totalsegmentator_total_table()[v].name for v in ts.table}
    assert _guess(public_ct / "totalsegmentator_abdomen" / "example_ct.nii.gz") is None
    assert _guess(public_ct / "dcmqi_ct3slice" / "series") is None  # DICOM: not a volume file


def _dcmqi_meta(folder: Path, groups: list[list[tuple[int, str]]]) -> None:
    import json

    attributes = [
        [{"labelID": v, "SegmentLabel": name, "recommendedDisplayRGBValue": [220, 129, 101]}
         for v, name in group]
        for group in groups
    ]  # fmt: skip
    (folder / "meta.json").write_text(json.dumps({"segmentAttributes": attributes}))


def test_names_from_dcmqis_meta_json(tmp_path: Path) -> None:
    _dcmqi_meta(tmp_path, [[(1, "Liver")], [(1, "Spine"), (2, "Aorta")]])
    write_itk(tmp_path / "1.nrrd", _labels(values=(1,)))
    write_itk(tmp_path / "2.nrrd", _labels())
    write_itk(tmp_path / "seg.nrrd", _labels())
    first, second = _guess(tmp_path / "1.nrrd"), _guess(tmp_path / "2.nrrd")
    assert first is not None and first.table is not None and first.table.names == {1: "Liver"}
    assert "meta.json" in first.source
    assert second is not None and second.table is not None
    assert second.table.names == {1: "Spine", 2: "Aorta"}
    # another name with several lists: which list is its own cannot be told
    other = _guess(tmp_path / "seg.nrrd")
    assert other is not None and other.table is None
    (tmp_path / "meta.json").write_text("{not json")
    broken = _guess(tmp_path / "1.nrrd")
    assert broken is not None and broken.table is None


@pytest.mark.realdata
def test_a_label_map_dcmqi_writes_from_a_seg_is_named(public_ct: Path, tmp_path: Path) -> None:
    import subprocess
    import sys

    tool = Path(sys.executable).parent / "segimage2itkimage"
    if not tool.is_file():
        pytest.skip(f"dcmqi's segimage2itkimage not found beside {sys.executable}")
    subprocess.run(
        [str(tool), "--inputDICOM", str(public_ct / "dcmqi_ct3slice" / "liver.dcm"),
         "--outputDirectory", str(tmp_path), "--mergeSegments", "-t", "nrrd"],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    guess = _guess(tmp_path / "1.nrrd")
    assert guess is not None and guess.table is not None
    assert guess.table.names == {1: "Liver"}

"""Label maps and label tables: JSON, dcmqi JSON, ITK-SNAP, sidecars, writing, errors."""

from __future__ import annotations

import json
import os
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from _io_factory import write_itk, write_nifti

from ivcviewer.errors import VolumeFormatError
from ivcviewer.io import (
    LabelEntry,
    LabelTable,
    find_label_sidecar,
    label_values,
    load_labels,
    save_labels,
)

ITKSNAP_TEXT = """\
################################################
# ITK-SnAP Label Description File
# IDX   -R-  -G-  -B-  -A--  VIS MSH  LABEL
################################################
    0     0    0    0        0  0  0    "Clear Label"
    1   255    0    0        1  1  1    "inferior vena cava"
   40   221  130  101      0.5  1  1    "liver"
"""


def _label_xyz() -> np.ndarray:
    """A small [i, j, k] label map with values 0, 1 and 40."""
    data = np.zeros((6, 5, 4), np.uint8)
    data[1:3, 1:3, 1:3] = 1
    data[3:6, 0:2, 0:4] = 40
    return data


@pytest.fixture
def labelmap(tmp_path: Path) -> Path:
    d = tmp_path / "in"
    d.mkdir()
    return write_nifti(d / "seg.nii.gz", _label_xyz())


# Tables ----------------------------------------------------------------------------------


def test_json_value_to_name_like_totalsegmentator() -> None:
    t = LabelTable.from_json_data({"1": "adrenal_gland_left", "40": "liver"})
    assert t.names == {1: "adrenal_gland_left", 40: "liver"}
    assert t.value_of("liver") == 40 and t.value_of("LIVER") == 40
    assert len({e.rgba for e in t.values()}) == 2  # distinct default colours
    with pytest.raises(KeyError, match="spleen.*adrenal_gland_left"):
        t.value_of("spleen")


def test_json_with_colours() -> None:
    t = LabelTable.from_json_data(
        {"1": {"name": "ivc", "rgba": [0, 0, 1, 0.5]}, "2": {"name": "mass", "color": [255, 0, 0]}}
    )
    assert t[1] == LabelEntry("ivc", (0.0, 0.0, 1.0, 0.5))
    assert t[2] == LabelEntry("mass", (1.0, 0.0, 0.0, 1.0))
    # and the JSON form round trips
    assert LabelTable.from_json_data(t.to_json_data()) == t


def test_dcmqi_segmentation_json(tmp_path: Path) -> None:
    doc = {
        "segmentAttributes": [
            [
                {
                    "labelID": 1,
                    "SegmentLabel": "Liver",
                    "recommendedDisplayRGBValue": [220, 129, 101],
                }
            ],
            [{"labelID": 2, "SegmentDescription": "Thoracic spine"}],
        ]
    }
    f = tmp_path / "seg.json"
    f.write_text(json.dumps(doc))
    t = LabelTable.read(f)
    assert t.names == {1: "Liver", 2: "Thoracic spine"}
    assert t[1].rgba == pytest.approx((220 / 255, 129 / 255, 101 / 255, 1.0))


def test_itksnap_label_file(tmp_path: Path) -> None:
    f = tmp_path / "labels.txt"
    f.write_text(ITKSNAP_TEXT)
    t = LabelTable.read(f)
    assert t.names == {1: "inferior vena cava", 40: "liver"}  # 0 "Clear Label" is background
    assert t[1].rgba == (1.0, 0.0, 0.0, 1.0)
    assert t[40].rgba == pytest.approx((221 / 255, 130 / 255, 101 / 255, 0.5))
    again = LabelTable.from_itksnap_text(t.to_itksnap_text())
    assert again.names == t.names
    for v in t:
        assert again[v].rgba == pytest.approx(t[v].rgba, abs=1 / 255)


@pytest.mark.parametrize(
    "data, message",
    [
        ({"one": "liver"}, "not an integer"),
        ({"-3": "liver"}, "negative"),
        ({"1": {"name": "x", "rgba": [2, 0, 0]}}, "0..1"),
        ({"1": {"name": "x", "color": [300, 0, 0]}}, "0..255"),
        ({"1": 5}, "must map to a name"),
        ([1, 2], "JSON object"),
        ({"1": "  "}, "non-empty name"),
    ],
)
def test_bad_json_tables(data: object, message: str) -> None:
    with pytest.raises(VolumeFormatError, match=message):
        LabelTable.from_json_data(data, "t.json")


def test_bad_itksnap_lines_name_file_and_line(tmp_path: Path) -> None:
    f = tmp_path / "bad.txt"
    f.write_text('# header\n1 255 0 0 1 1 "no mesh field"\n')
    with pytest.raises(VolumeFormatError, match=r"bad\.txt, line 2: expected 8 fields"):
        LabelTable.read(f)
    f.write_text('1 red 0 0 1 1 1 "x"\n')
    with pytest.raises(VolumeFormatError, match="line 1: colour fields must be numbers"):
        LabelTable.read(f)
    f.write_text("{not json")
    with pytest.raises(VolumeFormatError, match="invalid JSON"):
        LabelTable.read(f)


# Label maps ------------------------------------------------------------------------------


def test_sidecar_is_found_and_used(labelmap: Path) -> None:
    side = labelmap.with_name("seg_labels.json")
    side.write_text(json.dumps({"1": "inferior_vena_cava", "40": "liver"}))
    assert find_label_sidecar(labelmap) == side
    vol, table = load_labels(labelmap)
    assert table.names == {1: "inferior_vena_cava", 40: "liver"}
    assert vol.array.dtype == np.uint8
    np.testing.assert_array_equal(vol.array, _label_xyz().transpose(2, 1, 0))
    assert vol.metadata.modality == "SEG"
    assert "unnamed_labels" not in vol.report
    assert vol.metadata.extra["label_table"] == str(side)


def test_explicit_itksnap_table(labelmap: Path, tmp_path: Path) -> None:
    f = tmp_path / "snap.txt"
    f.write_text(ITKSNAP_TEXT)
    _, table = load_labels(labelmap, f)
    assert table.value_of("liver") == 40


def test_values_missing_from_the_table_get_default_names(labelmap: Path) -> None:
    vol, table = load_labels(labelmap, {40: "liver"})
    assert table.names == {1: "label_1", 40: "liver"}
    item = next(i for i in vol.report.items if i.code == "unnamed_labels")
    assert item.severity.value == "warning" and "1" in item.message
    vol2, table2 = load_labels(labelmap)  # no table at all: info, all defaults
    assert table2.names == {1: "label_1", 40: "label_40"}
    assert next(i for i in vol2.report.items if i.code == "unnamed_labels").severity.value == "info"


def test_missing_table_file(labelmap: Path, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        load_labels(labelmap, tmp_path / "nope.json")


def test_table_given_a_folder_says_it_is_a_folder(labelmap: Path, tmp_path: Path) -> None:
    folder = tmp_path / "tables"
    folder.mkdir()
    with pytest.raises(VolumeFormatError, match="is a folder, not a file") as err:
        load_labels(labelmap, folder)
    assert str(folder) in str(err.value) and "'names'" in str(err.value)
    assert not isinstance(err.value, FileNotFoundError)


def test_whole_float_labels_are_accepted_fractional_refused(tmp_path: Path) -> None:
    data = _label_xyz().astype(np.float32)
    vol, _ = load_labels(write_nifti(tmp_path / "f.nii.gz", data))
    assert vol.array.dtype == np.uint8
    data[0, 0, 0] = 2.5
    path = write_nifti(tmp_path / "frac.nii.gz", data)
    with pytest.raises(VolumeFormatError, match=r"frac\.nii\.gz.*whole numbers.*2\.5"):
        load_labels(path)
    data[0, 0, 0] = np.nan
    with pytest.raises(VolumeFormatError, match="whole numbers"):
        load_labels(write_nifti(tmp_path / "nan.nii.gz", data))


def test_negative_labels_refused_and_wide_labels_uint16(tmp_path: Path) -> None:
    data = _label_xyz().astype(np.int16)
    data[0, 0, 0] = -1
    with pytest.raises(VolumeFormatError, match=">= 0"):
        load_labels(write_nifti(tmp_path / "neg.nii.gz", data))
    data[0, 0, 0] = 1000
    vol, table = load_labels(write_nifti(tmp_path / "wide.nii.gz", data))
    assert vol.array.dtype == np.uint16
    assert 1000 in table


def test_nrrd_label_map(tmp_path: Path) -> None:
    zyx = _label_xyz().transpose(2, 1, 0).copy()
    write_itk(tmp_path / "seg.nrrd", zyx)
    vol, table = load_labels(tmp_path / "seg.nrrd", {1: "a", 40: "b"})
    np.testing.assert_array_equal(vol.array, zyx)
    assert table.names == {1: "a", 40: "b"}


def test_label_values_helper() -> None:
    assert label_values(np.array([[[0, 7, 7, 300]]], dtype=np.uint16)) == [7, 300]
    assert label_values(np.array([[[0, 5, 70000]]], dtype=np.uint32)) == [5, 70000]


# Writing ---------------------------------------------------------------------------------


def test_save_labels_round_trip(labelmap: Path, tmp_path: Path) -> None:
    vol, _ = load_labels(labelmap)
    table = LabelTable(
        {1: LabelEntry("ivc", (0.0, 0.0, 1.0, 1.0)), 40: LabelEntry("liver", (0.8, 0.5, 0.4, 1.0))}
    )
    out = tmp_path / "out"
    out.mkdir()
    image, sidecar = save_labels(vol, table, out / "regions.nii.gz")
    assert sidecar == out / "regions_labels.json"
    assert sorted(os.listdir(out)) == ["regions.nii.gz", "regions_labels.json"]
    img = nib.load(str(image))
    assert img.header.get_intent()[0] == "label"
    assert img.get_data_dtype() == np.uint8
    back, back_table = load_labels(image)  # the sidecar is discovered
    assert back_table == table
    np.testing.assert_array_equal(back.array, vol.array)
    np.testing.assert_allclose(back.affine, vol.affine, atol=1e-6)


def test_save_labels_checks(labelmap: Path, tmp_path: Path) -> None:
    vol, _ = load_labels(labelmap)
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(VolumeFormatError, match=r"\[1\].*no entry"):
        save_labels(vol, LabelTable.from_names({40: "liver"}), out / "x.nii.gz")
    with pytest.raises(VolumeFormatError, match="input"):
        save_labels(vol, LabelTable.from_names({1: "a", 40: "b"}), labelmap.parent / "x.nii.gz")
    frac = vol.with_array(vol.array.astype(np.float32) + 0.5)
    with pytest.raises(VolumeFormatError, match="whole numbers"):
        save_labels(frac, LabelTable.from_names({1: "a", 40: "b"}), out / "y.nii.gz")
    assert os.listdir(out) == []

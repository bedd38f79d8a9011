"""Real public CT (../shared/public_ct): NIfTI/NRRD/DICOM geometry, HU and label maps.

Figures seen on these files (TotalSegmentator test data, non-contrast NIfTI; contrast DICOM):
NIfTI liver mean 44 HU, iliopsoas 46 / 42 HU (left / right); DICOM liver mean 89 HU, aorta
177 HU; dcmqi 3-slice CT liver median 45 HU, thoracic spine 251 HU. The bounds below are wide
physiological ranges, not those figures.
"""

from __future__ import annotations

import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
import SimpleITK as sitk
from scipy import ndimage

from ivcviewer import geometry
from ivcviewer.cli.main import main
from ivcviewer.io import LabelTable, load_labels, load_volume, open_path
from ivcviewer.volume import Volume

pytestmark = pytest.mark.realdata

#: TotalSegmentator v2 "total" task values used below (totalsegmentator/map_to_binary.py).
TOTALSEG_V2 = {1: "spleen", 5: "liver", 52: "aorta", 63: "inferior_vena_cava"}


def _sitk_affine(img: sitk.Image) -> np.ndarray:
    return geometry.affine_from_itk(img.GetOrigin(), img.GetSpacing(), img.GetDirection())


def _assert_same_geometry(affine: np.ndarray, img: sitk.Image) -> None:
    """Origin and spacing within 0.01 mm, direction within 1e-4, as SimpleITK reads it."""
    ref = _sitk_affine(img)
    np.testing.assert_allclose(affine[:3, 3], ref[:3, 3], atol=0.01)
    np.testing.assert_allclose(
        geometry.spacing_from_affine(affine), geometry.spacing_from_affine(ref), atol=0.01
    )
    np.testing.assert_allclose(
        geometry.direction_from_affine(affine), geometry.direction_from_affine(ref), atol=1e-4
    )


def _centroid_lps(mask_volume: Volume, mask: np.ndarray) -> np.ndarray:
    return mask_volume.voxel_to_lps(np.argwhere(mask).mean(axis=0))


# NIfTI CT and its TotalSegmentator v1 label map -----------------------------------------


@pytest.fixture(scope="module")
def abdomen(public_ct: Path) -> tuple[Volume, Volume, LabelTable]:
    folder = public_ct / "totalsegmentator_abdomen"
    ct = load_volume(folder / "example_ct.nii.gz")
    labels, table = load_labels(folder / "example_ct_totalseg_v1.nii.gz")  # sidecar JSON
    return ct, labels, table


def test_nifti_ct_matches_simpleitk(
    public_ct: Path, abdomen: tuple[Volume, Volume, LabelTable]
) -> None:
    ct, _, _ = abdomen
    path = public_ct / "totalsegmentator_abdomen" / "example_ct.nii.gz"
    img = sitk.ReadImage(str(path))
    _assert_same_geometry(ct.affine, img)
    np.testing.assert_array_equal(ct.array, sitk.GetArrayFromImage(img))
    assert ct.array.dtype == np.int16  # int32 on disk, values fit
    assert (int(ct.array.min()), int(ct.array.max())) == (-1207, 3382)
    raw = np.asarray(nib.load(str(path)).dataobj)
    assert ct.array[10, 20, 30] == raw[30, 20, 10]


def test_nifti_labels_share_the_ct_grid(abdomen: tuple[Volume, Volume, LabelTable]) -> None:
    ct, labels, table = abdomen
    assert labels.shape == ct.shape
    np.testing.assert_allclose(labels.affine, ct.affine, atol=1e-6)
    assert len(table) == 62 and "unnamed_labels" not in labels.report
    assert table.value_of("liver") == 40 and table.value_of("inferior_vena_cava") == 37


def test_nifti_labels_cover_the_right_tissue(abdomen: tuple[Volume, Volume, LabelTable]) -> None:
    ct, labels, table = abdomen
    liver = labels.array == table.value_of("liver")
    assert liver.sum() > 10_000
    assert 30 <= ct.array[liver].mean() <= 90  # non-contrast liver (seen: 44 HU)
    for side in ("left", "right"):
        muscle = labels.array == table.value_of(f"iliopsoas_{side}")
        assert 20 <= ct.array[muscle].mean() <= 70  # muscle (seen: 46 / 42 HU)
    lung = labels.array == table.value_of("lung_lower_lobe_right")
    assert ct.array[lung].mean() < -500


def test_nifti_ras_to_lps_puts_organs_on_the_right_side(
    abdomen: tuple[Volume, Volume, LabelTable],
) -> None:
    """LPS +x is the patient's left: the liver must have negative x, the spleen positive."""
    _, labels, table = abdomen
    c = {
        n: _centroid_lps(labels, labels.array == table.value_of(n))
        for n in (
            "liver",
            "spleen",
            "aorta",
            "inferior_vena_cava",
            "vertebrae_L3",
            "urinary_bladder",
        )
    }
    assert c["liver"][0] < 0 < c["spleen"][0]
    assert c["inferior_vena_cava"][0] < c["aorta"][0]  # IVC right of the aorta
    assert c["aorta"][1] < c["vertebrae_L3"][1]  # aorta anterior (smaller y) to the spine
    assert c["urinary_bladder"][2] < c["liver"][2]  # bladder below (smaller z) the liver


# dcmqi NRRD label maps on their DICOM series --------------------------------------------


def test_dcmqi_nrrd_labels_with_segment_json(public_ct: Path) -> None:
    folder = public_ct / "dcmqi_ct3slice"
    labels, table = load_labels(
        folder / "liver_spine_seg.nrrd", folder / "seg-example_liver_spine.json"
    )
    assert table.names == {1: "Liver", 2: "Thoracic spine"}
    img = sitk.ReadImage(str(folder / "liver_spine_seg.nrrd"))
    _assert_same_geometry(labels.affine, img)
    (ct,) = open_path(folder / "series")
    np.testing.assert_allclose(labels.affine, ct.affine, atol=0.01)
    liver = labels.array == 1
    spine = labels.array == 2
    assert 20 <= np.median(ct.array[liver]) <= 90  # noisy 1 mm slices (median seen: 45 HU)
    assert np.median(ct.array[spine]) > 150  # bone (median seen: 251 HU)
    assert _centroid_lps(labels, liver)[0] < 0  # liver on the patient's right


# TotalSegmentator DICOM series (JPEG 2000) and its y-flipped label map -------------------


@pytest.fixture(scope="module")
def dicom_ct(public_ct: Path) -> Volume:
    (ct,) = open_path(public_ct / "totalsegmentator_dicom" / "series")
    return ct


def test_dicom_ct_matches_simpleitk(public_ct: Path, dicom_ct: Volume) -> None:
    reader = sitk.ImageSeriesReader()
    files = reader.GetGDCMSeriesFileNames(str(public_ct / "totalsegmentator_dicom" / "series"))
    reader.SetFileNames(files)
    img = reader.Execute()
    _assert_same_geometry(dicom_ct.affine, img)
    np.testing.assert_array_equal(dicom_ct.array, sitk.GetArrayFromImage(img))


def test_flipped_label_map_lands_on_the_dicom_ct(public_ct: Path, dicom_ct: Volume) -> None:
    labels, table = load_labels(
        public_ct / "totalsegmentator_dicom" / "example_seg_dicom.nii.gz", TOTALSEG_V2
    )
    # the label map's rows run the other way (anterior-to-posterior flipped) ...
    assert labels.shape == dicom_ct.shape
    assert np.sign(labels.affine[1, 1]) == -np.sign(dicom_ct.affine[1, 1])
    # ... but resampled through world coordinates every CT voxel centre hits a label voxel centre
    ijk = np.indices(dicom_ct.shape).reshape(3, -1).T
    lab_ijk = labels.lps_to_voxel(dicom_ct.voxel_to_lps(ijk))
    assert np.abs(lab_ijk - np.round(lab_ijk)).max() < 1e-3
    on_ct = ndimage.map_coordinates(labels.array, lab_ijk.T, order=0, mode="constant")
    on_ct = on_ct.reshape(dicom_ct.shape)
    # the same as flipping the rows: a pure index permutation, no interpolation
    np.testing.assert_array_equal(on_ct, labels.array[:, ::-1, :])
    hu = dicom_ct.array
    liver = on_ct == table.value_of("liver")
    aorta = on_ct == table.value_of("aorta")
    assert liver.sum() > 100_000
    assert 60 <= np.median(hu[liver]) <= 150  # enhanced liver (mean seen: 89 HU)
    assert np.median(hu[aorta]) > 130  # contrast in the aorta (mean seen: 177 HU)
    # taken index for index (ignoring the flip) the liver label would cover other voxels:
    # it overlaps the correctly placed liver by about half (seen: 52 %)
    naive = labels.array == table.value_of("liver")
    assert (naive & liver).sum() / liver.sum() < 0.7
    c_liver = _centroid_lps(dicom_ct, liver)
    c_spleen = _centroid_lps(dicom_ct, on_ct == table.value_of("spleen"))
    assert c_liver[0] < 0 < c_spleen[0]


def test_info_json_on_the_real_dicom_series(
    public_ct: Path, dicom_ct: Volume, capsys: pytest.CaptureFixture[str]
) -> None:
    rc = main(["info", str(public_ct / "totalsegmentator_dicom" / "series"), "--json"])
    out, err = capsys.readouterr()
    assert rc == 0, err
    data = json.loads(out)
    (s,) = data["series"]
    assert s["modality"] == "CT" and s["n_images"] == 20
    assert s["shape"] == [20, 512, 512]
    np.testing.assert_allclose(s["spacing_mm"], [2.0, 0.9765625, 0.9765625], atol=1e-6)
    np.testing.assert_allclose(s["affine_lps"], dicom_ct.affine, atol=1e-5)
    # this anonymised series has an empty SeriesInstanceUID (and an empty SOPClassUID)
    assert s["series_uid"] == dicom_ct.metadata.series_uid == ""
    assert s["transfer_syntax"] == "1.2.840.10008.1.2.4.90"  # JPEG 2000 lossless
    assert data["skipped"] == []

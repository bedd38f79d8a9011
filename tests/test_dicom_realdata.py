"""Real public CT series: geometry and HU agree with SimpleITK's ImageSeriesReader."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk

from ivcviewer.dicom import load_dicom, scan
from ivcviewer.geometry import affine_from_itk, direction_from_affine, spacing_from_affine

pytestmark = pytest.mark.realdata

SERIES = ["totalsegmentator_dicom/series", "dcmqi_ct3slice/series"]


def _sitk_read(folder: Path) -> sitk.Image:
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(reader.GetGDCMSeriesFileNames(str(folder)))
    return reader.Execute()


@pytest.mark.parametrize("rel", SERIES)
def test_real_series_agrees_with_simpleitk(public_ct: Path, rel: str) -> None:
    folder = public_ct / rel
    result = scan(folder)
    assert result.skipped == []
    (vol,) = load_dicom(folder)
    img = _sitk_read(folder)
    ref = affine_from_itk(img.GetOrigin(), img.GetSpacing(), img.GetDirection())
    np.testing.assert_allclose(vol.origin_lps, ref[:3, 3], atol=0.01)
    np.testing.assert_allclose(vol.spacing, spacing_from_affine(ref), atol=0.01)
    np.testing.assert_allclose(
        direction_from_affine(vol.affine), direction_from_affine(ref), atol=1e-4
    )
    hu = sitk.GetArrayFromImage(img)
    assert vol.array.shape == hu.shape
    np.testing.assert_array_equal(vol.array, hu)
    assert vol.array.dtype == np.int16
    codes = set(vol.report.codes)
    assert not codes & {"missing_slices", "duplicate_positions", "irregular_spacing", "gantry_tilt"}


def test_totalsegmentator_series_details(public_ct: Path) -> None:
    (info,) = scan(public_ct / "totalsegmentator_dicom/series").series
    assert info.n_images == 20
    assert info.shape == (20, 512, 512)
    assert info.spacing_mm == pytest.approx((2.0, 0.9765625, 0.9765625))
    assert info.window == (40.0, 300.0)
    assert "compressed" in info.report
    assert info.modality == "CT"

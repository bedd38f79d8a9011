"""Vendor mosaics: a Siemens mosaic is unpacked into its slices with the right geometry, or
left out with the ``mosaic`` code, never loaded as one big slice."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pydicom
import pytest
from _dicom_factory import AXIAL, PIXEL_SPACING, SAGITTAL
from _split_factory import write_mosaic

from ivcviewer import geometry
from ivcviewer.cli.info import describe_path
from ivcviewer.dicom import load_dicom, scan
from ivcviewer.errors import NoSeriesFoundError

ORIGIN = (-40.0, -55.0, 12.0)


def tiles(n: int, rows: int = 8, cols: int = 6) -> np.ndarray:
    """Stored values that tell slice, row and column apart."""
    k, r, c = np.meshgrid(np.arange(n), np.arange(rows), np.arange(cols), indexing="ij")
    return (1000 + 100 * k + 10 * r + c).astype(np.uint16)


def expected_position(k: float, r: float, c: float, orientation=AXIAL, step=3.0, sign=1.0):
    """LPS of voxel (tile k, row r, col c) from the true first-tile origin, built independently."""
    iop = np.asarray(orientation, dtype=float)
    normal = np.cross(iop[:3], iop[3:]) * sign
    return (
        np.asarray(ORIGIN)
        + k * step * normal
        + r * PIXEL_SPACING[0] * iop[3:]
        + c * PIXEL_SPACING[1] * iop[:3]
    )


@pytest.mark.parametrize("n", [5, 9, 10])
def test_mosaic_is_unpacked_into_its_slices(tmp_path: Path, n: int) -> None:
    data = tiles(n)
    path = write_mosaic(tmp_path / "m" / "mosaic.dcm", data, first_tile_origin=ORIGIN)
    assert pydicom.dcmread(path).Rows == int(np.ceil(np.sqrt(n))) * 8  # one big image on disk
    (info,) = scan(tmp_path / "m").series
    assert info.shape == (n, 8, 6) and info.mosaic is not None and info.n_images == 1
    assert info.report.codes[0] == "mosaic"
    (vol,) = load_dicom(tmp_path / "m")
    assert vol.shape == (n, 8, 6)
    np.testing.assert_array_equal(vol.array, data.astype(np.int32))  # MR: no rescale
    for k, r, c in [(0, 0, 0), (n - 1, 7, 5), (2, 3, 4)]:
        np.testing.assert_allclose(vol.affine @ [k, r, c, 1], [*expected_position(k, r, c), 1])
    np.testing.assert_allclose(vol.spacing, (3.0, *PIXEL_SPACING))


def test_first_tile_position_agrees_with_nibabel(tmp_path: Path) -> None:
    """nibabel's MosaicWrapper (an independent implementation) places the first tile alike."""
    from nibabel.nicom.dicomwrappers import wrapper_from_data

    path = write_mosaic(
        tmp_path / "m" / "mosaic.dcm", tiles(7), first_tile_origin=ORIGIN, orientation=SAGITTAL
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wrapper = wrapper_from_data(pydicom.dcmread(path))
    assert wrapper.is_mosaic and wrapper.n_mosaic == 7
    (info,) = scan(tmp_path / "m").series
    np.testing.assert_allclose(info.affine[:3, 3], wrapper.image_position, atol=1e-6)
    np.testing.assert_allclose(info.affine[:3, 3], expected_position(0, 0, 0, SAGITTAL))
    np.testing.assert_allclose(geometry.slice_normal(SAGITTAL), wrapper.slice_normal, atol=1e-6)


def test_descending_mosaic_is_stacked_along_the_normal(tmp_path: Path) -> None:
    data = tiles(6)
    write_mosaic(tmp_path / "m" / "mosaic.dcm", data, first_tile_origin=ORIGIN, descending=True)
    (vol,) = load_dicom(tmp_path / "m")
    # tile k lies k steps against row x column: the last tile comes first along the normal
    np.testing.assert_array_equal(vol.array, data[::-1].astype(np.int32))
    for k in range(6):
        tile = 5 - k
        np.testing.assert_allclose(
            vol.affine @ [k, 2, 3, 1], [*expected_position(tile, 2, 3, sign=-1.0), 1]
        )
    assert np.dot(vol.affine[:3, 0], geometry.slice_normal(AXIAL)) > 0


def test_private_count_alone_is_enough(tmp_path: Path) -> None:
    data = tiles(4)
    write_mosaic(tmp_path / "m" / "mosaic.dcm", data, first_tile_origin=ORIGIN, csa=False)
    (vol,) = load_dicom(tmp_path / "m")
    np.testing.assert_array_equal(vol.array, data.astype(np.int32))
    assert "no CSA SliceNormalVector" in vol.report.items[0].message


def test_csa_header_alone_is_enough(tmp_path: Path) -> None:
    data = tiles(4)
    write_mosaic(tmp_path / "m" / "mosaic.dcm", data, first_tile_origin=ORIGIN, private_count=False)
    (vol,) = load_dicom(tmp_path / "m")
    np.testing.assert_array_equal(vol.array, data.astype(np.int32))


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"private_count": False, "csa": False}, "how many slices"),
        ({"n_declared": 5}, "whole tiles"),
    ],
)
def test_mosaic_that_cannot_be_unpacked_is_refused_with_its_code(
    tmp_path: Path, kwargs: dict, reason: str
) -> None:
    write_mosaic(tmp_path / "m" / "mosaic.dcm", tiles(4), first_tile_origin=ORIGIN, **kwargs)
    result = scan(tmp_path / "m")
    assert result.series == []
    (skipped,) = result.skipped
    assert skipped.code == "mosaic" and reason in skipped.reason
    with pytest.raises(NoSeriesFoundError, match="mosaic"):
        load_dicom(tmp_path / "m")
    with pytest.raises(NoSeriesFoundError, match="mosaic"):
        describe_path(tmp_path / "m")


def test_time_series_of_mosaics_gives_one_volume_per_mosaic(tmp_path: Path) -> None:
    uid = pydicom.uid.generate_uid(entropy_srcs=["bold"])
    for t in range(11):
        write_mosaic(
            tmp_path / "bold" / f"t{t:02d}.dcm",
            tiles(4) + 7 * t,
            first_tile_origin=ORIGIN,
            series_uid=uid,
            acquisition=t + 1,
            instance=t + 1,
        )
    infos = scan(tmp_path / "bold").series
    assert [s.description for s in infos] == [f"ep2d_bold (acquisition {t})" for t in range(1, 12)]
    vols = load_dicom(tmp_path / "bold")
    for t, vol in enumerate(vols):
        np.testing.assert_array_equal(vol.array, (tiles(4) + 7 * t).astype(np.int32))
        assert "duplicate_positions" not in vol.report


def _nibabel_test_file(name: str) -> Path:
    """A file of nibabel's own DICOM test data (shipped with the package), or skip."""
    import nibabel.nicom

    path = Path(nibabel.nicom.__file__).parent / "tests" / "data" / name
    if not path.is_file():
        pytest.skip(f"nibabel's test file {name} is not installed with nibabel")
    return path


def test_real_siemens_mosaic_header_agrees_with_nibabel(tmp_path: Path) -> None:
    """A scanner-written Siemens DWI mosaic header (pixels blanked by nibabel): same grid."""
    import gzip

    from nibabel.nicom.dicomwrappers import wrapper_from_data

    source = _nibabel_test_file("siemens_dwi_1000.dcm.gz")
    path = tmp_path / "dwi.dcm"
    path.write_bytes(gzip.decompress(source.read_bytes()))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wrapper = wrapper_from_data(pydicom.dcmread(path))
    (vol,) = load_dicom(path)
    rows, cols, n = wrapper.image_shape
    assert vol.shape == (n, rows, cols) == (48, 128, 128)
    # nibabel's affine maps (row, col, slice); ivcviewer's (slice, row, col)
    np.testing.assert_allclose(vol.affine[:3, [1, 2, 0, 3]], wrapper.affine[:3], atol=1e-4)
    assert vol.report.codes[0] == "mosaic"


def test_real_mosaic_with_cut_pixel_data_is_refused(tmp_path: Path) -> None:
    """nibabel's 0.dcm: a 48-slice mosaic header over a 256 x 256 image that cannot hold it."""
    path = _nibabel_test_file("0.dcm")
    (skipped,) = scan(path).skipped
    assert skipped.code == "mosaic" and "7 x 7 tile grid" in skipped.reason


@pytest.mark.parametrize("csa_bytes", [b"SV10\x04\x03\x02\x01\x05\x00\x00\x00M\x00", b"\xff" * 40])
def test_damaged_csa_header_falls_back_to_the_private_count(
    tmp_path: Path, csa_bytes: bytes
) -> None:
    data = tiles(4)
    write_mosaic(tmp_path / "m" / "mosaic.dcm", data, first_tile_origin=ORIGIN, csa_bytes=csa_bytes)
    (vol,) = load_dicom(tmp_path / "m")
    np.testing.assert_array_equal(vol.array, data.astype(np.int32))
    assert "no CSA SliceNormalVector" in vol.report.items[0].message

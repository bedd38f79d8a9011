"""Hostile volume files: every damaged or crafted NIfTI, NRRD, MetaImage and label table gets
exit status 2 and one line naming the file, the rule and the fix; nothing hangs, nothing
allocates what a header claims, nothing outside the input is read, inputs stay unchanged."""

from __future__ import annotations

import gzip
import hashlib
import os
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from _io_factory import write_itk, write_nifti, xyz_data

from ivcviewer.cli.main import main
from ivcviewer.errors import ResourceLimitError, VolumeFormatError
from ivcviewer.io import load_labels, load_volume, read_volume_header
from ivcviewer.limits import Limits


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


def _refused(capsys: pytest.CaptureFixture[str], path: Path, *words: str) -> str:
    """Run ``info`` on ``path`` and check the one-line refusal; return the line."""
    folder = path.parent
    before = _digest(folder)
    rc = main(["info", str(path)])
    out, err = capsys.readouterr()
    assert rc == 2, (out, err)
    lines = err.splitlines()
    assert len(lines) == 1, err
    line = lines[0]
    assert line.startswith("ivcviewer: error: "), line
    assert str(path) in line or path.name in line, line
    assert "Fix:" in line, line
    assert "Traceback" not in err
    for word in words:
        assert word in line, (word, line)
    assert _digest(folder) == before
    return line


# NIfTI ------------------------------------------------------------------------------------


def _nifti(folder: Path, name: str = "ct.nii") -> Path:
    folder.mkdir(exist_ok=True)
    return write_nifti(folder / name, xyz_data())


def _patch(path: Path, offset: int, fmt: str, *values: float) -> Path:
    data = bytearray(path.read_bytes())
    struct.pack_into(fmt, data, offset, *values)
    path.write_bytes(bytes(data))
    return path


NIFTI_DAMAGE: dict[str, tuple[Callable[[Path], Path], tuple[str, ...]]] = {
    "sizeof_hdr": (lambda p: _patch(p, 0, "<i", 1234), ("sizeof_hdr", "348")),
    "dim0_high": (lambda p: _patch(p, 40, "<h", 9), ("dim[0]", "1..7")),
    "dim0_zero": (lambda p: _patch(p, 40, "<h", 0), ("dim[0]",)),
    "dim_negative": (lambda p: _patch(p, 42, "<h", -7), ("at least 1",)),
    "dim_zero": (lambda p: _patch(p, 44, "<h", 0), ("at least 1",)),
    "pixdim_nan": (lambda p: _patch(p, 80, "<f", float("nan")), ("pixdim", "finite")),
    "xyzt_units": (lambda p: _patch(p, 123, "<B", 7), ("xyzt_units",)),
    "quaternion": (lambda p: _patch(p, 256, "<3f", 3.0, 2.0, 1.0), ("quaternion",)),
    "datatype": (lambda p: _patch(p, 70, "<h", 999), ("datatype",)),
    "magic": (lambda p: _patch(p, 344, "<4s", b"ni1\x00"), ("magic",)),
    "huge_dims": (
        lambda p: _patch(p, 42, "<3h", 32767, 32767, 32767),
        ("declares", "bytes of voxels"),
    ),
    "truncated": (
        lambda p: (p.write_bytes(p.read_bytes()[:400]), p)[1],
        ("declares", "holds at most"),
    ),
}


@pytest.mark.parametrize("case", sorted(NIFTI_DAMAGE))
def test_damaged_nifti_header_is_refused_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    damage, words = NIFTI_DAMAGE[case]
    path = damage(_nifti(tmp_path / "in"))
    _refused(capsys, path, *words)
    with pytest.raises(VolumeFormatError, match=r"ct\.nii"):
        load_volume(path)


def _nifti2(path: Path, shape: tuple[int, ...]) -> Path:
    """A NIfTI-2 file (int16) whose header declares ``shape`` but holds 100 voxels."""
    img = nib.Nifti2Image(np.zeros((10, 10, 1), dtype=np.int16), np.eye(4))
    nib.save(img, str(path))
    data = bytearray(path.read_bytes())
    struct.pack_into("<q", data, 16, len(shape))
    struct.pack_into(f"<{len(shape)}q", data, 24, *shape)
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize(
    "shape", [(512, 512, 1 << 33), (1 << 14, 1 << 13, 1 << 13), (1 << 20, 1 << 20, 1)]
)
@pytest.mark.parametrize("name", ["bomb.nii", "bomb.nii.gz"])
def test_nifti2_header_declaring_a_huge_volume_is_refused_from_the_header(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], shape: tuple[int, ...], name: str
) -> None:
    (tmp_path / "in").mkdir()
    path = _nifti2(tmp_path / "in" / "bomb.nii", shape)
    if name.endswith(".gz"):
        gz = path.with_name(name)
        gz.write_bytes(gzip.compress(path.read_bytes()))
        path.unlink()
        path = gz
    line = _refused(capsys, path, "declares", "sizes")
    assert f"{shape[0]} x {shape[1]} x {shape[2]}" in line


def test_declared_size_within_file_but_over_the_budget_is_a_resource_limit(
    tmp_path: Path,
) -> None:
    path = write_nifti(tmp_path / "ct.nii.gz", xyz_data((40, 40, 20)))
    with pytest.raises(ResourceLimitError, match=r"ct\.nii\.gz.*memory budget.*Fix:"):
        load_volume(path, limits=Limits(memory_budget_bytes=1000))
    with pytest.raises(ResourceLimitError, match="memory budget"):
        read_volume_header(path, limits=Limits(memory_budget_bytes=1000))


def _corrupt_gzip(path: Path, how: str) -> Path:
    data = bytearray(path.read_bytes())
    if how == "crc":
        data[-8] ^= 0xFF
    elif how == "length":
        data[-1] ^= 0x01
    elif how == "payload":
        data[len(data) // 2] ^= 0x10
    elif how == "cut_trailer":
        del data[-6:]
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize("how", ["crc", "length", "payload", "cut_trailer"])
def test_nii_gz_whose_gzip_check_fails_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], how: str
) -> None:
    (tmp_path / "in").mkdir()
    path = _corrupt_gzip(write_nifti(tmp_path / "in" / "ct.nii.gz", xyz_data((40, 40, 20))), how)
    _refused(capsys, path)
    with pytest.raises(VolumeFormatError, match=r"ct\.nii\.gz"):
        load_volume(path)


def test_gzip_with_data_after_the_stream_end_and_multi_member_files(tmp_path: Path) -> None:
    """bgzip-style multi-member gzip is valid; zero padding after the end is tolerated."""
    raw_path = write_nifti(tmp_path / "ct.nii", xyz_data())
    raw = raw_path.read_bytes()
    ref = load_volume(raw_path)
    multi = tmp_path / "multi.nii.gz"
    multi.write_bytes(gzip.compress(raw[:500]) + gzip.compress(raw[500:]) + b"\x00" * 16)
    np.testing.assert_array_equal(load_volume(multi).array, ref.array)


# NRRD and MetaImage ------------------------------------------------------------------------

_NHDR = (
    "NRRD0004\ntype: short\ndimension: 3\nspace: left-posterior-superior\nsizes: 4 3 2\n"
    "space directions: (1,0,0) (0,1,0) (0,0,2)\nkinds: domain domain domain\n"
    "endian: little\nencoding: raw\nspace origin: (10,20,30)\n"
)


def _nhdr(folder: Path, text: str, data_file: str | None = "ct.raw") -> Path:
    folder.mkdir(exist_ok=True)
    (folder / "ct.raw").write_bytes(np.arange(24, dtype=np.int16).tobytes())
    path = folder / "ct.nhdr"
    path.write_text(text + (f"data file: {data_file}\n" if data_file else ""))
    return path


def test_the_handwritten_nhdr_reads(tmp_path: Path) -> None:
    vol = load_volume(_nhdr(tmp_path, _NHDR))
    np.testing.assert_array_equal(vol.array.ravel(), np.arange(24))


NRRD_DAMAGE: dict[str, tuple[str, tuple[str, ...]]] = {
    "no_sizes": (_NHDR.replace("sizes: 4 3 2\n", ""), ("'sizes'", "required")),
    "no_type": (_NHDR.replace("type: short\n", ""), ("'type'",)),
    "sizes_count": (_NHDR.replace("sizes: 4 3 2", "sizes: 4 3"), ("'sizes'", "not 3")),
    "sizes_zero": (_NHDR.replace("sizes: 4 3 2", "sizes: 4 0 2"), ("at least 1",)),
    "sizes_text": (_NHDR.replace("sizes: 4 3 2", "sizes: 4 x 2"), ("whole numbers",)),
    "dimension": (_NHDR.replace("dimension: 3", "dimension: 99999"), ("'dimension'",)),
    "type": (_NHDR.replace("type: short", "type: quaternion"), ("'type'",)),
    "encoding": (_NHDR.replace("encoding: raw", "encoding: rot13"), ("'encoding'",)),
    "endian": (_NHDR.replace("endian: little", "endian: middle"), ("'endian'",)),
    "directions_nan": (_NHDR.replace("(0,1,0)", "(0,nan,0)"), ("not finite",)),
    "directions_count": (_NHDR.replace(" (0,0,2)", ""), ("'space directions'",)),
    "directions_text": (_NHDR.replace("(0,1,0)", "(0,one,0)"), ("numbers",)),
    "origin": (_NHDR.replace("(10,20,30)", "(10,20)"), ("'space origin'",)),
    "space": (_NHDR.replace("left-posterior-superior", "sideways"), ("'space'",)),
    "magic": (_NHDR.replace("NRRD0004", "NRRD9"), ("magic",)),
    "garbage_line": (_NHDR + "this is not a field\n", ("line",)),
    "huge_sizes": (_NHDR.replace("sizes: 4 3 2", "sizes: 65535 65535 65535"), ("declares",)),
    "gzip_over_raw": (_NHDR.replace("encoding: raw", "encoding: gzip"), ("gzip",)),
    "pattern": (_NHDR, ("pattern",)),
}


@pytest.mark.parametrize("case", sorted(NRRD_DAMAGE))
def test_malformed_nrrd_header_is_refused_before_simpleitk(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    text, words = NRRD_DAMAGE[case]
    data_file = "ct%03d.raw 0 1 1 2" if case == "pattern" else "ct.raw"
    path = _nhdr(tmp_path / "in", text, data_file)
    _refused(capsys, path, *words)


_MHD = (
    "ObjectType = Image\nNDims = 3\nBinaryData = True\nBinaryDataByteOrderMSB = False\n"
    "CompressedData = False\nTransformMatrix = 1 0 0 0 1 0 0 0 1\nOffset = 0 0 0\n"
    "ElementSpacing = 1 1 2\nDimSize = 4 3 2\nElementType = MET_SHORT\n"
)


def _mhd(folder: Path, text: str, data_file: str = "ct.raw") -> Path:
    folder.mkdir(exist_ok=True)
    (folder / "ct.raw").write_bytes(np.arange(24, dtype=np.int16).tobytes())
    path = folder / "ct.mhd"
    path.write_text(text + f"ElementDataFile = {data_file}\n")
    return path


def test_the_handwritten_mhd_reads(tmp_path: Path) -> None:
    vol = load_volume(_mhd(tmp_path, _MHD))
    np.testing.assert_array_equal(vol.array.ravel(), np.arange(24))


MHD_DAMAGE: dict[str, tuple[str, tuple[str, ...]]] = {
    "no_dimsize": (_MHD.replace("DimSize = 4 3 2\n", ""), ("'DimSize'", "required")),
    "no_ndims": (_MHD.replace("NDims = 3\n", ""), ("'NDims'",)),
    "no_type": (_MHD.replace("ElementType = MET_SHORT\n", ""), ("'ElementType'",)),
    "dimsize_count": (_MHD.replace("DimSize = 4 3 2", "DimSize = 4 3"), ("not 3",)),
    "dimsize_negative": (_MHD.replace("DimSize = 4 3 2", "DimSize = 4 -3 2"), ("at least 1",)),
    "ndims": (_MHD.replace("NDims = 3", "NDims = -4"), ("'NDims'",)),
    "type": (_MHD.replace("MET_SHORT", "MET_SHORT_ARRAY"), ("'ElementType'",)),
    "spacing": (_MHD.replace("ElementSpacing = 1 1 2", "ElementSpacing = 1 inf 2"), ("finite",)),
    "matrix": (_MHD.replace("1 0 0 0 1 0 0 0 1", "1 0 0 0 1"), ("'TransformMatrix'",)),
    "offset": (_MHD.replace("Offset = 0 0 0", "Offset = a b c"), ("'Offset'",)),
    "bool": (_MHD.replace("BinaryData = True", "BinaryData = Maybe"), ("'BinaryData'",)),
    "compressed_over_raw": (
        _MHD.replace("CompressedData = False", "CompressedData = True\nCompressedDataSize = 48"),
        ("zlib", "integrity"),
    ),
    "huge": (_MHD.replace("DimSize = 4 3 2", "DimSize = 65535 65535 1000"), ("declares",)),
    "no_line": ("this is not a header\n" + _MHD, ("'Name = Value'",)),
}


@pytest.mark.parametrize("case", sorted(MHD_DAMAGE))
def test_malformed_metaimage_header_is_refused_before_simpleitk(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    text, words = MHD_DAMAGE[case]
    _refused(capsys, _mhd(tmp_path / "in", text), *words)


def test_mha_without_element_data_file_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "in").mkdir()
    path = tmp_path / "in" / "ct.mha"
    path.write_text(_MHD)
    _refused(capsys, path, "'ElementDataFile'")


def test_mha_with_compressed_data_said_raw_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "in").mkdir()
    path = tmp_path / "in" / "ct.mha"
    data = zlib.compress(np.zeros(4 * 3 * 2, dtype=np.int16).tobytes())
    path.write_bytes((_MHD + "ElementDataFile = LOCAL\n").encode() + data)
    _refused(capsys, path, "CompressedData = False")


def test_mha_compressed_truncated_stream_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "in").mkdir()
    path = tmp_path / "in" / "ct.mha"
    write_itk(path, xyz_data((40, 40, 20)).transpose(2, 1, 0).copy())
    good = load_volume(path)
    head = _MHD.replace("DimSize = 4 3 2", "DimSize = 40 40 20").replace(
        "CompressedData = False", "CompressedData = True"
    )
    stream = zlib.compress(np.ascontiguousarray(good.array).astype(np.int16).tobytes())
    sized = head + f"CompressedDataSize = {len(stream)}\nElementDataFile = LOCAL\n"
    path.write_bytes(sized.encode() + stream)
    np.testing.assert_array_equal(load_volume(path).array, good.array)
    path.write_bytes(sized.encode() + stream[:-20])
    _refused(capsys, path, "ends early")
    path.write_bytes((head + "ElementDataFile = LOCAL\n").encode() + stream)
    _refused(capsys, path, "CompressedDataSize")


@pytest.mark.parametrize("name", ["ct.nrrd", "ct.mha", "ct.nhdr", "ct.mhd"])
def test_good_itk_files_still_read(tmp_path: Path, name: str) -> None:
    zyx = xyz_data().transpose(2, 1, 0).copy()
    write_itk(tmp_path / name, zyx)
    np.testing.assert_array_equal(load_volume(tmp_path / name).array, zyx)


# Detached data files -----------------------------------------------------------------------


def _outside(tmp_path: Path) -> Path:
    secret = tmp_path / "secret.raw"
    secret.write_bytes(np.arange(24, dtype=np.int16).tobytes())
    return secret


@pytest.mark.parametrize("kind", ["nhdr", "mhd"])
@pytest.mark.parametrize("how", ["absolute", "dotdot", "symlink_out", "fifo", "folder"])
def test_detached_data_file_must_be_a_regular_file_in_the_header_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str, how: str
) -> None:
    secret = _outside(tmp_path)
    folder = tmp_path / "in"
    folder.mkdir()
    name = {"absolute": str(secret), "dotdot": "../secret.raw"}.get(how, "data.raw")
    if how == "symlink_out":
        (folder / "data.raw").symlink_to(secret)
    elif how == "fifo":
        os.mkfifo(folder / "data.raw")
    elif how == "folder":
        (folder / "data.raw").mkdir()
    path = _nhdr(folder, _NHDR, name) if kind == "nhdr" else _mhd(folder, _MHD, name)
    words = {
        "absolute": ("absolute path",),
        "dotdot": ("'..'",),
        "symlink_out": ("symbolic link",),
        "fifo": ("FIFO",),
        "folder": ("folder",),
    }[how]
    _refused(capsys, path, *words)


@pytest.mark.parametrize("kind", ["nhdr", "mhd"])
@pytest.mark.parametrize("command", ["info", "measure"])
def test_missing_detached_data_file_names_the_header(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str, command: str
) -> None:
    folder = tmp_path / "in"
    path = (_nhdr if kind == "nhdr" else _mhd)(
        folder, _NHDR if kind == "nhdr" else _MHD, "gone.raw"
    )
    field = "data file" if kind == "nhdr" else "ElementDataFile"
    before = _digest(folder)
    line = _one_line(capsys, [command, str(path)], f"{path}: its data file 'gone.raw'", field)
    assert "does not exist" in line and "no such file" not in line
    assert _digest(folder) == before


def test_symlink_inside_the_folder_and_list_form_are_followed(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    path = _nhdr(folder, _NHDR, "link.raw")
    (folder / "link.raw").symlink_to(folder / "ct.raw")
    np.testing.assert_array_equal(load_volume(path).array.ravel(), np.arange(24))
    data = np.arange(24, dtype=np.int16)
    (folder / "a.raw").write_bytes(data[:12].tobytes())
    (folder / "b.raw").write_bytes(data[12:].tobytes())
    path.write_text(_NHDR + "data file: LIST 2\na.raw\nb.raw\n")
    np.testing.assert_array_equal(load_volume(path).array.ravel(), np.arange(24))
    path.write_text(_NHDR + "data file: LIST 2\na.raw\n../secret.raw\n")
    with pytest.raises(VolumeFormatError, match=r"'\.\.'"):
        load_volume(path)


def test_volume_file_that_is_a_fifo_is_not_opened(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("pipe.nii.gz", "pipe.nrrd", "pipe.mha"):
        os.mkfifo(tmp_path / name)
        _refused(capsys, tmp_path / name, "FIFO")


def _one_line(capsys: pytest.CaptureFixture[str], argv: list[str], *words: str) -> str:
    """Run ``argv``; check exit status 2 and one short error line holding ``words`` and a fix."""
    rc = main(argv)
    out, err = capsys.readouterr()
    assert rc == 2 and out == "", (out, err)
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("ivcviewer: error: "), err
    assert "Fix:" in lines[0] and len(lines[0]) < 400, lines[0]
    for word in words:
        assert word in lines[0], (word, lines[0])
    return lines[0]


@pytest.mark.parametrize("what", ["fifo", "yaml", "no_ending", "device"])
def test_measure_of_something_not_a_volume_file_says_what_it_is(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], what: str
) -> None:
    path = {"fifo": tmp_path / "pipe.yaml", "yaml": tmp_path / "case.yaml"}.get(
        what, tmp_path / "labels"
    )
    if what == "fifo":
        os.mkfifo(path)
    elif what == "device":
        path = Path("/dev/zero")
    else:
        path.write_text("a: 1\n")
    before = _digest(tmp_path)
    words = {
        "fifo": "a FIFO (named pipe)",
        "yaml": "a file ending in '.yaml'",
        "no_ending": "a file with no ending",
        "device": "a character device",
    }[what]
    _one_line(capsys, ["measure", str(path)], str(path), words, ".nii.gz", "not a volume file")
    assert _digest(tmp_path) == before


def test_measure_with_a_ct_holding_nan_names_the_ct(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "in"
    seg = _label_map(folder)
    ct = np.full((4, 4, 4), 40.0, dtype=np.float32)
    ct[2, 2, 2] = np.nan
    ct[1, 1, 1] = np.inf
    ct_path = write_nifti(folder / "ct.nii.gz", ct)
    before = _digest(folder)
    line = _one_line(capsys, ["measure", str(seg), "--ct", str(ct_path)], f"--ct {ct_path}")
    assert "finite" in line and "2 voxels" in line
    assert _digest(folder) == before
    ct[2, 2, 2] = ct[1, 1, 1] = 40.0
    ct[0, 0, 0] = np.nan  # outside every region: measured as before
    write_nifti(ct_path, ct)
    assert main(["measure", str(seg), "--ct", str(ct_path), "--json"]) == 0
    capsys.readouterr()


def test_label_map_scaled_beyond_the_label_range_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "in"
    data = np.zeros((4, 4, 4), dtype=np.uint8)
    data[1:3, 1:3, 1:3] = 99
    folder.mkdir()
    seg = write_nifti(folder / "seg.nii.gz", data, slope=1e38)
    before = _digest(folder)
    line = _one_line(capsys, ["measure", str(seg)], str(seg), "4294967295", "scl_slope")
    assert "9.9e+39" in line
    assert _digest(folder) == before


# Label tables ------------------------------------------------------------------------------


def _label_map(folder: Path) -> Path:
    folder.mkdir(exist_ok=True)
    data = np.zeros((4, 4, 4), dtype=np.uint8)
    data[1:3, 1:3, 1:3] = 2
    return write_nifti(folder / "seg.nii.gz", data)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("[" * 100_000 + "]" * 100_000, "deeper than"),
        ('{"1": ' * 200 + '"x"' + "}" * 200, "deeper than"),
        ('{"1.5": "liver"}', "not an integer"),
        ('{"' + "9" * 5000 + '": "liver"}', "not an integer"),
        ('{"1": 7}', "must map to a name"),
        ('{"1": {"name": "x", "rgba": "red"}}', "3 or 4 numbers"),
        ('{"segmentAttributes": 5}', "segmentAttributes"),
        ("[1, 2]", "JSON object"),
    ],
)
def test_bad_label_tables_are_refused_clearly(tmp_path: Path, text: str, words: str) -> None:
    seg = _label_map(tmp_path / "in")
    (tmp_path / "in" / "seg_labels.json").write_text(text)
    with pytest.raises(VolumeFormatError, match=words) as info:
        load_labels(seg)
    assert "seg_labels.json" in str(info.value)
    assert "Fix:" in str(info.value)
    assert len(str(info.value)) < 600


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("seg_labels.json", '{"1": "liver", "2": ""}'),
        ("seg_labels.json", '{"2": {"name": "   ", "rgba": [1, 0, 0]}}'),
        ("seg_labels.txt", '0 0 0 0 0 0 0 "Clear Label"\n2 255 0 0 1 1 1 ""\n'),
    ],
)
def test_label_without_a_name_names_the_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, text: str
) -> None:
    seg = _label_map(tmp_path / "in")
    table = tmp_path / "in" / name
    table.write_text(text)
    before = _digest(tmp_path / "in")
    _one_line(capsys, ["measure", str(seg)], str(table), "label 2", "non-empty name")
    _one_line(capsys, ["measure", str(seg), "--names", str(table)], str(table))
    assert _digest(tmp_path / "in") == before


def test_label_table_over_the_text_limit_or_a_fifo_is_not_read(tmp_path: Path) -> None:
    seg = _label_map(tmp_path / "in")
    table = tmp_path / "in" / "seg_labels.json"
    table.write_text('{"2": "' + "x" * 5000 + '"}')
    with pytest.raises(ResourceLimitError, match=r"seg_labels\.json.*limit"):
        load_labels(seg, limits=Limits(max_text_bytes=1000))
    table.unlink()
    os.mkfifo(table)
    load_labels(seg)  # a FIFO beside the map is no sidecar: not opened, no hang
    with pytest.raises(VolumeFormatError, match="not a regular file"):
        load_labels(seg, table)


# The boundary --------------------------------------------------------------------------------


def test_any_library_error_becomes_a_volume_format_error_naming_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ivcviewer.io import nifti_backend

    path = write_nifti(tmp_path / "ct.nii", xyz_data())

    def boom(*_: object) -> None:
        raise KeyError("unit code 99")

    monkeypatch.setattr(nifti_backend, "_load", boom)
    with pytest.raises(VolumeFormatError, match=r"ct\.nii: .*Fix:.*\(KeyError: 'unit code 99'\)"):
        load_volume(path)
    with pytest.raises(VolumeFormatError, match=r"ct\.nii"):
        read_volume_header(path)


def test_a_valid_metaimage_larger_than_the_header_limit_reads(tmp_path: Path) -> None:
    # the header ends at ElementDataFile; the pixel data after it (here 2 MiB without a
    # newline byte) is not header text
    import SimpleITK as sitk

    from ivcviewer.io import open_path

    arr = np.zeros((16, 256, 256), np.int16)
    path = tmp_path / "ct.mha"
    sitk.WriteImage(sitk.GetImageFromArray(arr), str(path))
    (vol,) = open_path(path)
    assert vol.shape == (16, 256, 256)


def test_a_compressed_data_size_over_the_file_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # SimpleITK allocates CompressedDataSize bytes before reading them: refuse it first
    import SimpleITK as sitk

    path = tmp_path / "labels.mha"
    img = sitk.GetImageFromArray(np.zeros((4, 8, 8), np.uint8))
    sitk.WriteImage(img, str(path), useCompression=True)
    data = path.read_bytes()
    head, sep, rest = data.partition(b"ElementDataFile = LOCAL\n")
    lines = [
        b"CompressedDataSize = 99999999999" if ln.startswith(b"CompressedDataSize") else ln
        for ln in head.split(b"\n")
    ]
    path.write_bytes(b"\n".join(lines) + sep + rest)
    before = path.read_bytes()
    assert main(["info", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(path) in err[0] and "CompressedDataSize" in err[0]
    assert "Fix:" in err[0]
    assert path.read_bytes() == before


def test_what_a_native_reader_prints_is_caught() -> None:
    # SimpleITK's MetaIO prints to the C++ streams, past Python: descriptors 1 and 2 are caught
    from ivcviewer.io.native_output import native_output

    with native_output() as said:
        os.write(2, b"DimSize required and not defined.\n")
        os.write(1, b"MetaImage: M_Read: Error parsing file\n")
    assert said.first_line() == "DimSize required and not defined."
    assert "M_Read" in said.text


def test_a_header_with_bytes_that_are_not_text_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import SimpleITK as sitk

    path = tmp_path / "labels.mhd"
    sitk.WriteImage(sitk.GetImageFromArray(np.zeros((4, 8, 8), np.uint8)), str(path))
    text = path.read_bytes()
    at = text.index(b"DimSize")
    path.write_bytes(text[:at] + b"\xff" * 300 + text[at:])
    assert main(["info", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(path) in err[0] and "not text" in err[0] and "Fix:" in err[0]

"""Reading DICOM SEG: placement on the CT's grid, names, colours, codes, overlaps, refusals."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest
from _dicom_factory import axial_volume
from _seg_factory import dicom_ct, write_seg
from pydicom.sr.codedict import codes

from ivcviewer import geometry
from ivcviewer.interop.seg_read import (
    SegmentationError,
    read_segmentation,
    structure_for_label,
    structure_names,
)
from ivcviewer.interop.sniff import dicom_object_kind
from ivcviewer.io import load_volume
from ivcviewer.limits import Limits
from ivcviewer.volume import Volume

N, ROWS, COLS = 6, 16, 20


@pytest.fixture(scope="module")
def ct_and_sources(tmp_path_factory: pytest.TempPathFactory) -> tuple[Volume, list]:
    return dicom_ct(tmp_path_factory.mktemp("ct") / "series", axial_volume(N, ROWS, COLS))


def _two_masks() -> np.ndarray:
    """Two overlapping boxes: segment 1 on slices 1-2, segment 2 on slices 2-4."""
    m = np.zeros((N, ROWS, COLS, 2), bool)
    m[1:3, 2:6, 3:8, 0] = True
    m[2:5, 4:9, 6:12, 1] = True
    return m


def _world(vol: Volume) -> set[tuple[float, float, float, int]]:
    """Every labelled voxel as (x, y, z) LPS mm (rounded to 1 µm) with its value."""
    idx = np.argwhere(vol.array > 0)
    lps = np.round(vol.voxel_to_lps(idx), 3)
    return {(*map(float, p), int(vol.array[tuple(i)])) for p, i in zip(lps, idx, strict=True)}


def assert_same_world(a: Volume, b: Volume, tol_voxels: float = 0.01) -> None:
    """``a`` and ``b`` label the same world positions with the same values (grids may differ)."""
    idx_b = np.argwhere(b.array > 0)
    in_a = a.lps_to_voxel(b.voxel_to_lps(idx_b))
    assert np.abs(in_a - np.rint(in_a)).max() <= tol_voxels
    in_a = np.rint(in_a).astype(int)
    assert ((in_a >= 0) & (in_a < np.array(a.shape))).all()
    np.testing.assert_array_equal(a.array[tuple(in_a.T)], b.array[tuple(idx_b.T)])
    assert int((a.array > 0).sum()) == len(idx_b)


def test_binary_seg_on_its_ct(tmp_path: Path, ct_and_sources: tuple[Volume, list]) -> None:
    ct, sources = ct_and_sources
    masks = _two_masks()
    path = write_seg(
        tmp_path / "seg.dcm",
        sources,
        masks,
        ["Liver", "Kidney"],
        colours={"Liver": (200, 90, 60), "Kidney": (40, 160, 220)},
    )
    res = read_segmentation(path, ct)
    expected = np.zeros(ct.shape, np.uint8)
    expected[masks[..., 0]] = 1
    expected[masks[..., 1]] = 2  # the higher segment number wins where they overlap
    assert res.labels.shape == ct.shape
    np.testing.assert_allclose(res.labels.affine, ct.affine)
    np.testing.assert_array_equal(res.labels.array, expected)
    assert res.source_kind == "binary SEG"
    assert res.referenced_series_uid == ct.metadata.series_uid
    assert res.table.names == {1: "Liver", 2: "Kidney"}
    np.testing.assert_allclose(res.table[1].rgba[:3], np.array([200, 90, 60]) / 255, atol=2 / 255)
    np.testing.assert_allclose(res.table[2].rgba[:3], np.array([40, 160, 220]) / 255, atol=2 / 255)
    assert res.codes[1].type.value == codes.SCT.Liver.value
    assert res.codes[2].category.value == codes.SCT.Organ.value
    overlap = int((masks[..., 0] & masks[..., 1]).sum())
    notes = [n for n in res.report if "overlap" in n]
    assert len(notes) == 1 and f"in {overlap:,} voxels" in notes[0] and "are 2" in notes[0]


def test_seg_without_reference_is_on_its_own_grid(
    tmp_path: Path, ct_and_sources: tuple[Volume, list]
) -> None:
    ct, sources = ct_and_sources
    masks = _two_masks()
    res = read_segmentation(write_seg(tmp_path / "s.dcm", sources, masks, ["Liver", "Kidney"]))
    on_ct = read_segmentation(tmp_path / "s.dcm", ct)
    # empty frames are not stored: the own grid spans slices 1-4 only, at the same places
    assert res.labels.shape == (4, ROWS, COLS)
    assert _world(res.labels) == _world(on_ct.labels)
    assert res.labels.metadata.modality == "SEG"


def test_labelmap_seg(tmp_path: Path, ct_and_sources: tuple[Volume, list]) -> None:
    ct, sources = ct_and_sources
    lab = np.zeros(ct.shape, np.uint8)
    lab[0:3, 1:5, 2:9] = 1
    lab[3:6, 8:14, 5:15] = 2
    path = write_seg(tmp_path / "lm.dcm", sources, lab, ["Liver", "Kidney"], kind="labelmap")
    assert pydicom.dcmread(path).SOPClassUID.endswith(".66.7")
    res = read_segmentation(path, ct)
    assert res.source_kind == "labelmap SEG"
    np.testing.assert_array_equal(res.labels.array, lab)
    assert res.table.names == {1: "Liver", 2: "Kidney"}
    assert not res.report


def test_fractional_seg_is_refused(tmp_path: Path, ct_and_sources: tuple[Volume, list]) -> None:
    ct, sources = ct_and_sources
    prob = np.zeros((N, ROWS, COLS, 1), np.float32)
    prob[2:4, 3:7, 3:7, 0] = 0.7
    path = write_seg(tmp_path / "f.dcm", sources, prob, ["Liver"], kind="fractional")
    with pytest.raises(SegmentationError, match=r"fractional SEG .* refused\. Fix: threshold"):
        read_segmentation(path, ct)


def test_flipped_ct_grid_gets_the_same_world_labels(
    tmp_path: Path, ct_and_sources: tuple[Volume, list]
) -> None:
    ct, sources = ct_and_sources
    path = write_seg(tmp_path / "s.dcm", sources, _two_masks(), ["Liver", "Kidney"])
    flip = np.eye(4)
    flip[0, 0], flip[0, 3] = -1, N - 1  # slice k of the flipped grid is slice N-1-k
    flipped = Volume(ct.array[::-1], ct.affine @ flip, ct.metadata.copy())
    a = read_segmentation(path, ct).labels
    b = read_segmentation(path, flipped).labels
    np.testing.assert_array_equal(b.array[::-1], a.array)
    assert _world(a) == _world(b)


def test_seg_of_another_ct_is_refused(
    tmp_path: Path, ct_and_sources: tuple[Volume, list]
) -> None:
    _, sources = ct_and_sources
    path = write_seg(tmp_path / "s.dcm", sources, _two_masks(), ["Liver", "Kidney"])
    other, _ = dicom_ct(tmp_path / "other", axial_volume(N, ROWS, COLS), seed="other")
    with pytest.raises(SegmentationError, match=r"made on series .* not on the CT given.*Fix:"):
        read_segmentation(path, other)


def test_seg_of_another_series_in_the_same_frame(
    tmp_path: Path, ct_and_sources: tuple[Volume, list]
) -> None:
    from ivcviewer.dicom import write_ct_series
    from ivcviewer.io import open_path

    ct, sources = ct_and_sources
    path = write_seg(tmp_path / "s.dcm", sources, _two_masks(), ["Liver", "Kidney"])
    same_frame = {"FrameOfReferenceUID": ct.metadata.frame_of_reference_uid}
    write_ct_series(ct, tmp_path / "recon", uid_seed="recon", extra_tags=same_frame)
    recon = open_path(tmp_path / "recon")[0]
    assert recon.metadata.series_uid != ct.metadata.series_uid
    res = read_segmentation(path, recon)
    assert any("shared frame of reference" in n for n in res.report)
    np.testing.assert_array_equal(res.labels.array, read_segmentation(path, ct).labels.array)


def test_ct_without_dicom_identity_is_matched_by_positions(
    tmp_path: Path, ct_and_sources: tuple[Volume, list]
) -> None:
    ct, sources = ct_and_sources
    path = write_seg(tmp_path / "s.dcm", sources, _two_masks(), ["Liver", "Kidney"])
    nifti_like = Volume(ct.array, ct.affine)
    res = read_segmentation(path, nifti_like)
    assert any("by voxel positions only" in n for n in res.report)
    np.testing.assert_array_equal(res.labels.array, read_segmentation(path, ct).labels.array)
    shifted = Volume(ct.array, ct.affine @ geometry.as_affine(np.diag([1, 1, 1, 1.0])))
    shifted.affine[:3, 3] += [0.3, 0.0, 0.0]  # a third of a column off the SEG's grid
    with pytest.raises(SegmentationError, match=r"do not lie on the CT's voxel grid"):
        read_segmentation(path, shifted)
    small = Volume(ct.array[:2], ct.affine)
    with pytest.raises(SegmentationError, match=r"labelled voxels .* outside the CT's field"):
        read_segmentation(path, small)


def test_memory_budget_is_checked(tmp_path: Path, ct_and_sources: tuple[Volume, list]) -> None:
    _, sources = ct_and_sources
    path = write_seg(tmp_path / "s.dcm", sources, _two_masks(), ["Liver", "Kidney"])
    with pytest.raises(ValueError, match="over the memory budget"):
        read_segmentation(path, limits=Limits(memory_budget_bytes=100))


def _damaged(tmp_path: Path, sources: list, edit: str) -> Path:
    path = write_seg(tmp_path / "s.dcm", sources, _two_masks(), ["Liver", "Kidney"])
    if edit.startswith("truncated"):
        data = path.read_bytes()
        path.write_bytes(data[: len(data) * 2 // 3] if edit == "truncated" else data[:-10])
        return path
    ds = pydicom.dcmread(path)
    if edit == "no segments":
        del ds.SegmentSequence
    elif edit == "no per-frame groups":
        del ds.PerFrameFunctionalGroupsSequence
    elif edit == "no shared groups":
        del ds.SharedFunctionalGroupsSequence
    elif edit == "no pixel data":
        del ds.PixelData
    elif edit == "frame count":
        ds.NumberOfFrames = 4000
    ds.save_as(path)
    return path


@pytest.mark.parametrize(
    "edit",
    [
        "truncated",
        "truncated pixels",
        "no segments",
        "no per-frame groups",
        "no shared groups",
        "no pixel data",
        "frame count",
    ],
)
def test_damaged_seg_gives_one_line(
    tmp_path: Path, ct_and_sources: tuple[Volume, list], edit: str
) -> None:
    ct, sources = ct_and_sources
    path = _damaged(tmp_path, sources, edit)
    with pytest.raises(SegmentationError) as info:
        read_segmentation(path, ct)
    msg = str(info.value)
    assert "\n" not in msg and str(path) in msg and "Fix:" in msg


def test_not_a_seg(tmp_path: Path, ct_and_sources: tuple[Volume, list]) -> None:
    ct, _ = ct_and_sources
    text = tmp_path / "notes.dcm"
    text.write_text("not dicom\n")
    with pytest.raises(SegmentationError, match="is not a DICOM file"):
        read_segmentation(text, ct)
    image = ct.metadata.source_files[0]
    with pytest.raises(SegmentationError, match=r"is not a DICOM SEG \(SOPClassUID 1\.2"):
        read_segmentation(image, ct)
    with pytest.raises(SegmentationError, match="not a regular file"):
        read_segmentation(tmp_path, ct)
    with pytest.raises(FileNotFoundError):
        read_segmentation(tmp_path / "missing.dcm", ct)


def test_sniff(tmp_path: Path, ct_and_sources: tuple[Volume, list]) -> None:
    ct, sources = ct_and_sources
    seg = write_seg(tmp_path / "s.dcm", sources, _two_masks(), ["Liver", "Kidney"])
    assert dicom_object_kind(seg) == "seg"
    assert dicom_object_kind(ct.metadata.source_files[0]) is None
    (tmp_path / "t.txt").write_text("hello")
    assert dicom_object_kind(tmp_path / "t.txt") is None
    assert dicom_object_kind(tmp_path) is None
    assert dicom_object_kind(tmp_path / "missing") is None
    cut = tmp_path / "cut.dcm"
    cut.write_bytes(seg.read_bytes()[:140])
    assert dicom_object_kind(cut) is None
    ds = pydicom.dcmread(seg)
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.88.22"
    ds.save_as(tmp_path / "sr.dcm")
    assert dicom_object_kind(tmp_path / "sr.dcm") == "sr"


def test_structure_names_by_codes_then_labels(
    tmp_path: Path, ct_and_sources: tuple[Volume, list]
) -> None:
    ct, sources = ct_and_sources
    masks = np.zeros((N, ROWS, COLS, 3), bool)
    masks[1, 1:3, 1:3, 0] = masks[2, 5:7, 5:7, 1] = masks[3, 9:11, 9:11, 2] = True
    path = write_seg(
        tmp_path / "s.dcm",
        sources,
        masks,
        ["Segment A", "Right kidney", "Tumour"],
        segment_codes=[
            (codes.SCT.AnatomicalStructure, codes.SCT.InferiorVenaCava),
            (codes.SCT.Tissue, codes.SCT.Tissue),
            (codes.SCT.Tissue, codes.SCT.Tissue),
        ],
    )
    res = read_segmentation(path, ct)
    assert structure_names(res) == {1: "inferior_vena_cava", 2: "kidney_right", 3: "Tumour"}


def test_structure_for_label() -> None:
    assert structure_for_label("Liver") == "liver"
    assert structure_for_label("left iliopsoas") == "iliopsoas_left"
    assert structure_for_label("VERTEBRAE-L2") == "vertebrae_L2"
    assert structure_for_label("psoas") is None


@pytest.mark.realdata
def test_dcmqi_liver_seg_matches_its_nrrd(public_ct: Path) -> None:
    from ivcviewer.io import open_path

    folder = public_ct / "dcmqi_ct3slice"
    ct = open_path(folder / "series")[0]
    res = read_segmentation(folder / "liver.dcm", ct)
    assert res.table.names == {1: "Liver"} and structure_names(res) == {1: "liver"}
    ref = load_volume(folder / "liver_seg.nrrd")
    assert int((ref.array > 0).sum()) > 1000
    assert_same_world(res.labels, ref)
    assert_same_world(ref, res.labels)
    own = read_segmentation(folder / "liver.dcm")
    assert_same_world(own.labels, ref)


# ----------------------------------------------------------------------------- SEG as anatomy


@pytest.fixture(scope="module")
def world_inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The synthetic abdomen as a DICOM CT, its label map as a SEG coded by SNOMED CT (segment
    labels that name no structure, so the codes must match them) and as NIfTI with names."""
    from _overlay_factory import NAMES, sample_world

    from ivcviewer.interop.codes import codes_for_structure
    from ivcviewer.io import LabelTable, save_labels

    root = tmp_path_factory.mktemp("world")
    w = sample_world()
    ct, sources = dicom_ct(root / "ct", w.ct, seed="world")
    values = sorted(NAMES)
    masks = np.stack([w.labels.array == v for v in values], axis=-1)
    coded = [codes_for_structure(NAMES[v]) for v in values]
    (root / "seg").mkdir()
    seg = write_seg(
        root / "seg" / "anatomy.dcm",
        sources,
        masks,
        [f"Structure {v}" for v in values],
        segment_codes=[
            (c.category, c.type, *([c.modifier] if c.modifier else [])) for c in coded if c
        ],
    )
    (root / "nii").mkdir()
    nii, _ = save_labels(w.labels, LabelTable.from_names(NAMES), root / "nii" / "anatomy.nii.gz")
    return {"ct": root / "ct", "seg": seg, "nii": nii}


def _overlay(inputs: dict[str, Path], anatomy: str, out: Path) -> dict:
    import json

    from ivcviewer.annotations import default_case_path
    from ivcviewer.cli.main import main

    args = ["overlay", str(inputs["ct"]), "--case", str(default_case_path())]
    assert main([*args, "--anatomy", str(inputs[anatomy]), "--out", str(out)]) == 0
    return json.loads((out / "findings.json").read_text())


def _without_sources(data: object) -> object:
    """``data`` without the strings that name the anatomy file (they differ on purpose)."""
    if isinstance(data, dict):
        return {k: _without_sources(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_without_sources(v) for v in data]
    if isinstance(data, str) and "anatomy." in data:
        return "<anatomy source>"
    return data


def test_fit_with_seg_anatomy_equals_fit_with_nifti(
    world_inputs: dict[str, Path], tmp_path: Path
) -> None:
    from ivcviewer.io import load_labels

    by_seg = _overlay(world_inputs, "seg", tmp_path / "seg_out")
    by_nii = _overlay(world_inputs, "nii", tmp_path / "nii_out")
    for data in (by_seg, by_nii):  # the files read and written differ on purpose
        del data["inputs"], data["outputs"]
    assert by_seg["findings"] and _without_sources(by_seg) == _without_sources(by_nii)
    a, _ = load_labels(tmp_path / "seg_out" / "labels.nii.gz")
    b, _ = load_labels(tmp_path / "nii_out" / "labels.nii.gz")
    assert int((a.array > 0).sum()) > 0
    np.testing.assert_array_equal(a.array, b.array)


def test_seg_anatomy_errors_are_one_line(
    world_inputs: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from ivcviewer.annotations import default_case_path
    from ivcviewer.cli.main import main

    damaged = tmp_path / "in" / "cut.dcm"
    damaged.parent.mkdir()
    data = world_inputs["seg"].read_bytes()
    damaged.write_bytes(data[: len(data) - 100])
    other = dicom_ct(tmp_path / "other", axial_volume(N, ROWS, COLS), seed="o")[0]
    base = ["overlay", "--case", str(default_case_path()), "--out", str(tmp_path / "out")]
    cases = [
        ([str(world_inputs["ct"]), "--anatomy", str(damaged)], "cut.dcm"),
        ([str(other.metadata.source_files[0].parent), "--anatomy", str(world_inputs["seg"])],
         "not on the CT given"),
        ([str(world_inputs["ct"]), "--anatomy", str(world_inputs["seg"]), "--anatomy-names",
          str(world_inputs["nii"])], "carry their own names"),
    ]
    for extra, expected in cases:
        assert main([*base[:1], *extra[:1], *base[1:], *extra[1:]]) == 2
        err = capsys.readouterr().err
        lines = [ln for ln in err.splitlines() if ln.startswith("ivcviewer: error:")]
        assert len(lines) == 1 and expected in lines[0], err
        assert "Traceback" not in err


@pytest.mark.parametrize("encoding", ["binary", "labelmap"])
def test_round_trip_through_our_seg_writer(
    world_inputs: dict[str, Path], tmp_path: Path, encoding: str
) -> None:
    from _overlay_factory import NAMES

    from ivcviewer.interop.seg_write import write_seg as write_our_seg
    from ivcviewer.io import LabelTable, load_labels, open_path

    ct = open_path(world_inputs["ct"])[0]
    labels, _ = load_labels(world_inputs["nii"])
    table = LabelTable.from_names(NAMES)
    out = write_our_seg(
        labels, table, ct, tmp_path / "out.dcm", algorithm="manual", encoding=encoding
    )
    res = read_segmentation(out, ct)
    assert res.source_kind == f"{encoding} SEG" and not res.report
    np.testing.assert_array_equal(res.labels.array, labels.array)
    assert res.table.names == table.names
    for v in table:
        np.testing.assert_allclose(res.table[v].rgba, table[v].rgba, atol=1.5 / 255)
    assert structure_names(res) == NAMES


@pytest.mark.realdata
@pytest.mark.filterwarnings("ignore:.*anonymised:UserWarning")
def test_real_ct_seg_round_trip_in_world_space(public_ct: Path, tmp_path: Path) -> None:
    """TotalSegmentator's label map of the real DICOM CT (stored with a flipped row axis),
    written as a SEG on that CT and read back: the same structures at the same world places."""
    from ivcviewer.interop.seg_write import write_seg as write_our_seg
    from ivcviewer.io import LabelTable, open_path

    folder = public_ct / "totalsegmentator_dicom"
    ct = open_path(folder / "series")[0]
    lab = load_volume(folder / "example_seg_dicom.nii.gz")
    lab = lab.with_array(lab.array.astype(np.uint8))
    values = [int(v) for v in np.unique(lab.array) if v]
    table = LabelTable.from_names({v: f"structure_{v}" for v in values})
    out = write_our_seg(lab, table, ct, tmp_path / "ts.dcm", algorithm="semiautomatic")
    res = read_segmentation(out, ct)
    assert res.table.names == {i: f"structure_{v}" for i, v in enumerate(values, start=1)}
    # segment numbers are 1..N in the order of the values
    numbers = np.searchsorted(values, lab.array) + (lab.array > 0)
    renumbered = lab.with_array(numbers.astype(np.uint8))
    assert len(values) > 5
    # the anonymised CT has no SeriesInstanceUID: placed by positions in the shared frame
    assert any("shared frame of reference" in n for n in res.report)
    assert_same_world(res.labels, renumbered)
    assert_same_world(renumbered, res.labels)


def test_seg_with_frames_on_some_slices_only(
    tmp_path: Path, ct_and_sources: tuple[Volume, list]
) -> None:
    ct, sources = ct_and_sources
    for slices in ([3], [1, 4], [0, 2, 5]):
        masks = np.zeros((N, ROWS, COLS, 1), bool)
        masks[slices, 3:6, 4:9, 0] = True
        path = write_seg(tmp_path / f"s{len(slices)}.dcm", sources, masks, ["Liver"])
        on_ct = read_segmentation(path, ct).labels
        np.testing.assert_array_equal(on_ct.array, masks[..., 0].astype(np.uint8))
        own = read_segmentation(path).labels
        assert own.shape[0] == max(slices) - min(slices) + 1
        assert_same_world(on_ct, own)
        assert_same_world(own, on_ct)

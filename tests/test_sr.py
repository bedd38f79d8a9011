"""DICOM SR TID 1500 measurement reports: written, read by dcmqi and dciodvfy, read back.

The SEG a report references is built here with highdicom from the CT files the test wrote; the
report's figures are the measurement code's (``measure_volume``), compared with what dcmqi's
``tid1500reader`` and our own ``read_sr`` read from the file.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from _small_ct_factory import REGION_NAMES, write_small_ct
from pydicom import Dataset, dcmread
from pydicom.sr.codedict import codes
from pydicom.uid import generate_uid

from ivcviewer.annotations import default_case_path, load_case
from ivcviewer.dicom.write import write_ct_series
from ivcviewer.errors import GeometryError, IvcviewerError, OutputExistsError
from ivcviewer.io import load_labels, open_path
from ivcviewer.io.labels import LabelTable
from ivcviewer.measure import PATIENT_AXES, RegionMeasurements
from ivcviewer.volume import Volume
from ivcviewer.workflows import compare_with_case, measure_volume
from ivcviewer.workflows.export import export_seg
from ivcviewer.workflows.export_sr import export_sr
from ivcviewer.workflows.measure import region_entry

hd = pytest.importorskip("highdicom")
from ivcviewer.interop.sr_read import SRReadError, read_sr  # noqa: E402
from ivcviewer.interop.sr_write import SRWriteError, build_sr  # noqa: E402

TID1500READER = Path(sys.executable).parent / "tid1500reader"
DCIODVFY = Path("/usr/bin/dciodvfy")

#: Segment codes of the regions used here (SNOMED CT, from pydicom's dictionary).
MASS = (codes.SCT.MorphologicallyAbnormalStructure, codes.SCT.Neoplasm, codes.SCT.Retroperitoneum)
THROMBUS = (
    codes.SCT.MorphologicallyAbnormalStructure,
    codes.SCT.Thrombus,
    codes.SCT.InferiorVenaCava,
)


def make_seg(
    ct_files: Sequence[Dataset], labels: Volume, table: LabelTable, seg_codes: Mapping[int, Any]
) -> Dataset:
    """A binary SEG of ``labels`` (segment number = label value) on the CT's files."""
    values = sorted(int(v) for v in np.unique(labels.array) if v > 0)
    descriptions = [
        hd.seg.SegmentDescription(
            segment_number=v,
            segment_label=table.names[v],
            segmented_property_category=seg_codes[v][0],
            segmented_property_type=seg_codes[v][1],
            anatomic_regions=[seg_codes[v][2]],
            algorithm_type="MANUAL",
        )
        for v in values
    ]
    # frame k of the SEG is slice k of the label map: order the files by their slice index
    index = [float(labels.lps_to_voxel([ds.ImagePositionPatient])[0][0]) for ds in ct_files]
    sources = [ct_files[i] for i in np.argsort(index)]
    return hd.seg.Segmentation(
        source_images=sources,
        pixel_array=np.asarray(labels.array, dtype=np.uint8),
        segmentation_type="BINARY",
        segment_descriptions=descriptions,
        series_instance_uid=generate_uid(entropy_srcs=["seg-series"]),
        series_number=100,
        sop_instance_uid=generate_uid(entropy_srcs=["seg-sop", str(len(sources))]),
        instance_number=1,
        manufacturer="ivcviewer tests",
        manufacturer_model_name="test_sr",
        software_versions="0",
        device_serial_number="0",
    )


def tid1500(sr: Path, tmp: Path) -> dict[str, Any]:
    """What dcmqi's tid1500reader reads from ``sr`` (its JSON)."""
    if not TID1500READER.is_file():
        pytest.skip(f"dcmqi's tid1500reader not found beside {sys.executable} (pip install dcmqi)")
    out = tmp / "tid1500.json"
    proc = subprocess.run(
        [str(TID1500READER), "--inputDICOM", str(sr), "--outputMetadata", str(out)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data: dict[str, Any] = json.loads(out.read_text())
    return data


def dciodvfy(path: Path) -> tuple[list[str], list[str]]:
    """(errors, warnings) dciodvfy reports on a file."""
    if not DCIODVFY.is_file():
        pytest.skip("dciodvfy not found (Debian package dicom3tools)")
    proc = subprocess.run(
        [str(DCIODVFY), str(path)], capture_output=True, text=True, check=False, timeout=120
    )
    lines = (proc.stdout + proc.stderr).splitlines()
    return [x for x in lines if x.startswith("Error")], [x for x in lines if x.startswith("Warn")]


def _key(item: dict[str, Any]) -> tuple[str, str | None, str | None]:
    mods = {
        m["modifier"]["CodeValue"]: m["modifierValue"]["CodeValue"]
        for m in item.get("measurementModifiers", [])
    }
    derivation = item.get("derivationModifier", {}).get("CodeValue")
    return item["quantity"]["CodeValue"], derivation, mods.get("125105")


def expected_items(r: RegionMeasurements) -> dict[tuple[str, str | None, str | None], float]:
    """Our figures keyed as tid1500reader gives them: (quantity, derivation, orientation)."""
    out = {
        ("118565006", None, None): r.volume_ml,
        ("410668003", None, "110860"): r.extents_mm["lr"],
        ("410668003", None, "110862"): r.extents_mm["ap"],
        ("410668003", None, "110861"): r.extents_mm["cc"],
        ("103339001", None, None): r.recist.long_mm,
        ("103340004", None, None): r.recist.short_mm,
        ("81827009", "56851009", None): r.max_diameter.length_mm,
    }
    if r.hu is not None:
        out[("112031", "373098007", None)] = r.hu.mean
        out[("112031", "386136009", None)] = r.hu.std
    return out


def check_tid1500(
    data: dict[str, Any], regions: Sequence[RegionMeasurements], seg: Dataset
) -> None:
    """tid1500reader's groups hold our names, segments, codes and values."""
    groups = data["Measurements"]
    assert [g["TrackingIdentifier"] for g in groups] == [r.name for r in regions]
    segments = {int(s.SegmentNumber): s for s in seg.SegmentSequence}
    for g, r in zip(groups, regions, strict=True):
        assert g["segmentationSOPInstanceUID"] == seg.SOPInstanceUID
        segment = segments[g["ReferencedSegment"]]
        assert segment.SegmentLabel == r.name
        assert g["Finding"]["CodeValue"] == segment.SegmentedPropertyTypeCodeSequence[0].CodeValue
        if "AnatomicRegionSequence" in segment:
            assert g["FindingSite"]["CodeValue"] == segment.AnatomicRegionSequence[0].CodeValue
        elif segment.SegmentedPropertyCategoryCodeSequence[0].CodeValue == "91723000":
            assert g["FindingSite"] == g["Finding"]  # an organ segment is its own site
        else:
            assert "FindingSite" not in g
        if "TrackingUID" in segment:
            assert g["TrackingUniqueIdentifier"] == segment.TrackingUID
        got = {_key(i): float(i["value"]) for i in g["measurementItems"]}
        want = expected_items(r)
        assert got.keys() == want.keys()
        for k, v in want.items():
            assert got[k] == pytest.approx(v, rel=1e-12, abs=1e-9), k


def check_round_trip(sr: Path, regions: Sequence[RegionMeasurements]) -> None:
    """read_sr gives back the measure command's region entries (segment number = label)."""
    rows = read_sr(sr)
    assert [(row.label, row.name) for row in rows] == [(r.label, r.name) for r in regions]
    check_round_trip_values(rows, regions)


def check_round_trip_values(rows: Sequence[Any], regions: Sequence[RegionMeasurements]) -> None:
    """Each row's figures are its region's ``measure --json`` entry."""
    for row, r in zip(rows, regions, strict=True):
        entry, back = region_entry(r, None), row.to_entry()
        for key in ("extents_cm", "max_diameter_cm", "long_axis_cm", "short_axis_cm", "volume_ml"):
            assert back[key] == pytest.approx(entry[key], abs=1e-9), key
        if r.hu is None:
            assert back["hu"] is None
        else:
            assert back["hu"] == pytest.approx(
                {"mean": entry["hu"]["mean"], "std": entry["hu"]["std"]}, abs=1e-9
            )


# A small synthetic CT written as DICOM, with a mass and a thrombus ---------------------------


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("small")
    written = write_small_ct(folder / "ct", seed=0, uid_seed="small", mass_contrast=30)
    ct, labels = written.ct, written.labels
    table = LabelTable.from_names(REGION_NAMES)
    seg = make_seg([dcmread(f) for f in written.files], labels, table, {1: MASS, 2: THROMBUS})
    seg_path = folder / "seg.dcm"
    seg.save_as(seg_path)
    case = load_case(default_case_path())
    out = folder / "out"
    out.mkdir()
    sr = export_sr(labels, ct, seg_path, out / "sr.dcm", table=table, case=case, uid_seed="small")
    regions = measure_volume(labels, table.names, ct)
    return {
        "ct": ct,
        "labels": labels,
        "table": table,
        "seg": seg,
        "seg_path": seg_path,
        "sr": sr,
        "regions": regions,
        "case": case,
        "folder": folder,
    }


def test_tid1500reader_reads_our_values(small: dict[str, Any], tmp_path: Path) -> None:
    data = tid1500(small["sr"], tmp_path)
    check_tid1500(data, small["regions"], small["seg"])
    # the case's reported figures of the mass are there, as text an SR reader shows
    texts = [
        q["conceptValue"]
        for q in data["Measurements"][0]["qualitativeEvaluations"]
        if q["conceptCode"]["CodeValue"] == "121106"
    ]
    assert len(texts) == 3 and "head-foot axis 132 mm (finding mass" in texts[2]
    assert data["procedureReported"]["CodeValue"] == "25045-6"


def test_dciodvfy_reports_no_error(small: dict[str, Any]) -> None:
    errors, warnings = dciodvfy(small["sr"])
    assert errors == []
    assert warnings == []  # none seen (docs/interop.md lists what could appear)


def test_read_sr_round_trip(small: dict[str, Any]) -> None:
    check_round_trip(small["sr"], small["regions"])
    rows = read_sr(small["sr"])
    mass = small["case"].finding("mass")
    assert rows[0].finding_id == "mass" and rows[0].axes_assumed is True
    assert rows[0].reported_mm == pytest.approx(mass.reported_extents_mm())
    assert rows[0].finding == "Neoplasm" and rows[0].finding_site == "Retroperitoneum"
    assert rows[1].reported_mm == {} and rows[1].finding == "Thrombus"
    assert {r.segmentation_uid for r in rows} == {small["seg"].SOPInstanceUID}
    assert rows[0].tracking_uid != rows[1].tracking_uid


def test_reported_figures_are_the_compared_finding(small: dict[str, Any]) -> None:
    compared = compare_with_case(small["regions"], small["case"])
    assert set(compared) == {1}  # only the mass reports figures
    entry = read_sr(small["sr"])[0].to_entry()
    want = {ax: v / 10 for ax, v in compared[1].finding.reported_extents_mm().items()}
    assert entry["reported_cm"] == pytest.approx(want)


def test_same_seed_same_uids_and_tracking(small: dict[str, Any], tmp_path: Path) -> None:
    a = build_sr(small["regions"], small["seg"], uid_seed="x")
    b = build_sr(small["regions"], small["seg"], uid_seed="x")
    assert a.SOPInstanceUID == b.SOPInstanceUID
    assert a.StudyInstanceUID == small["seg"].StudyInstanceUID
    assert a.PatientID == small["seg"].PatientID


def test_existing_output_is_kept(small: dict[str, Any]) -> None:
    before = small["sr"].read_bytes()
    with pytest.raises(OutputExistsError, match="exists; it is kept"):
        export_sr(
            small["labels"], small["ct"], small["seg_path"], small["sr"], table=small["table"]
        )
    assert small["sr"].read_bytes() == before
    export_sr(
        small["labels"],
        small["ct"],
        small["seg_path"],
        small["sr"],
        table=small["table"],
        force=True,
    )
    assert read_sr(small["sr"])[0].reported_mm == {}  # rewritten, without a case this time
    export_sr(
        small["labels"],
        small["ct"],
        small["seg_path"],
        small["sr"],
        table=small["table"],
        case=small["case"],
        uid_seed="small",
        force=True,
    )


def test_refuses_to_write_into_the_ct_folder(small: dict[str, Any]) -> None:
    target = small["folder"] / "ct" / "sr.dcm"
    with pytest.raises(IvcviewerError, match="refusing to write into"):
        export_sr(small["labels"], small["ct"], small["seg_path"], target, table=small["table"])
    assert not target.exists()


def test_refuses_a_label_map_on_another_grid(small: dict[str, Any], tmp_path: Path) -> None:
    other = Volume(small["labels"].array, small["labels"].affine @ np.diag([1, 1, 2, 1.0]))
    with pytest.raises(GeometryError, match="does not match"):
        export_sr(other, small["ct"], small["seg_path"], tmp_path / "sr.dcm", table=small["table"])


def test_refuses_a_seg_of_another_series(small: dict[str, Any], tmp_path: Path) -> None:
    seg = small["seg"].copy()
    seg.ReferencedSeriesSequence[0].SeriesInstanceUID = generate_uid()
    with pytest.raises(IvcviewerError, match="SEG was made from series"):
        export_sr(small["labels"], small["ct"], seg, tmp_path / "sr.dcm", table=small["table"])


def test_refuses_what_is_no_seg(small: dict[str, Any], tmp_path: Path) -> None:
    ct_file = sorted((small["folder"] / "ct").iterdir())[0]
    with pytest.raises(SRWriteError, match=r"SOPClassUID is '1\.2\.840\.10008\.5\.1\.4\.1\.1\.2'"):
        export_sr(small["labels"], small["ct"], ct_file, tmp_path / "sr.dcm", table=small["table"])
    assert list(tmp_path.iterdir()) == []


def test_a_region_without_a_segment(small: dict[str, Any]) -> None:
    (r,) = measure_volume(
        small["labels"].with_array((small["labels"].array == 1).astype(np.uint8) * 7), {7: "liver"}
    )
    with pytest.raises(
        SRWriteError,
        match=r"no segment for region 'liver' \(label 7\); the SEG has "
        r"segments \(number: label\) \{1: 'mass', 2: 'intravascular_tumour'\}",
    ):
        build_sr([r], small["seg"])


def test_a_region_named_otherwise_takes_the_segment_of_its_number(
    small: dict[str, Any], tmp_path: Path
) -> None:
    (r,) = measure_volume(
        small["labels"].with_array((small["labels"].array == 2).astype(np.uint8) * 2), {2: "tumour"}
    )
    with pytest.warns(
        UserWarning,
        match="no segment is named 'tumour'; region label 2 is "
        "reported on segment 2 .'intravascular_tumour'.",
    ):
        sr = build_sr([r], small["seg"])
    sr.save_as(tmp_path / "sr.dcm", enforce_file_format=True)
    (row,) = read_sr(tmp_path / "sr.dcm")
    assert (row.label, row.name, row.finding) == (2, "tumour", "Thrombus")


def test_read_sr_refuses_other_files(small: dict[str, Any], tmp_path: Path) -> None:
    with pytest.raises(SRReadError, match="not a measurement report"):
        read_sr(small["seg_path"])
    text = tmp_path / "notes.dcm"
    text.write_text("not dicom")
    with pytest.raises(SRReadError, match="not a readable DICOM file"):
        read_sr(text)
    cut = tmp_path / "cut.dcm"
    cut.write_bytes(small["sr"].read_bytes()[:2000])
    with pytest.raises(SRReadError, match="not a readable DICOM file"):
        read_sr(cut)


def test_read_sr_names_a_malformed_group(small: dict[str, Any], tmp_path: Path) -> None:
    ds = dcmread(small["sr"])
    groups = ds.ContentSequence[-1].ContentSequence
    for item in groups[1].ContentSequence:
        if "ReferencedSOPSequence" in item:
            item.ReferencedSOPSequence = []
    ds.save_as(tmp_path / "bad.dcm")
    with pytest.raises(SRReadError, match=r"bad\.dcm: measurement group 2 is malformed"):
        read_sr(tmp_path / "bad.dcm")


def test_no_hu_without_ct_values(small: dict[str, Any], tmp_path: Path) -> None:
    regions = measure_volume(small["labels"], small["table"].names)
    sr = build_sr(regions, small["seg"])
    sr.save_as(tmp_path / "sr.dcm", enforce_file_format=True)
    rows = read_sr(tmp_path / "sr.dcm")
    assert all(r.hu_mean is None and r.to_entry()["hu"] is None for r in rows)
    check_round_trip(tmp_path / "sr.dcm", regions)


# The phantom's fitted overlay on the phantom CT written as DICOM -----------------------------


@pytest.fixture(scope="module")
def phantom_sr(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    phantom = pytest.importorskip("ivcviewer.phantom")
    from ivcviewer.annotations.overlay import fit_case

    folder = tmp_path_factory.mktemp("phantom")
    ph = phantom.build_phantom("small", seed=0)
    case = load_case(default_case_path())
    fitted = fit_case(ph.ct, case, ph.landmarks)
    write_ct_series(ph.ct, folder / "ct", uid_seed="phantom")
    (ct,) = open_path(folder / "ct")
    assert ct.grid == fitted.labels.grid
    labels = ct.with_array(fitted.labels.array)
    table = LabelTable.from_names({r.value: r.name for r in fitted.regions})
    finding_of = {r.value: r.finding_id for r in fitted.regions}
    (folder / "out").mkdir()
    # the SEG as ivcviewer writes it for a fitted overlay, and the report beside it
    seg_path = export_seg(
        labels, ct, folder / "out" / "seg.dcm", table=table, case=case, algorithm="semiautomatic"
    )
    sr = export_sr(
        labels,
        ct,
        seg_path,
        folder / "out" / "sr.dcm",
        table=table,
        case=case,
        label_findings=finding_of,
    )
    regions = measure_volume(labels, table.names, ct)
    return {"sr": sr, "seg": dcmread(seg_path), "regions": regions, "case": case}


def test_phantom_overlay_sr(phantom_sr: dict[str, Any], tmp_path: Path) -> None:
    regions = phantom_sr["regions"]
    case = phantom_sr["case"]
    assert [r.name for r in regions] == [
        case.finding("mass").name,
        case.finding("intravascular_tumour").name,
    ]
    check_tid1500(tid1500(phantom_sr["sr"], tmp_path), regions, phantom_sr["seg"])
    assert dciodvfy(phantom_sr["sr"]) == ([], [])
    check_round_trip(phantom_sr["sr"], regions)
    rows = read_sr(phantom_sr["sr"])
    # the SEG codes the findings by their kind, with their sites; the report repeats them
    sites = [s.AnatomicRegionSequence[0].CodeMeaning for s in phantom_sr["seg"].SegmentSequence]
    assert [(r.finding, r.finding_site) for r in rows] == [
        ("Neoplasm", sites[0]),
        ("Thrombus", sites[1]),
    ]
    assert sites[1] == "Inferior vena cava"  # the tumour lies in the IVC
    # the mass arises from the right psoas: the SEG's region and the report's site keep the side
    mass_region = phantom_sr["seg"].SegmentSequence[0].AnatomicRegionSequence[0]
    assert mass_region.AnatomicRegionModifierSequence[0].CodeMeaning == "Right"
    report = hd.sr.srread(phantom_sr["sr"])
    (group,) = report.content.get_volumetric_roi_measurement_groups(
        tracking_uid=None, finding_type=codes.SCT.Neoplasm
    )
    assert group.finding_sites[0].laterality.meaning == "Right"
    assert rows[0].finding_id == "mass"
    assert rows[0].reported_mm == pytest.approx(case.finding("mass").reported_extents_mm())
    # the fitted mass measures close to its reported size on the phantom
    for ax in PATIENT_AXES:
        assert rows[0].extents_mm[ax] == pytest.approx(rows[0].reported_mm[ax], rel=0.15)


# The real DICOM CT with TotalSegmentator's label map -----------------------------------------

TOTALSEG_V2 = {1: "spleen", 5: "liver", 52: "aorta", 63: "inferior_vena_cava"}


@pytest.mark.realdata
def test_real_dicom_ct_with_label_map(public_ct: Path, tmp_path: Path) -> None:
    folder = public_ct / "totalsegmentator_dicom"
    (ct,) = open_path(folder / "series")
    flipped, names = load_labels(folder / "example_seg_dicom.nii.gz", TOTALSEG_V2)
    # the label map's rows run the other way: bring it onto the CT's grid through world space
    ijk = np.indices(ct.shape).reshape(3, -1).T
    src = np.round(flipped.lps_to_voxel(ct.voxel_to_lps(ijk))).astype(int)
    on_ct = flipped.array[src[:, 0], src[:, 1], src[:, 2]].reshape(ct.shape)
    labels = ct.with_array((np.isin(on_ct, list(TOTALSEG_V2)) * on_ct).astype(np.uint8))
    table = LabelTable.from_names(TOTALSEG_V2)
    # the SEG as ivcviewer writes it: segments numbered 1..N (not the label values 1, 5, 52,
    # 63), so the report finds each region's segment by its name; this anonymised series has
    # no UIDs, which the SEG writer derives (with a warning)
    with pytest.warns(UserWarning):
        seg_path = export_seg(labels, ct, tmp_path / "seg.dcm", table=table)
    seg = dcmread(seg_path)
    sr = export_sr(labels, ct, seg_path, tmp_path / "sr.dcm", table=table)
    regions = measure_volume(labels, table.names, ct)
    assert {r.name for r in regions} >= {"liver", "aorta", "spleen"}
    assert {r.label for r in regions} != {int(s.SegmentNumber) for s in seg.SegmentSequence}
    check_tid1500(tid1500(sr, tmp_path), regions, seg)
    errors, warnings = dciodvfy(sr)
    assert errors == []
    # all three come from the anonymised source study, which the SEG and the report copy as it
    # is (docs/interop.md): no PatientID, no StudyID, and a procedure code in the site's own
    # coding scheme "SECTRA"
    assert sorted(warnings) == [
        "Warning - Missing attribute or value that would be needed to build DICOMDIR - Patient ID",
        "Warning - Missing attribute or value that would be needed to build DICOMDIR - Study ID",
        "Warning - Unrecognized defined term <SECTRA> for value 1 of attribute <Coding Scheme "
        "Designator>",
    ]
    rows = read_sr(sr)
    assert [r.name for r in rows] == [r.name for r in regions]
    check_round_trip_values(rows, regions)
    liver = next(r for r in rows if r.name == "liver")
    assert liver.finding == "Liver"
    assert liver.hu_mean is not None and 60 <= liver.hu_mean <= 150  # enhanced liver


def test_finding_site_takes_the_segment_side_as_laterality() -> None:
    from ivcviewer.interop.sr_write import finding_sites

    region = hd.sr.CodedConcept.from_code(codes.SCT.Kidney)
    region.AnatomicRegionModifierSequence = [hd.sr.CodedConcept.from_code(codes.SCT.Right)]
    segment = Dataset()
    segment.AnatomicRegionSequence = [region]
    (site,) = finding_sites(segment)
    assert site.value.value == codes.SCT.Kidney.value
    (mod,) = site.ContentSequence
    assert mod.ConceptNameCodeSequence[0].CodeMeaning == "Laterality"
    assert mod.ConceptCodeSequence[0].CodeValue == codes.SCT.Right.value
    assert finding_sites(Dataset()) == []
    # an organ segment without anatomic region: its own site, its type's side as laterality
    organ = Dataset()
    organ.SegmentedPropertyCategoryCodeSequence = [
        hd.sr.CodedConcept.from_code(codes.SCT.AnatomicalStructure)
    ]
    kidney = hd.sr.CodedConcept.from_code(codes.SCT.Kidney)
    kidney.SegmentedPropertyTypeModifierCodeSequence = [
        hd.sr.CodedConcept.from_code(codes.SCT.Left)
    ]
    organ.SegmentedPropertyTypeCodeSequence = [kidney]
    (site,) = finding_sites(organ)
    assert site.value.value == codes.SCT.Kidney.value
    assert site.ContentSequence[0].ConceptCodeSequence[0].CodeValue == codes.SCT.Left.value


def test_an_interrupted_write_leaves_no_file(
    small: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The writer dies half-way through the file: neither the report nor a temporary remains."""
    real_save = Dataset.save_as

    def half_then_die(self: Dataset, filename: Any, *args: Any, **kwargs: Any) -> None:
        real_save(self, filename, *args, **kwargs)
        data = Path(filename).read_bytes()
        Path(filename).write_bytes(data[: len(data) // 2])
        raise KeyboardInterrupt

    monkeypatch.setattr(Dataset, "save_as", half_then_die)
    with pytest.raises(KeyboardInterrupt):
        export_sr(
            small["labels"],
            small["ct"],
            small["seg_path"],
            tmp_path / "sr.dcm",
            table=small["table"],
        )
    assert list(tmp_path.iterdir()) == []


def test_report_on_a_labelmap_seg(small: dict[str, Any], tmp_path: Path) -> None:
    """A labelmap SEG (one frame per slice, all segments) is referenced the same way."""
    from ivcviewer.interop.seg_write import build_seg

    seg = build_seg(
        small["labels"], small["table"], small["ct"], algorithm="manual", encoding="labelmap"
    )
    assert seg.SOPClassUID == "1.2.840.10008.5.1.4.1.1.66.7"
    sr = export_sr(small["labels"], small["ct"], seg, tmp_path / "sr.dcm", table=small["table"])
    check_tid1500(tid1500(sr, tmp_path), small["regions"], seg)
    errors, warnings = dciodvfy(sr)
    # this dciodvfy (dicom3tools 2022) predates the Label Map Segmentation SOP Class, so it
    # takes the referenced SEG for a non-segmentation: one such error per group, nothing else
    assert errors == [
        "Error - Shall not be present for Referenced SOP Class that is not segmentation - "
        "attribute <ReferencedSegmentNumber>"
    ] * len(small["regions"])
    assert warnings == []
    check_round_trip(sr, small["regions"])


def test_highdicom_parses_the_report(small: dict[str, Any]) -> None:
    """highdicom's own TID 1500 parser reads the groups, text items and all."""
    groups = hd.sr.srread(small["sr"]).content.get_volumetric_roi_measurement_groups()
    assert [g.tracking_identifier for g in groups] == [r.name for r in small["regions"]]
    volumes = [g.get_measurements(name=codes.SCT.Volume)[0].value for g in groups]
    assert volumes == pytest.approx([r.volume_ml for r in small["regions"]], rel=1e-12)


def test_export_from_files_equals_export_from_volumes(
    small: dict[str, Any], tmp_path: Path
) -> None:
    """The label map as a NIfTI file with its names, the CT as its DICOM folder: same report."""
    from ivcviewer.io import save_labels

    nifti, _ = save_labels(small["labels"], small["table"], tmp_path / "labels.nii.gz")
    sr = export_sr(
        nifti,
        small["folder"] / "ct",
        small["seg_path"],
        tmp_path / "sr.dcm",
        case=default_case_path(),
        uid_seed="small",
    )
    rows, want = read_sr(sr), read_sr(small["sr"])
    assert [r.to_entry() for r in rows] == [r.to_entry() for r in want]
    assert [r.tracking_uid for r in rows] == [r.tracking_uid for r in want]

"""The seed inputs of the fuzzer, built in a folder of their own from what exists.

Sources are only read: the real series of ``../shared/public_ct`` (when present), the small
phantom written by ``ivcviewer phantom``, the shipped case file, and NRRD / MetaImage / NIfTI-2
copies made from the phantom with SimpleITK and nibabel. :func:`build_corpus` returns a mapping
from seed name to a path relative to the corpus folder and writes it to ``corpus.json``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
#: Where the real public CT lives (the same place tests/conftest.py looks).
PUBLIC_CT = REPO.parent / "shared" / "public_ct"
CASE_FILE = REPO / "annotations" / "retroperitoneal_leiomyosarcoma_ivc.yaml"
#: The teaching cases, whose findings are placed from structure references.
TEACHING_CASE_FILES = (
    REPO / "annotations" / "teaching_right_renal_mass_ivc_thrombus.yaml",
    REPO / "annotations" / "teaching_left_adrenal_mass.yaml",
)


def _copy(src: Path, dst: Path) -> None:
    """Copy a file or folder without its permissions (the sources may be read-only)."""
    if src.is_dir():
        dst.mkdir(parents=True, exist_ok=True)
        for item in sorted(src.iterdir()):
            _copy(item, dst / item.name)
    else:
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)


def _public(dest: Path, public_ct: Path, seeds: dict[str, str]) -> None:
    ts = public_ct / "totalsegmentator_dicom"
    ab = public_ct / "totalsegmentator_abdomen"
    cq = public_ct / "dcmqi_ct3slice"
    wanted = {
        "ts_series": ts / "series",
        "ts_seg": ts / "example_seg_dicom.nii.gz",
        "ct3_series": cq / "series",
        "seg_dcm": cq / "liver.dcm",
        "liver_nrrd": cq / "liver_seg.nrrd",
        "liver_spine_nrrd": cq / "liver_spine_seg.nrrd",
        "ab_ct": ab / "example_ct.nii.gz",
        "ab_labels": ab / "example_ct_totalseg_v1.nii.gz",
        "ab_names": ab / "example_ct_totalseg_v1_labels.json",
    }
    for name, src in wanted.items():
        if src.exists():
            rel = f"public/{src.parent.name}/{src.name}"
            _copy(src, dest / rel)
            seeds[name] = rel


def _shipped(dest: Path, seeds: dict[str, str]) -> None:
    """The real CT shipped in sample_data/, when the public copy is not in the corpus."""
    from ivcviewer.sample_data import real_abdominal_ct

    if "ab_ct" in seeds:
        return
    sample = real_abdominal_ct()
    shipped = {"ab_ct": sample.ct, "ab_labels": sample.labels, "ab_names": sample.names}
    for name, src in shipped.items():
        rel = f"shipped/{src.name}"
        _copy(src, dest / rel)
        seeds[name] = rel


def _phantom(dest: Path, seeds: dict[str, str]) -> None:
    from ivcviewer.cli.main import main

    out = dest / "phantom"
    if main(["phantom", "--size", "small", "--out", str(out)]) != 0:
        raise RuntimeError("ivcviewer phantom --size small failed: the corpus needs it")
    seeds.update(
        phantom="phantom",
        ph_ct="phantom/ct",
        ph_labels="phantom/labels.nii.gz",
        ph_names="phantom/labels_labels.json",
        ph_landmarks="phantom/landmarks.json",
    )


def _converted(dest: Path, seeds: dict[str, str]) -> None:
    """NRRD, MetaImage and NIfTI-2 copies of the phantom's labels and CT."""
    import nibabel as nib
    import SimpleITK as sitk

    conv = dest / "converted"
    conv.mkdir()
    labels = sitk.ReadImage(str(dest / seeds["ph_labels"]))
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(sitk.ImageSeriesReader.GetGDCMSeriesFileNames(str(dest / seeds["ph_ct"])))
    ct = reader.Execute()
    for name, image, fname, compress in (
        ("ph_labels_nrrd", labels, "labels.nrrd", True),
        ("ph_labels_nhdr", labels, "labels.nhdr", False),
        ("ph_labels_mha", labels, "labels.mha", False),
        ("ph_labels_mhaz", labels, "labels_z.mha", True),
        ("ph_labels_mhd", labels, "labels.mhd", False),
        ("ph_ct_mha", ct, "ct.mha", False),
        ("ph_ct_nrrd", ct, "ct.nrrd", True),
        ("ph_ct_nii", ct, "ct.nii", False),
    ):
        sitk.WriteImage(image, str(conv / fname), compress)
        seeds[name] = f"converted/{fname}"
    nii = nib.load(str(dest / seeds["ph_labels"]))
    two = nib.Nifti2Image(nii.get_fdata().astype("uint8"), nii.affine)
    nib.save(two, str(conv / "labels_n2.nii"))
    seeds["ph_labels_n2"] = "converted/labels_n2.nii"
    shutil.copyfile(dest / seeds["ph_names"], conv / "labels_n2_labels.json")


def _dicomdir(dest: Path, seeds: dict[str, str]) -> None:
    """A DICOMDIR (pydicom FileSet) over the first few phantom slices."""
    import pydicom
    from pydicom.fileset import FileSet

    files = sorted((dest / seeds["ph_ct"]).iterdir())[:6]
    fs = FileSet()
    for f in files:
        fs.add(pydicom.dcmread(f))
    out = dest / "dicomdir"
    fs.write(out)
    seeds["dicomdir"] = "dicomdir"


def build_corpus(dest: Path, public_ct: Path | None = PUBLIC_CT) -> dict[str, str]:
    """Build every seed under ``dest`` and return {seed name: path relative to ``dest``}.

    Seeds from ``public_ct`` are left out when that folder is absent (``None`` leaves them out).
    """
    dest.mkdir(parents=True, exist_ok=True)
    seeds: dict[str, str] = {}
    if public_ct is not None and public_ct.is_dir():
        _public(dest, public_ct, seeds)
    _shipped(dest, seeds)
    _phantom(dest, seeds)
    _converted(dest, seeds)
    _dicomdir(dest, seeds)
    _copy(CASE_FILE, dest / "case" / CASE_FILE.name)
    seeds["case"] = f"case/{CASE_FILE.name}"
    for i, teaching in enumerate(TEACHING_CASE_FILES):
        _copy(teaching, dest / "case" / teaching.name)
        seeds[f"teaching_case_{i}"] = f"case/{teaching.name}"
    (dest / "corpus.json").write_text(json.dumps(seeds, indent=1), encoding="utf-8")
    return seeds

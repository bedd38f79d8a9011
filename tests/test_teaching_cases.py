"""The two shipped teaching cases fitted on the real example CT and on the normal phantom.

The real CT (sample_data/, TotalSegmentator abdomen with its label map) is shipped with the
project; the phantom is generated here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ivcviewer.annotations import CaseFile, load_case
from ivcviewer.annotations.overlay import OverlayResult
from ivcviewer.cli.main import main
from ivcviewer.io import open_path
from ivcviewer.phantom import build_phantom, write_phantom
from ivcviewer.sample_data import real_abdominal_ct
from ivcviewer.volume import Volume
from ivcviewer.workflows.anatomy import (
    Anatomy,
    anatomy_from_labelmap_file,
    anatomy_from_phantom_truth,
)
from ivcviewer.workflows.overlay import fit_overlay

ROOT = Path(__file__).resolve().parents[1]
RENAL = ROOT / "annotations" / "teaching_right_renal_mass_ivc_thrombus.yaml"
ADRENAL = ROOT / "annotations" / "teaching_left_adrenal_mass.yaml"


@pytest.fixture(scope="module")
def cases() -> dict[str, CaseFile]:
    return {"renal": load_case(RENAL), "adrenal": load_case(ADRENAL)}


@pytest.fixture(scope="module")
def real_ct() -> Volume:
    (ct,) = open_path(real_abdominal_ct().ct)
    return ct


@pytest.fixture(scope="module")
def normal_phantom(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("normal_phantom")
    write_phantom(build_phantom("small", normal=True), out)
    return out


def _fit_real(ct: Volume, case: CaseFile) -> tuple[OverlayResult, Anatomy]:
    anatomy = anatomy_from_labelmap_file(real_abdominal_ct().labels, case)
    return fit_overlay(ct, case, anatomy), anatomy


def _fit_phantom(folder: Path, case: CaseFile) -> tuple[OverlayResult, Anatomy]:
    anatomy = anatomy_from_phantom_truth(folder, case)
    (ct,) = open_path(folder / "ct")
    return fit_overlay(ct, case, anatomy), anatomy


def _share(res: OverlayResult, fid: str, structure: str) -> float:
    occ = res.finding(fid).occupancy
    assert occ is not None
    return sum(o.share for o in occ if o.structure == structure)


def _structure_z(anatomy: Anatomy, name: str) -> np.ndarray:
    assert anatomy.labels is not None and anatomy.names is not None
    values = [v for v, n in anatomy.names.items() if n == name]
    ijk = np.argwhere(np.isin(anatomy.labels.array, values))
    return anatomy.labels.voxel_to_lps(ijk)[:, 2]


def _overlay_on_real_ct(
    case: Path, out: Path, capsys: pytest.CaptureFixture[str]
) -> dict[str, Any]:
    """``ivcviewer overlay`` of a case on the real example CT; its findings.json."""
    sample = real_abdominal_ct()
    args = ["--case", str(case), "--anatomy", str(sample.labels), "--out", str(out)]
    code = main(["overlay", *args, str(sample.ct)])
    assert code == 0, capsys.readouterr().err
    doc: dict[str, Any] = json.loads((out / "findings.json").read_text())
    return doc


def _region_z(res: OverlayResult, fid: str) -> np.ndarray:
    return res.labels.voxel_to_lps(np.argwhere(res.mask(fid)))[:, 2]


@pytest.mark.parametrize("where", ["real", "phantom"])
def test_renal_mass_with_thrombus_to_mayo_ii(
    where: str, cases: dict[str, CaseFile], real_ct: Volume, normal_phantom: Path
) -> None:
    case = cases["renal"]
    res, _ = _fit_real(real_ct, case) if where == "real" else _fit_phantom(normal_phantom, case)
    assert _share(res, "renal_mass", "kidney_right") >= 0.5
    thrombus = res.finding("ivc_tumour_thrombus")
    assert _share(res, "ivc_tumour_thrombus", "inferior_vena_cava") >= 0.95
    assert all(r.status == "satisfied" for r in thrombus.rules)
    assert res.involvement is not None and res.involvement.mayo_level == "II"
    assert all(r.status == "satisfied" for r in res.finding("renal_mass").rules)


@pytest.mark.parametrize("where", ["real", "phantom"])
def test_left_adrenal_mass_sits_on_the_upper_pole(
    where: str, cases: dict[str, CaseFile], real_ct: Volume, normal_phantom: Path
) -> None:
    case = cases["adrenal"]
    res, anatomy = (
        _fit_real(real_ct, case) if where == "real" else _fit_phantom(normal_phantom, case)
    )
    kidney = _structure_z(anatomy, "kidney_left")
    mass = _region_z(res, "adrenal_mass")
    # above the kidney: all of it above the kidney's mid-height, its centre above the kidney's
    # and its top above the upper pole
    assert mass.min() > kidney.mean() and mass.mean() > kidney.mean()
    assert mass.max() > kidney.max()
    checks = {r.structure: r for r in res.finding("adrenal_mass").rules}
    assert checks["kidney_left"].rule == "touches" and checks["kidney_left"].status == "satisfied"
    assert _share(res, "adrenal_mass", "spleen") < 0.10
    assert checks["spleen"].status == "satisfied"


def test_ivc_case_lists_and_warns_its_organs_in_findings_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    case = ROOT / "annotations" / "retroperitoneal_leiomyosarcoma_ivc.yaml"
    doc = _overlay_on_real_ct(case, out, capsys)
    mass = next(f for f in doc["findings"] if f["id"] == "mass")
    occ = {o["structure"]: o["share"] for o in mass["occupancy"]}
    assert occ["liver"] > 0.10 and occ["kidney_right"] > 0.10
    warned = [w for w in mass["warnings"] if "normal organs" in w]
    assert warned and "liver" in warned[0] and "kidney_right" in warned[0]
    assert "Occupancy by structure" in (out / "findings.md").read_text()


def test_teaching_cases_say_they_are_teaching_examples(
    tmp_path: Path, cases: dict[str, CaseFile], capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    doc = _overlay_on_real_ct(ADRENAL, out, capsys)
    assert doc["case"]["teaching_example"] is True and doc["case"]["citation"] is None
    assert "Teaching example" in (out / "findings.md").read_text()
    for c in cases.values():
        assert c.case.teaching_example and c.case.citation is None

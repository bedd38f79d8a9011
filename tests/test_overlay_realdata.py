"""The overlay on real CT: the public TotalSegmentator abdomen and its label map."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage as ndi

from ivcviewer.annotations import default_case_path, landmarks_from_labelmap, load_case
from ivcviewer.annotations.overlay import OverlayResult, fit_case
from ivcviewer.cli.main import main
from ivcviewer.io import load_labels, open_path
from ivcviewer.volume import Volume

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def real(public_ct: Path) -> tuple[Volume, Volume, dict[int, str], Path]:
    folder = public_ct / "totalsegmentator_abdomen"
    (ct,) = open_path(folder / "example_ct.nii.gz")
    labels, table = load_labels(folder / "example_ct_totalseg_v1.nii.gz")
    return ct, labels, {int(v): n for v, n in table.names.items()}, folder


@pytest.fixture(scope="module")
def fitted(real) -> OverlayResult:  # type: ignore[no-untyped-def]
    ct, labels, names, _ = real
    case = load_case(default_case_path())
    lm = landmarks_from_labelmap(labels, names, required=case.required_landmarks())
    return fit_case(ct, case, lm, labels, names)


def _mask(labels: Volume, names: dict[int, str], structure: str) -> np.ndarray:
    return np.isin(labels.array, [v for v, n in names.items() if n == structure])


def test_tumour_inside_the_ivc(fitted: OverlayResult, real) -> None:  # type: ignore[no-untyped-def]
    _, labels, names, _ = real
    ivc = _mask(labels, names, "inferior_vena_cava")
    grown = ndi.distance_transform_edt(~ivc, sampling=tuple(labels.spacing)) <= 2.0
    t = fitted.mask("intravascular_tumour")
    assert t.sum() > 0
    assert (t & grown).sum() / t.sum() >= 0.95


def test_tumour_spans_renal_veins_to_the_liver_segment(fitted: OverlayResult, real) -> None:  # type: ignore[no-untyped-def]
    _, labels, names, _ = real
    lm = fitted.landmarks
    t = fitted.mask("intravascular_tumour")
    ks = np.flatnonzero(t.any(axis=(1, 2)))
    z = labels.voxel_to_lps(np.c_[ks, np.zeros((len(ks), 2))])[:, 2]
    step = float(labels.spacing[0])
    assert abs(z.min() - lm.z("renal_vein_confluence")) <= step
    assert z.max() > lm.z("intrahepatic_ivc_lower")
    # at the tumour's top the IVC is wrapped by liver (checked here on the label map itself)
    top = int(ks[np.argmax(z)])
    ivc = _mask(labels, names, "inferior_vena_cava")[top]
    liver = _mask(labels, names, "liver")[top]
    ring = ndi.binary_dilation(ivc, iterations=2) & ~ivc
    assert (liver & ring).sum() / ring.sum() >= 0.5
    lv = fitted.involvement
    assert lv is not None and lv.mayo_level == "III" and lv.ivc_segment == "II"
    assert not lv.lower_bound
    assert fitted.involvement_matches() == {"mayo_level": True, "ivc_segment": True}


def test_mass_touches_psoas_and_ivc(fitted: OverlayResult, real) -> None:  # type: ignore[no-untyped-def]
    _, labels, names, _ = real
    m = ndi.binary_dilation(fitted.mask("mass"), structure=np.ones((3, 3, 3), bool))
    assert (m & _mask(labels, names, "iliopsoas_right")).any()
    assert (m & _mask(labels, names, "inferior_vena_cava")).any()
    assert [r.status for r in fitted.finding("mass").rules] == ["satisfied"] * 3


def test_mass_extents_or_the_clipping_that_changed_them(fitted: OverlayResult, real) -> None:  # type: ignore[no-untyped-def]
    _, labels, names, _ = real
    mass = fitted.finding("mass")
    within = mass.within_one_voxel() or {}
    assert set(within) == {"lr", "ap", "cc"}
    changed = {a for c in mass.clipping_changed_extents() for a in c.extent_changes_mm()}
    for axis, ok in within.items():
        assert ok or axis in changed, axis
    # kept out of the vertebrae (the case file's 'avoids' rule)
    spine = np.isin(labels.array, [v for v, n in names.items() if n.startswith("vertebrae_")])
    assert not (fitted.mask("mass") & spine).any()


def test_truncated_landmarks_are_reported(fitted: OverlayResult) -> None:
    assert fitted.landmarks.provenance.truncated == [
        "hepatic_vein_confluence",
        "cavo_atrial_junction",
    ]
    tumour = fitted.finding("intravascular_tumour")
    assert any("lower bound" in w for w in tumour.warnings)
    doc = fitted.to_json_dict()
    assert doc["landmarks"]["points"]["hepatic_vein_confluence"]["truncated"] is True


def test_cli_on_the_real_ct(real, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    ct, _, _, folder = real
    out = tmp_path / "overlay"
    rc = main(
        [
            "overlay",
            str(folder / "example_ct.nii.gz"),
            "--case",
            str(default_case_path()),
            "--anatomy",
            str(folder / "example_ct_totalseg_v1.nii.gz"),
            "--out",
            str(out),
        ]
    )
    assert rc == 0
    assert "Mayo III" in capsys.readouterr().out
    nib = pytest.importorskip("nibabel")
    written = nib.load(out / "labels.nii.gz")
    source = nib.load(folder / "example_ct.nii.gz")
    assert written.shape == source.shape
    np.testing.assert_allclose(written.affine, source.affine, atol=1e-4)
    vol, table = load_labels(out / "labels.nii.gz")
    np.testing.assert_allclose(vol.affine, ct.affine, atol=1e-4)
    assert set(np.unique(vol.array)) == {0, 1, 2}
    doc = json.loads((out / "findings.json").read_text())
    assert doc["ivc_involvement"]["mayo_level"] == "III"
    mass = doc["findings"][0]
    assert mass["reported"]["extents_cm"] == {"lr": 10.5, "ap": 8.9, "cc": 13.2}
    assert mass["within_one_voxel"] == {"lr": True, "ap": True, "cc": True}
    assert {o["structure"] for o in mass["occupancy"]} >= {"liver", "unlabelled"}
    assert any("normal organs" in w for w in mass["warnings"])


def test_mass_occupancy_and_organ_warning(fitted: OverlayResult, real) -> None:  # type: ignore[no-untyped-def]
    _, labels, names, _ = real
    mass = fitted.finding("mass")
    m = fitted.mask("mass")
    assert mass.occupancy is not None
    occ = {o.structure: o for o in mass.occupancy}
    assert "unlabelled" in occ
    assert sum(o.voxels for o in mass.occupancy) == int(m.sum())
    covered = []
    for organ in ("liver", "kidney_right"):
        k = int(np.count_nonzero(m & _mask(labels, names, organ)))
        assert occ[organ].voxels == k
        if k / m.sum() > 0.10:
            covered.append(organ)
    assert covered, "the mass is expected to lie over the liver or right kidney on this CT"
    (warn,) = [w for w in mass.warnings if "normal organs" in w]
    assert all(organ in warn for organ in covered)
    doc = fitted.to_json_dict()
    (row,) = [f for f in doc["findings"] if f["id"] == "mass"]
    assert [o["structure"] for o in row["occupancy"]] == [o.structure for o in mass.occupancy]

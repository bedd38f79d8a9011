"""The fit against the phantom's truth: placement from its landmarks or its label map.

The phantom builds its truth mass and tumour from the case file's extents and relations: the
mass is placed by the case file's placement rule (``relations.placement``) through the same
function the fit uses (``mass_centre_from_relations``), fed with the phantom's own anatomy; the
fit places them from the landmarks (or a label map) only, never from the phantom's parameters.
The target is Dice >= 0.9 for both findings and Mayo level III, from the truth landmarks and
from the phantom's truth folder; the figures in the comments are what the fit reaches on the
``small`` preset (4 x 4 x 5 mm voxels).
"""

from __future__ import annotations

import numpy as np
import pytest

from ivcviewer.annotations import default_case_path, landmarks_from_labelmap
from ivcviewer.annotations.overlay import (
    OverlayResult,
    anatomy_names_for_case,
    dice,
    fit_case,
)

phantom = pytest.importorskip("ivcviewer.phantom")


@pytest.fixture(scope="module")
def ph():  # type: ignore[no-untyped-def]
    return phantom.build_phantom("small", seed=0)


def anatomy_names(ph, case) -> dict[int, str]:  # type: ignore[no-untyped-def]
    """The truth label map's names as anatomy: the mass left out, the tumour part of the IVC."""
    names = anatomy_names_for_case(ph.label_names(), case, drop_solid_findings=True)
    assert "mass" not in names.values() and "intravascular_tumour" not in names.values()
    return names


def _dices(res: OverlayResult, ph) -> dict[str, float]:  # type: ignore[no-untyped-def]
    return {f: dice(res.mask(f), ph.mask(f)) for f in ("mass", "intravascular_tumour")}


@pytest.fixture(scope="module")
def from_truth_landmarks(ph, case) -> OverlayResult:  # type: ignore[no-untyped-def]
    return fit_case(ph.ct, case, ph.landmarks)


def test_from_truth_landmarks(from_truth_landmarks: OverlayResult, ph) -> None:  # type: ignore[no-untyped-def]
    res = from_truth_landmarks
    d = _dices(res, ph)
    assert d["mass"] >= 0.9  # 0.968
    assert d["intravascular_tumour"] >= 0.9  # 0.900: a circle in the oval IVC
    lv = res.involvement
    assert lv is not None and lv.mayo_level == "III" and lv.ivc_segment == "II"
    mass = res.finding("mass")
    assert mass.within_one_voxel() == {"lr": True, "ap": True, "cc": True}


def test_from_truth_landmarks_and_label_map(ph, case) -> None:  # type: ignore[no-untyped-def]
    res = fit_case(ph.ct, case, ph.landmarks, ph.labels, anatomy_names(ph, case))
    d = _dices(res, ph)
    assert d["mass"] >= 0.9  # 0.968
    assert d["intravascular_tumour"] >= 0.97  # 0.985: the lumen's own section
    assert res.involvement is not None and res.involvement.mayo_level == "III"
    assert [r.status for r in res.finding("mass").rules] == ["satisfied"] * 3


def test_from_the_truth_label_map_as_anatomy(ph, case) -> None:  # type: ignore[no-untyped-def]
    names = anatomy_names(ph, case)
    lm = landmarks_from_labelmap(ph.labels, names, required=case.required_landmarks())
    res = fit_case(ph.ct, case, lm, ph.labels, names)
    d = _dices(res, ph)
    assert d["mass"] >= 0.89  # 0.901: the psoas centroid is derived where the mass replaced it
    assert d["intravascular_tumour"] >= 0.95  # 0.957
    assert res.involvement is not None and res.involvement.mayo_level == "III"
    np.testing.assert_allclose(
        lm.point("renal_vein_confluence"), ph.landmarks.point("renal_vein_confluence"), atol=6.0
    )


def test_phantom_and_fit_apply_the_same_placement(ph, case) -> None:  # type: ignore[no-untyped-def]
    from ivcviewer.annotations.fit import fit_solid, mass_centre_from_relations

    lm = ph.landmarks
    z0 = lm.z("renal_vein_confluence")
    points = {
        "ivc_centreline": lm.centreline_at_z(z0)[0],
        "right_psoas_at_mass": lm.point("right_psoas_at_mass"),
    }
    truth = np.asarray(ph.truth["mass"]["centre_lps"])
    rule = mass_centre_from_relations(case.finding("mass"), points, z0).centre_lps
    np.testing.assert_allclose(truth, rule, atol=0.05)
    np.testing.assert_allclose(fit_solid(case.finding("mass"), lm).model.centre_lps, rule)
    assert ph.truth["mass"]["placement"]["rule"] == "outline_through"


def test_normal_phantom_landmarks_place_the_mass_as_well(ph, case) -> None:  # type: ignore[no-untyped-def]
    normal = phantom.build_phantom("small", seed=0, normal=True)
    names = normal.label_names()
    lm = landmarks_from_labelmap(normal.labels, names, required=case.required_landmarks())
    res = fit_case(ph.ct, case, lm, normal.labels, names)
    d = _dices(res, ph)
    assert d["mass"] >= 0.95  # 0.967
    assert d["intravascular_tumour"] >= 0.95  # 0.957
    assert res.involvement is not None and res.involvement.mayo_level == "III"


def test_cli_from_a_written_phantom(ph, tmp_path) -> None:  # type: ignore[no-untyped-def]
    output = pytest.importorskip("ivcviewer.phantom.output")
    from ivcviewer.cli.main import main
    from ivcviewer.io import load_labels

    folder = tmp_path / "phantom"
    output.write_phantom(ph, folder)
    out = tmp_path / "overlay"
    args = ["overlay", str(folder / "ct"), "--case", str(default_case_path())]
    assert main([*args, "--phantom-truth", str(folder), "--out", str(out)]) == 0
    vol, _ = load_labels(out / "labels.nii.gz")
    assert vol.shape == ph.labels.shape
    np.testing.assert_allclose(vol.affine, ph.labels.affine, atol=1e-3)
    assert dice(vol.array == 1, ph.mask("mass")) >= 0.9
    assert dice(vol.array == 2, ph.mask("intravascular_tumour")) >= 0.97
    # writing into the phantom's folder is refused
    assert main([*args, "--phantom-truth", str(folder), "--out", str(folder / "o")]) == 2


def test_cli_with_the_written_phantom_label_map_as_anatomy(ph, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    """``--anatomy`` on the phantom's own label map, as written: the tumour has a label of its
    own, which counts as part of the IVC (nothing is renamed by hand)."""
    import json

    output = pytest.importorskip("ivcviewer.phantom.output")
    from ivcviewer.cli.main import main
    from ivcviewer.io import load_labels

    folder = tmp_path / "phantom"
    paths = output.write_phantom(ph, folder)
    _, table = load_labels(paths["labels"])
    assert "intravascular_tumour" in table.names.values()  # labelled apart from the IVC
    out = tmp_path / "overlay"
    rc = main(
        [
            "overlay",
            str(folder / "ct"),
            "--case",
            str(default_case_path()),
            "--anatomy",
            str(paths["labels"]),
            "--out",
            str(out),
        ]
    )
    assert rc == 0
    assert "IVC involvement: Mayo III, segment II" in capsys.readouterr().out
    vol, _ = load_labels(out / "labels.nii.gz")
    assert dice(vol.array == 2, ph.mask("intravascular_tumour")) >= 0.95  # 0.957
    assert dice(vol.array == 1, ph.mask("mass")) >= 0.89  # 0.901
    doc = json.loads((out / "findings.json").read_text())
    tumour = doc["findings"][1]
    assert tumour["fit"]["parameters"]["section"] == "label map"
    assert [c["reason"] for c in tumour["clipping"]] == []
    assert tumour["rules"][0]["status"] == "satisfied"
    assert doc["ivc_involvement"]["mayo_level"] == "III"

"""Anatomy sources: landmarks derived from a label map, and landmarks JSON files."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from ivcviewer import geometry
from ivcviewer.annotations import anatomy
from ivcviewer.annotations.anatomy import Landmarks, Provenance, landmarks_from_labelmap
from ivcviewer.errors import AnatomyError
from ivcviewer.volume import Volume

# --------------------------------------------------------------------------- synthetic label map

NAMES = {
    1: "inferior_vena_cava",
    2: "kidney_left",
    3: "kidney_right",
    4: "liver",
    5: "iliopsoas_right",
    6: "aorta",
}
IDS = {n: v for v, n in NAMES.items()}


@dataclass(frozen=True)
class Truth:
    """Where the synthetic anatomy puts each landmark (LPS mm)."""

    renal_z: float = 78.0  # mean of the two hilum notches (right 72, left 84)
    intrahepatic_lower_z: float = 115.0
    hepatic_z: float = 145.0
    ivc_top_z: float = 160.0
    ivc_radius: float = 10.0
    psoas_xy: tuple[float, float] = (-35.0, 45.0)
    liver_low_z: float = 90.0
    liver_low_x: float = -75.0

    @staticmethod
    def ivc_x(z: NDArray[np.float64] | float) -> NDArray[np.float64] | float:
        """The IVC axis runs obliquely: 0.1 mm to the left per mm upwards."""
        return -20.0 + 0.1 * (np.asarray(z) - 90.0)


def synthetic_labels(z_top: float = 180.0) -> Volume:
    """A label map of simple shapes on a grid stored head-first with x flipped (not canonical).

    IVC: an oblique cylinder (radius 10 mm) from z 20 to 160. Kidneys: ellipsoids with a medial
    notch (the hilum) at z 72 (right) and 84 (left), away from their mid-heights (70 and 78).
    Liver: wraps the IVC (open posteriorly) from z 115 to 145, with a right lobe down to z 90.
    Right psoas: a cylinder at (-35, 45) up to z 100. The structures do not overlap.
    """
    nz = int(round(z_top / 3.0)) + 1
    ny, nx = 81, 121
    # slice axis: towards the feet (head-first storage); rows: posterior; cols: towards the right
    aff = np.array(
        [
            [0.0, 0.0, -2.5, 150.0],
            [0.0, 2.5, 0.0, -100.0],
            [-3.0, 0.0, 0.0, z_top],
            [0.0, 0.0, 0.0, 1.0],
        ]
    )
    k, r, c = np.meshgrid(np.arange(nz), np.arange(ny), np.arange(nx), indexing="ij")
    x = aff[0, 2] * c + aff[0, 3]
    y = aff[1, 1] * r + aff[1, 3]
    z = aff[2, 0] * k + aff[2, 3]
    t = Truth()
    lab = np.zeros((nz, ny, nx), np.uint8)
    d_ivc = np.hypot(x - t.ivc_x(z), y)
    ivc = (d_ivc <= t.ivc_radius) & (z >= 20) & (z <= t.ivc_top_z)
    for name, xc, zc, zh in (
        ("kidney_right", -70.0, 70.0, 72.0),
        ("kidney_left", 70.0, 78.0, 84.0),
    ):
        body = ((x - xc) / 25) ** 2 + ((y - 20) / 20) ** 2 + ((z - zc) / 45) ** 2 <= 1
        medial = (x - xc) * np.sign(-xc) > 8  # towards the midline
        notch = medial & (np.abs(z - zh) <= 12) & (np.abs(y - 20) <= 8)
        lab[body & ~notch] = IDS[name]
    wrap = (x >= -110) & (x <= 50) & (y >= -70) & (y <= 12) & (z >= 115) & (z <= 145)
    lobe = (x >= -110) & (x <= -40) & (y >= -60) & (y <= -5) & (z >= 90) & (z < 115)
    lab[(wrap | lobe) & (d_ivc > t.ivc_radius + 1)] = IDS["liver"]
    lab[(np.hypot(x - t.psoas_xy[0], y - t.psoas_xy[1]) <= 12) & (z <= 100)] = IDS[
        "iliopsoas_right"
    ]
    lab[(np.hypot(x - 15, y - 5) <= 9) & (z >= 20) & (z <= 170)] = IDS["aorta"]
    lab[ivc] = IDS["inferior_vena_cava"]
    return Volume(lab, aff)


@pytest.fixture(scope="module")
def synthetic() -> Volume:
    return synthetic_labels()


@pytest.fixture(scope="module")
def synthetic_landmarks(synthetic: Volume) -> Landmarks:
    return landmarks_from_labelmap(synthetic, NAMES)


def _without(vol: Volume, *names: str) -> Volume:
    a = vol.array.copy()
    for n in names:
        a[a == IDS[n]] = 0
    return vol.with_array(a)


# --------------------------------------------------------------------------- synthetic tests


def test_synthetic_landmarks_at_their_true_places(synthetic_landmarks: Landmarks) -> None:
    lm, t = synthetic_landmarks, Truth()
    assert lm.names() == [
        "renal_vein_confluence",
        "intrahepatic_ivc_lower",
        "hepatic_vein_confluence",
        "cavo_atrial_junction",
        "ivc_centreline",
        "right_psoas_at_mass",
        "liver_lower_edge",
    ]
    # the notch (hilum), not the kidneys' mid-heights (74), sets the renal-vein level
    assert lm.z("renal_vein_confluence") == pytest.approx(t.renal_z, abs=2.0)
    assert lm.z("intrahepatic_ivc_lower") == pytest.approx(t.intrahepatic_lower_z, abs=3.0)
    assert lm.z("hepatic_vein_confluence") == pytest.approx(t.hepatic_z, abs=3.0)
    assert lm.z("cavo_atrial_junction") == pytest.approx(t.ivc_top_z, abs=3.0)
    for name in ("renal_vein_confluence", "hepatic_vein_confluence", "cavo_atrial_junction"):
        p = lm.point(name)
        assert p[0] == pytest.approx(float(t.ivc_x(p[2])), abs=1.0), name
        assert p[1] == pytest.approx(0.0, abs=1.0), name
    psoas = lm.point("right_psoas_at_mass")
    assert psoas[:2] == pytest.approx(t.psoas_xy, abs=1.5)
    assert psoas[2] == pytest.approx(lm.z("renal_vein_confluence"), abs=1.6)
    edge = lm.point("liver_lower_edge")
    assert edge[2] == pytest.approx(t.liver_low_z, abs=3.0)
    assert edge[0] == pytest.approx(t.liver_low_x, abs=3.0)
    assert lm.provenance.source == "labelmap"
    assert lm.provenance.truncated == []
    assert lm.provenance.warnings == []
    assert set(lm.provenance.methods) == set(lm.names())


def test_synthetic_centreline_follows_the_oblique_ivc(synthetic_landmarks: Landmarks) -> None:
    c, r = synthetic_landmarks.centreline()
    t = Truth()
    assert np.all(np.diff(c[:, 2]) > 0)
    assert c[0, 2] == pytest.approx(20.0, abs=3.0)
    assert c[-1, 2] == pytest.approx(t.ivc_top_z, abs=3.0)
    inner = (c[:, 2] > 35) & (c[:, 2] < 145)
    assert np.abs(c[inner, 0] - t.ivc_x(c[inner, 2])).max() < 0.6
    assert np.abs(c[inner, 1]).max() < 0.6
    # the slope correction brings the oblique section's area back to the true radius
    assert np.abs(r[inner] - t.ivc_radius).max() < 0.6
    p, radius = synthetic_landmarks.centreline_at_z(100.0)
    assert p[0] == pytest.approx(float(t.ivc_x(100.0)), abs=0.6)
    assert radius == pytest.approx(t.ivc_radius, abs=0.6)
    with pytest.raises(AnatomyError, match="outside the IVC centreline"):
        synthetic_landmarks.centreline_at_z(170.0)


def test_landmark_order(synthetic_landmarks: Landmarks) -> None:
    lm = synthetic_landmarks
    zs = [
        lm.z(n)
        for n in (
            "renal_vein_confluence",
            "intrahepatic_ivc_lower",
            "hepatic_vein_confluence",
            "cavo_atrial_junction",
        )
    ]
    assert zs == sorted(zs) and len(set(zs)) == 4
    assert lm.intrahepatic_segment_z() == (zs[1], zs[2])


def test_same_landmarks_from_a_canonical_copy(
    synthetic: Volume, synthetic_landmarks: Landmarks
) -> None:
    """The storage order of the grid does not change the landmarks."""
    other = landmarks_from_labelmap(synthetic.to_canonical(), NAMES)
    for n in synthetic_landmarks.points_lps:
        np.testing.assert_allclose(other.point(n), synthetic_landmarks.point(n), atol=1e-6)


def test_several_values_for_one_structure_and_extra_names(synthetic: Volume) -> None:
    a = synthetic.array.copy()
    a[(a == IDS["liver"]) & (np.arange(a.shape[2])[None, None, :] % 2 == 0)] = 40
    names = dict(NAMES) | {40: "liver", 99: "pancreas"}
    lm = landmarks_from_labelmap(synthetic.with_array(a), names)
    assert lm.z("hepatic_vein_confluence") == pytest.approx(Truth().hepatic_z, abs=3.0)


@pytest.mark.parametrize(
    ("removed", "structure", "landmark"),
    [
        (("liver",), "liver", "hepatic_vein_confluence"),
        (("iliopsoas_right",), "iliopsoas_right", "right_psoas_at_mass"),
        (("inferior_vena_cava",), "inferior_vena_cava", "ivc_centreline"),
        (("kidney_left", "kidney_right"), "kidney_left", "renal_vein_confluence"),
    ],
)
def test_missing_structure_names_structure_and_landmark(
    synthetic: Volume, removed: tuple[str, ...], structure: str, landmark: str
) -> None:
    with pytest.raises(AnatomyError) as info:
        landmarks_from_labelmap(_without(synthetic, *removed), NAMES)
    msg = str(info.value)
    assert structure in msg and landmark in msg and "Fix:" in msg


def test_missing_name_in_table(synthetic: Volume) -> None:
    names = {v: n for v, n in NAMES.items() if n != "iliopsoas_right"}
    with pytest.raises(AnatomyError, match="'iliopsoas_right' \\(absent from the label names\\)"):
        landmarks_from_labelmap(synthetic, names)


def test_not_required_landmarks_are_skipped_with_a_warning(synthetic: Volume) -> None:
    lm = landmarks_from_labelmap(
        _without(synthetic, "iliopsoas_right"),
        NAMES,
        required=["renal_vein_confluence", "ivc_centreline", "hepatic_vein_confluence"],
    )
    assert not lm.has("right_psoas_at_mass")
    assert any("right_psoas_at_mass not derived" in w for w in lm.provenance.warnings)
    with pytest.raises(AnatomyError, match="lack right_psoas_at_mass"):
        lm.point("right_psoas_at_mass")


def test_one_kidney_is_enough_with_a_warning(synthetic: Volume) -> None:
    lm = landmarks_from_labelmap(_without(synthetic, "kidney_left"), NAMES)
    assert lm.z("renal_vein_confluence") == pytest.approx(72.0, abs=2.0)
    assert any("kidney_left is absent" in w for w in lm.provenance.warnings)


def test_truncated_field_of_view_is_reported() -> None:
    vol = synthetic_labels(z_top=141.0)  # the IVC and the liver around it reach the top slice
    lm = landmarks_from_labelmap(vol, NAMES)
    assert lm.provenance.truncated == ["hepatic_vein_confluence", "cavo_atrial_junction"]
    assert lm.is_truncated("cavo_atrial_junction")
    assert lm.z("cavo_atrial_junction") == pytest.approx(141.0)
    assert lm.z("hepatic_vein_confluence") == pytest.approx(141.0)


def test_gap_in_the_ivc_mask_is_interpolated(synthetic: Volume) -> None:
    a = synthetic.array.copy()
    k = int(np.flatnonzero((a == IDS["inferior_vena_cava"]).any(axis=(1, 2)))[20])
    a[k][a[k] == IDS["inferior_vena_cava"]] = 0
    lm = landmarks_from_labelmap(synthetic.with_array(a), NAMES, required=["ivc_centreline"])
    assert any("interpolated" in w for w in lm.provenance.warnings)
    c, r = lm.centreline()
    assert np.all(r > 8.0)


def test_float_labels_are_refused(synthetic: Volume) -> None:
    with pytest.raises(AnatomyError, match="integer label values"):
        landmarks_from_labelmap(synthetic.with_array(synthetic.array.astype(float)), NAMES)


def test_unknown_required_landmark(synthetic: Volume) -> None:
    with pytest.raises(AnatomyError, match="unknown landmark 'diaphragm'"):
        landmarks_from_labelmap(synthetic, NAMES, required=["diaphragm"])


# --------------------------------------------------------------------------- JSON


def test_json_round_trip(tmp_path: Path, synthetic_landmarks: Landmarks) -> None:
    out = synthetic_landmarks.save_json(tmp_path / "lm.json")
    assert [p.name for p in tmp_path.iterdir()] == ["lm.json"]  # no temporary file left
    back = Landmarks.load_json(out)
    assert back.names() == synthetic_landmarks.names()
    for n in synthetic_landmarks.points_lps:
        np.testing.assert_allclose(back.point(n), synthetic_landmarks.point(n), atol=1e-3)
    c0, r0 = synthetic_landmarks.centreline()
    c1, r1 = back.centreline()
    np.testing.assert_allclose(c1, c0, atol=1e-3)
    np.testing.assert_allclose(r1, r0, atol=1e-3)
    assert back.provenance.methods == synthetic_landmarks.provenance.methods


def test_clicked_points_only(tmp_path: Path) -> None:
    lm = Landmarks.from_points(
        {"renal_vein_confluence": [1.0, 2.0, 3.0], "hepatic_vein_confluence": [1, 2, 90]},
        provenance=Provenance("points", "clicked in napari"),
    )
    back = Landmarks.load_json(lm.save_json(tmp_path / "clicked.json"))
    assert back.z("hepatic_vein_confluence") == 90.0
    assert not back.has("ivc_centreline")
    with pytest.raises(AnatomyError, match="lack ivc_centreline"):
        back.centreline()


def _bad_json(tmp_path: Path, doc: dict[str, object]) -> str:
    p = tmp_path / "bad_landmarks.json"
    p.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(AnatomyError) as info:
        Landmarks.load_json(p)
    msg = str(info.value)
    assert str(p) in msg and "Fix:" in msg
    return msg


def test_bad_landmarks_json(tmp_path: Path) -> None:
    good = Landmarks.from_points({"renal_vein_confluence": [0, 0, 0]}).to_json_dict()
    msg = _bad_json(tmp_path, good | {"points": {"renal_veins": [0, 0, 0]}})
    assert "points.renal_veins" in msg and "renal_vein_confluence" in msg
    msg = _bad_json(tmp_path, good | {"points": {"renal_vein_confluence": [0, 0]}})
    assert "points.renal_vein_confluence" in msg
    msg = _bad_json(
        tmp_path,
        good | {"ivc_centreline": {"points": [[0, 0, 5], [0, 0, 1]], "radius_mm": [10, 10]}},
    )
    assert "ivc_centreline" in msg and "feet to head" in msg
    msg = _bad_json(tmp_path, good | {"format": "slicer.markups"})
    assert "'format'" in msg
    msg = _bad_json(tmp_path, good | {"coordinate_system": "RAS"})
    assert "negate x and y" in msg


def test_landmarks_constructor_checks() -> None:
    with pytest.raises(AnatomyError, match="neither a point landmark"):
        Landmarks.from_points({"ivc_centreline": [0, 0, 0]})
    with pytest.raises(AnatomyError, match="neither a point landmark"):
        Landmarks.from_points({"aorta.centreline": [0, 0, 0]})
    lm = Landmarks.from_points({"kidney_left.superior": [1, 2, 3]})
    assert lm.names() == ["kidney_left.superior"] and lm.z("kidney_left.superior") == 3.0
    with pytest.raises(AnatomyError, match="one radius per point"):
        Landmarks({}, np.zeros((3, 3)) + np.arange(3)[:, None], np.ones(2))


# --------------------------------------------------------------------------- the real CT


@pytest.fixture(scope="module")
def real_labels(public_ct: Path) -> tuple[Volume, dict[int, str]]:
    nib = pytest.importorskip("nibabel")
    folder = public_ct / "totalsegmentator_abdomen"
    img = nib.load(folder / "example_ct_totalseg_v1.nii.gz")
    arr = np.asarray(img.dataobj).transpose(2, 1, 0)
    vol = Volume(arr, geometry.affine_from_xyz_ras(img.affine))
    raw = json.loads((folder / "example_ct_totalseg_v1_labels.json").read_text())
    return vol, {int(k): str(v) for k, v in raw.items()}


def _z_range(vol: Volume, names: dict[int, str], structure: str) -> tuple[float, float]:
    value = next(v for v, n in names.items() if n == structure)
    ijk = np.argwhere(vol.array == value)
    z = vol.voxel_to_lps(ijk)[:, 2]
    return float(z.min()), float(z.max())


@pytest.mark.realdata
def test_real_ct_landmarks(real_labels: tuple[Volume, dict[int, str]]) -> None:
    vol, names = real_labels
    lm = landmarks_from_labelmap(vol, names)
    renal = lm.z("renal_vein_confluence")
    for kidney in ("kidney_left", "kidney_right"):
        bottom, top = _z_range(vol, names, kidney)
        assert bottom < renal < top, kidney
    # renal veins join the IVC at about L1-L2
    l2_bottom, _ = _z_range(vol, names, "vertebrae_L2")
    _, l1_top = _z_range(vol, names, "vertebrae_L1")
    assert l2_bottom < renal < l1_top
    assert renal < lm.z("intrahepatic_ivc_lower") < lm.z("hepatic_vein_confluence")
    assert lm.z("hepatic_vein_confluence") <= lm.z("cavo_atrial_junction")
    assert lm.z("liver_lower_edge") < lm.z("intrahepatic_ivc_lower")
    # this CT stops at T11: the IVC and the liver around it run out of the field of view
    assert lm.provenance.truncated == ["hepatic_vein_confluence", "cavo_atrial_junction"]
    _, top = _z_range(vol, names, "inferior_vena_cava")
    assert lm.z("cavo_atrial_junction") == pytest.approx(top)


@pytest.mark.realdata
def test_real_ct_centreline_inside_the_ivc(real_labels: tuple[Volume, dict[int, str]]) -> None:
    from scipy import ndimage as ndi

    vol, names = real_labels
    lm = landmarks_from_labelmap(vol, names)
    c, r = lm.centreline()
    ivc = vol.array == next(v for v, n in names.items() if n == "inferior_vena_cava")
    ijk = np.rint(vol.lps_to_voxel(c)).astype(int)
    inside = ivc[ijk[:, 0], ijk[:, 1], ijk[:, 2]]
    near = ndi.binary_dilation(ivc)[ijk[:, 0], ijk[:, 1], ijk[:, 2]]
    assert near.all()
    assert inside.mean() >= 0.95
    # radius: 8-16 mm wherever the tumour of the case runs (renal veins to the liver segment)
    z = c[:, 2]
    span = (z >= lm.z("renal_vein_confluence")) & (z <= lm.z("hepatic_vein_confluence") - 10)
    assert span.sum() > 10
    assert r[span].min() >= 8.0 and r[span].max() <= 16.0
    assert 8.0 <= float(np.median(r)) <= 16.0
    assert r.min() > 5.0
    psoas = vol.array == next(v for v, n in names.items() if n == "iliopsoas_right")
    p = np.rint(vol.lps_to_voxel(lm.point("right_psoas_at_mass"))).astype(int)
    assert psoas[p[0], p[1], p[2]]


@pytest.mark.realdata
def test_real_ct_json_round_trip(
    tmp_path: Path, real_labels: tuple[Volume, dict[int, str]]
) -> None:
    vol, names = real_labels
    lm = landmarks_from_labelmap(vol, names)
    back = Landmarks.load_json(lm.save_json(tmp_path / "real.json"))
    assert back.provenance.truncated == lm.provenance.truncated
    np.testing.assert_allclose(
        back.point("renal_vein_confluence"), lm.point("renal_vein_confluence"), atol=1e-3
    )


def test_structures_table_covers_every_landmark() -> None:
    from ivcviewer.annotations import vocabulary as voc

    assert set(anatomy.LANDMARK_STRUCTURES) == set(voc.LANDMARKS)


def test_bad_provenance_in_json(tmp_path: Path) -> None:
    good = Landmarks.from_points({"renal_vein_confluence": [0, 0, 0]}).to_json_dict()
    msg = _bad_json(tmp_path, good | {"provenance": {"source": "x", "methods": ["a"]}})
    assert "provenance.methods" in msg

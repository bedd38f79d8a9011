"""The case phantom's truth: the findings' geometry, landmarks, HU of every structure, seeds.

The small preset is generated once per module (case and normal baseline). Thin structures
(skin, cortical bone, the mass's rim, small vessels...) have no voxel left after erosion at
4 mm, so their attenuation is checked on a high-resolution patch of the same analytic phantom
centred on the structure's deepest voxel.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from scipy import ndimage

from ivcviewer.errors import GeometryError
from ivcviewer.phantom import (
    Phantom,
    PhantomGrid,
    build_phantom,
    label_table,
    measured_extents_mm,
    reported_mass_extents_mm,
)
from ivcviewer.phantom.labels import REGION_HU

#: Structures checked on a fine patch (too thin for an eroded mask at 4 mm).
THIN = {
    "skin",
    "diaphragm",
    "esophagus",
    "costal_cartilages",
    "sacrum",
    "aortic_branches",
    "renal_vein_left",
    "renal_vein_right",
    "hepatic_veins",
    "portal_vein_and_splenic_vein",
    "iliac_artery_left",
    "iliac_artery_right",
    "iliac_vena_left",
    "iliac_vena_right",
    "renal_sinus_right",
    "vertebrae_T7",
    "vertebral_cortex",
    "mass_rim",
    "posterior_elements",
    *(f"rib_{s}_{r}" for s in ("left", "right") for r in range(5, 13)),
    "hip_left",
    "hip_right",
    "quadratus_lumborum_left",
    "quadratus_lumborum_right",
    "intervertebral_discs",
}
#: Minimum eroded voxels for a mean on the small preset.
MIN_VOXELS = 30
#: Patch used for thin structures: (slices, rows, cols) and spacing (mm).
PATCH_SHAPE = (10, 56, 56)
PATCH_SPACING = (1.0, 0.4, 0.4)


@pytest.fixture(scope="module")
def case() -> Phantom:
    return build_phantom("small", seed=0)


@pytest.fixture(scope="module")
def normal() -> Phantom:
    return build_phantom("small", seed=0, normal=True)


def _z(p: Phantom) -> np.ndarray:
    return p.ct.origin_lps[2] + p.ct.spacing[0] * np.arange(p.ct.shape[0])


def _eroded_mean(p: Phantom, mask: np.ndarray) -> tuple[float, int]:
    m = ndimage.binary_erosion(mask, iterations=1)
    n = int(m.sum())
    return (float(p.ct.array[m].mean()) if n else float("nan")), n


# ----------------------------------------------------------------------------- findings


def test_mass_extents_match_the_case_file_within_one_voxel(case: Phantom) -> None:
    from ivcviewer.annotations import default_case_path, load_case

    reported = load_case(default_case_path()).finding("mass").reported_extents_mm()
    assert reported_mass_extents_mm() == reported  # one definition, from the case file
    measured = measured_extents_mm(case)
    spacing = {"lr": case.ct.spacing[2], "ap": case.ct.spacing[1], "cc": case.ct.spacing[0]}
    for axis in ("lr", "ap", "cc"):
        assert abs(measured[axis] - reported[axis]) <= spacing[axis] + 1e-6, (axis, measured)
    # by hand, on the label array: (max - min + 1) * spacing
    kk, jj, ii = np.nonzero(case.labels.array == case.label_value("mass"))
    assert (ii.max() - ii.min() + 1) * case.ct.spacing[2] == pytest.approx(measured["lr"])
    assert (kk.max() - kk.min() + 1) * case.ct.spacing[0] == pytest.approx(measured["cc"])


def test_mass_arises_from_the_right_psoas_and_reaches_the_ivc(case: Phantom) -> None:
    mass = case.mask("mass")
    grown = ndimage.binary_dilation(mass, iterations=1)
    assert (grown & case.mask("iliopsoas_right")).any()
    assert not (grown & case.mask("iliopsoas_left")).any()
    vessel = case.mask("intravascular_tumour") | case.mask("inferior_vena_cava")
    z = _z(case)
    rv = case.landmarks.z("renal_vein_confluence")
    near = np.abs(z - rv) <= case.ct.spacing[0]
    assert (grown & vessel)[near].any()
    # centred on the renal-vein level, on the patient's right
    kk, _, ii = np.nonzero(mass)
    assert abs(float(z[kk].mean()) - rv) < 15.0
    x = case.ct.origin_lps[0] + case.ct.spacing[2] * ii
    assert float(x.mean()) < -30.0


def _mass_radius(p: Phantom) -> np.ndarray:
    """Normalised radius of every voxel centre in the truth mass's main ellipsoid (1 = surface)."""
    t = p.truth["mass"]
    centre = np.asarray(t["centre_lps"], dtype=float)
    semi = np.array([t["semi_axes_mm"][k] for k in ("lr", "ap", "cc")], dtype=float)
    ijk = np.stack(np.indices(p.ct.shape), axis=-1).reshape(-1, 3)
    lps = p.ct.voxel_to_lps(ijk).reshape((*p.ct.shape, 3))
    return np.asarray(np.sqrt((((lps - centre) / semi) ** 2).sum(axis=-1)))


def test_nothing_is_drawn_inside_the_mass_but_the_ivc_and_its_tumour(case: Phantom) -> None:
    # the encased renal vessels are cut at its surface, kidney and liver only abut it
    inner = _mass_radius(case) <= 0.85
    names = case.label_names()
    found = {names[int(v)] for v in np.unique(case.labels.array[inner])}
    assert found <= {"mass", "intravascular_tumour", "inferior_vena_cava"}, found
    assert (case.labels.array[inner] == case.label_value("mass")).mean() > 0.98


def test_right_renal_vein_runs_from_the_kidney_into_the_mass(case: Phantom) -> None:
    vein = case.mask("renal_vein_right")
    assert vein.sum() >= 5
    grown = ndimage.binary_dilation(vein, iterations=1)
    assert (grown & (case.mask("kidney_right") | case.mask("renal_sinus_right"))).any()
    assert (grown & case.mask("mass")).any()  # it enters the mass, which encases it


def test_right_kidney_is_pushed_against_the_mass_not_into_it(
    case: Phantom, normal: Phantom
) -> None:
    grown = ndimage.binary_dilation(case.mask("mass"), iterations=1)
    assert (grown & case.mask("kidney_right")).any()  # they abut
    assert not (grown & case.mask("renal_sinus_right")).any()  # the hilum stays outside
    ok = _mass_radius(case) > 1.0
    kidney = case.mask("kidney_right")
    assert (kidney & ok).sum() >= 0.95 * kidney.sum()
    # displaced backwards and laterally from its normal place
    moved = np.argwhere(kidney).mean(axis=0) - np.argwhere(normal.mask("kidney_right")).mean(0)
    assert moved[2] * case.ct.spacing[2] < -5.0 and moved[1] * case.ct.spacing[1] > 10.0


def test_liver_drapes_over_the_front_of_the_mass_not_its_back(case: Phantom) -> None:
    z = _z(case)
    t = case.truth["mass"]
    cz, cc = t["centre_lps"][2], t["semi_axes_mm"]["cc"]
    mass, liver = case.mask("mass"), case.mask("liver")
    levels = np.nonzero((z >= cz) & (z <= cz + 0.6 * cc))[0]
    assert any(liver[k].any() for k in levels)
    for k in levels:
        cols = np.nonzero(mass[k].any(axis=0))[0]
        q = len(cols) // 4
        for i in cols[q : len(cols) - q]:  # the middle half of the mass's width
            back = np.nonzero(mass[k][:, i])[0].max()
            assert not liver[k, back + 1 :, i].any(), (float(z[k]), int(i))


def test_intravascular_tumour_runs_from_renal_veins_into_intrahepatic_ivc(case: Phantom) -> None:
    lm = case.landmarks
    z = _z(case)
    tum = case.mask("intravascular_tumour")
    ks = np.nonzero(tum.any(axis=(1, 2)))[0]
    z_lo, z_hi = float(z[ks[0]]), float(z[ks[-1]])
    assert abs(z_lo - lm.z("renal_vein_confluence")) <= case.ct.spacing[0]
    assert lm.z("liver_lower_edge") < z_hi < lm.z("hepatic_vein_confluence")
    assert lm.z("intrahepatic_ivc_lower") < z_hi
    # its upper end is surrounded by liver (the intrahepatic segment)
    k = int(ks[-1])
    section = tum[k] | case.mask("inferior_vena_cava")[k]
    ring = ndimage.binary_dilation(section, iterations=2) & ~section
    assert (case.labels.array[k][ring] == case.label_value("liver")).mean() >= 0.5
    # continuous from bottom to top
    assert len(ks) == ks[-1] - ks[0] + 1


def test_ivc_lumen_left_open_is_under_ten_percent_at_the_tumour(case: Phantom) -> None:
    z = _z(case)
    tum = case.mask("intravascular_tumour")
    ivc = case.mask("inferior_vena_cava")
    ks = np.nonzero(tum.any(axis=(1, 2)))[0]
    top = float(z[ks[-1]])
    body = [k for k in ks if z[k] <= top - 10.0]  # below the rounded head
    assert len(body) >= 20
    for k in body:
        open_ = int(ivc[k].sum())
        frac = open_ / (open_ + int(tum[k].sum()))
        assert frac < 0.10, (float(z[k]), frac)
    assert case.truth["intravascular_tumour"]["open_lumen_fraction"] < 0.10


def test_tumour_is_a_filling_defect_darker_than_enhanced_blood(case: Phantom) -> None:
    z = _z(case)
    rv = case.landmarks.z("renal_vein_confluence")
    blood = case.mask("inferior_vena_cava") & (z[:, None, None] > rv + 5)
    assert blood.sum() > 10
    t_mean, _ = _eroded_mean(case, case.mask("intravascular_tumour"))
    b_mean = float(case.ct.array[blood].mean())
    assert b_mean - t_mean > 50.0
    assert 30.0 <= t_mean <= 70.0


def test_normal_baseline_has_no_findings(normal: Phantom, case: Phantom) -> None:
    assert "mass" not in {e.name for e in normal.label_table.values()}
    assert not np.isin(normal.labels.array, [1, 2]).any()
    assert normal.truth == {}
    assert set(np.unique(normal.labels.array)) <= set(normal.label_table) | {0}
    assert (case.labels.array == case.label_value("mass")).sum() > 1000
    assert (case.labels.array == case.label_value("intravascular_tumour")).sum() > 50


def test_findings_use_the_case_file_values_and_colours(case: Phantom) -> None:
    from ivcviewer.annotations import default_case_path, load_case

    cf = load_case(default_case_path())
    values = cf.label_values()
    for fid in ("mass", "intravascular_tumour"):
        assert case.label_value(fid) == values[fid]
        assert case.label_table[values[fid]].colour == cf.finding(fid).colour_rgb


# ----------------------------------------------------------------------------- seeds, image


def test_seeds_change_noise_but_not_geometry(case: Phantom) -> None:
    other = build_phantom("small", seed=7)
    assert np.array_equal(other.labels.array, case.labels.array)
    assert np.array_equal(other.ct.affine, case.ct.affine)
    for name in case.landmarks.points_lps:
        np.testing.assert_array_equal(other.landmarks.point(name), case.landmarks.point(name))
    assert not np.array_equal(other.ct.array, case.ct.array)
    liver = ndimage.binary_erosion(case.mask("liver"), iterations=1)
    diff = other.ct.array[liver].astype(float) - case.ct.array[liver].astype(float)
    noise_sd = float(diff.std() / np.sqrt(2.0))
    assert 10.0 <= noise_sd <= 15.0
    again = build_phantom("small", seed=0)
    assert np.array_equal(again.ct.array, case.ct.array)


def test_ct_is_int16_hu_on_an_axial_lps_grid(case: Phantom) -> None:
    ct = case.ct
    assert ct.array.dtype == np.int16
    assert ct.array.min() >= -1024 and ct.array.max() <= 3071
    assert ct.shape == (72, 96, 96)
    np.testing.assert_allclose(ct.spacing, [5.0, 4.0, 4.0])
    assert ct.affine[2, 0] > 0  # slices run feet to head
    assert case.labels.array.dtype == np.uint8
    np.testing.assert_array_equal(case.labels.affine, ct.affine)
    air = ct.array[:, :3, :3]
    assert abs(float(air.mean()) + 1000) < 10


def test_landmarks_are_ordered_along_the_ivc(case: Phantom) -> None:
    lm = case.landmarks
    zs = [
        lm.z(n)
        for n in (
            "renal_vein_confluence",
            "intrahepatic_ivc_lower",
            "hepatic_vein_confluence",
            "cavo_atrial_junction",
        )
    ]
    assert zs == sorted(zs)
    pts, radius = lm.centreline()
    assert np.all(np.diff(pts[:, 2]) > 0)
    assert np.all((radius > 8.0) & (radius < 14.0))
    assert lm.provenance.source == "phantom"
    # the renal-vein confluence is on the IVC centreline, at the level of the kidney hila
    p, _ = lm.centreline_at_z(lm.z("renal_vein_confluence"))
    np.testing.assert_allclose(p, lm.point("renal_vein_confluence"), atol=0.5)


def test_right_psoas_landmark_lies_in_the_right_psoas(normal: Phantom) -> None:
    pt = normal.landmarks.point("right_psoas_at_mass")
    ijk = np.round(normal.labels.lps_to_voxel(pt)).astype(int)
    assert normal.labels.array[tuple(ijk)] == normal.label_value("iliopsoas_right")


def test_unknown_size_and_bad_seed_are_refused() -> None:
    with pytest.raises(GeometryError, match="size"):
        build_phantom("huge")
    with pytest.raises(GeometryError, match="seed"):
        build_phantom("small", seed=-1)
    with pytest.raises(GeometryError, match="size"):
        PhantomGrid.preset("tiny")


# ----------------------------------------------------------------------------- HU per structure


def _hu_cases() -> list[Any]:
    out = []
    for e in label_table().values():
        out.append(pytest.param("label", e.name, e.hu_range, id=e.name))
    for name, rng in REGION_HU.items():
        out.append(pytest.param("region", name, rng, id=f"region:{name}"))
    return out


def _structure_mask(p: Phantom, kind: str, name: str) -> np.ndarray:
    if kind == "region":
        return p.mask(name)
    m = p.mask(name)
    if name == "inferior_vena_cava":  # documented above the renal veins
        z = _z(p)
        m &= z[:, None, None] > p.landmarks.z("renal_vein_confluence") + 10
    return m


def _phantom_for(name: str, case: Phantom, normal: Phantom) -> Phantom:
    # the tumour fills the IVC above the renal veins in the case: use the baseline there
    return normal if name in ("inferior_vena_cava", "ivc_infrarenal") else case


def test_every_label_has_a_documented_hu_range() -> None:
    missing = [e.name for e in label_table().values() if e.hu_range is None]
    assert missing == []


@pytest.mark.parametrize(("kind", "name", "hu_range"), _hu_cases())
def test_structure_mean_hu_in_documented_range(
    kind: str, name: str, hu_range: tuple[float, float], case: Phantom, normal: Phantom
) -> None:
    p = _phantom_for(name, case, normal)
    if name == "ivc_infrarenal":
        z = _z(p)
        mask = p.mask("inferior_vena_cava") & (
            z[:, None, None] < p.landmarks.z("renal_vein_confluence") - 10
        )
    else:
        mask = _structure_mask(p, kind, name)
    assert mask.any(), f"{name} is absent from the small preset"
    if name in THIN:
        # the deepest voxel of the structure on the small grid, then a fine patch there
        depth = ndimage.distance_transform_edt(np.pad(mask, 1))[1:-1, 1:-1, 1:-1]
        centre = p.ct.voxel_to_lps(np.unravel_index(int(np.argmax(depth)), mask.shape))
        grid = PhantomGrid.around(centre, PATCH_SHAPE, PATCH_SPACING)
        patch = build_phantom("small", seed=0, normal=p.params["normal"], grid=grid)
        mean, n = _eroded_mean(patch, _structure_mask(patch, kind, name))
    else:
        mean, n = _eroded_mean(p, mask)
    assert n >= MIN_VOXELS, f"{name}: only {n} voxels left after erosion"
    lo, hi = hu_range
    assert lo <= mean <= hi, f"{name}: mean {mean:.1f} HU outside {hu_range}"

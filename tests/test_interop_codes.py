"""Coded concepts of structures and findings (ivcviewer.interop.codes)."""

from __future__ import annotations

import pytest
from pydicom.sr import _concepts_dict
from pydicom.sr.codedict import codes
from pydicom.sr.coding import Code

from ivcviewer.interop import codes as C
from ivcviewer.phantom.labels import anatomy_labels, finding_labels

#: Every SNOMED CT value in pydicom's DICOM code dictionary.
PYDICOM_SCT = {v for table in _concepts_dict.concepts["SCT"].values() for v in table}


def test_every_code_is_a_real_dicom_or_totalsegmentator_code() -> None:
    laterality = {codes.SCT.Left.value, codes.SCT.Right.value}
    cid7150 = {getattr(codes.cid7150, n).value for n in codes.cid7150.dir()}
    for name in C.known_structures():
        c = C.codes_for_structure(name)
        assert c is not None
        assert c.category.scheme_designator == c.type.scheme_designator == "SCT", name
        assert c.category.value in cid7150, name
        assert c.type.value in PYDICOM_SCT or c.type.value in C.FROM_TOTALSEGMENTATOR_MAPPING, name
        if c.modifier is not None:
            assert c.modifier.value in laterality, name
    # the set of codes taken from TotalSegmentator's mapping holds only codes DICOM lacks
    assert not (C.FROM_TOTALSEGMENTATOR_MAPPING & PYDICOM_SCT)
    assert C.GENERIC_CODES.type.value in {
        getattr(codes.cid7151, n).value for n in codes.cid7151.dir()
    }


def test_every_name_round_trips_through_its_codes() -> None:
    ambiguous = []
    for name in C.known_structures():
        c = C.codes_for_structure(name)
        assert c is not None
        back = C.structure_for_codes(c.category, c.type, c.modifier)
        if back != name:
            ambiguous.append((name, back))
    # only the two thrombus kinds share codes (the first one wins)
    assert ambiguous == [("thrombus", "intravascular_tumour")]


def test_sides_are_type_modifiers() -> None:
    left, right = C.codes_for_structure("iliopsoas_left"), C.codes_for_structure("iliopsoas_right")
    assert left is not None and right is not None
    assert left.type == right.type and left.type.meaning == "Iliopsoas muscle"
    assert left.modifier == codes.SCT.Left and right.modifier == codes.SCT.Right
    assert C.structure_for_codes(right.category, right.type) is None  # side is required


def test_most_phantom_structures_have_codes() -> None:
    names = [info.name for info in anatomy_labels() + finding_labels()]
    missing = [n for n in names if C.codes_for_structure(n) is None]
    # the phantom's own groupings have no single SNOMED CT concept: these fall back to Tissue
    assert set(missing) <= {
        "quadratus_lumborum_left",
        "quadratus_lumborum_right",
        "intervertebral_discs",
        "spinal_canal",
        "renal_sinus_left",
        "renal_sinus_right",
        "aortic_branches",
    }
    assert len(missing) < len(names) // 5


def test_findings_are_morphologic_abnormalities_with_their_site() -> None:
    mass = C.codes_for_structure("mass", finding_site="iliopsoas_right")
    assert mass is not None
    assert mass.category == codes.cid7150.MorphologicallyAbnormalStructure
    assert mass.type == codes.cid7151.Neoplasm
    assert mass.anatomic_region is not None and mass.anatomic_region.meaning == "Iliopsoas muscle"
    assert mass.anatomic_region_modifier == C.RIGHT  # the site's side is kept
    tt = C.codes_for_structure("intravascular_tumour", finding_site="inferior_vena_cava")
    assert tt is not None and tt.type == codes.cid7151.Thrombus
    assert tt.anatomic_region == codes.SCT.InferiorVenaCava
    site = C.codes_for_structure("mass", finding_site="retroperitoneum")
    assert site is not None and site.anatomic_region is not None
    assert site.anatomic_region.meaning == "Retroperitoneum"
    # an unknown site is left out, anatomy ignores the site
    unknown = C.codes_for_structure("mass", finding_site="no_such_place")
    assert unknown is not None and unknown.anatomic_region is None
    liver = C.codes_for_structure("liver", finding_site="kidney_left")
    assert liver is not None and liver.anatomic_region is None


@pytest.mark.parametrize(
    ("category", "type_", "modifier", "expected"),
    [
        # TotalSegmentator / dcmqi write the legacy "Anatomical Structure" concept
        (Code("123037004", "SCT", "Anatomical Structure"), codes.SCT.Liver, None, "liver"),
        # SNOMED RT codes of older SEGs (dcmqi's examples) translate to SNOMED CT
        (
            Code("T-D000A", "SRT", "Anatomical Structure"),
            Code("T-62000", "SRT", "Liver"),
            None,
            "liver",
        ),
        (
            codes.cid7150.AnatomicalStructure,
            Code("64033007", "SCT", "kidney (any meaning)"),
            codes.SCT.Left,
            "kidney_left",
        ),
        (codes.cid7150.AnatomicalStructure, codes.SCT.Liver, codes.SCT.Left, None),
        # dcmqi's and older 3D Slicer SEGs code organs with the category Tissue
        (Code("T-D0050", "SRT", "Tissue"), Code("T-62000", "SRT", "Liver"), None, "liver"),
        (codes.cid7150.PhysicalObject, codes.SCT.Liver, None, None),
        (codes.cid7150.AnatomicalStructure, codes.cid7151.Neoplasm, None, None),
        (
            codes.cid7150.AnatomicalStructure,
            Code("68455001", "SCT", "?"),
            codes.SCT.Right,
            "iliopsoas_right",
        ),
        (codes.cid7150.Substance, codes.cid7151.Gas, None, "bowel_gas"),
        (codes.cid7150.MorphologicallyAbnormalStructure, codes.cid7151.Neoplasm, None, "mass"),
    ],
)
def test_structure_for_codes(
    category: Code, type_: Code, modifier: Code | None, expected: str | None
) -> None:
    assert C.structure_for_codes(category, type_, modifier) == expected


def test_importing_ivcviewer_does_not_load_highdicom() -> None:
    import subprocess
    import sys

    code = (
        "import sys, ivcviewer, ivcviewer.interop, ivcviewer.workflows, ivcviewer.cli;"
        "import ivcviewer.workflows.export;"
        "from ivcviewer.cli.main import build_parser; build_parser();"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'highdicom'))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300
    )
    assert proc.stdout.strip() == "[]"


@pytest.mark.realdata
def test_dcmqis_liver_seg_maps_to_liver(public_ct) -> None:  # type: ignore[no-untyped-def]
    import pydicom

    seg = pydicom.dcmread(public_ct / "dcmqi_ct3slice" / "liver.dcm", stop_before_pixels=True)
    (item,) = seg.SegmentSequence
    cat = item.SegmentedPropertyCategoryCodeSequence[0]
    typ = item.SegmentedPropertyTypeCodeSequence[0]
    assert cat.CodingSchemeDesignator == "SRT"  # SNOMED RT: T-D0050 Tissue, T-62000 Liver
    assert C.structure_for_codes(cat, typ) == "liver"

"""Coded concepts for structures and findings, from real coding schemes only.

Every code here is a SNOMED CT concept (coding scheme designator ``SCT``) that either is in
pydicom's DICOM code dictionary (the DICOM context groups CID 7150 *Segmentation Property
Categories*, CID 7151 *Segmentation Property Types*, CID 7154 *Abdominal Segmentation Types*...)
or is the code TotalSegmentator itself assigns to its class (its published
``totalsegmentator_snomed_mapping.csv``, which the TotalSegmentator SEGs of the Imaging Data
Commons use). Nothing is invented: a name without a known code gets ``None`` and the SEG writer
falls back to the generic CID 7150/7151 pair *Tissue* / *Tissue*, saying so.

Laterality is a type modifier (``Left`` / ``Right``), as TotalSegmentator codes it. The category
of anatomy is CID 7150's *Anatomical Structure* (SCT 91723000); TotalSegmentator, dcmqi and 3D
Slicer write the older concept SCT 123037004 (the SNOMED RT code T-D000A) for it, and
:func:`structure_for_codes` accepts both.

Examples
--------
>>> c = codes_for_structure("kidney_right")
>>> c.type.meaning, c.modifier.meaning, c.category.meaning
('Kidney', 'Right', 'Anatomical Structure')
>>> structure_for_codes(c.category, c.type, c.modifier)
'kidney_right'
>>> codes_for_structure("mass", finding_site="inferior_vena_cava").anatomic_region.meaning
'Inferior vena cava'
>>> codes_for_structure("renal_sinus_left") is None
True
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from highdicom.sr import CodedConcept
from pydicom.dataset import Dataset
from pydicom.sr.coding import Code

__all__ = [
    "ANATOMICAL_STRUCTURE",
    "FROM_TOTALSEGMENTATOR_MAPPING",
    "GENERIC_CODES",
    "MORPHOLOGICALLY_ABNORMAL",
    "SegmentCodes",
    "codes_for_structure",
    "known_structures",
    "structure_for_codes",
]


def _sct(value: str, meaning: str) -> CodedConcept:
    return CodedConcept(value=value, scheme_designator="SCT", meaning=meaning)


#: CID 7150 categories.
ANATOMICAL_STRUCTURE = _sct("91723000", "Anatomical Structure")
MORPHOLOGICALLY_ABNORMAL = _sct("49755003", "Morphologically Abnormal Structure")
TISSUE = _sct("85756007", "Tissue")
SUBSTANCE = _sct("105590001", "Substance")
#: The older concept TotalSegmentator, dcmqi and 3D Slicer write as "Anatomical Structure".
LEGACY_ANATOMICAL_STRUCTURE = _sct("123037004", "Anatomical Structure")

LEFT = _sct("7771000", "Left")
RIGHT = _sct("24028007", "Right")


@dataclass(frozen=True)
class SegmentCodes:
    """The coded description of one segment (DICOM Segment Description macro).

    Attributes
    ----------
    category
        Segmented Property Category (CID 7150), e.g. *Anatomical Structure*.
    type
        Segmented Property Type (CID 7151 and the anatomic groups), e.g. *Kidney*.
    modifier
        Segmented Property Type Modifier (laterality: *Left* / *Right*), or ``None``.
    anatomic_region
        Anatomic Region (the finding site of a finding), or ``None``.
    anatomic_region_modifier
        The side of that region (*Left* / *Right*) when the site has one, else ``None``.
    """

    category: CodedConcept
    type: CodedConcept
    modifier: CodedConcept | None = None
    anatomic_region: CodedConcept | None = None
    anatomic_region_modifier: CodedConcept | None = None


#: The generic, real pair used when a structure has no specific code (CID 7150 / CID 7151).
GENERIC_CODES = SegmentCodes(category=TISSUE, type=_sct("85756007", "Tissue"))

# name -> (category, type code value, type meaning). Sided structures are listed once as
# "<stem>_{side}" and expand to "<stem>_left" / "<stem>_right" with the Left / Right modifier.
_A, _T, _S = ANATOMICAL_STRUCTURE, TISSUE, SUBSTANCE
_STRUCTURES: tuple[tuple[str, CodedConcept, str, str], ...] = (
    # organs
    ("liver", _A, "10200004", "Liver"),
    ("spleen", _A, "78961009", "Spleen"),
    ("pancreas", _A, "15776009", "Pancreas"),
    ("gallbladder", _A, "28231008", "Gallbladder"),
    ("stomach", _A, "69695003", "Stomach"),
    ("esophagus", _A, "32849002", "Esophagus"),
    ("duodenum", _A, "38848004", "Duodenum"),
    ("small_bowel", _A, "30315005", "Small intestine"),
    ("colon", _A, "71854001", "Colon"),
    ("urinary_bladder", _A, "89837001", "Urinary bladder"),
    ("prostate", _A, "41216001", "Prostate"),
    ("kidney_{side}", _A, "64033007", "Kidney"),
    ("adrenal_gland_{side}", _A, "23451007", "Adrenal gland"),
    ("trachea", _A, "44567001", "Trachea"),
    ("lung_{side}", _A, "39607008", "Lung"),
    ("lung_upper_lobe_{side}", _A, "45653009", "Upper lobe of lung"),
    ("lung_lower_lobe_{side}", _A, "90572001", "Lower lobe of lung"),
    ("lung_middle_lobe_right", _A, "72481006", "Middle lobe of right lung"),
    ("heart", _A, "80891009", "Heart"),
    ("heart_atrium_left", _A, "82471001", "Left atrium"),
    ("heart_atrium_right", _A, "73829009", "Right atrium"),
    ("heart_ventricle_left", _A, "87878005", "Left ventricle of heart"),
    ("heart_ventricle_right", _A, "53085002", "Right ventricle of heart"),
    ("heart_myocardium", _A, "74281007", "Myocardium"),
    ("spinal_cord", _A, "2748008", "Spinal cord"),
    ("brain", _A, "12738006", "Brain"),
    ("skin", _A, "39937001", "Skin"),
    ("diaphragm", _A, "5798000", "Diaphragm"),
    # vessels
    ("aorta", _A, "15825003", "Aorta"),
    ("inferior_vena_cava", _A, "64131007", "Inferior vena cava"),
    ("superior_vena_cava", _A, "48345005", "Superior vena cava"),
    ("portal_vein_and_splenic_vein", _A, "110765007", "Portal vein and splenic vein"),
    ("pulmonary_artery", _A, "81040000", "Pulmonary artery"),
    ("pulmonary_vein", _A, "122972007", "Pulmonary vein"),
    ("iliac_artery_{side}", _A, "73634005", "Common iliac artery"),
    ("iliac_vena_{side}", _A, "46027005", "Common iliac vein"),
    ("renal_vein_{side}", _A, "56400007", "Renal vein"),
    ("hepatic_veins", _A, "8993003", "Hepatic vein"),
    ("brachiocephalic_trunk", _A, "12691009", "Brachiocephalic artery"),
    ("brachiocephalic_vein_{side}", _A, "8887007", "Brachiocephalic vein"),
    ("common_carotid_artery_{side}", _A, "32062004", "Common carotid artery"),
    # muscles
    ("iliopsoas_{side}", _A, "68455001", "Iliopsoas muscle"),
    ("autochthon_{side}", _A, "244849004", "Deep muscle of back"),
    ("gluteus_maximus_{side}", _A, "181674001", "Gluteus maximus muscle"),
    ("gluteus_medius_{side}", _A, "78333006", "Gluteus medius muscle"),
    ("gluteus_minimus_{side}", _A, "75297007", "Gluteus minimus muscle"),
    ("abdominal_wall_muscle", _A, "1142228004", "Abdominal wall muscle"),
    # bones and cartilage
    ("sacrum", _A, "54735007", "Sacrum"),
    ("hip_{side}", _A, "29836001", "Hip"),
    ("femur_{side}", _A, "71341001", "Femur"),
    ("humerus_{side}", _A, "85050009", "Humerus"),
    ("scapula_{side}", _A, "79601000", "Scapula"),
    ("clavicula_{side}", _A, "51299004", "Clavicle"),
    ("sternum", _A, "56873002", "Sternum"),
    ("costal_cartilages", _A, "50016007", "Costal cartilage"),
    ("vertebrae_C1", _A, "14806007", "C1 vertebra"),
    ("vertebrae_C2", _A, "39976000", "C2 vertebra"),
    ("vertebrae_C3", _A, "113205007", "C3 vertebra"),
    ("vertebrae_C4", _A, "5329002", "C4 vertebra"),
    ("vertebrae_C5", _A, "36978003", "C5 vertebra"),
    ("vertebrae_C6", _A, "36054005", "C6 vertebra"),
    ("vertebrae_C7", _A, "87391001", "C7 vertebra"),
    ("vertebrae_T1", _A, "64864005", "T1 vertebra"),
    ("vertebrae_T2", _A, "53733008", "T2 vertebra"),
    ("vertebrae_T3", _A, "1626008", "T3 vertebra"),
    ("vertebrae_T4", _A, "73071006", "T4 vertebra"),
    ("vertebrae_T5", _A, "56401006", "T5 vertebra"),
    ("vertebrae_T6", _A, "45296009", "T6 vertebra"),
    ("vertebrae_T7", _A, "62487009", "T7 vertebra"),
    ("vertebrae_T8", _A, "11068009", "T8 vertebra"),
    ("vertebrae_T9", _A, "82687006", "T9 vertebra"),
    ("vertebrae_T10", _A, "7610001", "T10 vertebra"),
    ("vertebrae_T11", _A, "12989004", "T11 vertebra"),
    ("vertebrae_T12", _A, "23215003", "T12 vertebra"),
    ("vertebrae_L1", _A, "66794005", "L1 vertebra"),
    ("vertebrae_L2", _A, "14293000", "L2 vertebra"),
    ("vertebrae_L3", _A, "36470004", "L3 vertebra"),
    ("vertebrae_L4", _A, "11994002", "L4 vertebra"),
    ("vertebrae_L5", _A, "49668003", "L5 vertebra"),
    ("vertebrae_S1", _A, "65985001", "S1 vertebra"),
    # tissues and substances
    ("subcutaneous_fat", _T, "67769002", "Subcutaneous fatty tissue"),
    ("torso_fat", _T, "55603005", "Fat"),
    ("bowel_gas", _S, "74947009", "Gas"),
)

#: Ribs 1-12 (TotalSegmentator ``rib_left_7``...): SNOMED CT "First rib" ... "Twelfth rib".
_RIBS: tuple[tuple[str, str], ...] = (
    ("48535007", "First rib"), ("78247007", "Second rib"), ("25888004", "Third rib"),
    ("25523003", "Fourth rib"), ("15339008", "Fifth rib"), ("59558009", "Sixth rib"),
    ("24915002", "Seventh rib"), ("5953002", "Eighth rib"), ("22565002", "Ninth rib"),
    ("77644006", "Tenth rib"), ("58830002", "Eleventh rib"), ("43993008", "Twelfth rib"),
)  # fmt: skip

#: Case finding kinds: kind -> type (category Morphologically Abnormal Structure, CID 7151).
#: A tumour thrombus is coded as Thrombus (its site says where); a bland thrombus too.
_FINDINGS: tuple[tuple[str, str, str], ...] = (
    ("mass", "108369006", "Neoplasm"),
    ("intravascular_tumour", "396339007", "Thrombus"),
    ("thrombus", "396339007", "Thrombus"),
    ("lesion", "52988006", "Lesion"),
)

#: Type codes above that DICOM's code dictionary (as pydicom ships it) lacks: they are the codes
#: TotalSegmentator's SNOMED CT mapping assigns to its classes (``rib_left_1``..., ``iliopsoas_*``,
#: ``autochthon_*``, ``gluteus_*``, ``heart_myocardium``, ``portal_vein_and_splenic_vein``,
#: ``vertebrae_S1``, ``subcutaneous_fat``).
FROM_TOTALSEGMENTATOR_MAPPING: frozenset[str] = frozenset(
    {
        "74281007", "110765007", "68455001", "244849004", "181674001", "78333006", "75297007",
        "65985001", "67769002", *(value for value, _ in _RIBS),
    }
)  # fmt: skip

#: Finding sites that are not segmentable structures of the table.
_SITES: dict[str, CodedConcept] = {"retroperitoneum": _sct("82849001", "Retroperitoneum")}

#: Where TotalSegmentator writes "Anatomical Structure" with another code: treated as the same.
_CATEGORY_ALIASES: dict[tuple[str, str], tuple[str, str]] = {
    ("SCT", "123037004"): ("SCT", "91723000"),
}
_ANATOMY_OR_TISSUE = frozenset({("SCT", "91723000"), ("SCT", "85756007")})
#: The categories (as ``(scheme, value)``) accepted for a structure of each category.
_COMPATIBLE_CATEGORIES: dict[tuple[str, str], frozenset[tuple[str, str]]] = {
    ("SCT", "91723000"): _ANATOMY_OR_TISSUE,  # anatomical structure
    ("SCT", "85756007"): _ANATOMY_OR_TISSUE,  # tissue
    ("SCT", "105590001"): frozenset({("SCT", "105590001"), ("SCT", "91720002")}),  # substance
    ("SCT", "49755003"): frozenset({("SCT", "49755003")}),  # morphologically abnormal
}


@lru_cache(maxsize=1)
def _table() -> dict[str, SegmentCodes]:
    out: dict[str, SegmentCodes] = {}
    for name, category, value, meaning in _STRUCTURES:
        if "{side}" in name:
            for side, modifier in (("left", LEFT), ("right", RIGHT)):
                out[name.format(side=side)] = SegmentCodes(category, _sct(value, meaning), modifier)
        else:
            out[name] = SegmentCodes(category, _sct(value, meaning))
    for number, (value, meaning) in enumerate(_RIBS, start=1):
        for side, modifier in (("left", LEFT), ("right", RIGHT)):
            out[f"rib_{side}_{number}"] = SegmentCodes(
                ANATOMICAL_STRUCTURE, _sct(value, meaning), modifier
            )
    for kind, value, meaning in _FINDINGS:
        out[kind] = SegmentCodes(MORPHOLOGICALLY_ABNORMAL, _sct(value, meaning))
    return out


def known_structures() -> tuple[str, ...]:
    """Every structure and finding name that has codes, in table order."""
    return tuple(_table())


def codes_for_structure(name: str, *, finding_site: str | None = None) -> SegmentCodes | None:
    """The codes of a structure or finding name, or ``None`` when none is known.

    Parameters
    ----------
    name
        A TotalSegmentator / ivcviewer structure name (``liver``, ``kidney_right``,
        ``vertebrae_L1``...) or a case finding kind (``mass``, ``intravascular_tumour``,
        ``thrombus``, ``lesion``).
    finding_site
        For a finding: the structure it lies in or arises from (``inferior_vena_cava``,
        ``iliopsoas_right``, ``retroperitoneum``); its type becomes the anatomic region. An
        unknown site is left out (``anatomic_region`` None). Ignored for anatomy.
    """
    codes = _table().get(name)
    if codes is None or codes.category is not MORPHOLOGICALLY_ABNORMAL or finding_site is None:
        return codes
    site = _SITES.get(finding_site)
    side = None
    if site is None and finding_site in _table():
        site, side = _table()[finding_site].type, _table()[finding_site].modifier
    return SegmentCodes(codes.category, codes.type, None, site, side)


def _key(code: Code | Dataset) -> tuple[str, str]:
    """``(scheme, value)`` of a code (a pydicom ``Code``, a ``CodedConcept`` or a code item of
    a data set), in SNOMED CT terms: SNOMED RT codes are translated with pydicom's table."""
    if isinstance(code, (Code, CodedConcept)):
        key = (str(code.scheme_designator), str(code.value))
    else:
        key = (str(code.get("CodingSchemeDesignator", "")), str(code.get("CodeValue", "")))
    if key[0] == "SRT":
        from pydicom.sr._snomed_dict import mapping

        sct = mapping.get("SRT", {}).get(key[1])
        key = ("SCT", sct) if sct else key
    return _CATEGORY_ALIASES.get(key, key)


def structure_for_codes(
    category: Code | Dataset,
    type: Code | Dataset,  # noqa: A002 - the DICOM attribute's name
    modifier: Code | Dataset | None = None,
) -> str | None:
    """The structure name whose codes are ``category``, ``type`` and ``modifier``, or ``None``.

    The reverse of :func:`codes_for_structure`, used to match a SEG's segments to the fit's
    structure names. Each code is a pydicom ``Code``, a highdicom ``CodedConcept`` or a code
    sequence item read from a file. Codes compare by scheme and value (not meaning), SNOMED RT codes
    translated to SNOMED CT. The type and its modifier say what the structure is; the category
    must fit it: an organ may come as *Anatomical Structure* (CID 7150's SCT 91723000, or the
    legacy SCT 123037004 TotalSegmentator, dcmqi and 3D Slicer write) or as *Tissue* (as
    dcmqi's and older 3D Slicer SEGs code organs), a tissue as *Tissue* or *Anatomical
    Structure*, a finding only as *Morphologically Abnormal Structure*. Where two names share
    codes (``intravascular_tumour`` and ``thrombus`` are both *Thrombus*), the first in table
    order is returned.

    >>> from pydicom.sr.codedict import codes
    >>> structure_for_codes(codes.SCT.AnatomicalStructure, codes.SCT.Liver)
    'liver'
    >>> structure_for_codes(codes.cid7150.PhysicalObject, codes.SCT.Liver) is None
    True
    """
    name = _reverse().get((_key(type), None if modifier is None else _key(modifier)))
    if name is None:
        return None
    accepted = _COMPATIBLE_CATEGORIES.get(_key(_table()[name].category), frozenset())
    return name if _key(category) in accepted else None


@lru_cache(maxsize=1)
def _reverse() -> dict[tuple[tuple[str, str], tuple[str, str] | None], str]:
    out: dict[tuple[tuple[str, str], tuple[str, str] | None], str] = {}
    for name, c in _table().items():
        out.setdefault((_key(c.type), None if c.modifier is None else _key(c.modifier)), name)
    return out

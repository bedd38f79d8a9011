"""DICOM SR measurement reports (TID 1500) of measured regions, referencing their SEG segments.

:func:`build_sr` turns the :class:`~ivcviewer.measure.RegionMeasurements` of a label map into a
Comprehensive 3D SR document holding one TID 1500 Measurement Report; :func:`write_sr` writes
it atomically. Each region becomes one TID 1411 volumetric ROI measurement group that
references the segment of a DICOM Segmentation (SEG) it was measured on, with:

- the segment's tracking identifier and UID when the SEG gives them (so the SEG and the report
  track the region alike), else the region's name and a UID derived from the SEG instance and
  segment number;
- the finding category and type, and the finding site, copied from the segment's segmented
  property category / type and anatomic region (with its modifier as laterality or
  topographical modifier);
- TID 300 measurements with real codes (:data:`MEASUREMENT_CODES`): volume (mL), the extents
  along the left-right, anterior-posterior and head-foot axes (mm), the long and short axes,
  the maximum 3D diameter (mm), and the mean and standard deviation of the CT values (HU);
- the case's reported figures, when the region matches a finding that reports some, as TEXT
  items (concept "Comment") beside the measurements (:func:`reported_text`); the reasons for
  text rather than qualitative evaluations are in ``docs/interop.md``.

The codes are from pydicom's code dictionary (DICOM ``DCM``, SNOMED CT ``SCT``, ``UCUM``);
none is made up. :mod:`ivcviewer.interop.sr_read` reads these documents back.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import highdicom as hd
from pydicom import Dataset
from pydicom.sr.codedict import codes
from pydicom.uid import generate_uid

from .. import __version__
from .._atomic import atomic_file
from .._text import quote
from ..annotations import Finding
from ..errors import IvcviewerError, OutputExistsError
from ..measure import PATIENT_AXES, RegionMeasurements

#: Name of the algorithm recorded in every measurement group.
ALGORITHM_NAME = "ivcviewer"

#: SOP Class UIDs of the segmentations a report may reference (binary/fractional, labelmap).
SEGMENTATION_CLASSES = ("1.2.840.10008.5.1.4.1.1.66.4", "1.2.840.10008.5.1.4.1.1.66.7")

#: Units (UCUM): millimetre, millilitre, Hounsfield unit.
MM = hd.sr.CodedConcept("mm", "UCUM", "millimeter")
ML = hd.sr.CodedConcept("ml", "UCUM", "milliliter")
HU = hd.sr.CodedConcept("[hnsf'U]", "UCUM", "Hounsfield unit")

#: The patient axis of each extent, coded (DICOM "Left-Right / Anterior-Posterior / Head-Foot
#: Axis"), given as the value of a "Measurement Orientation" concept modifier of a "Length".
AXIS_CODES: dict[str, Any] = {
    "lr": codes.DCM.LeftRightAxis,
    "ap": codes.DCM.AnteriorPosteriorAxis,
    "cc": codes.DCM.HeadFootAxis,
}
MEASUREMENT_ORIENTATION = codes.DCM.MeasurementOrientation

#: Readable names of the axes in the reported-figure text.
AXIS_WORDS = {"lr": "left-right", "ap": "anterior-posterior", "cc": "head-foot"}

#: Concept name of the text items holding the case's reported figures.
REPORTED_CONCEPT = codes.DCM.Comment

#: What each figure is coded as: key -> (concept name, unit, derivation, method).
MEASUREMENT_CODES: dict[str, tuple[Any, hd.sr.CodedConcept, Any, Any]] = {
    "volume_ml": (codes.SCT.Volume, ML, None, None),
    "long_axis_mm": (codes.SCT.LongAxis, MM, None, None),
    "short_axis_mm": (codes.SCT.ShortAxis, MM, None, None),
    "max_diameter_mm": (
        codes.SCT.Diameter,
        MM,
        codes.SCT.Maximum,
        codes.DCM.ThreeDimensionalMethod,
    ),
    "hu_mean": (codes.DCM.AttenuationCoefficient, HU, codes.SCT.Mean, None),
    "hu_std": (codes.DCM.AttenuationCoefficient, HU, codes.SCT.StandardDeviation, None),
}
EXTENT_CONCEPT = codes.SCT.Length

#: Longest Segment Label (DICOM LO): a longer region name is matched by its first characters.
MAX_LABEL_CHARS = 64

#: SNOMED CT "Anatomical structure", the segmentation category of organs and other structures.
ANATOMICAL_STRUCTURE = "91723000"

#: Anatomic region modifiers that are lateralities (DICOM CID 244), by SNOMED CT code.
LATERALITY_CODES = {"24028007", "7771000", "51440002", "66459002"}


class SRWriteError(IvcviewerError):
    """A measurement report that cannot be built from the regions and SEG given."""


def segments_of(seg: Dataset, source: str = "SEG") -> dict[int, Dataset]:
    """The SEG's segment descriptions by segment number.

    Raises
    ------
    SRWriteError
        ``seg`` is no Segmentation instance (or describes no segment).
    """
    if str(getattr(seg, "SOPClassUID", "")) not in SEGMENTATION_CLASSES:
        raise SRWriteError(
            f"{source}: a measurement report references a DICOM Segmentation, but this file's "
            f"SOPClassUID is {str(getattr(seg, 'SOPClassUID', '')) or 'empty'!r}. Fix: give "
            "the SEG written for these labels (ivcviewer export --to seg)."
        )
    out = {int(s.SegmentNumber): s for s in getattr(seg, "SegmentSequence", [])}
    if not out:
        raise SRWriteError(f"{source}: the SEG describes no segment (empty SegmentSequence).")
    return out


def match_segments(
    regions: Sequence[RegionMeasurements],
    segments: Mapping[int, Dataset],
    segment_numbers: Mapping[int, int] | None = None,
    source: str = "SEG",
) -> dict[int, int]:
    """The segment number of each region, keyed by label value.

    A region takes the number ``segment_numbers`` gives its label value, else the segment whose
    SegmentLabel is the region's name, else (with a warning naming both) the segment numbered
    like its label value.

    Raises
    ------
    SRWriteError
        A region that matches no segment of the SEG.
    """
    by_label = {str(s.SegmentLabel): n for n, s in segments.items()}
    given = dict(segment_numbers or {})
    out: dict[int, int] = {}
    for r in regions:
        named = by_label.get(r.name, by_label.get(r.name[:MAX_LABEL_CHARS]))
        n = given.get(r.label, named if named is not None else r.label)
        if n not in segments:
            listed = {k: str(s.SegmentLabel) for k, s in segments.items()}
            raise SRWriteError(
                f"{source}: no segment for region {quote(r.name)} (label {r.label}); the SEG "
                f"has segments (number: label) {quote(listed)}. Fix: give the SEG written from "
                "the same label map."
            )
        if r.label not in given and named is None:
            warnings.warn(
                f"{source}: no segment is named {quote(r.name)}; region label {r.label} is "
                f"reported on segment {n} ({quote(str(segments[n].SegmentLabel))}), numbered "
                "like it",
                stacklevel=3,
            )
        out[r.label] = n
    return out


def _coded(item: Dataset, keyword: str) -> hd.sr.CodedConcept | None:
    seq = getattr(item, keyword, None)
    return hd.sr.CodedConcept.from_dataset(seq[0]) if seq else None


def _site(location: hd.sr.CodedConcept, modifier: hd.sr.CodedConcept | None) -> hd.sr.FindingSite:
    if modifier is not None and modifier.value in LATERALITY_CODES:
        return hd.sr.FindingSite(location, laterality=modifier)
    return hd.sr.FindingSite(location, topographical_modifier=modifier)


def finding_sites(segment: Dataset) -> list[hd.sr.FindingSite]:
    """The finding site of a segment: its anatomic region, with the region's modifier.

    A segment of an anatomical structure that gives no anatomic region (an organ segment such
    as *Kidney* with modifier *Right*) is its own site, with its type's modifier (the side
    becomes the laterality, so the report keeps it). Any other segment without an anatomic
    region has no finding site.
    """
    region_seq = getattr(segment, "AnatomicRegionSequence", None)
    if region_seq:
        # the code alone: the region item's own modifier becomes the site's laterality
        item = region_seq[0]
        location = hd.sr.CodedConcept(item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning)
        return [_site(location, _coded(region_seq[0], "AnatomicRegionModifierSequence"))]
    category = _coded(segment, "SegmentedPropertyCategoryCodeSequence")
    type_seq = getattr(segment, "SegmentedPropertyTypeCodeSequence", None)
    if category is None or category.value != ANATOMICAL_STRUCTURE or not type_seq:
        return []
    location = hd.sr.CodedConcept.from_dataset(type_seq[0])
    return [_site(location, _coded(type_seq[0], "SegmentedPropertyTypeModifierCodeSequence"))]


def _measurement(key: str, value: float, algorithm: hd.sr.AlgorithmIdentification) -> Any:
    name, unit, derivation, method = MEASUREMENT_CODES[key]
    return hd.sr.Measurement(
        name=name,
        value=float(value),
        unit=unit,
        derivation=derivation,
        method=method,
        algorithm_id=algorithm,
    )


def _extent(axis: str, value: float, algorithm: hd.sr.AlgorithmIdentification) -> Any:
    m = hd.sr.Measurement(name=EXTENT_CONCEPT, value=float(value), unit=MM, algorithm_id=algorithm)
    m[0].ContentSequence.append(
        hd.sr.CodeContentItem(
            name=MEASUREMENT_ORIENTATION,
            value=AXIS_CODES[axis],
            relationship_type=hd.sr.RelationshipTypeValues.HAS_CONCEPT_MOD,
        )
    )
    return m


def region_measurements(
    region: RegionMeasurements, algorithm: hd.sr.AlgorithmIdentification
) -> list[Any]:
    """The TID 300 measurements of one region (HU ones only when it was measured on a CT)."""
    out = [_measurement("volume_ml", region.volume_ml, algorithm)]
    out += [_extent(ax, region.extents_mm[ax], algorithm) for ax in PATIENT_AXES]
    out.append(_measurement("long_axis_mm", region.recist.long_mm, algorithm))
    out.append(_measurement("short_axis_mm", region.recist.short_mm, algorithm))
    out.append(_measurement("max_diameter_mm", region.max_diameter.length_mm, algorithm))
    if region.hu is not None:
        out.append(_measurement("hu_mean", region.hu.mean, algorithm))
        out.append(_measurement("hu_std", region.hu.std, algorithm))
    return out


def reported_text(finding: Finding, axis: str, value_mm: float, case_id: str = "") -> str:
    """The text item recording one reported figure (read back by :mod:`.sr_read`).

    >>> from ivcviewer.annotations import load_case, library
    >>> case = load_case(library.default_case_path())
    >>> reported_text(case.finding("mass"), "cc", 132.0, case.case.id)  # doctest: +ELLIPSIS
    'Reported: extent along the head-foot axis 132 mm (finding mass of case retro...; axis ...)'
    """
    of_case = f" of case {case_id}" if case_id else ""
    how = "assumed" if finding.extents_assumed() else "as reported"
    return (
        f"Reported: extent along the {AXIS_WORDS[axis]} axis {value_mm:.6g} mm (finding "
        f"{finding.id}{of_case}; axis {how})"
    )


def _reported_items(finding: Finding | None, case_id: str) -> list[Any]:
    if finding is None or not finding.measurements:
        return []
    return [
        hd.sr.TextContentItem(
            name=REPORTED_CONCEPT,
            value=reported_text(finding, axis, mm, case_id),
            relationship_type=hd.sr.RelationshipTypeValues.CONTAINS,
        )
        for axis, mm in finding.reported_extents_mm().items()
    ]


def tracking_identifier(
    region: RegionMeasurements, seg: Dataset, number: int, segment: Dataset
) -> hd.sr.TrackingIdentifier:
    """The segment's tracking identifier and UID when the SEG gives them, else the region's name
    and a UID derived from the SEG instance and segment number (stable across re-exports)."""
    uid = str(segment.get("TrackingUID", "") or "") or generate_uid(
        entropy_srcs=[str(seg.SOPInstanceUID), str(number)]
    )
    return hd.sr.TrackingIdentifier(
        uid=uid, identifier=str(segment.get("TrackingID", "") or "") or region.name
    )


def _group(
    region: RegionMeasurements,
    seg: Dataset,
    number: int,
    segment: Dataset,
    algorithm: hd.sr.AlgorithmIdentification,
    reported: list[Any],
) -> Any:
    source_series = hd.sr.SourceSeriesForSegmentation(
        str(seg.ReferencedSeriesSequence[0].SeriesInstanceUID)
    )
    group = hd.sr.VolumetricROIMeasurementsAndQualitativeEvaluations(
        tracking_identifier=tracking_identifier(region, seg, number, segment),
        referenced_segment=hd.sr.ReferencedSegment(
            sop_class_uid=str(seg.SOPClassUID),
            sop_instance_uid=str(seg.SOPInstanceUID),
            segment_number=number,
            source_series=source_series,
        ),
        finding_category=_coded(segment, "SegmentedPropertyCategoryCodeSequence"),
        finding_type=_coded(segment, "SegmentedPropertyTypeCodeSequence"),
        finding_sites=finding_sites(segment) or None,
        algorithm_id=algorithm,
        measurements=region_measurements(region, algorithm),
    )
    group[0].ContentSequence.extend(reported)
    return group


def build_sr(
    regions: Sequence[RegionMeasurements],
    seg: Dataset,
    *,
    findings: Mapping[int, Finding] | None = None,
    case_id: str = "",
    segment_numbers: Mapping[int, int] | None = None,
    series_number: int = 200,
    uid_seed: str | None = None,
    source: str = "SEG",
) -> hd.sr.Comprehensive3DSR:
    """A Comprehensive 3D SR document with a TID 1500 measurement report of ``regions``.

    Parameters
    ----------
    regions
        The measured regions (:func:`ivcviewer.workflows.measure_volume`).
    seg
        The DICOM Segmentation the regions were measured on (its header is enough); the report
        takes the patient and study from it and references its segments.
    findings
        The case finding each region was compared with, by label value: its reported figures
        are recorded beside the measured ones.
    case_id
        The case file's id, named in the reported-figure text.
    segment_numbers
        Segment number of each label value, when names and numbers do not match them
        (:func:`match_segments`).
    series_number
        SeriesNumber of the report.
    uid_seed
        When given, the report's series and instance UIDs derive from it (reproducible output).
    source
        How to name ``seg`` in messages (its path).

    Raises
    ------
    SRWriteError
        ``seg`` is no Segmentation, lacks its referenced series, or a region has no segment.
    """
    segments = segments_of(seg, source)
    if not getattr(seg, "ReferencedSeriesSequence", None):
        raise SRWriteError(
            f"{source}: the SEG names no source series (ReferencedSeriesSequence is missing), "
            "so a report cannot say which CT its segments belong to. Fix: write the SEG again "
            "from its DICOM CT."
        )
    numbers = match_segments(regions, segments, segment_numbers, source)
    algorithm = hd.sr.AlgorithmIdentification(name=ALGORITHM_NAME, version=__version__)
    found = dict(findings or {})
    groups = [
        _group(
            r,
            seg,
            numbers[r.label],
            segments[numbers[r.label]],
            algorithm,
            _reported_items(found.get(r.label), case_id),
        )
        for r in regions
    ]
    observer = hd.sr.ObserverContext(
        observer_type=codes.cid270.Device,
        observer_identifying_attributes=hd.sr.DeviceObserverIdentifyingAttributes(
            uid=generate_uid(entropy_srcs=[ALGORITHM_NAME]), name=ALGORITHM_NAME
        ),
    )
    report = hd.sr.MeasurementReport(
        observation_context=hd.sr.ObservationContext(observer_device_context=observer),
        procedure_reported=codes.LN.CTUnspecifiedBodyRegion,
        imaging_measurements=groups,
    )
    seed = [uid_seed] if uid_seed is not None else None
    return hd.sr.Comprehensive3DSR(
        evidence=[seg],
        content=report[0],
        series_instance_uid=generate_uid(entropy_srcs=None if seed is None else [*seed, "series"]),
        series_number=series_number,
        sop_instance_uid=generate_uid(entropy_srcs=None if seed is None else [*seed, "sop"]),
        instance_number=1,
        manufacturer=ALGORITHM_NAME,
        series_description="ivcviewer measurements",
        is_complete=True,
    )


def check_new_output(out: str | os.PathLike[str], force: bool = False) -> Path:
    """``out`` as a Path, after checking it may be written.

    Raises
    ------
    OutputExistsError
        ``out`` exists and ``force`` is false.
    FileNotFoundError
        ``out``'s folder does not exist.
    """
    path = Path(out)
    if path.exists() and not force:
        raise OutputExistsError(
            f"{path}: the file exists; it is kept. Fix: choose another output name, or pass "
            "--force to replace it."
        )
    if not path.parent.is_dir():
        raise FileNotFoundError(f"{path.parent}: the output folder does not exist; create it.")
    return path


def save_dataset(ds: Dataset, out: str | os.PathLike[str], force: bool = False) -> Path:
    """Write a DICOM dataset to ``out`` atomically (temporary file, then rename).

    Raises
    ------
    OutputExistsError
        ``out`` exists and ``force`` is false.
    FileNotFoundError
        ``out``'s folder does not exist.
    """
    path = check_new_output(out, force)
    with atomic_file(path, suffix=".dcm") as tmp:
        ds.save_as(tmp, enforce_file_format=True)
    return path


def write_sr(
    regions: Sequence[RegionMeasurements],
    seg: Dataset,
    out: str | os.PathLike[str],
    *,
    findings: Mapping[int, Finding] | None = None,
    case_id: str = "",
    segment_numbers: Mapping[int, int] | None = None,
    series_number: int = 200,
    uid_seed: str | None = None,
    source: str = "SEG",
    force: bool = False,
) -> Path:
    """Build the report (:func:`build_sr`, same arguments) and write it to ``out`` atomically.

    Raises
    ------
    SRWriteError, OutputExistsError
        As :func:`build_sr` and :func:`save_dataset`; an existing ``out`` is checked first.
    """
    check_new_output(out, force)
    sr = build_sr(
        regions,
        seg,
        findings=findings,
        case_id=case_id,
        segment_numbers=segment_numbers,
        series_number=series_number,
        uid_seed=uid_seed,
        source=source,
    )
    return save_dataset(sr, out, force)


__all__ = [
    "AXIS_CODES",
    "MEASUREMENT_CODES",
    "SRWriteError",
    "build_sr",
    "check_new_output",
    "finding_sites",
    "match_segments",
    "region_measurements",
    "reported_text",
    "save_dataset",
    "segments_of",
    "tracking_identifier",
    "write_sr",
]

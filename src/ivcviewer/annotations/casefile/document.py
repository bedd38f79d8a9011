"""A whole case file: its case metadata, the landmarks' display, and the findings.

:class:`CaseFile` is the validated file; :class:`CaseInfo` (with its :class:`Citation`) the
``case`` block and :class:`LandmarkSpec` an entry of the top-level ``landmarks`` list. The
file-wide rules (finding ids and label values are unique, there is a finding) are checked here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, ValidationInfo, model_validator

from ...errors import CaseFileError
from .. import vocabulary as voc
from .findings import Finding
from .problems import SchemaProblem
from .values import (
    Colour,
    Doi,
    FileModel,
    Flag,
    Fraction,
    Ident,
    LandmarkName,
    ListOf,
    SchemaVersion,
    Text,
    present,
)


@dataclass(frozen=True)
class Citation(FileModel):
    """Where the case was published."""

    text: Text
    doi: Doi
    url: Text = ""


@dataclass(frozen=True)
class CaseInfo(FileModel):
    """Case metadata."""

    id: Ident
    title: Text
    source_note: Text
    citation: Citation | None = None
    teaching_example: Flag = False
    diagnosis: Text = ""
    imaging: Text = ""
    notes: Text = ""

    @model_validator(mode="after")
    def _cited_or_teaching(self) -> CaseInfo:
        if self.citation is None and not self.teaching_example:
            raise SchemaProblem(
                "is missing: a case from a report cites it",
                "add 'citation:' (text and doi), or write 'teaching_example: true' for a case "
                "written for teaching that no published report describes",
                at=("citation",),
            )
        return self


@dataclass(frozen=True)
class CaseChecks(FileModel):
    """Thresholds of the checks run on every fit (``checks``)."""

    #: A structure the finding's relations do not name holding more than this share of a
    #: region is warned about (the region is drawn over a normal organ).
    organ_share_warning: Fraction = voc.DEFAULT_ORGAN_SHARE_WARNING


@dataclass(frozen=True)
class LandmarkSpec(FileModel):
    """How a landmark is shown (name and colour) in a viewer."""

    id: LandmarkName
    name: Text
    colour: Colour
    description: Text = ""


@dataclass(frozen=True)
class CaseFile(FileModel):
    """A validated case file.

    ``path`` is where it was read from (not a field of the file: :func:`.load_case` passes it
    as the validation context ``{"path": ...}``); ``landmark_specs`` is the file's top-level
    ``landmarks`` list.
    """

    NOT_IN_FILE = frozenset({"path"})

    path: Path
    schema_version: SchemaVersion
    case: CaseInfo
    findings: ListOf[Finding]
    landmark_specs: Annotated[ListOf[LandmarkSpec], Field(alias="landmarks")] = ()
    checks: CaseChecks = CaseChecks()
    #: Structure names of the anatomy source beyond TotalSegmentator's (a SEG's segments, a
    #: named label map's labels) that the findings may refer to.
    structures: ListOf[Ident] = ()

    @classmethod
    def check_part(cls, written: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        """The entries of the file, with the path it was read from."""
        context = info.context if isinstance(info.context, dict) else {}
        if "path" not in context:
            raise TypeError("validate a case file with context={'path': <the file's path>}")
        return {**present(written), "path": Path(context["path"])}

    @model_validator(mode="after")
    def _findings_distinct(self) -> CaseFile:
        if not self.findings:
            raise SchemaProblem("is empty", "add at least one finding", at=("findings",))
        ids: set[str] = set()
        labels: set[int] = set()
        for i, f in enumerate(self.findings):
            if f.id in ids:
                raise SchemaProblem(
                    "repeats another finding's id",
                    "give it a new id",
                    f.id,
                    at=("findings", i, "id"),
                )
            ids.add(f.id)
            if f.label_value is not None:
                if f.label_value in labels:
                    raise SchemaProblem(
                        "repeats another finding's label value",
                        "give it a unique value",
                        f.label_value,
                        at=("findings", i, "label_value"),
                    )
                labels.add(f.label_value)
        return self

    def finding(self, finding_id: str) -> Finding:
        """The finding with this id; :class:`CaseFileError` naming the ids there are if none."""
        for f in self.findings:
            if f.id == finding_id:
                return f
        raise CaseFileError(
            f"{self.path}: no finding with id {finding_id!r}; the findings are "
            f"{[f.id for f in self.findings]}."
        )

    @property
    def spatial_findings(self) -> tuple[Finding, ...]:
        """Findings that are placed on the image, in file order."""
        return tuple(f for f in self.findings if f.spatial)

    @property
    def region_findings(self) -> tuple[Finding, ...]:
        """Findings drawn as regions (spatial, and not of kind ``landmark``), in file order."""
        return tuple(f for f in self.findings if f.is_region)

    def label_values(self) -> dict[str, int]:
        """Label value of each region finding: its ``label_value`` or the next free value."""
        used = {f.label_value for f in self.region_findings if f.label_value is not None}
        out: dict[str, int] = {}
        nxt = 1
        for f in self.region_findings:
            if f.label_value is not None:
                out[f.id] = f.label_value
                continue
            while nxt in used:
                nxt += 1
            out[f.id] = nxt
            used.add(nxt)
        return out

    def required_landmarks(self) -> list[str]:
        """Landmarks of the vocabulary the findings need, in vocabulary order."""
        need = {n for f in self.findings for n in f.landmarks}
        return [n for n in voc.LANDMARKS if n in need]

    def required_references(self) -> list[str]:
        """Structure references and levels the findings need (``kidney_right.centroid``,
        ``level_L2``), in first-use order: those of their ``landmarks`` lists and relations."""
        out: list[str] = []
        for f in self.findings:
            if not f.spatial:
                continue
            for n in [*f.landmarks, *f.relations.landmarks()]:
                if n not in voc.LANDMARKS and n not in out:
                    out.append(n)
        return out

    def required_structures(self) -> list[str]:
        """Structures (names or patterns) the findings' relations name, in first-use order."""
        out: list[str] = []
        for f in self.findings:
            for s in f.relations.structures():
                if s not in out:
                    out.append(s)
        return out

    @property
    def source_text(self) -> str:
        """The case's source in one line: its citation with DOI, or that it is a teaching
        example."""
        c = self.case.citation
        if c is None:
            return f"Teaching example ({self.case.title}); not a published report."
        return f"{c.text} doi:{c.doi}"

    def landmark_spec(self, landmark: str) -> LandmarkSpec:
        """Display name and colour of a landmark (a default from the vocabulary if unlisted)."""
        for s in self.landmark_specs:
            if s.id == landmark:
                return s
        return LandmarkSpec(
            landmark, landmark.replace("_", " "), "#FFFF00", voc.LANDMARKS.get(landmark, "")
        )

"""The state of the "Finding from drawing" dock, without Qt or napari.

The dock reads its layers into plain data (the CT's Volume, the anatomy label map with its
names, the painted label map) and hands them to :meth:`FindingFromDrawingModel.add`, which
runs the same workflow as ``ivcviewer case from-drawing``
(:func:`ivcviewer.workflows.case_authoring.add_drawn_finding`) and keeps what was added, so the
dock can show the finding's YAML text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..annotations import vocabulary as voc
from ..errors import IvcviewerError
from ..volume import Volume
from ..workflows.case_authoring import DrawnFinding, add_drawn_finding
from .case_overlay import LabelmapInput
from .listeners import Listeners

#: What the dock shows before a finding is added.
NOTHING_ADDED = "Paint a region on the CT, then add it to the case file."


@dataclass
class FindingFromDrawingModel:
    """Inputs of the dock and the last finding added.

    Attributes
    ----------
    case_path
        The case file to extend (created from the template when absent).
    finding_id, name, kind
        The new finding's id, name and kind (a solid kind).
    label
        The painted label value that is the region (None: the one value painted).
    last
        The finding added last, or None.
    added
        Called with the :class:`DrawnFinding` after a finding was added.
    """

    case_path: str = ""
    finding_id: str = ""
    name: str = ""
    kind: str = voc.FindingKind.MASS.value
    label: int | None = None
    last: DrawnFinding | None = None
    added: Listeners = field(default_factory=Listeners)

    @staticmethod
    def kinds() -> tuple[str, ...]:
        """The kinds a drawn finding may have."""
        return voc.SOLID_KINDS

    def _check_fields(self) -> None:
        missing = [
            what
            for what, value in (
                ("case file", self.case_path),
                ("finding id", self.finding_id),
                ("finding name", self.name),
            )
            if not str(value).strip()
        ]
        if missing:
            raise IvcviewerError(
                f"Finding from drawing: the {', '.join(missing)} is empty. Fix: fill it in."
            )

    def add(
        self,
        ct: Volume,
        anatomy: LabelmapInput,
        region: Volume,
        *,
        ct_name: str,
        region_name: str,
        inputs: Sequence[str | Path] = (),
    ) -> DrawnFinding:
        """Turn the painted region into a finding and add it to the case file (never into
        the folder of one of ``inputs``, the files the layers were read from).

        Raises
        ------
        IvcviewerError
            A field is empty, the anatomy names no structure, or the workflow refuses (the
            message names the layer or file and the fix).
        """
        self._check_fields()
        if not anatomy.names:
            raise IvcviewerError(
                f"{anatomy.description}: has no label names, so its structures are unknown. "
                "Fix: choose a label map opened with its names (<stem>_labels.json), or name "
                "its labels in the Label names dock."
            )
        drawn = add_drawn_finding(
            ct,
            anatomy.labels,
            anatomy.names,
            region,
            Path(self.case_path.strip()),
            finding_id=self.finding_id.strip(),
            name=self.name.strip(),
            label=self.label,
            kind=self.kind,
            ct_name=ct_name,
            region_name=region_name,
            inputs=inputs,
        )
        self.last = drawn
        self.added.emit(drawn)
        return drawn

    @property
    def shown_text(self) -> str:
        """What the dock shows: the finding added last as YAML, or how to start."""
        if self.last is None:
            return NOTHING_ADDED
        return f"# added to {self.last.case_path}\n{self.last.yaml_text}"


__all__ = ["NOTHING_ADDED", "FindingFromDrawingModel"]

"""Guided landmark clicking: the landmarks a case needs, asked for one at a time.

:class:`LandmarkGuide` is the state of the Case overlay widget's "Click landmarks" box: which
landmark is asked for, what the clicked layer already holds, the text shown and which buttons
work. The view tells it what was clicked (the landmark id of each point, in layer order) and
applies what it says (the defaults of the next click, the points a new click replaces).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..annotations import CaseFile
from ..annotations import vocabulary as voc
from ..annotations.anatomy.reference_names import describe_reference, is_point_reference
from .listeners import Listeners

#: The landmark made of several clicks.
CENTRELINE = "ivc_centreline"


@dataclass(frozen=True)
class GuideStep:
    """One landmark the guided mode asks for."""

    id: str
    name: str
    description: str
    several: bool = False


def guide_steps(case: CaseFile) -> list[GuideStep]:
    """The landmarks a case needs, in the order the guided mode asks for them.

    >>> from ivcviewer.annotations import default_case_path, load_case
    >>> steps = guide_steps(load_case(default_case_path()))
    >>> [s.id for s in steps if s.several]
    ['ivc_centreline']
    """
    out = []
    for n in case.required_landmarks():
        if n == CENTRELINE:
            out.append(
                GuideStep(
                    n,
                    "IVC centreline",
                    "click the centre of the IVC on several slices, from below the renal "
                    "veins up to the right atrium; press Next when done",
                    True,
                )
            )
            continue
        spec = case.landmark_spec(n)
        out.append(GuideStep(n, spec.name, spec.description or voc.LANDMARKS.get(n, "")))
    for n in case.required_references():
        if is_point_reference(n):  # a structure's point, clicked when there is no label map
            spec = case.landmark_spec(n)
            out.append(GuideStep(n, spec.name, spec.description or describe_reference(n)))
    return out


def landmark_display_name(case: CaseFile, landmark: str) -> str:
    """How the widget names a landmark (the case file's display name)."""
    if landmark == CENTRELINE:
        return "IVC centreline"
    return case.landmark_spec(landmark).name


def landmark_colour(case: CaseFile, landmark: str) -> str:
    """The colour of a landmark's points (the case file's, cyan for the centreline)."""
    if landmark == CENTRELINE:
        return "#00FFFF"
    return case.landmark_spec(landmark).colour


class LandmarkGuide:
    """Which landmark is asked for, given the points clicked so far.

    Listeners: :attr:`changed` (no arguments) after any change of what is shown;
    :attr:`ask` (the :class:`GuideStep`) whenever the next click must be given a landmark's
    defaults (a new step, or a centreline point just added); :attr:`finished` (no arguments)
    when the guide stops asking (Done, or past the last step).

    Examples
    --------
    >>> g = LandmarkGuide([GuideStep("a", "A", ""), GuideStep(CENTRELINE, "IVC", "", True)])
    >>> g.start()
    >>> g.current.id
    'a'
    >>> g.replaced_points(["a"]), g.replaced_points(["a", "a"])
    ([], [0])
    >>> g.click_landed(["a"])
    >>> g.current.id
    'ivc_centreline'
    >>> g.set_clicked(["a", CENTRELINE])
    >>> g.text().startswith("Step 2 of 2: click IVC (1 point(s) so far)")
    True
    >>> g.next()
    >>> g.active, g.text()
    (False, "All landmarks clicked; choose 'clicked landmarks' and Fit overlay.")
    """

    def __init__(self, steps: Sequence[GuideStep] = ()) -> None:
        self.steps: tuple[GuideStep, ...] = tuple(steps)
        self.index = -1
        self.active = False
        self.clicked: tuple[str, ...] = ()
        self.has_layer = False
        self.changed = Listeners()
        self.ask = Listeners()
        self.finished = Listeners()

    # -- state ------------------------------------------------------------------------------

    @property
    def current(self) -> GuideStep | None:
        """The landmark asked for now (None when not guiding)."""
        if self.active and 0 <= self.index < len(self.steps):
            return self.steps[self.index]
        return None

    def set_steps(self, steps: Sequence[GuideStep]) -> None:
        """Ask for these landmarks (a new case); a guide under way goes on from its step."""
        self.steps = tuple(steps)
        self.changed.emit()

    def set_clicked(self, ids: Sequence[str], has_layer: bool = True) -> None:
        """What the clicked layer holds now: each point's landmark id, in layer order."""
        self.clicked = tuple(str(v) for v in ids)
        self.has_layer = bool(has_layer)
        self.changed.emit()

    def first_missing(self, start: int) -> int:
        """The first step from ``start`` on whose landmark is not clicked yet."""
        have = set(self.clicked)
        for i in range(start, len(self.steps)):
            if self.steps[i].id not in have:
                return i
        return min(start, len(self.steps))

    # -- moves ------------------------------------------------------------------------------

    def start(self) -> None:
        """Ask for the first landmark not clicked yet."""
        self.active = True
        self.goto(self.first_missing(0))

    def goto(self, index: int) -> None:
        """Ask for step ``index`` (clamped at 0); past the last step the guide finishes."""
        if not self.active:
            return
        if index >= len(self.steps):
            self.finish()
            return
        self.index = max(0, index)
        step = self.current
        if step is not None:
            self.ask.emit(step)
        self.changed.emit()

    def back(self) -> None:
        """Ask for the previous step."""
        self.goto(self.index - 1)

    def next(self) -> None:
        """Go to the next landmark not clicked yet (or finish)."""
        if self.active:
            self.goto(self.first_missing(self.index + 1))

    def finish(self) -> None:
        """Stop asking."""
        self.active = False
        self.index = -1
        self.finished.emit()
        self.changed.emit()

    def replaced_points(self, ids: Sequence[str]) -> list[int]:
        """The earlier points that the newest click (the last of ``ids``) replaces.

        A landmark of one point keeps only its newest click; centreline points add up.
        """
        step = self.current
        if step is None or step.several:
            return []
        return [i for i, v in enumerate(ids[:-1]) if str(v) == step.id]

    def click_landed(self, ids: Sequence[str]) -> None:
        """A click landed (the points it replaced already removed): ask for what comes next.

        After a landmark of one point, the next landmark not clicked yet is asked for; after a
        centreline point, the centreline again (its defaults given anew).
        """
        step = self.current
        self.clicked = tuple(str(v) for v in ids)
        self.has_layer = True
        if step is None:
            self.changed.emit()
        elif step.several:
            self.ask.emit(step)
            self.changed.emit()
        else:
            self.goto(self.first_missing(self.index + 1))

    # -- what is shown ----------------------------------------------------------------------

    def text(self) -> str:
        """The guide's line of text."""
        step = self.current
        if step is None:
            done = set(self.clicked)
            need = [s.name for s in self.steps if s.id not in done]
            if not self.has_layer:
                return "Press Start to click the landmarks the case needs, one at a time."
            if need:
                return "Still missing: " + ", ".join(need) + ". Press Start to click them."
            return "All landmarks clicked; choose 'clicked landmarks' and Fit overlay."
        n = self.clicked.count(step.id) if step.several else 0
        extra = f" ({n} point(s) so far)" if step.several else ""
        return (
            f"Step {self.index + 1} of {len(self.steps)}: click {step.name}{extra}. "
            f"{step.description}"
        )

    @property
    def can_back(self) -> bool:
        """Back works (a step after the first is asked for)."""
        return self.current is not None and self.index > 0

    @property
    def can_move(self) -> bool:
        """Next and Done work (a step is asked for)."""
        return self.current is not None

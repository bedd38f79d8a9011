"""The guided tour of a fitted overlay, without napari: steps, order, texts, next/previous."""

from __future__ import annotations

import pytest
from _overlay_factory import fit_case_on_small_phantom

from ivcviewer.annotations.overlay import OverlayResult
from ivcviewer.widget_models.findings_tour import (
    MIN_FIELD_MM,
    SOFT_TISSUE_WINDOW,
    FindingsTour,
    tour_steps,
)


@pytest.fixture(scope="module")
def fitted(tmp_path_factory: pytest.TempPathFactory) -> OverlayResult:
    """The packaged case fitted on the small phantom from its truth."""
    return fit_case_on_small_phantom(tmp_path_factory.mktemp("phantom"))


def test_steps_follow_the_case_order_and_skip_findings_not_drawn(fitted: OverlayResult) -> None:
    steps = tour_steps(fitted)
    spatial = [f.id for f in fitted.case.findings if f.spatial]
    not_spatial = [f.id for f in fitted.case.findings if not f.spatial]
    assert [s.key for s in steps] == spatial
    assert not_spatial and not set(not_spatial) & {s.key for s in steps}
    for s in steps:
        assert s.window == SOFT_TISSUE_WINDOW
        assert s.entry.centre_lps is not None
        assert s.field_mm >= MIN_FIELD_MM


def test_step_texts_carry_reported_and_measured_figures(fitted: OverlayResult) -> None:
    steps = {s.key: s for s in tour_steps(fitted)}
    mass = next(r for r in fitted.findings if r.finding.reported_extents_mm())
    rep = mass.finding.reported_extents_mm()
    text = steps[mass.id].text
    assert mass.finding.name in text
    for v in rep.values():
        assert f"{v / 10.0:.1f}" in text
    assert mass.extents_mm is not None
    for v in mass.extents_mm.values():
        assert f"{v / 10.0:.1f}" in text
    # the field covers the finding with a margin
    assert steps[mass.id].field_mm > max(mass.extents_mm.values())
    lv = fitted.involvement
    assert lv is not None and fitted.involvement_finding is not None
    thrombus = steps[fitted.involvement_finding]
    assert f"Mayo {lv.mayo_level}" in thrombus.text
    assert thrombus.view == "coronal"  # a long vessel finding is shown head to foot


def test_next_and_previous_stay_within_the_steps(fitted: OverlayResult) -> None:
    tour = FindingsTour()
    seen: list[str] = []
    tour.changed.connect(lambda step: seen.append(step.key))
    assert tour.next() is None and seen == []
    tour.set_result(fitted)
    keys = [s.key for s in tour.steps]
    assert tour.current is not None and tour.current.key == keys[0]
    for _ in range(len(keys) + 2):
        tour.next()
    assert tour.current.key == keys[-1]
    assert tour.position_text().startswith(f"Step {len(keys)} of {len(keys)}")
    tour.previous()
    assert tour.current.key == keys[-2]
    for _ in range(len(keys) + 2):
        tour.previous()
    assert tour.index == 0
    assert seen[: len(keys)] == keys[1:] + [keys[-1]]
    tour.set_result(None)
    assert tour.current is None

"""``--series UID:N``: one stack of a SeriesInstanceUID split into stacks (phases, echoes)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from _split_factory import REPEAT_OFFSET, repeat_values, write_repeats

from ivcviewer.cli.info import describe_path, format_table
from ivcviewer.cli.main import main
from ivcviewer.dicom import scan
from ivcviewer.errors import NoSeriesFoundError
from ivcviewer.io import LabelTable, open_path, save_labels
from ivcviewer.io.series_choice import parse_series_choice, series_selector
from ivcviewer.volume import Volume
from ivcviewer.workflows import open_ct

OFFSETS = [0.0, 2.5, 5.0, 7.5]
N_PHASES = 3


@pytest.fixture(scope="module")
def phases(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A folder holding one series of three acquisitions at the same positions, and its UID."""
    folder = tmp_path_factory.mktemp("phases") / "s"
    write_repeats(
        folder,
        N_PHASES,
        OFFSETS,
        lambda r: {"AcquisitionNumber": r + 1},
        series_description="multiphase",
    )
    uids = {s.series_uid for s in scan(folder).series}
    assert len(uids) == 1
    return folder, uids.pop()


def _phase_of(vol: Volume) -> int:
    """Which acquisition (from 0) a loaded volume holds."""
    shift = vol.array.astype(int) - repeat_values(vol.shape[0], 0)
    assert np.all(shift == shift.flat[0])
    return int(shift.flat[0]) // REPEAT_OFFSET


def test_parse_selector() -> None:
    assert parse_series_choice("1.2.840.5:3") == parse_series_choice(" 1.2.840.5:3 ")
    assert parse_series_choice("1.2.840.5:3").stack == 3
    assert parse_series_choice("1.2.840.5").stack is None
    for bad in ("1.2.3:0", "1.2.3:x", ":2", "1.2.3:", "1.2.3:-1"):
        with pytest.raises(NoSeriesFoundError, match="not a series selector"):
            parse_series_choice(bad)
    assert series_selector("1.2.3", "") == "1.2.3"
    assert series_selector("1.2.3", "stack 3 of 4: acquisition 3") == "1.2.3:3"


def test_each_stack_is_chosen_by_its_number(phases: tuple[Path, str]) -> None:
    folder, uid = phases
    for n in range(1, N_PHASES + 1):
        vol = open_ct(folder, series=f"{uid}:{n}")
        assert _phase_of(vol) == n - 1
        assert vol.metadata.series_uid == uid
        assert vol.metadata.extra["stack_label"].startswith(f"stack {n} of {N_PHASES}:")
    # the napari reader's path still opens every stack
    assert sorted(_phase_of(v) for v in open_path(folder)) == list(range(N_PHASES))


def test_a_split_uid_alone_lists_the_selectors(phases: tuple[Path, str]) -> None:
    folder, uid = phases
    with pytest.raises(NoSeriesFoundError) as err:
        open_ct(folder, series=uid, option="--ct")
    text = str(err.value)
    assert f"holds {N_PHASES} stacks" in text
    for n in range(1, N_PHASES + 1):
        assert f"{uid}:{n} (multiphase (acquisition {n})" in text
    assert "--series UID:N" in text and "\n" not in text
    with pytest.raises(NoSeriesFoundError, match="--series UID:N"):
        open_ct(folder)


def test_a_stack_the_uid_does_not_have(phases: tuple[Path, str]) -> None:
    folder, uid = phases
    with pytest.raises(NoSeriesFoundError, match=rf"holds {N_PHASES} stack\(s\).*from 1 to 3"):
        open_ct(folder, series=f"{uid}:{N_PHASES + 1}")
    with pytest.raises(NoSeriesFoundError, match="1.2.999"):
        open_ct(folder, series="1.2.999:1")


def test_an_unsplit_series_takes_stack_one(tmp_path: Path) -> None:
    write_repeats(tmp_path / "one", 1, OFFSETS, lambda r: {}, series_description="single")
    uid = scan(tmp_path / "one").series[0].series_uid
    assert _phase_of(open_ct(tmp_path / "one", series=f"{uid}:1")) == 0
    with pytest.raises(NoSeriesFoundError, match="holds 1 stack"):
        open_ct(tmp_path / "one", series=f"{uid}:2")
    table = format_table(describe_path(tmp_path / "one"))
    assert "choose it with --series" not in table


def test_info_shows_each_stack_selector(phases: tuple[Path, str]) -> None:
    folder, uid = phases
    table = format_table(describe_path(folder))
    for n in range(1, N_PHASES + 1):
        assert f"series {n}: stack {n} of {N_PHASES}: " in table
        assert f"choose it with --series {uid}:{n}\n" in table


def test_measure_cli_takes_the_chosen_stack(
    phases: tuple[Path, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder, uid = phases
    ct = open_ct(folder, series=f"{uid}:1")
    labels = np.zeros(ct.shape, np.uint8)
    labels[1:3, 4:10, 4:10] = 1
    path, _ = save_labels(
        Volume(labels, ct.affine), LabelTable.from_json_data({"1": "box"}), tmp_path / "m.nii.gz"
    )
    means = []
    for n in (1, 3):
        assert (
            main(["measure", str(path), "--ct", str(folder), "--series", f"{uid}:{n}", "--json"])
            == 0
        )
        out = json.loads(capsys.readouterr().out)
        means.append(out["regions"][0]["hu"]["mean"])
        stack = open_ct(folder, series=f"{uid}:{n}")
        assert means[-1] == pytest.approx(stack.array[labels == 1].mean(), abs=1e-3)
    assert means[1] - means[0] == pytest.approx(2 * REPEAT_OFFSET, abs=1e-3)
    assert main(["measure", str(path), "--ct", str(folder), "--series", f"{uid}:9"]) != 0
    err = capsys.readouterr().err
    assert "from 1 to 3" in err and "Traceback" not in err

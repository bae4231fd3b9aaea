"""The plain console (importer/cli/console.py) prints what rich's Console prints off a terminal."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console

import importer
from importer.cli.console import PlainConsole, stdout_console, verbatim
from importer.reports.summary import RunReport, render_text

ROOT = Path(__file__).parents[1]
SAMPLES = [ROOT / "samples/csv/chase/chase-checking-2026-10.csv", ROOT / "samples/ofx/checking-2026-10.ofx"]


def printed(console_for: type[Console] | type[PlainConsole], text: object, **options: bool | None) -> str:
    out = io.StringIO()
    console = Console(file=out, force_terminal=False) if console_for is Console else PlainConsole(out)
    console.print(text, **options)
    return out.getvalue()


# Plain text with what rich rewrites (tabs, control codes, `:emoji:` codes, markup, long lines) mixed in.
texts = st.text(alphabet=st.sampled_from(list("ab :\t\r\x07\x0c\n[]/é😄-")) | st.characters(), max_size=120)


@given(texts)
def test_plain_lines_print_as_rich_prints_them(text: str) -> None:
    assert printed(PlainConsole, text, highlight=False, markup=False, soft_wrap=True) == printed(
        Console, text, highlight=False, markup=False, soft_wrap=True
    )


@given(texts, st.sampled_from([None, True, False]), st.sampled_from([None, True, False]))
def test_other_options_are_rich_s_own(text: str, markup: bool | None, soft_wrap: bool | None) -> None:
    assert printed(PlainConsole, text, highlight=False, markup=markup, soft_wrap=soft_wrap) == printed(
        Console, text, highlight=False, markup=markup, soft_wrap=soft_wrap
    )


def test_what_rich_rewrites_goes_to_rich() -> None:
    assert verbatim("uncategorised: 3 of 20; most frequent: TST (1)", False, False, True)
    for rewritten in ("a\tb", "x:smile:y", "e\rf", "g\x07h"):
        assert not verbatim(rewritten, False, False, True)
    assert (
        printed(PlainConsole, "x:smile:y\tz", highlight=False, markup=False, soft_wrap=True) == "x😄y    z\n"
    )  # the emoji is two cells wide
    assert not verbatim("plain", False, False, None)  # rich wraps it at the console's width


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> RunReport:
    config = importer.open_config(ROOT / "importer.yaml")
    with importer.session(config, tmp_path_factory.mktemp("state") / "state.sqlite") as session:
        return session.run(SAMPLES).runs[0].report


def test_a_run_summary_prints_the_same_on_both(report: RunReport) -> None:
    plain, rich_out = io.StringIO(), io.StringIO()
    render_text(report, PlainConsole(plain))
    render_text(report, Console(file=rich_out, force_terminal=False))
    assert plain.getvalue() == rich_out.getvalue()
    lines = plain.getvalue().splitlines()
    assert lines[0] == f"Run {report.run_id} -> local"
    assert lines[2] == f"    12   12          0        0              0       0  {SAMPLES[0]}"
    assert lines[-2:] == [
        "    27   27          0        0              0       0  total",
        "own-account transfers paired: 2",
    ]


def test_off_a_terminal_stdout_is_the_plain_console(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdout", io.StringIO())
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.delenv("TTY_COMPATIBLE", raising=False)
    assert isinstance(stdout_console(), PlainConsole)
    monkeypatch.setenv("FORCE_COLOR", "1")  # rich would draw its table: rich's Console it is
    assert isinstance(stdout_console(), Console)

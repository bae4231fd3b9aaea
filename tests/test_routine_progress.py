"""Progress bars: drawn on a terminal and erased when done; nothing at all elsewhere."""

from __future__ import annotations

import io

from rich.console import Console

from importer.progress import progress


def test_a_bar_is_drawn_on_a_terminal_and_erased_when_done() -> None:
    screen = io.StringIO()
    with progress(3, "importing", console=Console(file=screen, force_terminal=True, width=80)) as advance:
        for name in ("a.csv", "b.csv", "c.csv"):
            advance(name)
    drawn = screen.getvalue()
    assert "importing" in drawn
    assert drawn.endswith("\x1b[1A\x1b[2K")  # cursor back up onto the bar, line erased


def test_no_bar_off_a_terminal() -> None:
    out = io.StringIO()
    with progress(3, "importing", console=Console(file=out, force_terminal=False)) as advance:
        advance("a.csv")
    assert out.getvalue() == ""

"""What happened, per file and per target: plain lines off a TTY, a rich table on one, or JSON.

rich's table is imported when a table is drawn (importer/internals/lazy.py): the library, a `--json`
run and cron never draw one, and their start-up should not pay for it.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TextIO

from importer.core.models import Transaction
from importer.internals.lazy import lazy_module
from importer.rules.normalise import normalise_payee

if TYPE_CHECKING:
    from rich import table as rich_table

    from importer.dedupe.layers import Decision
    from importer.run.journal import Reconciliation
else:
    rich_table = lazy_module("rich.table")


class Printer(Protocol):
    """What the summary is printed on: rich's Console, or one for plain lines off a terminal
    that needs no rich (importer/cli/console.py)."""

    @property
    def is_terminal(self) -> bool: ...

    def print(
        self, text: Any, /, *, highlight: bool | None = None, markup: bool | None = None, soft_wrap: bool | None = None
    ) -> None: ...


_COUNTS = ("parsed", "new", "duplicate", "skipped", "uncategorised", "failed")
_TOP_PAYEES = 5
INTERRUPTED = 130  # the exit code of a run stopped by Ctrl-C: 128 + SIGINT, as shells report it


@dataclass
class FileReport:
    path: str
    format: str | None = None
    parsed: int = 0
    new: int = 0
    duplicate: int = 0
    uncategorised: int = 0
    failed: int = 0
    error: str | None = None
    skipped: int = 0
    uncategorised_payees: dict[str, int] = field(default_factory=dict)
    held: int = 0  # probable duplicates held for review (importer/dedupe/layers.py)
    transfers: int = 0  # lines paired with the other leg of an own-account transfer
    duplicates: list[dict[str, Any]] = field(default_factory=list)  # every row not sent, with its reason
    # What the user must know about a file that was imported: a cut-off file imported in part
    # (--allow-partial), what its parser could not check (Statement.notes).  Never affects the exit code.
    warnings: list[str] = field(default_factory=list)

    def count_rules(self, parsed: int, kept: Sequence[Transaction]) -> None:
        """Record what the rules did: `parsed` read, `kept` left after `skip` rules."""
        self.parsed = parsed
        self.skipped = parsed - len(kept)
        # Normalised once per distinct text (the same key order as row by row): statements repeat them.
        texts = Counter(t.payee or t.description for t in kept if t.category is None)
        payees: Counter[str] = Counter()
        for text, count in texts.items():
            payees[normalise_payee(text)] += count
        self.uncategorised = sum(payees.values())
        self.uncategorised_payees = dict(payees.most_common())

    def add_decisions(self, decisions: Sequence[Decision]) -> None:
        """Count and list the rows the layered dedupe skipped, replaced or held."""
        rows = [d.as_row() for d in decisions if d.reason is not None]
        self.duplicates.extend(rows)
        self.held += sum(1 for r in rows if r["action"] == "hold")
        self.duplicate += sum(1 for r in rows if r["action"] in ("skip", "replace"))


# The stages of one file, in order; a file that fails or has nothing to send stops early.
READING, CATEGORISING, STORING, UPLOADING = "reading", "categorising", "storing", "uploading"


@dataclass(frozen=True)
class Uploaded:
    """How far the upload of one file has got: batches and rows sent, of how many."""

    batches: int
    of_batches: int
    rows: int
    of_rows: int


@dataclass
class Interruption:
    """Where a run stopped at a Ctrl-C: the files it finished, the one it was on, those not started.

    `batches_left` and `rows_left` are the current file's upload not yet confirmed: its rows are
    stored, a batch cut in flight is pending in the journal (the next run settles it), and the rest
    is sent when the file is imported again.
    """

    stage: str | None
    file: str | None
    done: list[str]
    not_started: list[str]
    batches_sent: int = 0
    batches_left: int = 0
    rows_left: int = 0

    def lines(self) -> list[str]:
        """What was done and what is left, for stderr."""
        lines = [
            f"interrupted{f' while {self.stage} {self.file}' if self.file else ''}: "
            f"{len(self.done)} file(s) done, {len(self.not_started)} not started."
        ]
        if self.stage == "uploading" and not (self.batches_sent or self.batches_left):
            lines.append(f"{self.file}: stored; nothing was left to send.")
        elif self.stage == "uploading":
            lines.append(
                f"{self.file}: {self.batches_sent} batch(es) sent, {self.batches_left} not confirmed "
                f"({self.rows_left} row(s)); they are stored and go out when the file is imported again "
                "(a batch cut in flight is settled first, so nothing lands twice)."
            )
        elif self.file is not None:  # a file is stored in one transaction: cut, it left nothing
            lines.append(f"{self.file}: nothing of it was stored.")
        lines += [f"not started: {path}" for path in self.not_started]
        return lines


@dataclass
class RunReport:
    run_id: int
    target: str
    dry_run: bool = False
    files: list[FileReport] = field(default_factory=list)
    reconciled: Reconciliation | None = None  # pending batches of earlier runs settled first
    interrupted: Interruption | None = None  # stopped by a Ctrl-C

    @property
    def exit_code(self) -> int:
        """0 when every file went through, 1 when any file or batch failed, 130 when interrupted
        (the shell's code for a Ctrl-C)."""
        if self.interrupted is not None:
            return INTERRUPTED
        return 1 if any(f.error or f.failed for f in self.files) else 0

    def totals(self) -> dict[str, int]:
        return {name: sum(getattr(f, name) for f in self.files) for name in _COUNTS}

    def coverage(self) -> dict[str, Any]:
        """How many transactions stayed uncategorised, and their most frequent payees."""
        payees: Counter[str] = Counter()
        for f in self.files:
            payees.update(f.uncategorised_payees)
        kept = sum(f.parsed - f.skipped for f in self.files)
        top = [{"payee": payee, "count": count} for payee, count in payees.most_common(_TOP_PAYEES)]
        return {
            "categorised": kept - sum(payees.values()),
            "uncategorised": sum(payees.values()),
            "top_uncategorised": top,
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "target": self.target,
            "dry_run": self.dry_run,
            "files": [asdict(f) for f in self.files],
            "totals": self.totals(),
            "coverage": self.coverage(),
            "exit_code": self.exit_code,
            "duplicates_by_reason": self.reasons(),
            "reconciled": asdict(self.reconciled) if self.reconciled is not None else None,
            "interrupted": asdict(self.interrupted) if self.interrupted is not None else None,
        }

    def reasons(self) -> dict[str, int]:
        """How many rows each dedupe reason kept from being sent (forced probable duplicates were sent)."""
        return dict(Counter(row["reason"] for f in self.files for row in f.duplicates if row["action"] != "send"))


def render_json(report: RunReport, out: TextIO) -> None:
    json.dump(report.as_dict(), out, indent=2)
    out.write("\n")


def render_text(report: RunReport, console: Printer) -> None:
    """Counts per file (a table on a terminal, aligned plain lines elsewhere), then the errors."""
    if console.is_terminal:
        _render_table(report, console)
    else:
        _render_plain(report, console)
    _render_coverage(report, console)
    _render_dedupe(report, console)
    for f in report.files:
        for warning in f.warnings:
            console.print(f"warning: {warning}", highlight=False, markup=False, soft_wrap=True)
        if f.error:
            console.print(f"error: {f.error}", highlight=False, markup=False, soft_wrap=True)


def _render_coverage(report: RunReport, console: Printer) -> None:
    coverage = report.coverage()
    if coverage["uncategorised"]:
        top = ", ".join(f"{p['payee']} ({p['count']})" for p in coverage["top_uncategorised"])
        total = coverage["uncategorised"] + coverage["categorised"]
        console.print(
            f"uncategorised: {coverage['uncategorised']} of {total}; most frequent: {top}",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )


def _render_dedupe(report: RunReport, console: Printer) -> None:
    """Counts by dedupe reason, then how many rows each file held for review (one line per file,
    not per row: `importer held list` shows them, and the user decides there)."""
    lines = []
    if report.reasons():
        lines.append("not sent: " + ", ".join(f"{n} {reason}" for reason, n in sorted(report.reasons().items())))
    verb = "would be held" if report.dry_run else "held"
    lines += [
        f"{f.path}: {f.held} {verb} as probable duplicates: see `importer held list`" for f in report.files if f.held
    ]
    if sum(f.transfers for f in report.files):
        lines.append(f"own-account transfers paired: {sum(f.transfers for f in report.files)}")
    rec = report.reconciled
    if rec is not None and rec.batches:
        waited = f"; waited {rec.waited:.0f} s for requests of the interrupted run to land" if rec.waited else ""
        lines.append(
            f"pending batches reconciled: {rec.batches} ({rec.resent} re-sent, {rec.found} found, {rec.sent} sent{waited})"
        )
    if lines:
        console.print("\n".join(lines), highlight=False, markup=False, soft_wrap=True)


def _render_plain(report: RunReport, console: Printer) -> None:
    title = f"Run {report.run_id} -> {report.target}" + (" (dry run: nothing stored)" if report.dry_run else "")
    lines = [title, "  ".join(_COUNTS) + "  file"]
    for f in report.files:
        lines.append(_plain_row([getattr(f, name) for name in _COUNTS], f.path))
    lines.append(_plain_row(list(report.totals().values()), "total"))
    console.print("\n".join(lines), highlight=False, markup=False, soft_wrap=True)


def _plain_row(values: list[int], label: str) -> str:
    return "  ".join(f"{value:>{len(name)}}" for name, value in zip(_COUNTS, values)) + f"  {label}"


def _render_table(report: RunReport, console: Printer) -> None:
    title = f"Run {report.run_id} → {report.target}" + (" (dry run: nothing stored)" if report.dry_run else "")
    table = rich_table.Table(title=title, title_justify="left")
    table.add_column("file", overflow="fold")
    for name in _COUNTS:
        table.add_column("would add" if name == "new" and report.dry_run else name, justify="right")
    for f in report.files:
        table.add_row(f.path, *(str(getattr(f, name)) for name in _COUNTS))
    table.add_row("total", *(str(v) for v in report.totals().values()), style="bold")
    console.print(table)

"""`importer watch [INBOX]`: import statement files as they land in a folder."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

import click

from importer import api
from importer.cli.options import StatementInputs, resolve_state_path, statement_inputs
from importer.config.paths import log_anchor, no_rules_warning, rules_looked_in
from importer.config.settings import Config
from importer.config.state_location import Location, PgUrl
from importer.core.errors import ConfigError
from importer.reports.summary import FileReport
from importer.run.claims import Claimer
from importer.run.logs import close_logging, setup_logging
from importer.run.routine import inbox_importer, watch_wait
from importer.run.watch import Filed, Folders, Inbox, drain, folder_events, watch_loop


@click.command()
@click.argument("inbox", required=False, type=click.Path(path_type=Path, file_okay=False))
@click.option(
    "--archive",
    type=click.Path(path_type=Path, file_okay=False),
    help="Where imported files go (default: the config's archive, else INBOX/../archive).",
)
@click.option(
    "--failed",
    type=click.Path(path_type=Path, file_okay=False),
    help="Where files that failed go (default: the config's failed, else INBOX/../failed).",
)
@click.option("--once", is_flag=True, help="Import what is in the inbox now, then exit (for cron and tests).")
@click.option(
    "--settle",
    type=click.FloatRange(min=0),
    help="Seconds a file must stay unchanged before it is imported (default: the config's settle, 2).",
)
@click.option("--target", help="Where to land the transactions (default: the config's default_target, else local).")
@click.option(
    "--lease",
    type=click.FloatRange(min=0, min_open=True),
    help="With a PostgreSQL state, seconds a file claimed by a watcher that died stays its own before "
    "another watcher takes it over (default: the config's lease, 60).",
)
@statement_inputs(partial=True, state=True)
def watch(
    inbox: Path | None,
    archive: Path | None,
    failed: Path | None,
    once: bool,
    settle: float | None,
    target: str | None,
    lease: float | None,
    inputs: StatementInputs,
) -> None:
    """Import files dropped into INBOX, then file them away.

    Imported files move to archive/YYYY-MM/, files that fail to failed/ with a .error.txt
    saying what to fix. Files already waiting in INBOX are imported first. A file is read only
    once it has stopped changing, and moved only after its transactions are stored. Stop with
    Ctrl-C or SIGTERM.
    """
    config = inputs.config()
    folders = _folders(config, inbox, archive, failed)
    # --once (cron, a test) on a missing inbox is a mistake to report; a long-running watcher
    # creates its folders, as a service started before the user made them must still work.
    if once and not folders.inbox.is_dir():
        raise ConfigError(_MISSING_INBOX.format(inbox=folders.inbox))
    created = [] if once else folders.create()
    base = api.run_settings(config, target=target, parse=inputs.parse_options(config))
    rules = inputs.rules(config)
    path = resolve_state_path(inputs.state_path, config)
    looked_in = rules_looked_in(inputs.rules_paths, config.rules)
    _banner(folders, created, base.target, len(rules), looked_in, path)
    log = setup_logging(config, log_anchor(path))
    failures = 0

    def on_filed(filed: Filed) -> None:
        nonlocal failures
        failures += filed.error is not None
        _report(filed, log_line=log.info if filed.error is None else log.error)

    try:
        with (
            api.open_state(config, path, lock_wait=watch_wait(config)) as state,
            _claims(config, path, lease) as claims,
        ):
            importer = inbox_importer(config, rules, state, base, log, path)
            box = Inbox(folders, importer, settle if settle is not None else config.settle, claims=claims)
            log.info("watching %s%s", folders.inbox, " (once)" if once else "")
            if once:
                drain(box, on_filed)
            else:
                watch_loop(box, folder_events(folders.inbox, _stop_on_signals()), on_filed)
    finally:
        close_logging(log)
    sys.exit(1 if failures and once else 0)  # a watcher stopped by systemd did its job: exit 0


@contextmanager
def _claims(config: Config, path: Location, lease: float | None) -> Iterator[Claimer | None]:
    """A PostgreSQL state's claims on inbox files, on a connection of their own, with their
    heartbeat; None on SQLite, whose one writer needs none (importer/run/claims.py)."""
    if not isinstance(path, PgUrl):
        yield None
        return
    with api.open_state(config, path) as own, Claimer(own, lease or config.lease).running() as claims:
        yield claims


def _folders(config: Config, inbox: Path | None, archive: Path | None, failed: Path | None) -> Folders:
    if inbox is not None:
        config = config.model_copy(update={"inbox": inbox.absolute()})
    default_inbox, default_archive, default_failed = config.folders()
    return Folders(
        default_inbox.absolute(), (archive or default_archive).absolute(), (failed or default_failed).absolute()
    )


_MISSING_INBOX = (
    "the inbox folder {inbox} does not exist, so there is nothing to import. Create it (mkdir -p {inbox}), "
    "or name another: `inbox:` in importer.yaml, or `importer watch INBOX --once`. "
    "(`importer watch` without --once creates its folders.)"
)


def _banner(
    folders: Folders, created: list[Path], target: str, rules: int, looked_in: list[Path], state: Location
) -> None:
    """What the watcher works with, on stderr, before the first file: a wrong folder shows at once."""

    def line(name: str, folder: Path) -> str:
        return f"  {name + ':':9}{folder}" + (" (created)" if folder in created else "")

    click.echo(
        f"importer watch\n{line('inbox', folders.inbox)}\n{line('archive', folders.archive)}\n"
        f"{line('failed', folders.failed)}\n  target:  {target}\n"
        f"  rules:   {rules} rule(s) from {', '.join(str(p.absolute()) for p in looked_in)}\n"
        f"  state:   {state}",
        err=True,
    )
    if rules == 0:
        click.echo(no_rules_warning(looked_in), err=True)


def _counts(report: FileReport | None) -> str:
    """`12 parsed, 10 new, 2 duplicate`: what the file added, not only where it went."""
    if report is None or report.error:
        return ""  # a file that could not be read added nothing: its error says why
    held = f", {report.held} held for review" if report.held else ""
    return f" ({report.parsed} parsed, {report.new} new, {report.duplicate} duplicate{held})"


def _report(filed: Filed, log_line: Callable[[str], None]) -> None:
    already = "(identical copy already filed; removed from the inbox)" if filed.copy_removed else "(not filed)"
    where = filed.destination or already
    message = f"{filed.source.name} -> {where}{_counts(filed.report)}" + (f": {filed.error}" if filed.error else "")
    log_line(message)
    click.echo(("failed: " if filed.error else "imported: ") + message, err=filed.error is not None)


def _stop_on_signals() -> threading.Event:
    """An event set by SIGTERM/SIGINT, so systemd and Ctrl-C stop the loop between files."""
    stop = threading.Event()

    def handler(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
    return stop

"""The `importer` command line: a thin layer that parses options, calls the library, renders.

Every command module holds one command (or group) named after it; COMMANDS lists them with the
one line `importer --help` shows.  A command's module is imported only when that command runs
(or shows its own help): `importer --help` and `importer history` must not pay for pandas,
pydantic models, the parsers and the targets they never use.  tests/test_cli.py keeps the table
in step with each command's docstring.

The library (importer/api.py) does the work; an `ImporterError` anywhere becomes a one-paragraph
message on stderr and its exit code, never a traceback.

Exit codes: 0 all good; 1 some file or batch failed (the others were still processed);
2 usage or configuration error; 3 another run holds the state database (the run lock);
130 interrupted by Ctrl-C (a run says what it did and left; see importer/run/pipeline.py).
"""

from __future__ import annotations

import importlib
from typing import Any

import click

from importer.core.errors import ImporterError
from importer.internals.gcpause import paused_gc
from importer.internals.sqlite_mode import at_first_open

# name -> the first line of its docstring, as `importer --help` lists it.  The module is
# importer.cli.<name>_cmd and the command is its attribute <name>.
COMMANDS: dict[str, str] = {
    "run": "Parse, categorise and import statement files (or folders of them).",
    "parse": "Print the transactions of each FILE, categorised and with their external ids; store nothing.",
    "detect": "Print the profile or the detected layout of the CSV FILE, with the evidence for each choice.",
    "rules": "Check, explain, lint and extend your categorisation rules.",
    "history": (
        "List the runs (newest first): kind, status, counts of files, stored and sent transactions and batches; "
        "with RUN, that run's files and batches."
    ),
    "undo": (
        "Remove what run RUN added (see `importer history`): its transactions, the records it landed "
        "(deleted remotely where the service allows), and its files, which can then be imported again."
    ),
    "held": "Rows held as probable duplicates: list them, release them (send) or drop them.",
    "watch": "Import files dropped into INBOX, then file them away.",
    "init": (
        "Write a commented starter configuration file, ready to edit, and a rules folder beside it holding "
        "the example rules (an existing rule file is never replaced)."
    ),
    "report": "Spending per category for a month, against earlier months.",
    "targets": "List target types, or check a configured target's credentials and mapping.",
    "sandbox": "Serve local fakes of all six budgeting services, for trying the importer without accounts.",
    "accounts": "The accounts transactions are stored under: their identifiers and names.",
    "state": "The state database itself: copy it into PostgreSQL or into an SQLite file.",
}


def load(name: str) -> click.Command:
    """The command `name`, importing its module (importer/cli/<name>_cmd.py).

    Without the cycle collector: importing a command's modules allocates enough to run it many
    times over, walking objects that are all alive (2 % of a small import's start-up)."""
    with paused_gc():
        command: click.Command = getattr(importlib.import_module(f"importer.cli.{name}_cmd"), name)
    return command


class _Group(click.Group):
    """Commands from COMMANDS, loaded on first use; errors of the importer become messages."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return load(cmd_name) if cmd_name in COMMANDS else None

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list from the table: listing must not import every command."""
        limit = formatter.width - 6 - max(len(name) for name in COMMANDS)
        rows = [(name, _shortened(COMMANDS[name], limit)) for name in sorted(COMMANDS)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ImporterError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:  # a Ctrl-C outside a run's files (a run itself reports where it stopped)
            click.echo("interrupted.", err=True)
            ctx.exit(130)


def _shortened(text: str, limit: int) -> str:
    """`text` cut at a word to fit `limit` characters, with "..." when cut (as click lists commands)."""
    if len(text) <= limit:
        return text
    return text[: limit - 3].rsplit(" ", 1)[0] + "..."


def command_line() -> None:
    """The `importer` command and `python -m importer`: SQLite set up for this process when it
    first opens a database (internals/sqlite_mode.py: no memory statistics), then the commands."""
    at_first_open()
    main()


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="importer")
def main() -> None:
    """Import bank statements (OFX, CSV, ...) into your budgeting app, each transaction exactly once."""

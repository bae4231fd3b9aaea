"""The `importer` command line: a thin layer that parses options, calls the library, renders.

Every command module holds one command (or group); COMMANDS lists them.  An `ImporterError`
anywhere becomes a one-paragraph message on stderr and its exit code, never a traceback.

Exit codes: 0 all good; 1 some file or batch failed (the others were still processed);
2 usage or configuration error; 3 another run holds the state database (the run lock);
130 interrupted by Ctrl-C (a run says what it did and left; see importer/run/pipeline.py).
"""

from __future__ import annotations

from typing import Any

import click

from importer.core.errors import ImporterError


class _Group(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ImporterError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:  # a Ctrl-C outside a run's files (a run itself reports where it stopped)
            click.echo("interrupted.", err=True)
            ctx.exit(130)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="importer")
def main() -> None:
    """Import bank statements (OFX, CSV, ...) into your budgeting app, each transaction exactly once."""


from importer.cli import (  # noqa: E402  (commands attach to `main`)
    accounts_cmd,
    detect_cmd,
    held_cmd,
    history_cmd,
    init_cmd,
    parse_cmd,
    report_cmd,
    rules_cmd,
    run_cmd,
    sandbox_cmd,
    targets_cmd,
    undo_cmd,
    watch_cmd,
)

COMMANDS: list[click.Command] = [
    run_cmd.run,
    parse_cmd.parse,
    detect_cmd.detect,
    rules_cmd.rules,
    history_cmd.history,
    undo_cmd.undo,
    held_cmd.held,
    watch_cmd.watch,
    init_cmd.init,
    report_cmd.report,
    targets_cmd.targets,
    sandbox_cmd.sandbox,
    accounts_cmd.accounts,
]
for _command in COMMANDS:
    main.add_command(_command)

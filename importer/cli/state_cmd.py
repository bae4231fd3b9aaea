"""`importer state migrate --to URL_OR_PATH`: the state copied whole into another engine.

Thin over `importer.api.migrate_state` (importer/store/copy.py does the copy and says what it
guarantees): moving a laptop's SQLite state onto a PostgreSQL server that many workers share,
or back into a file.  What it prints is each table's rows and the checksum both sides agreed on;
a URL is always shown without its password.
"""

from __future__ import annotations

from pathlib import Path

import click

from importer import api
from importer.cli.options import _state_location, config_option, state_option
from importer.config.state_location import Location
from importer.store.copy import Migration


@click.group()
def state() -> None:
    """The state database itself: copy it into PostgreSQL or into an SQLite file."""


@state.command()
@click.option(
    "--to",
    "destination",
    required=True,
    callback=_state_location,
    help="Where to copy the state: a postgresql:// URL or an SQLite file; it must be empty or not exist yet.",
)
@config_option
@state_option
@click.option(
    "--wait",
    "wait_seconds",
    type=click.FloatRange(0),
    help="Wait up to SECONDS for a running import (default: the config's lock_wait, else 0).",
)
def migrate(
    destination: Location, config_path: Path | None, state_path: Location | None, wait_seconds: float | None
) -> None:
    """Copy every table of the state (--state) into the empty DESTINATION, in one transaction,
    checked by each table's row count and a checksum of the external ids before it commits."""
    done = api.migrate_state(destination, api.open_config(config_path), state=state_path, wait=wait_seconds)
    _echo(done)


def _echo(done: Migration) -> None:
    width = max(len(table) for table in done.rows)
    click.echo(f"{'table':<{width}}  {'rows':>9}")
    for table, count in done.rows.items():
        click.echo(f"{table:<{width}}  {count:>9}")
    click.echo(f"checksum  sha256:{done.checksum}")
    click.echo(f"copied {done.source} to {done.destination} in {done.seconds:.1f} s; both sides agree.")

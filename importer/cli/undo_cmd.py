"""`importer undo RUN`: take back what a run added, here and in the target."""

from __future__ import annotations

from pathlib import Path

import click

from importer.cli.options import config_option, open_state, resolve_state_path, state_option
from importer.config import Config, load_config
from importer.history import undo as undo_run
from importer.lock import run_lock
from importer.state import State
from importer.uploaders import REGISTRY, Target, make_target


@click.command()
@click.argument("run_id", metavar="RUN", type=int)
@config_option
@state_option
@click.option("--keep-remote", is_flag=True, help="Forget the run here but leave its records in remote targets.")
@click.option("--wait", "wait_seconds", type=click.FloatRange(0), default=0, help="Wait up to SECONDS for a running import.")
def undo(run_id: int, config_path: Path | None, state_path: Path | None, keep_remote: bool, wait_seconds: float) -> None:
    """Remove what run RUN added (see `importer history`): its transactions, the records it landed
    (deleted remotely where the service allows), and its files, which can then be imported again."""
    config = load_config(config_path)
    with run_lock(resolve_state_path(state_path, config), wait_seconds), open_state(state_path, config) as state:
        result = undo_run(state, run_id, lambda name: None if keep_remote else _target(name, config, state, run_id))
    removed = ", ".join(f"{n} from {target}" for target, n in sorted(result.removed.items()) if n) or "nothing from any target"
    click.echo(f"Undid run {run_id}: forgot {result.transactions} transaction(s); removed {removed}.")
    for target, n in sorted(result.kept_remote.items()):
        click.echo(f"Left {n} record(s) in {target} (--keep-remote).")


def _target(name: str, config: Config, state: State, run_id: int) -> Target:
    """The configured target whose uploader lands records as `name`."""
    for key, settings in config.targets.items():
        if getattr(REGISTRY.get(settings.type), "name", None) == name:
            return make_target(key, state, run_id, settings)
    return make_target(name, state, run_id, None)

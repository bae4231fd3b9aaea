"""`importer targets list|check NAME`: the known target types, and a read-only check of one."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from importer.cli.options import config_option
from importer.config import load_config
from importer.errors import ConfigError
from importer.uploaders import REGISTRY, make_target
from importer.uploaders.remote import RemoteTarget


@click.group()
def targets() -> None:
    """List target types, or check a configured target's credentials and mapping."""


@targets.command("list")
@config_option
def list_targets(config_path: Path | None) -> None:
    """The target types this importer knows, and the targets configured."""
    config = load_config(config_path)
    for kind, factory in REGISTRY.items():
        doc = (sys.modules[factory.__module__].__doc__ or "").strip().splitlines()[0]
        click.echo(f"{kind:<12} {doc}")
    for name, settings in config.targets.items():
        click.echo(f"configured: {name} (type {settings.type}, {settings.base_url or 'default URL'})")


@targets.command("check")
@click.argument("name")
@config_option
def check(name: str, config_path: Path | None) -> None:
    """Check NAME's token, permissions and account/category mapping without writing anything."""
    settings = load_config(config_path).target(name)
    target = make_target(name, None, 0, settings)  # type: ignore[arg-type]  # nothing is stored
    if not isinstance(target, RemoteTarget):
        raise ConfigError(f"target {name} is the local ledger: there is nothing remote to check.")
    try:
        lines = target.check()
    finally:
        target.close()
    for line in lines:
        click.echo(line)
    missing = [line for line in lines if line.endswith("MISSING")]
    click.echo(f"{name}: {'problems: ' + str(len(missing)) if missing else 'ok'}")
    raise SystemExit(1 if missing else 0)

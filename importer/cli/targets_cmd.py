"""`importer targets list|check NAME`: the known target types, and a read-only check of one.

What `list` says of each type is written here for users, not taken from the uploader modules'
docstrings: those cite the API contracts the developers work from, which are not part of this
repository, and a user must never be sent to a file they do not have.  The README's Targets
section says the rest (tests/test_report_targets.py checks every path named exists).
"""

from __future__ import annotations

from pathlib import Path

import click

from importer.cli.options import config_option
from importer.config.settings import load_config
from importer.core.errors import ConfigError
from importer.targets import REGISTRY, make_target
from importer.targets.remote import RemoteTarget

# One line per REGISTRY entry, as in the README's Targets table.
SERVICES = {
    "local": "the embedded ledger: a table in the state database; the default",
    "wallet-v1": "BudgetBakers Wallet REST v1 (walletapp.net)",
    "wallet": "BudgetBakers Wallet REST, the current API (rest.budgetbakers.com)",
    "duitmyself": "duitmyself v1",
    "pocketsmith": "PocketSmith v2",
    "toshl": "Toshl",
    "spendsense": "SpendSense, self-hosted (DRF dialect; Bearer tokens as an option)",
}


@click.group()
def targets() -> None:
    """List target types, or check a configured target's credentials and mapping.

    Targets are configured under `targets:` in importer.yaml; README.md, section Targets, shows how.
    """


@targets.command("list")
@config_option
def list_targets(config_path: Path | None) -> None:
    """The target types this importer knows, and the targets configured."""
    config = load_config(config_path)
    for kind in REGISTRY:
        click.echo(f"{kind:<12} {SERVICES.get(kind, 'see README.md, section Targets')}")
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

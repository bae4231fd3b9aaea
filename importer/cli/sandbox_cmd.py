"""`importer sandbox`: serve fakes of every budgeting service on 127.0.0.1 until Ctrl-C."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click
import yaml

from importer.core.errors import ConfigError

if TYPE_CHECKING:  # FastAPI is imported only when the sandbox is served: it cost a second per CLI start
    from importer.sandbox import Sandbox
    from importer.sandbox.common import Faults


def parse_faults(text: str | None) -> Faults:
    """`latency=0.05,error_rate=0.1,drop_rate=0.1,maintenance,sync_conflicts=5` → Faults."""
    from importer.sandbox.common import Faults

    values: dict[str, object] = {}
    for part in filter(None, (p.strip() for p in (text or "").split(","))):
        key, _, value = part.partition("=")
        values[key] = value or True
    try:
        return Faults.model_validate(values)
    except ValueError as exc:
        known = ", ".join(Faults.model_fields)
        first = exc.errors()[0]["msg"]  # type: ignore[attr-defined]  # pydantic's ValidationError, a ValueError
        raise ConfigError(f"--faults {text!r} is not understood ({first}). Known faults: {known}.") from None


def sandbox_config(sandbox: Sandbox, base: Path = Path("importer.yaml")) -> dict[str, object]:
    """An importer.yaml that points one target per service at `sandbox`: the one in the working
    folder (its accounts, sources, rules: the repository's names the samples' accounts) with
    every target replaced, or just the targets when there is none."""
    from importer.sandbox import SERVICES, target_settings

    targets = {name: target_settings(name, sandbox.url(name)) for name in SERVICES}
    kept = _kept_settings(base)
    return {**kept, "default_target": "wallet", "targets": targets}


def _kept_settings(base: Path) -> dict[str, object]:
    """What of `base` carries over to the sandbox's config (not its state: the demo keeps its own)."""
    if not base.is_file():
        return {}
    try:
        loaded = yaml.safe_load(base.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(
            f"is not valid YAML ({exc}); fix it or run the sandbox from another folder.", path=base
        ) from None
    keep = ("accounts", "currency", "rules")
    return {key: loaded[key] for key in keep if isinstance(loaded, dict) and key in loaded}


@click.command()
@click.option("--port", type=int, default=8765, show_default=True, help="Port on 127.0.0.1 (0: any free port).")
@click.option(
    "--config-out",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write an importer.yaml pointing every target here.",
)
@click.option(
    "--limits",
    type=click.Choice(["on", "off"]),
    default="on",
    show_default=True,
    help="Enforce the services' documented rate limits.",
)
@click.option(
    "--limit-window-scale",
    type=float,
    default=1.0,
    show_default=True,
    help="Shorten the limit windows by this factor (benchmarks: 0.01 makes an hour 36 s).",
)
@click.option(
    "--faults", help="Misbehave: latency=S, error_rate=P, drop_rate=P, maintenance, sync_conflicts=N (comma-separated)."
)
def sandbox(port: int, config_out: Path | None, limits: str, limit_window_scale: float, faults: str | None) -> None:
    """Serve local fakes of all six budgeting services, for trying the importer without accounts."""
    from importer.sandbox import SERVICES, Sandbox
    from importer.sandbox.common import Limits

    server = Sandbox(port, Limits(enabled=limits == "on", window_scale=limit_window_scale), parse_faults(faults))
    for name, service in SERVICES.items():
        click.echo(f"{name:<12} {server.url(name)}   token: {service.token}")
    if config_out is not None:
        config_out.write_text(yaml.safe_dump(sandbox_config(server), sort_keys=False), encoding="utf-8")
        click.echo(f"\nwrote {config_out}; in another shell run:")
    else:
        click.echo("\nthe demo tokens go into these variables:")
    for service in SERVICES.values():
        click.echo(f"export {service.token_env}={service.token}")
    if config_out is not None:
        click.echo(f"importer run samples/ --config {config_out} --target wallet")
    click.echo("\nCtrl-C stops the sandbox.", err=True)
    with server:
        try:
            server.thread.join()
        except KeyboardInterrupt:
            pass

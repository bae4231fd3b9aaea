"""`importer detect FILE`: show how a CSV export is read, and save it as an editable profile."""

from __future__ import annotations

import os
from pathlib import Path

import click
import platformdirs

from importer.cli.options import make_parse_options
from importer.config.paths import APP
from importer.core.errors import ConfigError, InputError
from importer.parsers.base import FileSample, ParseOptions
from importer.parsers.csv.detect import Layout
from importer.parsers.csv.detect import detect as detect_layout
from importer.parsers.csv.profile_io import profile_yaml
from importer.parsers.csv.reader import CsvParser, build_statement

PROFILE_DIR_ENV = "IMPORTER_PROFILE_DIR"


@click.command()
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--save", "save_as", metavar="NAME", help="Write the layout as a profile called NAME.")
@click.option(
    "--profile-dir",
    type=click.Path(path_type=Path, file_okay=False),
    help=f"Folder to save the profile in. Default: ${PROFILE_DIR_ENV}, else the user's profile folder.",
)
@click.option("--profile", help="Read FILE with this profile instead of detecting one.")
@click.option("--date-format", help="strftime format of the date column, when the dates are ambiguous.")
def detect(
    file: Path, save_as: str | None, profile_dir: Path | None, profile: str | None, date_format: str | None
) -> None:
    """Print the profile or the detected layout of the CSV FILE, with the evidence for each choice."""
    options = make_parse_options(None, profile, date_format, None)
    layout, problem = layout_of(file, options)
    show_layout(layout, problem)
    if save_as:
        target = _save(layout, save_as, profile_dir or _default_dir())
        click.echo(f"saved profile {save_as!r} to {target}; edit it, then import with --profile {save_as}")


def layout_of(file: Path, options: ParseOptions) -> tuple[Layout, str | None]:
    """The profile or detected layout of the CSV `file`, and why it cannot be read with it (None: it can).

    Also what `importer init` shows for "name a file you downloaded and I'll detect its layout".
    """
    if options.profile is None and not CsvParser().identify(FileSample.read(file, options)):
        raise InputError(
            file,
            "is not a CSV statement we recognise (no bank profile matches and no column of "
            "dates next to a column of amounts was found).",
        )
    layout = detect_layout(file, options)
    return layout, _try_reading(file, layout, options)


def _try_reading(file: Path, layout: Layout, options: ParseOptions) -> str | None:
    try:
        count = len(build_statement(file, layout, options).transactions)
    except InputError as exc:
        return str(exc)
    layout.evidence.append(f"rows read: {count} transaction(s)")
    return None


def show_layout(layout: Layout, problem: str | None) -> None:
    kind = (
        f"profile {layout.profile.name} ({layout.profile.bank})"
        if layout.named
        else "detected layout (no profile matched)"
    )
    click.echo(f"{kind}")
    for note in layout.evidence:
        click.echo(f"  {note}")
    if problem:
        click.echo(f"  cannot read it yet: {problem}")


def _default_dir() -> Path:
    override = os.environ.get(PROFILE_DIR_ENV)
    return Path(override) if override else Path(platformdirs.user_config_dir(APP)) / "profiles"


def _save(layout: Layout, name: str, folder: Path) -> Path:
    target = folder / f"{name}.yaml"
    if target.exists():
        raise ConfigError(f"a profile file already exists at {target}; choose another name or delete it first.")
    folder.mkdir(parents=True, exist_ok=True)
    target.write_text(profile_yaml(layout, name), encoding="utf-8")
    return target

"""`importer init`: write a commented starter importer.yaml (asks on a terminal, takes flags otherwise)."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import platformdirs

from importer.config import iso_currency, parse_config
from importer.errors import ConfigError
from importer.paths import APP
from importer.starter import StarterAnswers, starter_config


@click.command()
@click.option("--path", "path", type=click.Path(path_type=Path, dir_okay=False), help="Where to write the configuration (default: ./importer.yaml).")
@click.option("--user", "user", is_flag=True, help="Write it to the user config folder, where every command finds it.")
@click.option("--inbox", help="Folder `importer watch` imports from.")
@click.option("--archive", help="Folder imported files are moved to (default: beside the inbox).")
@click.option("--failed", help="Folder files that failed are moved to (default: beside the inbox).")
@click.option("--state", help="State database (default: the user data folder).")
@click.option("--source", help="A folder or glob of statement files to import every month, e.g. '~/Downloads/chase*.csv'.")
@click.option("--account", help="The account the --source files belong to.")
@click.option("--profile", help="The bank CSV profile of the --source files.")
@click.option("--currency", help="ISO 4217 code of the --source files, when they do not say.")
@click.option("--default-currency", help="ISO 4217 code of any statement that does not say its own (the top-level `currency:`).")
@click.option("--interactive/--no-interactive", default=None, help="Ask for each value (default: when on a terminal).")
@click.option("--force", is_flag=True, help="Replace an existing file.")
def init(
    path: Path | None, user: bool, inbox: str | None, archive: str | None, failed: str | None, state: str | None, source: str | None,
    account: str | None, profile: str | None, currency: str | None, default_currency: str | None,
    interactive: bool | None, force: bool,
) -> None:  # fmt: skip
    """Write a commented starter configuration file, ready to edit."""
    path = path or (Path(platformdirs.user_config_dir(APP)) / "importer.yaml" if user else Path("importer.yaml"))
    if path.exists() and not force:
        raise ConfigError("already exists; edit it, or pass --force to replace it with a fresh starter.", path=path)
    answers = StarterAnswers(inbox, archive, failed, state, source, account, profile, currency, default_currency)
    if interactive if interactive is not None else sys.stdin.isatty():
        answers = _ask(answers)
    text = starter_config(answers)
    parse_config(text, path)  # what we write must load: a typo in an answer fails here, not later
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    click.echo(f"wrote {path}; edit it, then run `importer run` (monthly) or `importer watch` (inbox).")


def _ask(given: StarterAnswers) -> StarterAnswers:
    def ask(text: str, value: str | None, default: str = "") -> str | None:
        return value if value is not None else (click.prompt(text, default=default, show_default=bool(default)) or None)

    def ask_currency(text: str, value: str | None) -> str | None:
        # Checked as typed: a typo is asked again at once, not found later when a file is refused.
        if value is not None:
            return value
        answer: str = click.prompt(text, default="", show_default=False, value_proc=_currency_answer)
        return answer or None

    inbox = ask("Inbox folder to watch", given.inbox, "~/Statements/inbox")
    source = ask("A folder or glob of statement files for the monthly run (empty: none)", given.source, "")
    return StarterAnswers(
        inbox=inbox,
        archive=ask("Archive folder", given.archive, str(Path(inbox or ".").parent / "archive")),
        failed=ask("Folder for files that fail", given.failed, str(Path(inbox or ".").parent / "failed")),
        state=ask("State database (empty: the user data folder)", given.state, ""),
        source=source,
        account=ask("Account of those files (empty: the file says)", given.account, "") if source else None,
        profile=ask("Bank CSV profile of those files (empty: detect)", given.profile, "") if source else None,
        currency=ask_currency("Currency of those files (empty: the file says)", given.currency) if source else None,
        default_currency=ask_currency("Currency of any statement that does not say its own, e.g. QIF "
                                      "(ISO 4217 such as USD; empty: none)", given.default_currency),
    )


def _currency_answer(value: str) -> str:
    """An answer to a currency question: empty, or an ISO 4217 code (upper-cased)."""
    try:
        return iso_currency(value.strip() or None) or ""
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None

"""`importer init`: write a commented starter importer.yaml and the example rules it points at.

On a terminal it asks for each value and checks each answer as it is given: a bad answer is
asked again with the reason, and the answers already given are kept (checking only the finished
file would throw them all away over one typo).  Flags go through the same checks and fail as
usage errors (exit 2).  The rules folder is filled from the example rules shipped in the package
and written as `rules:`, so a run from cron in any folder categorises with them.
"""

from __future__ import annotations

import difflib
import glob
import sys
import unicodedata
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import click
import platformdirs

from importer.cli.detect_cmd import layout_of, show_layout
from importer.cli.options import make_parse_options
from importer.config.paths import APP, user_profile_dirs
from importer.config.settings import iso_currency, parse_config
from importer.config.starter import RulesCopy, StarterAnswers, copy_example_rules, starter_config
from importer.core.errors import ConfigError, InputError
from importer.parsers.csv.profiles import all_profiles

Check = Callable[[str], str]


@click.command()
@click.option(
    "--path",
    "path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Where to write the configuration (default: ./importer.yaml).",
)
@click.option("--user", "user", is_flag=True, help="Write it to the user config folder, where every command finds it.")
@click.option("--inbox", help="Folder `importer watch` imports from.")
@click.option("--archive", help="Folder imported files are moved to (default: beside the inbox).")
@click.option("--failed", help="Folder files that failed are moved to (default: beside the inbox).")
@click.option("--state", help="State database (default: the user data folder).")
@click.option(
    "--source", help="A folder or glob of statement files to import every month, e.g. '~/Downloads/chase*.csv'."
)
@click.option("--account", help="The account the --source files belong to.")
@click.option("--profile", help="The bank CSV profile of the --source files.")
@click.option("--currency", help="ISO 4217 code of the --source files, when they do not say.")
@click.option(
    "--default-currency", help="ISO 4217 code of any statement that does not say its own (the top-level `currency:`)."
)
@click.option("--interactive/--no-interactive", default=None, help="Ask for each value (default: when on a terminal).")
@click.option(
    "--force", is_flag=True, help="Replace an existing configuration file (rule files already there are always kept)."
)
def init(
    path: Path | None,
    user: bool,
    inbox: str | None,
    archive: str | None,
    failed: str | None,
    state: str | None,
    source: str | None,
    account: str | None,
    profile: str | None,
    currency: str | None,
    default_currency: str | None,
    interactive: bool | None,
    force: bool,
) -> None:
    """Write a commented starter configuration file, ready to edit, and a rules folder beside it
    holding the example rules (an existing rule file is never replaced)."""
    path = path or (Path(platformdirs.user_config_dir(APP)) / "importer.yaml" if user else Path("importer.yaml"))
    if path.exists() and not force:
        raise ConfigError("already exists; edit it, or pass --force to replace it with a fresh starter.", path=path)
    folder = path.absolute().parent
    answers = _checked_flags(
        StarterAnswers(inbox, archive, failed, state, source, account, profile, currency, default_currency), folder
    )
    if interactive if interactive is not None else sys.stdin.isatty():
        answers = _ask(answers, folder)
    rules = folder / "rules"
    text = starter_config(replace(answers, rules=str(rules)))
    parse_config(text, path)  # what we write must load
    _tell(copy_example_rules(rules), rules)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    click.echo(f"wrote {path}; edit it, then run `importer run` (monthly) or `importer watch` (inbox).")


def _tell(copy: RulesCopy, folder: Path) -> None:
    """Say which example rules were copied and which files already there were kept as they are."""
    if copy.copied:
        click.echo(f"copied {len(copy.copied)} example rule file(s) to {folder}")
    if copy.kept:
        names = ", ".join(str(p.relative_to(folder)) for p in copy.kept)
        click.echo(f"kept {len(copy.kept)} rule file(s) already in {folder}, unchanged: {names}")


def _checks(folder: Path) -> dict[str, Check]:
    """The check of each answer, by StarterAnswers field; relative paths are taken from `folder`."""
    return {
        "inbox": _folder_check(folder),
        "archive": _folder_check(folder),
        "failed": _folder_check(folder),
        "state": _state_check(folder),
        "source": _source_check(folder),
        "account": _account_answer,
        "profile": _profile_name,
        "currency": _currency_answer,
        "default_currency": _currency_answer,
    }


def _checked_flags(given: StarterAnswers, folder: Path) -> StarterAnswers:
    """The flags given, each checked as an interactive answer would be; a bad one is a usage error.

    A good flag is written as given (the configuration normalises it when it is read)."""
    for name, check in _checks(folder).items():
        value = getattr(given, name)
        try:
            if value is not None:
                check(value)
        except click.BadParameter as exc:
            raise click.BadParameter(exc.message, param_hint=f"--{name.replace('_', '-')}") from None
    return given


def _ask(given: StarterAnswers, folder: Path) -> StarterAnswers:
    """Ask for every value no flag gave, each checked as it is typed."""
    checks = _checks(folder)

    def ask(name: str, text: str, default: str = "") -> str | None:
        value: str | None = getattr(given, name)
        if value is not None:
            return value
        answer: str = click.prompt(text, default=default, show_default=bool(default), value_proc=checks[name])
        return answer or None

    inbox = ask("inbox", "Inbox folder to watch", "~/Statements/inbox")
    source = ask("source", "A folder or glob of statement files for the monthly run (empty: none)")
    archive = ask("archive", "Archive folder", str(Path(inbox or ".").parent / "archive"))
    failed = ask("failed", "Folder for files that fail", str(Path(inbox or ".").parent / "failed"))
    state = ask("state", "State database (empty: the user data folder)")
    if source:
        checks["profile"] = _profile_answer
    return StarterAnswers(
        inbox=inbox,
        archive=archive,
        failed=failed,
        state=state,
        source=source,
        account=ask("account", "Account of those files (empty: the file says)") if source else None,
        profile=ask(
            "profile",
            "Bank CSV profile of those files (empty: detect; ? lists them; or name a file "
            "you downloaded and I'll detect its layout)",
        )
        if source
        else None,
        currency=ask("currency", "Currency of those files (empty: the file says)") if source else None,
        default_currency=ask(
            "default_currency",
            "Currency of any statement that does not say its own, e.g. QIF (ISO 4217 such as USD; empty: none)",
        ),
    )


def _resolved(value: str, folder: Path) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else folder / path


def _folder_check(folder: Path) -> Check:
    def check(value: str) -> str:
        value = value.strip()
        if value and _resolved(value, folder).is_file():
            raise click.BadParameter(
                f"{_resolved(value, folder)} is a file, not a folder; name a folder (it is created when missing)."
            )
        return value

    return check


def _state_check(folder: Path) -> Check:
    def check(value: str) -> str:
        value = value.strip()
        if value and _resolved(value, folder).is_dir():
            raise click.BadParameter(
                f"{_resolved(value, folder)} is a folder; name the database file in it, "
                f"e.g. {_resolved(value, folder) / 'state.sqlite'}."
            )
        return value

    return check


def _source_check(folder: Path) -> Check:
    def check(value: str) -> str:
        value = value.strip()
        if not value:
            return value
        fixed = _resolved(value.split("*")[0].split("?")[0].split("[")[0] or ".", folder)
        if glob.has_magic(value) and fixed.parent.is_file():
            raise click.BadParameter(
                f"{fixed.parent} is a file, not a folder; name a folder or a glob such as ~/Downloads/chase*.csv."
            )
        if not glob.glob(str(_resolved(value, folder))):
            click.echo(f"  (nothing matches {value} yet: files that arrive there later are imported)")
        return value

    return check


def _account_answer(value: str) -> str:
    """An account name: one line of printable text (it is shown in every report and matched by name)."""
    value = value.strip()
    if any(unicodedata.category(ch).startswith("C") for ch in value):
        raise click.BadParameter("an account name is one line of printable text, e.g. Chase checking.")
    if len(value) > 100:
        raise click.BadParameter(f"an account name has at most 100 characters; this one has {len(value)}.")
    return value


def _profile_name(value: str) -> str:
    """A known bank profile name (built-in or the user's own), or empty for "detect each file"."""
    value = value.strip()
    known = _known_profiles()
    if value and value not in known:
        raise click.BadParameter(
            f"no bank profile named {value!r}.{_did_you_mean(value, known)} Known profiles: {', '.join(known)}."
        )
    return value


def _known_profiles() -> list[str]:
    return sorted(all_profiles(user_profile_dirs()))


def _did_you_mean(value: str, known: list[str]) -> str:
    # Whole names, then the bank part before the first dash: "chse" is close to "chase", not to "chase-checking".
    close = difflib.get_close_matches(value, known, n=3)
    close += [name for name in known if difflib.SequenceMatcher(None, value, name.split("-")[0]).ratio() >= 0.75]
    names = list(dict.fromkeys(close))[:3]
    return f" Did you mean {' or '.join(names)}?" if names else ""


def _profile_answer(value: str) -> str:
    """An interactive profile answer: a profile name, ? for the list, or a downloaded file whose layout is detected."""
    value = value.strip()
    if value == "?":
        raise click.BadParameter(f"the known profiles are: {', '.join(_known_profiles())}.")
    file = Path(value).expanduser()
    if value and file.is_file():
        return _detected_profile(file)
    known = _known_profiles()
    if value and value not in known:
        raise click.BadParameter(
            f"no bank profile named {value!r}.{_did_you_mean(value, known)} Type ? for the "
            f"{len(known)} known profiles, or name a CSV file you downloaded and I'll detect "
            "its layout."
        )
    return value


def _detected_profile(file: Path) -> str:
    """Detect `file`'s layout and show it: its profile's name, or empty when no profile matches."""
    try:
        layout, problem = layout_of(file, make_parse_options(None, None, None, None))
    except InputError as exc:
        raise click.BadParameter(f"{exc} Name another file, or a profile.") from None
    show_layout(layout, problem)
    if layout.named:
        click.echo(f"  using profile {layout.profile.name}")
        return layout.profile.name
    click.echo(
        f"  no bank profile matches it: its layout is detected at each import (to keep this one, run "
        f"`importer detect {file} --save NAME` and answer NAME here)."
    )
    return ""


def _currency_answer(value: str) -> str:
    """An answer to a currency question: empty, or an ISO 4217 code (upper-cased)."""
    try:
        return iso_currency(value.strip() or None) or ""
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None

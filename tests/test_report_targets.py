"""`importer targets`: what it tells a user names only files the repository has.

The uploader modules cite the API contracts the developers work from (outside the repository);
`targets list` used to print those citations.  Every path that `targets list` or a `targets`
help text mentions must exist in the repository.
"""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from importer.cli import main
from importer.cli.targets_cmd import SERVICES
from importer.targets import REGISTRY
from tests.golden import ROOT

FILE_NAME = re.compile(r"\.(md|json|ya?ml|py|txt|csv|toml|xml|ofx|html)$", re.IGNORECASE)
# The user's own configuration file, which the --config help says where to put: not a project file.
USER_FILES = {"importer.yaml", "./importer.yaml"}


def mentioned_paths(text: str) -> list[str]:
    """The words of `text` that name a file or folder: a file name, or a path with a slash that
    starts with `.` or `/` or ends with `/`.  Web addresses and `account/category` are not paths."""
    words = (word.strip(",;:()[]'\"`").rstrip(".") for word in text.split())
    return [
        w for w in words if "://" not in w and (FILE_NAME.search(w) or ("/" in w and (w[0] in "./" or w.endswith("/"))))
    ]


def test_the_path_finder_finds_what_the_old_listing_cited() -> None:
    old = "BudgetBakers Wallet REST v1, the seed API (API-CONTRACTS.md section 1A); see ../shared/seeds/ and account/category."
    assert mentioned_paths(old) == ["API-CONTRACTS.md", "../shared/seeds/"]


def targets_texts(runner: CliRunner) -> dict[str, str]:
    texts = {}
    for args in (
        ["targets", "list"],
        ["targets", "--help"],
        ["targets", "list", "--help"],
        ["targets", "check", "--help"],
    ):
        result = runner.invoke(main, args)
        assert result.exit_code == 0, result.output
        texts[" ".join(args)] = result.output
    return texts


def test_every_path_targets_mentions_is_in_the_repository(runner: CliRunner) -> None:
    texts = targets_texts(runner)
    mentioned = {(command, path) for command, text in texts.items() for path in mentioned_paths(text)}
    assert ("targets --help", "README.md") in mentioned  # the pointer users get, so the check is not empty
    missing = [
        (command, path) for command, path in sorted(mentioned) if path not in USER_FILES and not (ROOT / path).exists()
    ]
    assert missing == []


def test_targets_list_describes_every_target_type(runner: CliRunner) -> None:
    assert set(SERVICES) == set(REGISTRY)
    listed = runner.invoke(main, ["targets", "list"]).output.splitlines()
    assert [line.split()[0] for line in listed] == list(REGISTRY)
    assert listed[0] == f"{'local':<12} {SERVICES['local']}"


@pytest.mark.parametrize("kind", sorted(REGISTRY))
def test_no_description_cites_a_file(kind: str) -> None:
    assert mentioned_paths(SERVICES[kind]) == []

"""`importer rules test|explain|lint|suggest`, and what the run report says about the rules."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from importer.cli import main
from importer.rules import load_rules
from importer.rules.examples import check_examples
from importer.rules.lint import warnings as lint_warnings
from tests.rules_support import write
from tests.test_cli import RULED_SAMPLES

CHASE = "samples/csv/chase/chase-checking-2026-10.csv"


def test_the_bundled_rules_pass_their_own_examples(runner: CliRunner, tmp_path: Path) -> None:
    # No home currency configured (the repository's importer.yaml has one: see the test below).
    result = runner.invoke(main, ["rules", "test", "--config", str(empty_config(tmp_path))])
    report = check_examples(load_rules([Path("rules")]))
    assert result.exit_code == 0, result.output
    assert report.rules >= 90
    assert report.examples >= report.rules and not report.without_examples
    assert [rule.id for rule in report.unchecked] == ["flag-foreign-currency"]
    assert result.output == (
        "note: 1 rule(s) test `foreign` but no home currency is configured (`currency:` in importer.yaml), so "
        "their examples were not checked: flag-foreign-currency\n"
        f"{report.examples} of {report.examples} examples pass, over {report.rules} rules.\n"
    )


@pytest.mark.parametrize("home", ["GBP", "EUR", "CHF", "USD"])
def test_the_bundled_rules_pass_their_examples_in_every_home_currency(home: str) -> None:
    report = check_examples(load_rules([Path("rules")], home_currency=home))
    assert report.failures == [] and report.unchecked == []
    assert report.examples == check_examples(load_rules([Path("rules")])).examples + 1


def test_failing_examples_are_listed_and_exit_non_zero(runner: CliRunner, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "r.yaml",
        """
        rules:
          - id: uber
            when: {description: uber}
            set: {category: Rides}
            examples: [UBER TRIP]
          - id: uber-eats
            when: {description: uber eats}
            set: {category: Food}
            examples: [UBER EATS 123]
          - id: big
            when: {description: tv, amount: {lt: -500}}
            set: {category: Electronics}
            examples: [{description: BEST BUY TV, amount: -99}]
    """,
    )
    result = runner.invoke(main, ["rules", "test", "--rules", str(path)])
    assert result.exit_code == 1
    assert result.output.replace(str(tmp_path) + "/", "") == (
        "FAIL r.yaml:7 uber-eats: example 'UBER EATS 123' (-10.00) is caught first by the earlier rule 'uber' "
        "(r.yaml:3)\n"
        "FAIL r.yaml:11 big: example 'BEST BUY TV' (-99) is not matched by this rule (fails: amount < -500)\n"
        "1 of 3 examples pass, over 3 rules.\n"
    )


def test_explain_text_shows_the_rule_the_condition_and_near_misses(runner: CliRunner, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "r.yaml",
        """
        rules:
          - {id: big-coffee, when: {description: starbucks, amount: {lt: -50}}, set: {category: Catering}}
          - {id: card-coffee, when: {description: starbucks, memo: card, amount: {lt: -50}}, set: {category: Cafe}}
          - {id: coffee, when: {description: [peets, starbucks]}, set: {category: Coffee, tags: [daily, treat]}}
          - {id: coffee-shop, when: {description: coffee}, set: {category: Never}}
          - {id: typo, when: {description: starbucs}, set: {category: Typo}}
    """,
    )
    result = runner.invoke(
        main,
        [
            "rules",
            "explain",
            "STARBUCKS COFFEE 123",
            "--amount",
            "-6.45",
            "--payee",
            "Starbucks",
            "--memo",
            "CARD PAYMENT",
            "--rules",
            str(path),
        ],
    )
    assert result.exit_code == 0, result.output
    lines = result.output.replace(str(tmp_path) + "/", "").splitlines()
    # 1 of 2 conditions (big-coffee) is no near miss; 2 of 3 (card-coffee) is.  No repr anywhere.
    assert lines[1:] == [
        "  payee:  Starbucks",
        "  memo:   CARD PAYMENT",
        "  fired:  'coffee' (r.yaml:5) because description contains 'starbucks'",
        "          sets category Coffee, tags daily, treat",
        "  later:  'coffee-shop' (r.yaml:6) also matches, but an earlier rule won",
        "  almost: 'card-coffee' (r.yaml:4): 2 of 3 conditions hold; fails: amount < -50",
        "  almost: 'typo' (r.yaml:7): description has only 88% of 'starbucs'",
    ]


def test_explain_a_statement_file(runner: CliRunner) -> None:
    result = runner.invoke(main, ["rules", "explain", "--file", CHASE])
    assert result.exit_code == 0, result.output
    assert sum(1 for line in result.output.splitlines() if not line.startswith(" ")) == 12
    assert (
        "  fired:  'zelle-received' (rules/10-income.yaml:42) because description matches "
        "/^ZELLE FROM (?P<name>.+?) ON \\d/ ('ZELLE FROM JOHN SMITH ON 1') and amount is an inflow (> 0)"
    ) in result.output
    assert "          sets category Income:Reimbursements, payee 'JOHN SMITH'\n" in result.output


def test_explain_needs_text_or_a_file(runner: CliRunner) -> None:
    result = runner.invoke(main, ["rules", "explain"])
    assert result.exit_code == 2 and "give a description TEXT or --file STATEMENT" in result.output


def test_lint_finds_duplicates_conflicts_shadowed_and_unused_rules(runner: CliRunner, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "r.yaml",
        """
        rules:
          - {id: fuel, when: {description: [shell, chevron]}, set: {category: Fuel}}
          - {id: shell-oil, when: {description: shell oil, amount: {lt: 0}}, set: {category: Fuel:Shell}}
          - {id: fuel-again, when: {description: [chevron, shell]}, set: {category: Fuel}}
          - {id: big, when: {amount: {abs: true, between: [100, 200]}}, set: {category: Big}}
          - {id: bigger, when: {amount: {abs: true, between: [100, 200]}}, set: {category: Bigger}}
          - {id: mid, when: {amount: {abs: true, between: [120, 150]}, description: x}, set: {category: Mid}}
          - {id: never, when: {description: unicorn}, set: {category: Magic}}
    """,
    )
    result = runner.invoke(main, ["rules", "lint", "--rules", str(path), "--over", CHASE])
    assert result.exit_code == 1
    lines = result.output.replace(str(tmp_path) + "/", "").splitlines()
    assert lines[:4] == [
        "r.yaml:4 unreachable: rule 'shell-oil' is shadowed by the earlier, broader rule 'fuel' (r.yaml:3)",
        "r.yaml:5 duplicate: rule 'fuel-again' has the same conditions and actions as 'fuel' (r.yaml:3)",
        "r.yaml:7 conflict: rule 'bigger' has the same conditions as 'big' (r.yaml:6) but category 'Bigger' "
        "instead of 'Big'",
        "r.yaml:8 unreachable: rule 'mid' is shadowed by the earlier, broader rule 'big' (r.yaml:6)",
    ]
    assert "r.yaml:9 never-matched: rule 'never' fired for none of the 12 transactions given" in lines
    assert lines[-1] == f"{len(lines) - 1} finding(s) over 7 rules."


def empty_config(folder: Path) -> Path:
    path = folder / "importer.yaml"
    path.write_text("{}\n", encoding="utf-8")
    return path


def test_with_the_repository_config_every_example_is_checked(runner: CliRunner) -> None:
    result = runner.invoke(main, ["rules", "test"])  # ./importer.yaml: currency USD
    report = check_examples(load_rules([Path("rules")], home_currency="USD"))
    assert result.output == f"{report.examples} of {report.examples} examples pass, over {report.rules} rules.\n"
    assert not report.unchecked


def test_lint_is_clean_on_the_bundled_rules_and_warns_about_foreign_without_a_home_currency(
    runner: CliRunner, tmp_path: Path
) -> None:
    result = runner.invoke(main, ["rules", "lint", "--config", str(empty_config(tmp_path))])
    assert result.exit_code == 0
    assert result.output == (
        "warning: rule 'flag-foreign-currency' (rules/00-flags.yaml:25) tests `foreign`, but no home currency is "
        "configured, so it matches nothing; set `currency:` in importer.yaml.\n"
        f"0 finding(s) over {len(load_rules([Path('rules')]))} rules.\n"
    )
    assert lint_warnings(load_rules([Path("rules")], home_currency="GBP")) == []


def test_suggest_learns_categories_from_history_and_its_output_passes_rules_test(
    runner: CliRunner, tmp_path: Path, state_path: Path
) -> None:
    assert runner.invoke(main, ["run", *RULED_SAMPLES, "--state", str(state_path)]).exit_code == 0
    empty = write(tmp_path, "empty.yaml", "rules: []\n")
    result = runner.invoke(main, ["rules", "suggest", CHASE, "--rules", str(empty), "--state", str(state_path)])
    assert result.exit_code == 0, result.output
    suggested = yaml.safe_load(result.output)["rules"]
    by_id = {rule["id"]: rule for rule in suggested}
    assert by_id["suggested-starbucks-store"]["set"] == {"category": "Food:Coffee"}
    assert by_id["suggested-starbucks-store"]["when"] == {"text": {"contains": "STARBUCKS STORE"}}
    # The 2 new rows and the 4 stored ones the rules had made "Starbucks": one merchant, one group.
    assert "# 6 transaction(s) of 'STARBUCKS STORE'" in result.output
    assert "learned from 4 categorised transaction(s)" in result.output
    assert "suggested-starbucks\n" not in result.output
    out = tmp_path / "suggested.yaml"
    out.write_text(result.output, encoding="utf-8")
    assert runner.invoke(main, ["rules", "test", "--rules", str(out)]).exit_code == 0


def test_suggest_without_history_marks_categories_to_choose(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["rules", "suggest", *RULED_SAMPLES, "--no-history"])
    assert result.exit_code == 0
    assert yaml.safe_load(result.output)["rules"] is None  # the bundled rules leave nothing to suggest
    empty = write(tmp_path, "empty.yaml", "rules: []\n")
    result = runner.invoke(main, ["rules", "suggest", CHASE, "--no-history", "--rules", str(empty), "--min-count", "2"])
    assert re.findall(r"- id: (\S+)", result.output) == ["suggested-starbucks-store"]
    assert 'set: {category: "TODO"}  # no history: choose one' in result.output


def test_suggest_never_overwrites_a_file(runner: CliRunner, tmp_path: Path) -> None:
    existing = write(tmp_path, "mine.yaml", "rules: []\n")
    result = runner.invoke(main, ["rules", "suggest", CHASE, "--no-history", "--output", str(existing)])
    assert result.exit_code == 2
    assert "mine.yaml: the file already exists; name a new file, suggestions never overwrite." in result.stderr
    assert existing.read_text() == "rules: []\n"
    fresh = tmp_path / "new.yaml"
    assert runner.invoke(main, ["rules", "suggest", CHASE, "--no-history", "--output", str(fresh)]).exit_code == 0
    assert fresh.read_text().startswith("# Suggested by `importer rules suggest`")


def test_the_run_report_counts_skipped_and_names_uncategorised_payees(
    runner: CliRunner, tmp_path: Path, state_path: Path
) -> None:
    path = write(
        tmp_path,
        "r.yaml",
        """
        rules:
          - {id: skip-coffee, when: {description: starbucks}, set: {skip: true}}
          - {id: shopping, when: {description: [amazon, target]}, set: {category: Shopping}}
    """,
    )
    result = runner.invoke(main, ["run", CHASE, "--rules", str(path), "--state", str(state_path), "--json"])
    report = json.loads(result.stdout)
    assert report["files"][0]["parsed"] == 12 and report["files"][0]["skipped"] == 2
    assert report["totals"]["new"] == 10 and report["totals"]["skipped"] == 2
    coverage = report["coverage"]
    assert coverage["categorised"] == 2 and coverage["uncategorised"] == 8
    assert coverage["top_uncategorised"][0] == {"payee": "SAFEWAY", "count": 1}
    text = runner.invoke(main, ["run", CHASE, "--rules", str(path), "--state", str(state_path)]).output
    assert "uncategorised: 8 of 10; most frequent: SAFEWAY (1), SPOTIFY USA (1)" in text


def test_uncategorised_payees_count_the_same_whether_or_not_a_rule_named_a_payee(
    runner: CliRunner, tmp_path: Path
) -> None:
    # No rule names a payee: the descriptions are counted column-wise (run/file_import.py
    # `_count_uncategorised`); one rule naming a payee takes the row-by-row reference instead.
    shopping = "  - {id: shopping, when: {description: [amazon, target]}, set: {category: Shopping}}\n"
    payee = "  - {id: safeway, when: {description: safeway}, set: {payee: SAFEWAY}}\n"
    coverages = []
    for name, rules in (("fast", shopping), ("reference", shopping + payee)):
        path = write(tmp_path, f"{name}.yaml", "rules:\n" + rules)
        state = str(tmp_path / f"{name}.sqlite")
        result = runner.invoke(main, ["run", CHASE, "--rules", str(path), "--state", state, "--json"])
        coverages.append(json.loads(result.stdout)["coverage"])
    fast, reference = coverages
    assert fast["uncategorised"] == reference["uncategorised"] == 10
    assert fast["top_uncategorised"] == reference["top_uncategorised"]
    assert {"payee": "SAFEWAY", "count": 1} in fast["top_uncategorised"]

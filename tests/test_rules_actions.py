"""Actions, the order rules apply in, `continue`, includes and per-account rule files."""

from __future__ import annotations

from pathlib import Path

from importer.core.models import Statement
from importer.rules import load_rules
from importer.run.pipeline import prepare
from tests.rules_support import fired, rules_from, txn, write


def test_every_action_is_applied(tmp_path: Path) -> None:
    rules = rules_from(
        tmp_path,
        """
        rules:
          - id: savings
            when: {description: transfer to savings}
            set: {category: Transfer:Savings, target_account: Assets:Checking, payee: My savings,
                  tags: [transfer, own], note: monthly, transfer_to: Savings}
    """,
    )
    result = rules.apply(txn("TRANSFER TO SAVINGS 9876", tags=("bank",), notes="from bank"))
    assert result.category == "Transfer:Savings" and result.target_account == "Assets:Checking"
    assert result.payee == "My savings" and result.transfer_to == "Savings" and result.rule_id == "savings"
    assert result.tags == ("bank", "transfer", "own") and result.notes == "from bank; monthly"


def test_payee_and_note_use_regex_groups(tmp_path: Path) -> None:
    rules = rules_from(
        tmp_path,
        r"""
        rules:
          - id: zelle
            when: {description: {regex: '^ZELLE FROM (?P<name>.+?) ON (\d+/\d+)'}}
            set: {payee: '{name}', note: 'sent {2}, {{not a group}}'}
    """,
    )
    result = rules.apply(txn("ZELLE FROM JOHN SMITH ON 10/25 REF # PP0ABC123"))
    assert result.payee == "JOHN SMITH" and result.notes == "sent 10/25, {not a group}"


def test_a_group_of_a_regex_that_did_not_match_is_empty(tmp_path: Path) -> None:
    rules = rules_from(
        tmp_path,
        r"""
        rules:
          - id: r
            when: {any: [{description: {regex: 'CHECK (\d+)'}}, {memo: cheque}]}
            set: {payee: 'Check {1}'}
    """,
    )
    assert rules.apply(txn("PAPER", memo="CHEQUE")).payee == "Check "


def test_skip_drops_the_transaction_and_the_report_counts_it(tmp_path: Path) -> None:
    rules = rules_from(
        tmp_path,
        """
        rules:
          - id: pending
            when: {description: {startswith: PENDING}}
            set: {skip: true}
    """,
    )
    kept, dropped = txn("COFFEE"), txn("PENDING HOTEL")
    applied = rules.apply_all([kept, dropped])
    assert [t.description for t in applied.kept] == ["COFFEE"]
    assert [(t.description, t.rule_id) for t in applied.skipped] == [("PENDING HOTEL", "pending")]
    statement = Statement(path="s.csv", format="csv", account="checking", currency="USD", transactions=(kept, dropped))
    assert [t.description for t in prepare(statement, rules)] == ["COFFEE"]


def test_first_match_wins_top_to_bottom(tmp_path: Path) -> None:
    rules = rules_from(
        tmp_path,
        """
        rules:
          - {id: uber-eats, when: {description: uber eats}, set: {category: Food:Delivery}}
          - {id: uber, when: {description: uber}, set: {category: Transport:Rides}}
    """,
    )
    assert rules.apply(txn("UBER EATS 123")).category == "Food:Delivery"
    assert rules.apply(txn("UBER TRIP")).category == "Transport:Rides"
    assert fired(rules, txn("UBER EATS 123")) == ["uber-eats"]


def test_continue_lets_later_rules_add_but_not_override(tmp_path: Path) -> None:
    rules = rules_from(
        tmp_path,
        """
        rules:
          - {id: large, when: {amount: {abs: true, ge: 500}}, set: {tags: [large], note: check receipt}, continue: true}
          - {id: rent, when: {description: rent}, set: {category: Housing:Rent, tags: [home]}}
          - {id: rent-again, when: {description: rent}, set: {category: Other, tags: [never]}}
    """,
    )
    result = rules.apply(txn("OAKWOOD RENT", "-1450"))
    assert fired(rules, txn("OAKWOOD RENT", "-1450")) == ["large", "rent"]
    assert (result.category, result.tags, result.notes, result.rule_id) == (
        "Housing:Rent",
        ("large", "home"),
        "check receipt",
        "rent",
    )
    assert rules.apply(txn("BIG TV", "-900")).rule_id == "large"


def test_first_rule_setting_a_field_keeps_it(tmp_path: Path) -> None:
    rules = rules_from(
        tmp_path,
        """
        rules:
          - {id: a, when: {description: x}, set: {category: First}, continue: true}
          - {id: b, when: {description: x}, set: {category: Second, payee: From b}}
    """,
    )
    result = rules.apply(txn("X"))
    assert (result.category, result.payee, result.rule_id) == ("First", "From b", "b")


def test_conditions_see_the_bank_text_not_what_earlier_rules_set(tmp_path: Path) -> None:
    rules = rules_from(
        tmp_path,
        """
        rules:
          - {id: a, when: {description: amzn}, set: {payee: Amazon}, continue: true}
          - {id: b, when: {payee: amazon}, set: {category: Never}}
    """,
    )
    assert rules.apply(txn("AMZN MKTP")).category is None


def test_include_splices_rules_in_place_relative_to_the_including_file(tmp_path: Path) -> None:
    write(
        tmp_path,
        "rules/shared/food.yaml",
        """
        rules:
          - {id: coffee, when: {description: coffee}, set: {category: Food:Coffee}}
    """,
    )
    write(
        tmp_path,
        "rules/main.yaml",
        """
        rules:
          - {id: coffee-beans, when: {description: coffee beans}, set: {category: Food:Groceries}}
          - include: shared/food.yaml
          - {id: catch-coffee, when: {description: coffee}, set: {category: Never}}
    """,
    )
    rules = load_rules([tmp_path / "rules"])
    assert [r.id for r in rules.rules] == ["coffee-beans", "coffee", "catch-coffee"]
    assert rules.apply(txn("COFFEE BEANS")).category == "Food:Groceries"
    assert rules.apply(txn("COFFEE SHOP")).category == "Food:Coffee"


def test_a_folder_reads_files_by_name_and_included_files_only_where_included(tmp_path: Path) -> None:
    write(tmp_path, "rules/b.yaml", "rules:\n  - {id: b, when: {description: x}, set: {category: B}}\n")
    write(tmp_path, "rules/a.yaml", "rules:\n  - include: z-part.yaml\n")
    write(tmp_path, "rules/z-part.yaml", "rules:\n  - {id: z, when: {description: x}, set: {category: Z}}\n")
    rules = load_rules([tmp_path / "rules"])
    assert [r.id for r in rules.rules] == ["z", "b"]


def test_accounts_limit_a_file_and_what_it_includes(tmp_path: Path) -> None:
    write(tmp_path, "common.yaml", "rules:\n  - {id: fee, when: {description: fee}, set: {category: Fees}}\n")
    write(
        tmp_path,
        "chase.yaml",
        """
        accounts: [chase-checking]
        rules:
          - {id: zelle, when: {raw.Type: {equals: QUICKPAY_DEBIT}}, set: {category: Zelle}}
          - include: common.yaml
    """,
    )
    rules = load_rules([tmp_path / "chase.yaml"])
    assert rules.apply(txn("MONTHLY FEE", account="chase-checking")).category == "Fees"
    assert rules.apply(txn("MONTHLY FEE", account="savings")).category is None
    assert rules.apply(txn("ZELLE", account="chase-checking", raw={"Type": "QUICKPAY_DEBIT"})).category == "Zelle"


def test_an_empty_rule_set_changes_nothing(tmp_path: Path) -> None:
    from importer.rules import RuleSet

    t = txn("COFFEE")
    assert RuleSet([]).apply(t) == t and RuleSet().apply_all([t]).kept == [t]


def test_the_readme_example_loads_and_passes_its_examples(tmp_path: Path) -> None:
    import re
    import shutil

    from importer.rules.examples import check_examples

    readme = Path("README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Rules") :]
    example = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert example is not None
    (tmp_path / "shared").mkdir()
    shutil.copy("rules/shared/subscriptions.yaml", tmp_path / "shared")
    rules = load_rules([write(tmp_path, "income.yaml", example.group(1))])
    assert [r.id for r in rules.rules][:3] == ["large-outflow", "groceries", "zelle-received"]
    report = check_examples(rules)
    assert report.examples > 0 and not report.failures

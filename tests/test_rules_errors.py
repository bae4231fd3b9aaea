"""Every error a rule file can raise at load time, with file, line, column and the exact text."""

from __future__ import annotations

from pathlib import Path

import pytest

from importer.core.errors import ConfigError
from importer.rules import load_rules

CASES = [
    pytest.param(
        "rules:\n  - id: nested\n    when:\n      any:\n        - description: a\n        - not: {colour: red}\n",
        "t.yaml, line 6, column 17: rule 'nested', when.any.1.not.colour: unknown field 'colour'; fields are: "
        "text, description, payee, memo, account, currency, bank_id, amount, date, value_date, raw.<column>, "
        "foreign (and all, any, not).",
        id="unknown_field_nested",
    ),
    pytest.param(
        "rules:\n  - id: x\n    when: {colour: red}\n",
        "t.yaml, line 3, column 12: rule 'x', when.colour: unknown field 'colour'; fields are: text, description, payee, memo, account, currency, bank_id, amount, date, value_date, raw.<column>, foreign (and all, any, not).",
        id="unknown_field",
    ),
    pytest.param(
        "rules:\n  - id: coffee\n    when:\n      description: {regex: '(STARBUCKS'}\n",
        "t.yaml, line 4, column 28: rule 'coffee', when.description.regex: bad regular expression '(STARBUCKS': missing ), unterminated subpattern at position 0.",
        id="bad_regex",
    ),
    pytest.param(
        "rules:\n  - id: x\n    when:\n      payee: {contain: shell}\n",
        "t.yaml, line 4, column 15: rule 'x', when.payee.contain: unknown test 'contain' for payee; text tests are: contains, regex, equals, startswith, one_of.",
        id="unknown_text_test",
    ),
    pytest.param(
        "rules:\n  - id: x\n    when:\n      amount: {below: 5}\n",
        "t.yaml, line 4, column 16: rule 'x', when.amount.below: unknown test 'below' for amount; amount tests are: lt, le, gt, ge, equals, between, sign, abs.",
        id="unknown_amount_test",
    ),
    pytest.param(
        "rules:\n  - id: x\n    when:\n      amount: {lt: ten}\n",
        "t.yaml, line 4, column 20: rule 'x', when.amount.lt: expected a number, found 'ten'.",
        id="bad_number",
    ),
    pytest.param(
        "rules:\n  - id: x\n    when:\n      amount: {between: [10, -10]}\n",
        "t.yaml, line 4, column 25: rule 'x', when.amount.between: between takes [low, high] with low <= high, found [10, -10].",
        id="bad_between",
    ),
    pytest.param(
        "rules:\n  - id: x\n    when:\n      amount: {between: 10}\n",
        "t.yaml, line 4, column 25: rule 'x', when.amount.between: between takes [low, high], found 10.",
        id="between_shape",
    ),
    pytest.param(
        "rules:\n  - id: x\n    when:\n      amount: {sign: out}\n",
        "t.yaml, line 4, column 22: rule 'x', when.amount.sign: sign is inflow or outflow, found 'out'.",
        id="bad_sign",
    ),
    pytest.param(
        "rules:\n  - id: x\n    when:\n      amount: {abs: yes please, lt: 5}\n",
        "t.yaml, line 4, column 21: rule 'x', when.amount.abs: abs takes true or false, found 'yes please'.",
        id="bad_abs",
    ),
    pytest.param(
        "rules:\n  - id: x\n    when:\n      amount: {abs: true}\n",
        "t.yaml, line 4, column 15: rule 'x', when.amount: amount needs a test besides abs: lt, le, gt, ge, equals, between, sign.",
        id="abs_only",
    ),
    pytest.param(
        "rules:\n  - id: x\n    when:\n      date: {after: 2026-01-01}\n",
        "t.yaml, line 4, column 14: rule 'x', when.date.after: unknown test 'after' for date; date tests are: from, to, day_of_month, weekday, month.",
        id="unknown_date_test",
    ),
    pytest.param(
        "rules:\n  - id: x\n    when:\n      date: {from: 2026-13-01}\n",
        "t.yaml, line 4, column 20: rule 'x', when.date.from: expected a date as YYYY-MM-DD, found '2026-13-01'.",
        id="bad_date",
    ),
    pytest.param(
        "rules:\n  - id: x\n    when:\n      date: {from: 2026-02-01, to: 2026-01-01}\n",
        "t.yaml, line 4, column 13: rule 'x', when.date: date from 2026-02-01 is after to 2026-01-01.",
        id="date_order",
    ),
    pytest.param(
        "rules:\n  - id: x\n    when:\n      date: {day_of_month: 32}\n",
        "t.yaml, line 4, column 28: rule 'x', when.date.day_of_month: day_of_month takes whole numbers from 1 to 31, found 32.",
        id="bad_day",
    ),
    pytest.param(
        "rules:\n  - id: x\n    when:\n      date: {weekday: [sat, funday]}\n",
        "t.yaml, line 4, column 23: rule 'x', when.date.weekday: weekday takes mon, tue, wed, thu, fri, sat, sun, found 'funday'.",
        id="bad_weekday",
    ),
    pytest.param(
        "rules:\n  - id: x\n    when:\n      date: 2026-01-01\n",
        "t.yaml, line 4, column 13: rule 'x', when.date: date takes a mapping of tests: from, to, day_of_month, weekday, month.",
        id="date_not_mapping",
    ),
    pytest.param(
        "rules:\n  - id: x\n    when:\n      any: {description: a}\n",
        "t.yaml, line 4, column 12: rule 'x', when.any: any takes a list of conditions.",
        id="any_not_list",
    ),
    pytest.param(
        "rules:\n  - id: x\n    when:\n      not: 5\n",
        "t.yaml, line 4, column 12: rule 'x', when.not: a condition must be a mapping of fields (or all/any/not) to tests, "
        "or a text (a list of texts) that text contains.",
        id="not_mapping",
    ),
    pytest.param(
        "rules:\n  - id: x\n    when: {}\n",
        "t.yaml, line 3, column 11: rule 'x', when: a condition needs at least one field (or all/any/not) to test.",
        id="empty_when",
    ),
    pytest.param(
        "rules:\n  - id: x\n    when:\n      description: ''\n",
        "t.yaml, line 4, column 20: rule 'x', when.description.contains: expected a non-empty text, found ''.",
        id="empty_text",
    ),
    pytest.param(
        "rules:\n  - id: x\n    when:\n      description: {equals: [a, b]}\n",
        "t.yaml, line 4, column 29: rule 'x', when.description.equals: expected a non-empty text, found ['a', 'b'].",
        id="text_number",
    ),
    pytest.param(
        "rules:\n  - when: {description: a}\n",
        "t.yaml, line 2, column 5: rule #1, id: the key 'id' is missing.",
        id="missing_id",
    ),
    pytest.param(
        "rules:\n  - id: x\n    set: {category: A}\n",
        "t.yaml, line 2, column 5: rule 'x', when: the key 'when' is missing.",
        id="missing_when",
    ),
    pytest.param(
        "rules:\n  - id: x\n    when: {description: a}\n    sett: {category: A}\n",
        "t.yaml, line 4, column 5: rule 'x', sett: unknown key 'sett'; allowed keys are: id, when, set, continue, examples.",
        id="unknown_rule_key",
    ),
    pytest.param(
        "rules:\n  - id: x\n    when: {description: a}\n    set: {categroy: A}\n",
        "t.yaml, line 4, column 11: rule 'x', set.categroy: unknown key 'categroy'; allowed keys are: category, target_account, payee, tags, note, skip, transfer_to.",
        id="unknown_action",
    ),
    pytest.param(
        "rules:\n  - id: x\n    when: {description: a}\n    set: {skip: maybe}\n",
        "t.yaml, line 4, column 17: rule 'x', set.skip: Input should be a valid boolean, unable to interpret input.",
        id="bad_skip",
    ),
    pytest.param(
        "rules:\n  - id: x\n    when: {description: a}\n    examples:\n      - {description: a, amount: lots}\n",
        "t.yaml, line 5, column 34: rule 'x', examples.0.amount: Input should be a valid decimal.",
        id="bad_example",
    ),
    pytest.param(
        "rules:\n  - id: x\n    when: {description: a}\n    examples:\n      - {descr: a}\n",
        "t.yaml, line 5, column 9: rule 'x', examples.0.description: the key 'description' is missing.",
        id="example_key",
    ),
    pytest.param(
        "rules:\n  - id: x\n    when: {description: {regex: 'A(B)'}}\n    set: {payee: 'P {2}'}\n",
        "t.yaml, line 4, column 18: rule 'x', set.payee: 'P {2}' refers to group {2}, but the rule's regexes have 1 group(s).",
        id="template_group",
    ),
    pytest.param(
        "rules:\n  - id: x\n    when: {description: a}\n    set: {payee: 'P {who}'}\n",
        "t.yaml, line 4, column 18: rule 'x', set.payee: 'P {who}' refers to group {who}, but no regex of the rule has a group of that name.",
        id="template_name",
    ),
    pytest.param(
        "rules:\n  - id: x\n    when: {description: a}\n    set: {note: 'a { b'}\n",
        "t.yaml, line 4, column 17: rule 'x', set.note: 'a { b' is not a valid template (expected '}' before end of string); write {{ and }} for braces.",
        id="template_brace",
    ),
    pytest.param(
        "- a\n- b\n",
        "t.yaml, line 1, column 1: a rule file is a mapping with a `rules:` list.",
        id="not_mapping_file",
    ),
    pytest.param(
        "rule:\n  - id: x\n",
        "t.yaml, line 1, column 1: key rule: unknown key 'rule'; allowed keys are: accounts, rules.",
        id="top_key",
    ),
    pytest.param(
        "rules:\n  - just text\n",
        "t.yaml, line 2, column 5: rule #1: each item of `rules` is a rule (id, when, set, ...) or an include.",
        id="item_not_mapping",
    ),
    pytest.param(
        "rules:\n  - id: x\n    when: {description: a\n",
        "t.yaml, line 4, column 1: is not valid YAML: did not find expected ',' or '}'",
        id="bad_yaml",
    ),
    pytest.param(
        "rules:\n  - {id: x, when: {description: a}}\n  - {id: x, when: {description: b}}\n",
        "t.yaml, line 3, column 10: rule 'x', id: the id 'x' is already used by the rule at t.yaml:2; rule ids must be unique.",
        id="dup_id",
    ),
    pytest.param(
        "rules:\n  - include: nowhere.yaml\n",
        "t.yaml, line 2, column 14: rule #1, include: the included file 'nowhere.yaml' does not exist (looked for nowhere.yaml).",
        id="include_missing",
    ),
    pytest.param(
        "rules:\n  - include: t.yaml\n",
        "t.yaml, line 2, column 14: rule #1, include: include cycle: t.yaml -> t.yaml.",
        id="include_self",
    ),
]


@pytest.mark.parametrize(("text", "message"), CASES)
def test_load_time_errors_name_file_line_and_column(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_rules([path])
    assert str(caught.value).replace(str(tmp_path) + "/", "") == message
    assert caught.value.exit_code == 2


def test_an_include_cycle_across_files_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("rules:\n  - include: b.yaml\n")
    (tmp_path / "b.yaml").write_text("rules:\n  - {id: x, when: {description: a}}\n  - include: a.yaml\n")
    with pytest.raises(ConfigError) as caught:
        load_rules([tmp_path])
    assert str(caught.value).replace(str(tmp_path) + "/", "") == (
        "b.yaml, line 3, column 14: rule #2, include: include cycle: a.yaml -> b.yaml -> a.yaml."
    )


def test_duplicate_ids_across_files_name_both(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("rules:\n  - {id: x, when: {description: a}}\n")
    (tmp_path / "b.yaml").write_text("rules:\n\n  - {id: x, when: {description: b}}\n")
    with pytest.raises(ConfigError) as caught:
        load_rules([tmp_path])
    assert str(caught.value).replace(str(tmp_path) + "/", "") == (
        "b.yaml, line 3, column 10: rule 'x', id: the id 'x' is already used by the rule at a.yaml:2; "
        "rule ids must be unique."
    )


def test_a_missing_rule_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_rules([tmp_path / "nope.yaml"])
    assert str(caught.value) == f"{tmp_path / 'nope.yaml'}: the rule file does not exist."

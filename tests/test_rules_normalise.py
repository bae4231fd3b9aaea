"""`normalise_payees`, the batch form the import report counts with, equals `normalise_payee` row by row.

The batch form works the merchant out once per digit-blind text (normalise.py); these tests hold it
to the reference on every line of the samples, on generated lines of booking types and digits,
and on a line whose only word is a number, where the key comes from the digits themselves.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from importer.core.errors import ImporterError
from importer.parsers import ParseOptions, parse_file
from importer.rules.normalise import PayeeKeys, normalise_payee, normalise_payees

SAMPLES = sorted(path for path in Path("samples").rglob("*") if path.is_file() and path.suffix != ".md")
PIECES = ["POS", "PURCHASE", "CARTE", "X1234", "CHECKCARD", "0412", "FACTURE CARTE DU 06/10", "D/D", "VIR SEPA"]
PIECES += ["STARBUCKS", "STORE", "#12", "05512", "1043", "19.99", "SQ *LYFT", "ÉPICERIE", "٣٤", "A1", "3M", "X\0Y"]


def _texts(path: Path) -> list[str]:
    try:
        statements = parse_file(path, ParseOptions())
    except ImporterError:  # a sample that needs options of its own (the QIF one: a date order)
        return []
    rows = [t for statement in statements for t in statement.transactions]
    return [text for t in rows for text in (t.description, t.payee, t.memo) if text]


def test_the_batch_form_equals_the_reference_on_every_sample_line() -> None:
    texts = [text for path in SAMPLES for text in _texts(path)]
    assert len(texts) > 500
    assert normalise_payees(texts) == [normalise_payee(text) for text in texts]


def test_lines_that_differ_only_in_digits_share_a_merchant_but_not_a_fallback() -> None:
    texts = ["STARBUCKS STORE 05512 SAN FRANCISCO CA", "STARBUCKS STORE 91234 OAKLAND CA", "1043 CHECK", "2051 CHECK"]
    assert normalise_payees(texts) == ["STARBUCKS STORE", "STARBUCKS STORE", "1043", "2051"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.sampled_from(PIECES), max_size=6).map(" ".join), max_size=8))
def test_the_batch_form_equals_the_reference_on_generated_lines(texts: list[str]) -> None:
    assert normalise_payees(texts) == [normalise_payee(text) for text in texts]


def test_keys_kept_across_batches_equal_the_reference() -> None:
    keys = PayeeKeys()
    first, second = ["STARBUCKS STORE 05512 OAKLAND CA", "1043 CHECK"], ["STARBUCKS STORE 7 X", "2051 CHECK", "DD"]
    assert keys.of(first) + keys.of(second) == [normalise_payee(text) for text in first + second]
    assert keys.of(first) == ["STARBUCKS STORE", "1043"]
    assert set(keys.merchants) == {"STARBUCKS STORE 00000 OAKLAND CA", "0000 CHECK", "STARBUCKS STORE 0 X", "DD"}
    assert keys.of(["CAFÉ 12\0 RÉSERVÉ 3", "٣٤ CAFÉ 9"]) == ["CAFÉ", "٣٤"]  # a separator in a text; other digits

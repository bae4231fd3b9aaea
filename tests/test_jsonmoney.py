"""The msgspec codec in importer/core/jsonmoney.py equals the stdlib reference it replaced, byte for byte."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from importer.core.jsonmoney import dumps, loads

_MARK = "\u00a7dec\u00a7"


def reference_dumps(obj: Any) -> bytes:
    """The stdlib path: Decimals written as marked strings, then unquoted."""

    def default(value: Any) -> Any:
        if isinstance(value, Decimal):
            return f"{_MARK}{value}"
        raise TypeError(type(value).__name__)

    text = json.dumps(obj, default=default, ensure_ascii=False, separators=(",", ":"))
    return re.sub(f'"{_MARK}(-?[0-9.E+-]+)"', r"\1", text).encode()


def reference_loads(data: bytes) -> Any:
    return json.loads(data, parse_float=Decimal)


money = st.decimals(allow_nan=False, allow_infinity=False, places=None) | st.decimals(
    min_value=-(10**9), max_value=10**9, places=2, allow_nan=False, allow_infinity=False
)
scalars = st.none() | st.booleans() | st.integers(min_value=-(2**80), max_value=2**80) | money | st.text()
bodies = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4), max_leaves=20
)


@settings(max_examples=60, deadline=None)
@given(bodies)
def test_dumps_equals_the_stdlib_reference(body: Any) -> None:
    assert dumps(body) == reference_dumps(body)


@settings(max_examples=60, deadline=None)
@given(bodies)
def test_loads_reads_back_what_the_reference_reads(body: Any) -> None:
    wire = reference_dumps(body)
    assert loads(wire) == reference_loads(wire)
    assert repr(loads(wire)) == repr(reference_loads(wire))  # same Decimal exponents, not just equal values


def test_a_realistic_record_is_byte_identical() -> None:
    record = {
        "accountId": "acc-1",
        "amount": {"value": Decimal("-12.30"), "currencyCode": "EUR"},
        "note": 'Café \u00fcber \u2028 \x1f "quoted" [imp:0123456789abcdef0123]',
        "big": Decimal("1E+2"),
    }
    assert dumps(record) == reference_dumps(record)


def test_errors_keep_the_stdlib_exception_types() -> None:
    with pytest.raises(ValueError):
        loads(b"{not json")
    with pytest.raises(TypeError):
        dumps(object())

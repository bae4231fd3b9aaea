"""The plain-Python date readers (importer/parsers/dates.py) against pandas, the reference.

`_plain_dates` must read every text it takes exactly as pandas' `to_datetime` does, and
`infer_date_format` must answer exactly as `infer_date_format_pandas`: the same format, the same
`Ambiguity` with the same example rows (day/month orders that both read stay a question for the
user), the same `NoDateFormat` row.  Columns are generated from every candidate format, with
the shapes banks write (padded or not, month names in other languages, impossible days, years
out of range, mixed offsets) and with damaged cells.
"""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from importer.parsers import dates
from importer.parsers.dates import CANDIDATE_FORMATS, Ambiguity, NoDateFormat, infer_date_format, parse_dates

_DAYS = st.dates(min_value=dt.date(1940, 1, 1), max_value=dt.date(2110, 12, 31))
_NOISE = st.sampled_from(["", " ", "31/02/2026", "2026-02-30", "13/13/2026", "n/a", "1111-01-01", "32 Oct 2026"])
_ZONES = st.sampled_from(["+0000", "+01:00", "-0500", "+0100"])
_MONTHS_ELSEWHERE = {"Oct": "Okt", "Mar": "März", "Dec": "déc.", "May": "mai"}


@st.composite
def _written(draw: st.DrawFn, fmt: str) -> str:
    """A day written with `fmt` as a bank might: zero-padded or not, a foreign month name, an offset."""
    day = draw(_DAYS)
    moment = dt.datetime(
        day.year, day.month, day.day, draw(st.integers(0, 23)), draw(st.integers(0, 59)), tzinfo=dt.UTC
    )
    text = moment.strftime(fmt.replace("%z", "")) + (draw(_ZONES) if "%z" in fmt else "")
    if draw(st.booleans()):
        text = text.replace("/0", "/").replace(".0", ".").lstrip("0")
    if draw(st.booleans()):
        text = " ".join(_MONTHS_ELSEWHERE.get(word, word) for word in text.split(" "))
    return text


@st.composite
def _column(draw: st.DrawFn) -> list[str]:
    fmt = draw(st.sampled_from(CANDIDATE_FORMATS))
    values = draw(st.lists(_written(fmt), min_size=1, max_size=12))
    if draw(st.integers(0, 4)) == 0:
        values.insert(draw(st.integers(0, len(values))), draw(_NOISE))
    return values


def _answer(infer: object, values: list[str]) -> object:
    try:
        return infer(values)  # type: ignore[operator]
    except NoDateFormat as exc:
        return ("no format", exc.index)


@settings(max_examples=400, deadline=None)
@given(_column())
def test_the_inference_answers_as_pandas_does(values: list[str]) -> None:
    assert _answer(infer_date_format, values) == _answer(dates.infer_date_format_pandas, values)


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(CANDIDATE_FORMATS).flatmap(lambda fmt: st.tuples(st.just(fmt), st.lists(_written(fmt)))))
def test_the_plain_reader_reads_what_it_takes_as_pandas_does(case: tuple[str, list[str]]) -> None:
    fmt, values = case
    texts = [dates.translate_months(v.strip()) for v in dict.fromkeys(values) if v.strip()]
    plain = dates._plain_dates(texts, fmt)
    if plain is not None:
        assert plain == dates._pandas_days(texts, fmt)
    assert parse_dates(values, fmt) == list(map(dates._pandas_dates(list(dict.fromkeys(values)), fmt).get, values))


def test_day_and_month_that_both_read_stay_a_question() -> None:
    values = ["01/02/2026", "03/04/2026", "11/12/2026"]
    found = infer_date_format(values)
    assert found == dates.infer_date_format_pandas(values)
    assert found == Ambiguity(("%d/%m/%Y", "%m/%d/%Y"), (0, 1))
    assert infer_date_format(["01/02/2026", "25/12/2026"]) == "%d/%m/%Y"


def test_the_shapes_of_the_samples_are_read_without_pandas() -> None:
    # Monzo, Revolut and Nationwide write these: each is read by the plain reader.
    cases = {
        "%Y-%m-%d %H:%M:%S %z": ["2026-10-01 10:20:00 +0000", "2026-10-31 23:59:59 +0000"],
        "%Y-%m-%d %H:%M:%S": ["2026-10-01 10:20:00"],
        "%d %b %Y": ["01 Oct 2026", "31 Dec 2026"],
        "%d.%m.%Y %H:%M": ["30.10.2026 09:05"],
    }
    for fmt, texts in cases.items():
        read = dates._plain_dates(texts, fmt)
        assert read is not None and read == dates._pandas_days(texts, fmt), fmt
    assert (
        dates._plain_dates(["2026-10-01 23:30:00 +0100", "2026-10-01 23:30:00 -0500"], "%Y-%m-%d %H:%M:%S %z") is None
    )
    assert dates._plain_dates(["2026-10-01"], "%Y-%m-%d") == {"2026-10-01": dt.date(2026, 10, 1)}
    assert dates._plain_dates(["1 Oct 2026"], "%d %b %Y") is None  # one digit: pandas decides

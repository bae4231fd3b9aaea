"""What the exact dedupe layer reads of a batch's ids (`Store.known`, importer/store/sqlite_dedupe.py):
one statement giving what `accepted_ids`, `aliases_of` and `statuses` give, on both engines."""

from __future__ import annotations

from importer.config.state_location import Location
from importer.core.models import Outcome, UploadResult
from importer.parsers import ParseOptions, parse_file
from importer.store.locate import open_store
from tests.golden import ROOT

CAMT = ROOT / "samples" / "camt" / "giro-2026-10.camt053.xml"


def test_known_is_what_the_three_lookups_give(any_state: Location) -> None:
    txns = [
        t.model_copy(update={"external_id": f"v2:{n:032x}"})
        for n, t in enumerate(parse_file(CAMT, ParseOptions())[0].transactions)
    ]
    ids = [t.external_id or "" for t in txns]
    asked = [*ids, "v2:alias", "v2:unknown", ""]
    with open_store(any_state) as state:
        run = state.begin_run("run")
        state.store_transactions(txns[:3], run, "f" * 64)
        state.set_status([ids[1]], "review")
        state.add_aliases([("v2:alias", ids[0], "other-format")], run)
        state.mark_accepted("local", [UploadResult(external_id=ids[0], outcome=Outcome.ACCEPTED)], run)
        state.mark_accepted("wallet", [UploadResult(external_id=ids[2], outcome=Outcome.ACCEPTED)], run)
        for target in ("local", "wallet", "other"):
            reference = (state.accepted_ids(target, asked), state.aliases_of(asked), state.statuses(asked))
            assert state.known(target, asked) == reference
        assert state.known("local", asked) == (
            {ids[0]},
            {"v2:alias": ids[0]},
            {ids[0]: "ok", ids[1]: "review", ids[2]: "ok"},
        )
        assert state.known("wallet", asked)[0] == {ids[2]}
        assert state.known("local", []) == (set(), {}, {})

"""Transactions as text: the `jsonl` contract, CSV, and a table for people."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from typing import Any, TextIO

from rich.console import Console
from rich.table import Table

from importer.core.models import Transaction

# The jsonl contract of `importer parse`: these keys, in this order, always present.
RECORD_KEYS = (
    "date",
    "amount",
    "currency",
    "description",
    "payee",
    "memo",
    "account",
    "bank_id",
    "balance",
    "category",
    "target_account",
    "tags",
    "notes",
    "transfer_to",
    "rule_id",
    "external_id",
    "source",
)


def transaction_record(txn: Transaction) -> dict[str, Any]:
    """A transaction as plain JSON values: dates ISO, money as exact decimal strings."""
    return {
        "date": txn.date.isoformat(),
        "amount": str(txn.amount),
        "currency": txn.currency,
        "description": txn.description,
        "payee": txn.payee,
        "memo": txn.memo,
        "account": txn.account,
        "bank_id": txn.bank_id,
        "balance": None if txn.balance is None else str(txn.balance),
        "category": txn.category,
        "target_account": txn.target_account,
        "tags": list(txn.tags),
        "notes": txn.notes,
        "transfer_to": txn.transfer_to,
        "rule_id": txn.rule_id,
        "external_id": txn.external_id,
        "source": str(txn.source),
    }


def write_jsonl(txns: Iterable[Transaction], out: TextIO) -> None:
    for txn in txns:
        out.write(json.dumps(transaction_record(txn), ensure_ascii=False) + "\n")


def write_csv(txns: Iterable[Transaction], out: TextIO) -> None:
    writer = csv.DictWriter(out, fieldnames=RECORD_KEYS, lineterminator="\n")
    writer.writeheader()
    for txn in txns:
        record = transaction_record(txn)
        record["tags"] = ";".join(record["tags"])
        writer.writerow(record)


def write_table(txns: Iterable[Transaction], console: Console) -> None:
    table = Table()
    for name in ("date", "amount", "currency", "description", "category", "account"):
        table.add_column(name, justify="right" if name == "amount" else "left", overflow="fold")
    for txn in txns:
        table.add_row(
            txn.date.isoformat(), str(txn.amount), txn.currency, txn.description, txn.category or "", txn.account
        )
    console.print(table)

"""A detected layout written out as a bank profile (YAML) the user can read and edit."""

from __future__ import annotations

from typing import Any

import yaml

from importer.parsers.csv.detect import Layout
from importer.parsers.csv.profiles import ColumnRef

_COLUMN_KEYS = (
    "date",
    "value_date",
    "description",
    "payee",
    "memo",
    "amount",
    "debit",
    "credit",
    "indicator",
    "balance",
    "currency",
    "bank_id",
    "account",
)


def profile_yaml(layout: Layout, name: str) -> str:
    """The profile text: header signature, encoding, delimiter, formats and the column map."""
    data = profile_data(layout, name)
    note = (
        f"# Written by `importer detect` from {layout.text.encoding} text. Check the column map and the\n"
        "# date format; `header:` is the signature that makes this profile match a file.\n"
    )
    return note + yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def profile_data(layout: Layout, name: str) -> dict[str, Any]:
    profile, header = layout.profile, [c.strip() for c in (layout.table.header or [])]
    data: dict[str, Any] = {"name": name, "bank": name if profile.bank == "unknown" else profile.bank}
    if header:
        data["header"] = [h for h in header if h]
    else:
        data["has_header"] = False
    data["encoding"] = layout.text.encoding
    data["delimiter"] = layout.table.delimiter
    for key in ("date_format", "decimal"):
        value = getattr(profile, key) or layout.found.get(key)
        if value:
            data[key] = value
    for key in ("currency", "thousands"):
        if getattr(profile, key):
            data[key] = getattr(profile, key)
    if profile.sign != "normal":
        data["sign"] = profile.sign
    data["columns"] = _columns(layout, header)
    return data


def _columns(layout: Layout, header: list[str]) -> dict[str, Any]:
    columns: dict[str, Any] = {}
    for key in _COLUMN_KEYS:
        value = getattr(layout.profile.columns, key)
        if key == "description":
            if value:
                columns[key] = [_name(ref, header) for ref in value]
        elif value is not None:
            columns[key] = _name(value, header)
    return columns


def _name(ref: ColumnRef, header: list[str]) -> ColumnRef:
    # Header names read better and survive a bank adding a column; indexes only when unnamed.
    if isinstance(ref, int) and ref < len(header) and header[ref] and header.count(header[ref]) == 1:
        return header[ref]
    return ref

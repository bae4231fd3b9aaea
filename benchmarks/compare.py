"""The side-by-side runs: hledger on the same CSV with equivalent rules, and rule files for both.

Our YAML rules and hledger's `if` blocks are written from the same merchant list (the most
frequent merchants of the generated statements), each assigning one category on a
case-insensitive match of the description, first match wins in both.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

from benchmarks.generate import merchants

HLEDGER_HEAD = """# Chase checking CSV, written by benchmarks/compare.py
skip 1
fields details, date, description, amount, type, balance, check, extra
date-format %m/%d/%Y
currency $
account1 assets:checking
account2 expenses:unknown
"""


def category(index: int, name: str) -> str:
    return f"Cat{index % 97}:{re.sub(r'[^A-Za-z]', '', name.split()[0]).title() or 'Other'}"


def write_our_rules(path: Path, count: int) -> Path:
    """`count` rules, one per merchant: `description` contains the merchant's name."""
    lines = ["rules:"]
    for i, name in enumerate(merchants()[:count]):
        lines += [
            f"  - id: m{i}",
            f"    when: {{description: {json.dumps(name)}}}",
            f"    set: {{category: {json.dumps(category(i, name))}}}",
        ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_hledger_rules(path: Path, count: int) -> Path:
    """The same `count` rules as hledger `if` blocks on the description field."""
    blocks = [HLEDGER_HEAD]
    for i, name in enumerate(merchants()[:count]):
        account = category(i, name).replace(":", ":").lower()
        blocks.append(f"if %description {_ere(name)}\n  account2 expenses:{account}\n")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(blocks), encoding="utf-8")
    return path


def _ere(text: str) -> str:
    """`text` as a literal in hledger's (POSIX extended) regular expressions."""
    return re.sub(r"([\\.^$|?*+()\[\]{}])", r"\\\1", text)


def hledger() -> str | None:
    """The hledger executable and its version line, or None where it is not installed."""
    return shutil.which("hledger")


def hledger_version() -> str:
    executable = hledger()
    if executable is None:
        return "not installed"
    done = subprocess.run([executable, "--version"], capture_output=True, text=True, timeout=30)
    return done.stdout.strip().split(",")[0]


def hledger_command(csv_path: Path, rules_path: Path) -> list[str]:
    """What `hledger import` does to a CSV, short of appending: read it through the rules, print it."""
    return [hledger() or "hledger", "-f", f"csv:{csv_path}", "--rules-file", str(rules_path), "print"]

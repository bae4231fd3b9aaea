"""Only importer/store/ speaks SQL (issue 16, item 2).

Every other module asks the `Store` interface (importer/store/base.py) by intention.  This walks
the package's syntax trees and fails naming the module and line of any module outside the store
that imports sqlite3, calls `.execute`/`.executemany`/`.executescript`, reaches a raw connection
(`.db`), or holds an SQL statement in a string (an f-string's literal parts included).  Docstrings
are prose and are not read; comments are not in the tree at all.
"""

from __future__ import annotations

import ast
import inspect
import re
from collections.abc import Callable, Iterator
from pathlib import Path

from importer.store.base import Store
from importer.store.sqlite import SqliteStore, State

PACKAGE = Path(__file__).resolve().parent.parent / "importer"
STORE = PACKAGE / "store"

# A statement, in the upper case the project writes SQL in: a keyword with the word that makes it
# a statement (an HTTP method named "DELETE" alone is not one), or a parameter placeholder.
_SQL = re.compile(
    r"\bSELECT\b.*\bFROM\b|\bSELECT\s+(1|count|EXISTS)\b|\bINSERT\s+(OR\s+\w+\s+)?INTO\b|\bUPDATE\s+\w+\s+SET\b"
    r"|\bDELETE\s+FROM\b|\b(CREATE|DROP|ALTER)\s+(TEMP\s+|UNIQUE\s+)?(TABLE|INDEX|VIEW)\b|\bPRAGMA\s+\w+"
    r"|(=|<>|<=|>=)\s*\?|\bIN\s*\(\{\}\)",
    re.DOTALL,
)
_CALLS = {"execute", "executemany", "executescript"}


def findings(source: str, module: str) -> list[str]:
    """ "module:line: what" for every way `source` speaks SQL itself, by line."""
    tree = ast.parse(source)
    prose = {id(doc) for node in ast.walk(tree) if (doc := _docstring(node)) is not None}
    found = {f"{module}:{node.lineno}: {what}" for node, what in _offences(tree, prose)}
    return sorted(found, key=lambda line: (int(line.split(":")[1]), line))


def _docstring(node: ast.AST) -> ast.Constant | None:
    """The literal that is `node`'s docstring, if it has one."""
    if not isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) or not node.body:
        return None
    first = node.body[0]
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
        return first.value
    return None


def _offences(tree: ast.AST, prose: set[int]) -> Iterator[tuple[ast.AST, str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(a.name.split(".")[0] == "sqlite3" for a in node.names):
            yield node, "imports sqlite3"
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "sqlite3":
            yield node, "imports sqlite3"
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _CALLS:
            yield node, f"calls .{node.func.attr}("
        elif isinstance(node, ast.Attribute) and node.attr == "db":
            yield node, "reaches a raw connection (.db)"
        elif _literal(node, prose) is not None and _SQL.search(_literal(node, prose) or ""):
            yield node, f"holds SQL: {(_literal(node, prose) or '').strip()[:60]!r}"


def _literal(node: ast.AST, prose: set[int]) -> str | None:
    """The text of a string literal or an f-string's literal parts; None for anything else."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in prose:
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
    return None


def package_findings(package: Path) -> list[str]:
    """Every finding in the modules of `package` outside its store/ sub-package."""
    found: list[str] = []
    for path in sorted(package.rglob("*.py")):
        if (package / "store") not in path.parents:
            found += findings(path.read_text(encoding="utf-8"), str(path.relative_to(package.parent)))
    return found


def test_no_module_outside_the_store_speaks_sql() -> None:
    assert package_findings(PACKAGE) == []


def test_the_store_is_where_the_sql_is() -> None:
    # The walk must see SQL where it is, or an empty answer above would prove nothing.
    found = findings((STORE / "sqlite_journal.py").read_text(encoding="utf-8"), "importer/store/sqlite_journal.py")
    assert (
        "importer/store/sqlite_journal.py:24: holds SQL: 'INSERT INTO batches (id, target, key, run_id, size, created_'"
        in found
    )
    assert any(": calls .executemany(" in line for line in found)
    assert any(": reaches a raw connection (.db)" in line for line in found)


# Lines as they stood before the store owned the SQL (issue 16): each must be caught, by line.
BEFORE = '''\
"""Spending per category: SELECT amount FROM transactions is prose here, not SQL."""
import sqlite3
from importer.store.sqlite import State

SPENDING = (
    "status = 'ok' AND pair_id IS NULL AND transfer_to IS NULL "
)


def monthly_totals(state: State) -> None:
    rows = state.db.execute(f"SELECT currency, substr(date, 1, 7), category, amount FROM transactions WHERE {SPENDING}")


def lookup(state: State, txns: list[str]) -> None:
    query = "SELECT external_id FROM ledger WHERE external_id IN ({})"
    state.rows_for(query, txns)


def checkpoint(db: sqlite3.Connection) -> None:
    db.executemany("DELETE FROM ledger WHERE external_id = ?", [])
    _SCHEMA = "CREATE TABLE IF NOT EXISTS statement_balances (account TEXT NOT NULL)"
    request = ("DELETE", "/records")
'''


def test_each_way_of_speaking_sql_is_named_by_module_and_line() -> None:
    assert findings(BEFORE, "importer/reports/spending.py") == [
        "importer/reports/spending.py:2: imports sqlite3",
        "importer/reports/spending.py:11: calls .execute(",
        "importer/reports/spending.py:11: holds SQL: 'SELECT currency, substr(date, 1, 7), category, amount FROM t'",
        "importer/reports/spending.py:11: reaches a raw connection (.db)",
        "importer/reports/spending.py:15: holds SQL: 'SELECT external_id FROM ledger WHERE external_id IN ({})'",
        "importer/reports/spending.py:20: calls .executemany(",
        "importer/reports/spending.py:20: holds SQL: 'DELETE FROM ledger WHERE external_id = ?'",
        "importer/reports/spending.py:21: holds SQL: 'CREATE TABLE IF NOT EXISTS statement_balances (account TEXT '",
    ]


def test_the_sqlite_store_implements_every_method_the_interface_declares_with_its_signature() -> None:
    declared = {
        name: member for name, member in vars(Store).items() if inspect.isfunction(member) and not name.startswith("_")
    }
    assert {"begin_run", "forget_run", "begin_batch", "add_to_ledger", "record_balances", "spending_rows"} <= set(
        declared
    )
    # Parameters, names and annotations alike; return types may narrow (`copy_to` gives a SqliteStore).
    differing = [
        name for name, member in declared.items() if _parameters(getattr(SqliteStore, name)) != _parameters(member)
    ]
    assert differing == []
    assert SqliteStore is State


def _parameters(function: Callable[..., object]) -> list[str]:
    return [str(p) for p in inspect.signature(function).parameters.values()]

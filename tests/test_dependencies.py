"""Runtime dependencies are what runtime imports.

`[project].dependencies` in pyproject.toml is what `pipx install` puts on every user's machine.  It
must name each third-party module `importer/` imports (or a user meets ModuleNotFoundError on the
first file that needs it) and nothing `importer/` never imports (ofxparse, which only tests compare
with, and httptools, which nothing imported, were installed for every user).  Test tools and
reference readers belong in the `test` extra.

An import counts when it can run: `import x` and `from x import y` anywhere in a module, and the
lazy forms `lazy_module("x")` (importer/internals/lazy.py) and `importlib.import_module("x")`.
Imports under `if TYPE_CHECKING:` are for mypy only and do not count.  Which modules a distribution
provides comes from the installed metadata (PyYAML provides `yaml`, pyahocorasick `ahocorasick`).
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from collections import defaultdict
from functools import cache
from importlib.metadata import packages_distributions

from tests.golden import ROOT

PACKAGE = ROOT / "importer"
LAZY_IMPORTS = {"lazy_module", "import_module"}


def _normalise(name: str) -> str:
    """PEP 503: `PyYAML`, `pyyaml` and `py_yaml` name one distribution."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _names(requirements: list[str]) -> set[str]:
    """The distribution names of requirement strings such as `pandas>=2.2` or `uvicorn[standard]`."""
    return {_normalise(re.split(r"[\s<>=!~;\[(@]", requirement, maxsplit=1)[0]) for requirement in requirements}


def _project() -> dict[str, object]:
    with (ROOT / "pyproject.toml").open("rb") as file:
        project: dict[str, object] = tomllib.load(file)["project"]
    return project


def runtime_dependencies() -> set[str]:
    requirements = _project()["dependencies"]
    assert isinstance(requirements, list)
    return _names(requirements)


def extra_requirements() -> set[str]:
    extras = _project()["optional-dependencies"]
    assert isinstance(extras, dict)
    return _names(extras["test"])


def _type_checking(test: ast.expr) -> bool:
    name = test.id if isinstance(test, ast.Name) else test.attr if isinstance(test, ast.Attribute) else None
    return name == "TYPE_CHECKING"


class _Imports(ast.NodeVisitor):
    """The top-level modules a source file imports when it runs, each with its line."""

    def __init__(self) -> None:
        self.found: list[tuple[str, int]] = []

    def visit_If(self, node: ast.If) -> None:
        # Under TYPE_CHECKING only the else branch runs (where the lazy import usually is).
        for child in node.orelse if _type_checking(node.test) else [node.test, *node.body, *node.orelse]:
            self.visit(child)

    def visit_Import(self, node: ast.Import) -> None:
        self.found += [(alias.name.partition(".")[0], node.lineno) for alias in node.names]

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level == 0 and node.module:  # a relative import is our own package
            self.found.append((node.module.partition(".")[0], node.lineno))

    def visit_Call(self, node: ast.Call) -> None:
        called = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
        first = node.args[0] if node.args else None
        if called in LAZY_IMPORTS and isinstance(first, ast.Constant) and isinstance(first.value, str):
            self.found.append((first.value.partition(".")[0], node.lineno))
        self.generic_visit(node)


def imports_of(source: str) -> list[tuple[str, int]]:
    visitor = _Imports()
    visitor.visit(ast.parse(source))
    return visitor.found


@cache
def third_party_imports() -> dict[str, list[str]]:
    """Each third-party module `importer/` imports at run time → where (`importer/x.py:12`)."""
    where: dict[str, list[str]] = defaultdict(list)
    for path in sorted(PACKAGE.rglob("*.py")):
        for module, line in imports_of(path.read_text(encoding="utf-8")):
            if module != "importer" and module not in sys.stdlib_module_names:
                where[module].append(f"{path.relative_to(ROOT)}:{line}")
    return dict(where)


def distributions_of(module: str) -> set[str]:
    return {_normalise(name) for name in _providers().get(module, [])}


@cache
def _providers() -> dict[str, list[str]]:
    """Top-level module → the installed distributions providing it (a scan of every installed one)."""
    return dict(packages_distributions())


def test_every_third_party_module_importer_imports_is_a_runtime_dependency() -> None:
    runtime = runtime_dependencies()
    undeclared = [
        f"{module} (imported at {', '.join(where[:3])}) comes from {sorted(distributions_of(module)) or 'nothing installed'}"
        for module, where in sorted(third_party_imports().items())
        if not distributions_of(module) & runtime
    ]
    assert not undeclared, "add to [project].dependencies in pyproject.toml:\n" + "\n".join(undeclared)


def test_every_runtime_dependency_is_imported_by_importer() -> None:
    imported = set().union(*map(distributions_of, third_party_imports()))
    unused = sorted(runtime_dependencies() - imported)
    assert not unused, (
        f"nothing in importer/ imports {unused}: remove them from [project].dependencies, or move them to the test extra"
    )


def test_the_scan_counts_lazy_imports_and_skips_those_for_mypy_only() -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    import pandas as pd\n"
        "else:\n"
        "    pd = lazy_module('pandas')\n"
        "import yaml, xml.etree.ElementTree\n"
        "from . import sibling\n"
        "def later() -> None:\n"
        "    from starlette.types import Scope\n"
        "    importlib.import_module('keyring.backend')\n"
    )
    assert imports_of(source) == [
        ("typing", 1),
        ("pandas", 5),
        ("yaml", 6),
        ("xml", 6),
        ("starlette", 9),
        ("keyring", 10),
    ]


def test_pandas_is_imported_only_by_the_csv_reader_and_date_inference() -> None:
    # pandas with numpy is most of a cold start (importer/internals/lazy.py): it stays where it pays.
    where = {place.partition(":")[0] for place in third_party_imports()["pandas"]}
    assert where <= {"importer/parsers/csv/detect.py", "importer/parsers/dates.py"}, where


def test_reference_readers_and_tools_are_in_the_test_extra_only() -> None:
    runtime, extra = runtime_dependencies(), extra_requirements()
    assert {"ofxparse", "mypy", "ruff", "types-pyyaml"} <= extra
    assert not {"ofxparse", "httptools", "mypy", "ruff", "pytest"} & runtime
    assert "ofxparse" not in third_party_imports()

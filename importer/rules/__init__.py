"""The rule engine: load YAML rule files, compile them, apply them to transactions.

schema.py (file shape) → parse.py (conditions) → engine.py (Rule, RuleSet, order) with
matcher.py (the literal prefilter) and actions.py; loader.py reads files and includes.
explain.py, lint.py, examples.py and suggest.py serve `importer rules ...`.
"""

from __future__ import annotations

from importer.rules.engine import Applied, Rule, RuleSet
from importer.rules.loader import load_rules

__all__ = ["Applied", "Rule", "RuleSet", "load_rules"]

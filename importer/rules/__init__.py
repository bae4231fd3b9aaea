"""The rule engine: load YAML rule files, compile them, apply them to transactions."""

from __future__ import annotations

from importer.rules.engine import RuleSet
from importer.rules.loader import load_rules

__all__ = ["RuleSet", "load_rules"]

"""The importer's version, on the lowest floor: what every floor may name (the parsed-YAML cache
keys its entries by it).  pyproject.toml's `version` is the same string (tests/test_layout.py)."""

VERSION = "0.1.0"

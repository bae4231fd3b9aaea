"""The importer's version, on the lowest floor: what every floor may name (the parsed-YAML cache
keys its entries by it).  `importer.__version__` and pyproject.toml's `version` are the same string
(tests/test_layout.py): `import importer` loads no sub-package, so it cannot read it from here."""

VERSION = "0.1.0"

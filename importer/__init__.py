"""importer: bank statements in, categorised transactions out, each exactly once."""

__version__ = "0.1.0"

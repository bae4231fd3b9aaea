from tests.sandbox_fixtures import _tokens, sandbox  # noqa: F401  (fixtures)

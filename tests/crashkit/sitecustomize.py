"""Loaded by every Python process the crash harness starts (it puts this folder on PYTHONPATH):
registers the tests-only `loopback` target, so the real `python -m importer run` can use it."""

from tests.loopback import register

register()

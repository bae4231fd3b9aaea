"""The floor everything stands on: the models, the one exception tree, money and currencies.

Depends on nothing else of ours: every other sub-package may import from here, and this package
imports from none of them.
"""

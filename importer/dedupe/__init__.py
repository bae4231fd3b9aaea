"""Duplicate decisions in layers (`layers`: same id, other format, pending to posted, probable)
and own-account transfer pairing (`transfers`)."""

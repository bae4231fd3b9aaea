"""OFX/QFX 1.x (SGML) and 2.x (XML): the fast reader (`fast`, `rows`) and the tree reader it
is checked against (`tree`), sharing value parsing (`values`, `text`)."""

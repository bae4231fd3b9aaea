"""A fuzz harness for the parsers: "never a wrong number".

Every file under samples/ and a fixed selection of the shared corpus is mutated (`mutators`):
cut at line ends and at random bytes, bytes flipped, a letter slipped into an amount or a
date, NUL bytes, a repeated CSV header, a 50 MB line, a 10^5-column row, deep XML nesting and
entity bombs.  Each mutated copy is parsed through the public `parse_file` (`runner`) and must
be refused with an `InputError` naming the file, or read to values that the unmutated file
holds: never a number the file does not say, never a traceback, never a hang.

    python -m tests.fuzz              the table for the issue notes (default budget)
    python -m tests.fuzz --slow       the large budget (IMPORTER_SLOW=1 runs it in the tests)
    python -m tests.fuzz --only CASE  rerun the cases whose id contains CASE, with messages
"""

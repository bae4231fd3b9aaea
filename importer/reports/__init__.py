"""What a run tells people: the run summary, the spending report (text and HTML), the
missing-statement warnings and the transaction output formats."""

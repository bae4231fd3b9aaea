"""The state: the only package that holds SQL.  `sqlite` is the embedded default."""

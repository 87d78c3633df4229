"""matrix: the roster, the management rules, cases and their SLA clock, and storage.

`matrix` owns the database. It reads records from `crawler` and scores from `sentiment`;
`dashboard` reads through `matrix.reading.queries`.
"""

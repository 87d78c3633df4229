"""Research exports: posts, cases, events, accounts and rankings as CSV, JSONL or XLSX with datapackage.json.

Python API in `matrix.export.api` (export_table, export_tables, export_bytes, export_zip); CLI `wzmon export`
in `matrix.export.cli`. Citizens are pseudonymised (matrix.export.pseudonym), spreadsheet formulas
neutralised (matrix.export.safety), identified exports gated by role (matrix.export.access).
"""

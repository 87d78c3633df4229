"""The `wzmon` command line: the root group and matrix's commands (core, case work, ops, calendar, demo)."""

"""Reading functions for the board, reports and rankings: the only way the dashboard sees the data."""

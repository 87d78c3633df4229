"""Storage: the database, its tables and migrations, and the bulk writers and rollups the rest reads."""

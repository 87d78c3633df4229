"""Polling: the poller's stored state (cursors, leases, the shared budget) and the ingest of pages and archives into cases."""

"""Scale tests: leases, the shared budget, several pollers, schema upgrades and copies, status."""
from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def scorer():
    """The default sentiment model, loaded once for every poller of the session."""
    import sentiment

    return sentiment.get_model("default")


@pytest.fixture(scope="session")
def policy():
    from matrix.rules.policy import load_policy

    return load_policy()


def pg_only(db_url: str) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("several poller processes: PostgreSQL only (SQLite is one machine, one writer)")

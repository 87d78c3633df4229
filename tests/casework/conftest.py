"""Fixtures for the casework tests: the shipped policy and a fresh database holding a small matrix."""
from __future__ import annotations

from typing import Any

import pytest

from casework_helpers import World
from matrix.storage.db import open_db
from matrix.rules.policy import load_policy


@pytest.fixture(scope="session")
def policy():
    return load_policy()


@pytest.fixture
def world(db_url: str, policy: Any) -> World:
    return World(open_db(db_url), policy)

"""Fixtures for the board's tests: a seeded database, a users file, the AppTest factory."""
from __future__ import annotations

from pathlib import Path

import pytest

from dashboard import auth
from dashboard_seed import APP, PASSWORDS, A, B, Seeded, seed
from matrix.storage.db import open_db


@pytest.fixture
def seeded(db_url: str) -> tuple[str, Seeded]:
    engine = open_db(db_url)
    return db_url, seed(engine)


@pytest.fixture(scope="session")
def users_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("users") / "users.toml"
    auth.add_user(path, "office", role="office", password=PASSWORDS["office"], display_name="问政办值班", rounds=4)
    auth.add_user(path, "police", role="member", password=PASSWORDS["police"], accounts=[A], rounds=4)
    auth.add_user(path, "edu", role="member", password=PASSWORDS["edu"], accounts=[B], rounds=4)
    return path


@pytest.fixture
def board_env(monkeypatch: pytest.MonkeyPatch, seeded: tuple[str, Seeded], users_file: Path):  # noqa: ANN201
    """Environment for an AppTest run on the seeded database, sign-in by the users file (demo tests unset it)."""
    url, data = seeded
    monkeypatch.setenv("WZMON_DB", url)
    monkeypatch.setenv("WZMON_USERS", str(users_file))
    import streamlit as st

    st.cache_data.clear()
    return url, data

"""docs/ARCHITECTURE.md stays true: every file, folder, module and name it points to exists, and every contract
it lists is one that `lint-imports` checks (read from pyproject.toml)."""
from __future__ import annotations

import importlib
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DOC = (REPO / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
PACKAGES = ("crawler", "sentiment", "matrix", "dashboard")
# backticked tokens; a row of the concern table lists files of the package named in its first cell
TICKED = re.findall(r"`([^`\s]+)`", DOC)


def _paths() -> set[str]:
    out = {t for t in TICKED if "/" in t and t.split("/")[0] in PACKAGES + ("tests", "docs")}
    for row in re.findall(r"^\| `([a-z/]+/)` \| (.+) \|$", DOC, re.M):
        folder, cells = row
        for name in re.findall(r"`([\w./]+)`", cells):
            if "/" not in name.rstrip("/") and (name.endswith(".py") or name.endswith("/")):
                out.add(folder + name)
    return {p.split("<")[0] for p in out if "<" not in p.split("/")[0]}


def _dotted() -> set[str]:
    return {t.split("(")[0] for t in TICKED if re.fullmatch(r"(crawler|sentiment|matrix|dashboard)(\.\w+)+(\(.*)?", t)}


@pytest.mark.parametrize("path", sorted(_paths()))
def test_every_path_named_exists(path: str) -> None:
    assert (REPO / path).exists(), f"docs/ARCHITECTURE.md names {path}, which is not in the repository"


@pytest.mark.parametrize("name", sorted(_dotted()))
def test_every_module_and_name_named_imports(name: str) -> None:
    parts = name.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attr in parts[cut:]:
            assert hasattr(obj, attr), f"docs/ARCHITECTURE.md names {name}: {attr} not found"
            obj = getattr(obj, attr)
        return
    pytest.fail(f"docs/ARCHITECTURE.md names {name}, which does not import")


def test_the_contracts_listed_are_the_contracts_checked() -> None:
    checked = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    listed = re.findall(r"^\d+\. \*\*", DOC.split("## The contracts")[1].split("\n## ")[0], re.M)
    assert len(listed) == len(checked), (len(listed), [c["name"] for c in checked])


def test_lint_imports_keeps_every_contract() -> None:
    exe = Path(sys.executable).with_name("lint-imports")
    r = subprocess.run([str(exe), "--no-cache"], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    assert f"{len(tomllib.loads((REPO / 'pyproject.toml').read_text())['tool']['importlinter']['contracts'])} kept, 0 broken" in r.stdout

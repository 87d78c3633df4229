"""Starting the board as a real Streamlit server (for `wzmon dashboard`, the demo and the browser tests)."""
from __future__ import annotations

import errno
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

APP = Path(__file__).resolve().parent / "app.py"


class PortInUseError(Exception):
    """The port is taken; the message says which and what to do."""


def port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server does: TIME_WAIT is no conflict
        try:
            s.bind((host, port))
        except OSError as exc:
            return exc.errno in (errno.EADDRINUSE, errno.EACCES)
    return False


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def command(port: int, host: str) -> list[str]:
    return [
        sys.executable, "-m", "streamlit", "run", str(APP),
        "--server.port", str(port),
        "--server.address", host,
        "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
        "--server.fileWatcherType", "none",
        "--server.runOnSave", "false",
        "--client.toolbarMode", "minimal",
        "--theme.base", "light",
    ]


def url_for(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
    return f"http://{shown}:{port}"


def launch(
    db_url: str,
    *,
    port: int = 8501,
    host: str = "127.0.0.1",
    users: str | os.PathLike[str] | None = None,
    policy: str | None = None,
    extra_env: dict[str, str] | None = None,
    stdout: int | None = None,
    stderr: int | None = None,
) -> subprocess.Popen[bytes]:
    """Start `streamlit run dashboard/app.py` in a child process; raises PortInUseError first if taken."""
    if port_in_use(host, port):
        raise PortInUseError(f"port {port} on {host} is already in use: stop what runs there or pick --port")
    env = dict(os.environ)
    env["WZMON_DB"] = db_url
    env.pop("WZMON_USERS", None)
    if users:
        env["WZMON_USERS"] = str(Path(users).expanduser().resolve())
    if policy:
        env["WZMON_POLICY"] = policy
    env.setdefault("PYTHONIOENCODING", "utf-8")
    env.update(extra_env or {})
    root = str(APP.parent.parent)
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return subprocess.Popen(command(port, host), env=env, cwd=root, stdout=stdout, stderr=stderr)


def wait_ready(base_url: str, proc: subprocess.Popen[bytes] | None = None, timeout: float = 60.0) -> None:
    """Block until the server answers its health check (RuntimeError if it dies or times out)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"the board exited with code {proc.returncode} before it was ready")
        try:
            with urllib.request.urlopen(base_url + "/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the board at {base_url} did not answer within {timeout:.0f} s")

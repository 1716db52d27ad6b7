"""wgtui on Python 3.10 (Ubuntu 22.04's python3): installed from scratch, the CLI and the dashboard run."""

from __future__ import annotations

import fcntl
import glob
import json
import os
import pty
import select
import shutil
import signal
import subprocess
import termios
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent


def python310() -> str | None:
    """An interpreter this machine has: on PATH, or one of pyenv's."""
    found = shutil.which("python3.10")
    if found and subprocess.run([found, "--version"], capture_output=True).returncode == 0:
        return found
    for candidate in sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.10*/bin/python3.10"))):
        return candidate
    return None


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    interpreter = python310()
    if interpreter is None:
        pytest.skip("no Python 3.10 on this machine (python3.10 on PATH or in ~/.pyenv/versions)")
    where = tmp_path_factory.mktemp("py310") / "venv"
    subprocess.run([interpreter, "-m", "venv", str(where)], check=True, timeout=120)
    done = subprocess.run([str(where / "bin" / "python"), "-m", "pip", "install", "--quiet", str(ROOT)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    return where


def run(venv: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(venv / "bin" / "wgtui"), *args], capture_output=True, text=True, timeout=120, cwd=cwd)


def test_the_command_line_works_on_310(venv: Path, tmp_path: Path) -> None:
    version = subprocess.run([str(venv / "bin" / "python"), "--version"], capture_output=True, text=True)
    assert version.stdout.startswith("Python 3.10")
    shown = run(venv, "show", "--demo", "5", "--json", "--config-dir", str(tmp_path), cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert len(json.loads(shown.stdout)["interfaces"]) == 2
    added = run(venv, "peer", "add", "wg0", "--name", "py310", "--allowed-ips", "10.8.0.250/32", "--file-only",
                "--config-dir", str(tmp_path), "--yes", cwd=tmp_path)
    assert added.returncode == 0, added.stderr
    assert "# friendly_name = py310" in (tmp_path / "wg0.conf").read_text() or "py310" in (tmp_path / "wg0.conf"
                                                                                          ).read_text()
    assert run(venv, "check", "wg0", "--config-dir", str(tmp_path), cwd=tmp_path).returncode == 0
    imported = subprocess.run([str(venv / "bin" / "python"), "-c", "import wgtui.ui.app, wgtui.cli.peer"],
                              capture_output=True, text=True, cwd=tmp_path)
    assert imported.returncode == 0, imported.stderr


def test_the_dashboard_runs_on_310(venv: Path, tmp_path: Path) -> None:
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, b"\x18\x00\x50\x00\x00\x00\x00\x00")
    proc = subprocess.Popen([str(venv / "bin" / "wgtui"), "--demo", "20"], stdin=slave, stdout=slave, stderr=slave,
                            start_new_session=True, cwd=tmp_path, env={**os.environ, "TERM": "xterm-256color"})
    os.close(slave)
    seen = b""
    deadline = time.monotonic() + 30
    try:
        while b"online" not in seen and time.monotonic() < deadline:
            if select.select([master], [], [], 0.2)[0]:
                try:
                    seen += os.read(master, 65536)
                except OSError:
                    break  # the program ended: what it printed is in `seen`
        assert b"online" in seen, seen[-500:]
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 128 + signal.SIGTERM
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)

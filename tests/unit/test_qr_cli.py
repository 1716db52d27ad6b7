"""`wgtui peer qr`: the saved client config as a terminal QR code, or a PNG that a real decoder reads back exactly."""

from __future__ import annotations

import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.unit.pipeline_fixtures import server
from wgtui.changes import Planner, transaction

ROOT = Path(__file__).resolve().parent.parent.parent


def qr(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "wgtui", "peer", "qr", *args], capture_output=True, text=True,
                          timeout=60, cwd=ROOT)


@pytest.fixture
def saved(tmp_path: Path) -> Path:
    backend, conf = server(tmp_path)
    assert transaction.run(Planner("wg0", conf, backend).add("carol", preshared_key=True), backend).ok
    return tmp_path / "clients" / "wg0-carol.conf"


def test_the_png_decodes_to_exactly_the_saved_config(tmp_path: Path, saved: Path) -> None:
    if shutil.which("zbarimg") is None:
        pytest.skip("zbarimg (apt-get install zbar-tools) decodes the PNG")
    png = tmp_path / "carol.png"
    done = qr("wg0", "carol", "--config-dir", str(tmp_path), "--png", str(png))
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE(png.stat().st_mode) == 0o600 and png.read_bytes().startswith(b"\x89PNG")
    decoded = subprocess.run(["zbarimg", "--raw", "-q", str(png)], capture_output=True, text=True, timeout=30)
    assert decoded.returncode == 0 and decoded.stdout.rstrip("\n") == saved.read_text().rstrip("\n")


def test_the_terminal_code_and_the_refusals(tmp_path: Path, saved: Path) -> None:
    shown = qr("wg0", "carol", "--config-dir", str(tmp_path))
    assert shown.returncode == 0 and "▀" in shown.stdout and str(saved) in shown.stdout
    assert "\033[" not in shown.stdout  # not a terminal: characters only
    missing = qr("wg0", "alice", "--config-dir", str(tmp_path))
    assert missing.returncode == 1 and "No saved client config for alice" in missing.stderr
    saved.write_text(saved.read_text().replace("Address = ", "Address = 10.9.9.9/32, "))
    warned = qr("wg0", "carol", "--config-dir", str(tmp_path))
    assert warned.returncode == 0 and "warning: Its Address is" in warned.stderr

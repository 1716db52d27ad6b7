"""`wgtui check` as a user runs it: line numbers, JSON, exit codes, the directory rule, special files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.unit.pipeline_fixtures import ALICE, CONF

ROOT = Path(__file__).resolve().parent.parent.parent


def check(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "wgtui", "check", *args], capture_output=True, text=True,
                          timeout=60, cwd=ROOT)


def test_a_good_file_has_no_errors_and_exits_0(tmp_path: Path) -> None:
    (tmp_path / "wg0.conf").write_text(CONF)
    (tmp_path / "wg0.conf").chmod(0o600)
    done = check("wg0", "--config-dir", str(tmp_path))
    assert done.returncode == 0 and "no errors, no warnings" in done.stdout, done.stdout + done.stderr


def test_errors_come_with_line_numbers_and_exit_1(tmp_path: Path) -> None:
    conf = tmp_path / "wg0.conf"
    conf.write_text(CONF + f"\n[Peer]\nPublicKey = {ALICE}\nAllowedIPs = 10.8.0.2/32\nSaveConfig = true\n")
    conf.chmod(0o644)
    done = check("wg0", "--config-dir", str(tmp_path))
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert any(line.startswith(f"{conf}:25: error:") and "same PublicKey" in line for line in lines), lines
    assert any(": warning:" in line and "0644" in line for line in lines)  # readable by others: holds a key
    assert lines[-1].endswith("warning(s)")
    doc = json.loads(check("wg0", "--config-dir", str(tmp_path), "--json").stdout)
    assert doc["errors"] >= 1 and {"severity", "line", "code", "message"} == set(doc["findings"][0])
    assert {"duplicate-public-key", "mode"} <= {f["code"] for f in doc["findings"]}


def test_an_unsafe_directory_and_special_files_are_errors(tmp_path: Path) -> None:
    (tmp_path / "wg0.conf").write_text(CONF)
    tmp_path.chmod(0o777)
    try:
        done = check("wg0", "--config-dir", str(tmp_path))
    finally:
        tmp_path.chmod(0o700)
    assert done.returncode == 1 and "chmod go-w" in done.stdout
    os.mkfifo(tmp_path / "wg1.conf")
    fifo = check("wg1", "--config-dir", str(tmp_path))
    assert fifo.returncode == 1 and "a FIFO" in fifo.stdout
    missing = check("wg9", "--config-dir", str(tmp_path))
    assert missing.returncode == 1 and "There is no file" in missing.stdout

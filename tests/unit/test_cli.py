"""The command line without WireGuard: help that explains, show --json on the demo, usage errors, pipes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from wgtui.cli import build_parser, main

ROOT = Path(__file__).resolve().parent.parent.parent


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "wgtui", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=60, input=stdin)


def test_help_explains_every_option_and_the_states(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--help"])
    assert done.value.code == 0
    text = capsys.readouterr().out
    for option in ("--demo", "--interface", "--config-dir", "--interval", "--online-after", "--read-only"):
        assert option in text
    assert "REJECT_AFTER_TIME" in text and "sudo wgtui" in text
    sub = build_parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    assert {"show", "peer"} <= set(sub)


def test_show_json_on_the_demo_follows_the_documented_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", "--demo", "6", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert isinstance(doc["time"], int)
    iface = next(i for i in doc["interfaces"] if i["name"] == "wg0")
    assert set(iface) == {"name", "backend", "up", "error", "public_key", "listen_port", "fwmark", "peers",
                          "interrupted_change"}
    assert iface["interrupted_change"] is None
    assert iface["backend"] == "demo" and len(iface["peers"]) == 6
    peer = iface["peers"][0]
    assert set(peer) == {"name", "public_key", "endpoint", "allowed_ips", "latest_handshake", "rx_bytes",
                         "tx_bytes", "persistent_keepalive", "has_preshared_key", "state", "key_created", "rotation",
                         "expires", "quota", "disabled_reason", "rx_total", "tx_total"}
    assert all(p["state"] in ("online", "stale", "never") for p in iface["peers"])
    for p in iface["peers"]:  # never is null, not 0 (the schema in the README)
        assert (p["latest_handshake"] is None) == (p["state"] == "never")
        assert p["latest_handshake"] is None or isinstance(p["latest_handshake"], int)


def test_usage_errors_exit_2_and_refusals_exit_1(tmp_path: Path) -> None:
    assert run("--interval", "abc").returncode == 2
    assert run("peer", "add", "wg0").returncode == 2  # --name is required
    (tmp_path / "wg0.conf").write_text("[Interface]\nListenPort = 1\n")
    refused = run("peer", "add", "wg0", "--name", "a#b", "--file-only", "--config-dir", str(tmp_path), "--yes")
    assert refused.returncode == 1 and "'#'" in refused.stderr and "Traceback" not in refused.stderr
    unconfirmed = run("peer", "add", "wg0", "--name", "ok", "--allowed-ips", "10.0.0.2/32", "--file-only",
                      "--config-dir", str(tmp_path), stdin="")
    assert unconfirmed.returncode == 1 and "--yes" in unconfirmed.stderr
    assert (tmp_path / "wg0.conf").read_text() == "[Interface]\nListenPort = 1\n"  # nothing changed


def test_a_reader_that_leaves_early_is_not_a_traceback() -> None:
    proc = subprocess.Popen([sys.executable, "-m", "wgtui", "show", "--demo", "2000"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, cwd=ROOT)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.readline()
    proc.stdout.close()  # like `| head -1`
    err = proc.stderr.read().decode()
    proc.wait(timeout=60)
    assert "Traceback" not in err and "BrokenPipe" not in err


def test_global_options_work_before_the_sub_command(tmp_path: Path) -> None:
    key = "9QrmlRTajGWc4rEMzNrr+ZDRmDiw1+wLPpeBjsuWxNs="
    (tmp_path / "wg0.conf").write_text("[Interface]\nListenPort = 1\n\n[Peer]\n# friendly_name = dora\n"
                                       f"PublicKey = {key}\nAllowedIPs = 10.0.0.2/32\n")
    before = run("--config-dir", str(tmp_path), "peer", "remove", "wg0", "dora", "--file-only", "--dry-run")
    after = run("peer", "remove", "wg0", "dora", "--file-only", "--dry-run", "--config-dir", str(tmp_path))
    assert before.returncode == after.returncode == 0 and before.stdout == after.stdout
    shown = run("--demo", "3", "show", "--json")
    assert shown.returncode == 0 and len(json.loads(shown.stdout)["interfaces"]) == 2
    assert run("--demo", "3", "peer", "remove", "wg0", "x").returncode == 2  # --demo changes nothing real


def test_show_json_without_any_interface_still_prints_json(tmp_path: Path) -> None:
    done = run("show", "nosuch9", "--json")
    assert done.returncode == 1 and json.loads(done.stdout)["interfaces"] == []
    assert "nosuch9" in json.loads(done.stdout)["error"] and "kernel module is not loaded" not in done.stderr

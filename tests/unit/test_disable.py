"""Disable and enable: off the interface and commented out, then back with the same bytes, keys and settings."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.unit.pipeline_fixtures import BOB, BOB_PSK, CONF, server
from wgtui.changes import ChangeRefused, Planner, transaction
from wgtui.changes.disable import plan_disable, plan_enable
from wgtui.conf import Document
from wgtui.model import PeerState

ROOT = Path(__file__).resolve().parent.parent.parent


def test_disable_then_enable_gives_back_the_file_and_the_live_peer(tmp_path: Path) -> None:
    backend, conf = server(tmp_path)
    before = dict(backend.ifaces["wg0"])
    off = plan_disable(Planner("wg0", conf, backend), "bob")
    assert transaction.run(off, backend).ok
    assert BOB not in backend.ifaces["wg0"]
    text = conf.read_text()
    assert "#[disabled] ### Client bob\n#[disabled] [Peer]\n" in text
    assert f"#[disabled] PresharedKey = {BOB_PSK}" in text
    assert Document.read(conf).find_peer(BOB) is None
    on = plan_enable(Planner("wg0", conf, backend), "bob")
    assert transaction.run(on, backend).ok
    assert conf.read_text() == CONF
    assert backend.ifaces["wg0"][BOB] == before[BOB] and backend.psks[("wg0", BOB)] == BOB_PSK


def test_enable_is_refused_when_its_address_was_given_away(tmp_path: Path) -> None:
    backend, conf = server(tmp_path)
    assert transaction.run(plan_disable(Planner("wg0", conf, backend), "bob"), backend).ok
    assert transaction.run(Planner("wg0", conf, backend).add("carol", allowed_ips="10.8.0.3/32"), backend).ok
    with pytest.raises(ChangeRefused, match=r"10\.8\.0\.3/32 already belongs to carol"):
        plan_enable(Planner("wg0", conf, backend), "bob")
    with pytest.raises(ChangeRefused, match="No disabled peer 'nobody'"):
        plan_enable(Planner("wg0", conf, backend), "nobody")


def test_a_live_only_peer_cannot_be_disabled(tmp_path: Path) -> None:
    backend, conf = server(tmp_path)
    backend.ifaces["wg0"]["X" * 43 + "="] = PeerState("X" * 43 + "=")
    with pytest.raises(ChangeRefused, match="only on the running interface"):
        plan_disable(Planner("wg0", conf, backend), "X" * 43 + "=")


def test_show_lists_disabled_peers_with_their_state(tmp_path: Path) -> None:
    from wgtui import keys

    def show(*extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "wgtui", "show", "--demo", "3", "--config-dir", str(tmp_path),
                               *extra], capture_output=True, text=True, cwd=ROOT, timeout=60)

    show()  # the demo writes its config files once
    conf = tmp_path / "wg0.conf"
    gone = keys.keypair()[1]
    conf.write_text(conf.read_text() + f"\n#[disabled] # friendly_name = old-laptop\n#[disabled] [Peer]\n"
                                       f"#[disabled] PublicKey = {gone}\n#[disabled] AllowedIPs = 10.8.0.99/32\n")
    wg0 = next(i for i in json.loads(show("--json").stdout)["interfaces"] if i["name"] == "wg0")
    (off,) = [p for p in wg0["peers"] if p["state"] == "disabled"]
    assert off == {"name": "old-laptop", "public_key": gone, "endpoint": None, "allowed_ips": ["10.8.0.99/32"],
                   "latest_handshake": None, "rx_bytes": 0, "tx_bytes": 0, "persistent_keepalive": 0,
                   "has_preshared_key": False, "state": "disabled", "key_created": None, "rotation": None,
                   "expires": None, "quota": None, "disabled_reason": "manual", "rx_total": None, "tx_total": None}
    text = show().stdout
    assert f"⊘ peer: {gone}  (old-laptop)\n  state: disabled" in text

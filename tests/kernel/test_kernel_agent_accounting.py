"""Provides the test of the agent's accounting on the kernel module: lifetime totals survive `wg-quick down/up`."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.kernel.conftest import NS
from tests.kernel.wgdump import in_thread, sh, wg_dump
from wgtui.agent.resident import AgentConfig, Resident
from wgtui.backends.host import HostBackend
from wgtui.lifecycle.ledger import Ledger, Totals

pytestmark = pytest.mark.kernel


def agent_pass(etc: Path, state: Path) -> None:
    """One pass of the agent, as `wgtui agent --once` does it (in-process: a new Python costs 5-25 s here)."""
    backend = HostBackend()
    resident = Resident(AgentConfig(config_dir=etc, state_dir=state, interfaces=("wg0",)), backend, [])
    try:
        resident.run_pass(time.time())
        assert resident.errors == []
    finally:
        resident.close()
        backend.close()


def totals(state: Path, key: str) -> Totals:
    with Ledger.open(state, create=False) as ledger:
        return ledger.totals("wg0")[key]


def test_agent_totals_survive_wg_quick_down_and_up(tunnel: dict[str, str], tmp_path: Path) -> None:
    etc, state = tmp_path / "etc", tmp_path / "state"
    etc.mkdir(mode=0o700)
    conf = etc / "wg0.conf"
    conf.write_text(f"[Interface]\nPrivateKey = {(tmp_path / NS[0]).read_text().strip()}\nListenPort = 51820\n"
                    f"Address = 10.98.0.1/24\n\n[Peer]\n# friendly_name = b\nPublicKey = {tunnel[NS[1]]}\n"
                    "Endpoint = 10.99.0.2:51820\nAllowedIPs = 10.98.0.2/32\n")
    conf.chmod(0o600)
    peer = tunnel[NS[1]]
    in_thread(lambda: agent_pass(etc, state), netns=NS[0])  # the counters found now are lifetime, not usage
    sh("ping -c 8 -i 0.2 -W 5 10.98.0.2", netns=NS[0])
    in_thread(lambda: agent_pass(etc, state), netns=NS[0])
    first = wg_dump("wg0", netns=NS[0]).peers[peer]
    before = totals(state, peer)
    assert before.rx_total == first.rx_bytes > 0 and before.tx_total == first.tx_bytes

    sh(f"wg-quick down {conf} && wg-quick up {conf} && ping -c 3 -i 0.2 -W 5 10.98.0.2", netns=NS[0])
    again = wg_dump("wg0", netns=NS[0]).peers[peer]
    assert 0 < again.rx_bytes < first.rx_bytes  # the new interface's counters started from 0
    in_thread(lambda: agent_pass(etc, state), netns=NS[0])
    after = totals(state, peer)
    assert after.peer_id == before.peer_id
    assert after.rx_total == first.rx_bytes + again.rx_bytes
    assert after.tx_total == first.tx_bytes + again.tx_bytes

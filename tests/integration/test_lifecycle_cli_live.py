"""Lifecycle from the CLI against real wireguard-go: policies written through plans, `show --json` with usage that
follows the peer across a key rotation, disable reasons, the expiry guard on enable, events without key material."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from tests.integration.cli import wgtui_in
from tests.integration.test_changes_live import server_config
from tests.netns import Daemon, Lab
from wgtui.conf import Document
from wgtui.lifecycle.db import db_path
from wgtui.lifecycle.events import Outbox
from wgtui.lifecycle.ledger import Ledger
from wgtui.lifecycle.periods import parse_expiry

pytestmark = pytest.mark.netns

FUTURE = "2099-12-31T18:00+01:00"


def cli(ns: str, tmp: Path, *words: str) -> Any:
    """`wgtui WORDS --config-dir TMP --state-dir TMP/state` (both after the sub-command), JSON out when asked."""
    proc = wgtui_in(ns, *words, "--config-dir", str(tmp), "--state-dir", str(tmp / "state"))
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout) if "--json" in words else proc.stdout


def poll(lab: Lab, daemon: Daemon, state: Path) -> None:
    """One poll of the ledger, as the agent makes them, with the counters `wg show dump` gives."""
    with Ledger.open(state) as ledger:
        ledger.record(daemon.ifname, time.time(), lab.dump(daemon).peers)


def shown(ns: str, tmp: Path, ifname: str) -> dict[str, dict[str, Any]]:
    doc = cli(ns, tmp, "show", ifname, "--json")
    (iface,) = doc["interfaces"]
    return {p["name"]: p for p in iface["peers"]}


def outbox(state: Path) -> list[dict[str, Any]]:
    with Outbox(db_path(state)) as box:
        return [json.loads(body) for _, body in box.events()]


def raw_outbox(state: Path) -> str:
    with Outbox(db_path(state)) as box:
        return "".join(body.decode() for _, body in box.events())


def test_policies_usage_across_a_rotation_disable_and_the_expiry_guard(lab: Lab, tmp_path: Path) -> None:
    a, b = lab.pair()
    assert a.address and b.address
    conf = server_config(tmp_path, a, {"site-b": (b.public_key, f"{b.address}/32")})
    state = tmp_path / "state"
    state.mkdir(mode=0o700)

    # The policy goes into the block's wgtui comment; the preview shows it and changes nothing.
    dry = cli(a.ns, tmp_path, "peer", "edit", a.ifname, "site-b", "--expires", FUTURE, "--quota", "50GB/month",
              "--dry-run")
    assert f"+# wgtui: expires={FUTURE} quota=50GB/month" in dry and "wgtui:" not in conf.read_text()
    done = cli(a.ns, tmp_path, "peer", "edit", a.ifname, "site-b", "--expires", FUTURE, "--quota", "50GB/month",
               "--yes", "--json")
    assert f"+# wgtui: expires={FUTURE} quota=50GB/month" in json.dumps(done)
    assert f"# wgtui: expires={FUTURE} quota=50GB/month\n" in conf.read_text()

    # Usage: a first poll, traffic through the tunnel, a second poll.
    poll(lab, a, state)
    first = shown(a.ns, tmp_path, a.ifname)["site-b"]["rx_total"]
    assert lab.ping(b, a.address, count=20, interval=0.02).ok
    poll(lab, a, state)
    peer = shown(a.ns, tmp_path, a.ifname)["site-b"]
    assert peer["expires"] == parse_expiry(FUTURE).timestamp() and peer["disabled_reason"] is None
    assert peer["rx_total"] >= first + 20 * 84 and peer["tx_total"] > 0  # 20 pings of 84 bytes, and more
    quota = peer["quota"]
    assert quota["bytes"] == 50 * 10**9 and quota["period"] == "month" and quota["period_end"] > time.time()
    assert quota["used"] >= 20 * 84 * 2  # the pings and their replies, counted since the first poll
    text = cli(a.ns, tmp_path, "show", a.ifname)
    assert f"expires: {FUTURE} (in " in text and "of 50.0 GB (month, until " in text and "(lifetime)" in text

    # A rotation moves the peer to a new key; its usage follows (the final reading of the old key included).
    lab.ping(b, a.address, count=10, interval=0.02)
    cli(a.ns, tmp_path, "peer", "rotate", a.ifname, "site-b", "--now", "--yes", "--client-config",
        str(tmp_path / "site-b.conf"))
    client = Document.read(tmp_path / "site-b.conf").interface
    assert client is not None and client.private_key
    rotated = shown(a.ns, tmp_path, a.ifname)["site-b"]
    assert rotated["public_key"] != b.public_key
    assert rotated["rx_total"] >= peer["rx_total"] + 10 * 84  # the 10 pings after the last poll were not lost
    lab.wg(b, "set", b.ifname, "private-key", str(lab._secret(client.private_key)))
    assert lab.ping(b, a.address, count=10, interval=0.02).ok
    poll(lab, a, state)
    grown = shown(a.ns, tmp_path, a.ifname)["site-b"]
    assert grown["rx_total"] >= rotated["rx_total"] + 10 * 84

    # Disabled by hand: the reason says so, the totals stay.
    cli(a.ns, tmp_path, "peer", "edit", a.ifname, "site-b", "--expires", "2001-01-01T00:00Z", "--yes")
    cli(a.ns, tmp_path, "peer", "disable", a.ifname, "site-b", "--yes")
    off = shown(a.ns, tmp_path, a.ifname)["site-b"]
    assert off["state"] == "disabled" and off["disabled_reason"] == "manual"
    assert off["rx_total"] == grown["rx_total"] and off["expires"] == parse_expiry("2001-01-01T00:00Z").timestamp()
    assert "disabled, by hand" in cli(a.ns, tmp_path, "show", a.ifname)

    # Its expiry has passed: enabling needs a new one, or --force.
    refused = wgtui_in(a.ns, "peer", "enable", a.ifname, "site-b", "--yes", "--config-dir", str(tmp_path),
                       "--state-dir", str(state))
    assert refused.returncode == 1 and "--expires" in refused.stderr and "--force" in refused.stderr
    assert rotated["public_key"] not in lab.dump(a).peers
    cli(a.ns, tmp_path, "peer", "enable", a.ifname, "site-b", "--expires", FUTURE, "--yes")
    back = shown(a.ns, tmp_path, a.ifname)["site-b"]
    assert back["state"] != "disabled" and back["expires"] == parse_expiry(FUTURE).timestamp()
    assert rotated["public_key"] in lab.dump(a).peers

    types = [e["type"] for e in outbox(state)]
    assert types == ["peer.updated", "peer.rotation_started", "peer.rotation_completed", "peer.updated",
                     "peer.disabled", "peer.enabled"]
    assert len({e["peer_id"] for e in outbox(state)}) == 1  # one peer throughout, whatever its key
    text = raw_outbox(state)
    for secret in (client.private_key, b.private_key, a.private_key):
        assert secret not in text


def test_add_and_remove_land_in_the_outbox_without_key_material(lab: Lab, tmp_path: Path) -> None:
    a, b = lab.pair()
    server_config(tmp_path, a, {"site-b": (b.public_key, f"{b.address}/32")})
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    added = cli(a.ns, tmp_path, "peer", "add", a.ifname, "--name", "carol", "--preshared-key", "--expires",
                "2099-01-01", "--quota", "10GB", "--server-endpoint", "192.0.2.1:51820", "--client-config",
                str(tmp_path / "carol.conf"), "--yes", "--json")
    assert "+# wgtui: key-created=" in json.dumps(added) and "expires=2099-01-01 quota=10GB" in json.dumps(added)
    carol = shown(a.ns, tmp_path, a.ifname)["carol"]
    assert carol["quota"] == {"bytes": 10 * 10**9, "period": None, "used": 0, "period_end": None}
    client = Document.read(tmp_path / "carol.conf")
    assert client.interface is not None and client.interface.private_key
    secrets = [client.interface.private_key, *(p.preshared_key for p in client.peers)]
    assert len(secrets) == 2 and all(secrets)
    cli(a.ns, tmp_path, "peer", "remove", a.ifname, "carol", "--yes")
    events = outbox(state)
    assert [(e["type"], e["public_key"]) for e in events] == [("peer.created", carol["public_key"]),
                                                             ("peer.deleted", carol["public_key"])]
    assert events[0]["data"]["name"] == "carol" and events[0]["interface"] == a.ifname
    text = raw_outbox(state)
    for secret in secrets:
        assert secret is not None and secret not in text


def test_usage_follows_the_peer_through_a_staged_rotation(lab: Lab, tmp_path: Path) -> None:
    a, b = lab.pair()
    assert a.address and b.address
    server_config(tmp_path, a, {"site-b": (b.public_key, f"{b.address}/32")})
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    poll(lab, a, state)
    assert lab.ping(b, a.address, count=10, interval=0.02).ok
    poll(lab, a, state)
    before = shown(a.ns, tmp_path, a.ifname)["site-b"]
    assert before["rx_total"] >= 10 * 84

    cli(a.ns, tmp_path, "peer", "rotate", a.ifname, "site-b", "--staged", "--no-wait", "--yes", "--client-config",
        str(tmp_path / "next.conf"))
    client = Document.read(tmp_path / "next.conf").interface
    assert client is not None and client.private_key
    new_key = next(k for k in lab.dump(a).peers if k != b.public_key)
    lab.wg(b, "set", b.ifname, "private-key", str(lab._secret(client.private_key)))
    deadline = time.monotonic() + 10
    while lab.dump(a).peers[new_key].latest_handshake == 0:  # the replies still go to the old key: no ping answer
        assert time.monotonic() < deadline, "the new key never handshook"
        lab.ping(b, a.address, count=1, deadline=1)
    cli(a.ns, tmp_path, "peer", "pending", a.ifname, "--finish")
    assert set(lab.dump(a).peers) == {new_key}
    assert lab.ping(b, a.address, count=10, interval=0.02).ok
    poll(lab, a, state)
    after = shown(a.ns, tmp_path, a.ifname)["site-b"]
    assert after["public_key"] == new_key and after["rx_total"] >= before["rx_total"] + 10 * 84

    events = outbox(state)
    assert [e["type"] for e in events] == ["peer.rotation_started", "peer.rotation_completed"]
    assert [e["public_key"] for e in events] == [new_key, new_key]
    assert all(e["data"]["old_public_key"] == b.public_key for e in events)
    with Ledger.open(state) as ledger:
        assert ledger.peer_id(a.ifname, new_key) == ledger.peer_id(a.ifname, b.public_key) == events[0]["peer_id"]
    assert client.private_key not in raw_outbox(state)

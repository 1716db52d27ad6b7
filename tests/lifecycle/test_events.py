"""Events: the envelope, the guard that keeps private and preshared keys out of every event, the durable outbox."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from wgtui import keys
from wgtui.lifecycle.events import Event, EventError, EventType, Outbox, check_no_keys

PRIVATE, PUBLIC = keys.keypair()
PSK = keys.generate_preshared_key()
OTHER_PUBLIC = keys.keypair()[1]


def test_the_envelope() -> None:
    event = Event(EventType.PEER_DISABLED, "wg0", "ab3dxk2q", PUBLIC, {"reason": "quota", "name": "alice"},
                  occurred_at=1_767_225_600.25, host="vpn1")
    body = json.loads(event.body())
    assert list(body) == ["id", "type", "occurred_at", "host", "interface", "peer_id", "public_key", "data"]
    assert body["type"] == "peer.disabled" and body["occurred_at"] == "2026-01-01T00:00:00.250Z"
    assert body["public_key"] == PUBLIC and body["data"] == {"reason": "quota", "name": "alice"}
    assert body["id"] == event.id and len(event.id) == 36
    assert {t.value for t in EventType} >= {"peer.quota_exceeded", "peer.rotation_completed", "agent.started"}


@pytest.mark.parametrize("data", [
    {"private_key": PRIVATE},
    {"note": PRIVATE},
    {"note": f"PrivateKey = {PRIVATE}\n"},
    {"config": f"[Interface]\nPrivateKey={PRIVATE}\n[Peer]\nPresharedKey={PSK}"},
    {"changes": [{"field": "psk", "to": PSK}]},
    {"nested": {"deeper": ["x", ("y", PSK)]}},
    {PSK: "as a field name"},
    {"uapi": f"private_key={keys.b64_to_hex(PRIVATE)}"},
    {"preshared_key": "(hidden)"},
    {"client_private_key": "redacted"},
    {"public_key": PRIVATE + " "},  # not a clean key: something hides there
    {"public_keys": [PUBLIC, "x" + PSK]},
    {"odd": b"bytes"},
])
def test_no_key_shaped_value_gets_into_an_event(data: dict[str, object], tmp_path: Path) -> None:
    event = Event(EventType.PEER_UPDATED, "wg0", "ab3dxk2q", PUBLIC, data)
    with pytest.raises(EventError):
        event.body()
    with Outbox(tmp_path / "wgtui.db") as box, pytest.raises(EventError):
        box.append(event)
    with Outbox(tmp_path / "wgtui.db") as box:
        assert list(box.events()) == []  # refused means: nothing enqueued


@pytest.mark.parametrize("field", ["interface", "peer_id", "host"])
def test_the_envelope_fields_are_guarded_too(field: str) -> None:
    values = {"interface": "wg0", "peer_id": "ab3dxk2q", "host": "vpn1", field: f"x {PSK}"}
    with pytest.raises(EventError):
        Event(EventType.PEER_CREATED, values["interface"], values["peer_id"], PUBLIC, host=values["host"]).body()


def test_the_envelope_public_key_must_be_a_key() -> None:
    with pytest.raises(EventError):
        Event(EventType.PEER_CREATED, "wg0", "p", f"{PUBLIC}; {PSK}").body()


def test_public_keys_in_fields_named_so_are_allowed() -> None:
    data = {"old_public_key": PUBLIC, "new_public_key": OTHER_PUBLIC, "public_keys": [PUBLIC, OTHER_PUBLIC],
            "has_preshared_key": True, "name": "laptop", "allowed_ips": ["10.0.0.2/32"], "expires": 1_767_225_600,
            "quota": {"bytes": 50 * 10**9, "period": "month", "used": 12, "period_end": None}}
    body = Event(EventType.PEER_ROTATION_COMPLETED, "wg0", "ab3dxk2q", OTHER_PUBLIC, data).body()
    assert json.loads(body)["data"] == data
    check_no_keys({"text": "A" * 43 + "B"})  # 44 characters without the '=': not a key
    check_no_keys({"sha": "ab" * 31})  # 62 hex digits: not a key


def test_the_outbox_keeps_order_and_the_exact_bytes(tmp_path: Path) -> None:
    with Outbox(tmp_path / "wgtui.db") as box:
        events = [box.emit(EventType.PEER_CREATED, interface="wg0", peer_id=f"p{i}", public_key=PUBLIC,
                           data={"i": i}) for i in range(5)]
    with Outbox(tmp_path / "wgtui.db") as box:  # durable: another connection, later
        stored = list(box.events())
        assert [seq for seq, _ in stored] == sorted(seq for seq, _ in stored)
        assert [json.loads(body)["id"] for _, body in stored] == [e.id for e in events]
        assert stored[0][1] == events[0].body()


def test_a_new_target_gets_what_happens_from_then_on(tmp_path: Path) -> None:
    with Outbox(tmp_path / "wgtui.db") as box:
        box.emit(EventType.AGENT_STARTED)
        box.sync_targets(["https://a.example/hook"])
        second = box.emit(EventType.PEER_CREATED, interface="wg0")
        box.sync_targets(["https://a.example/hook", "https://b.example/hook"])
        third = box.emit(EventType.PEER_DELETED, interface="wg0")
        a, b = box.next_for("https://a.example/hook"), box.next_for("https://b.example/hook")
        assert a is not None and a.id == second.id
        assert b is not None and b.id == third.id
        assert box.queue_length() == 3
        box.delivered("https://a.example/hook", a.seq, 100.0)
        assert box.queue_length() == 2
        box.sync_targets(["https://b.example/hook"])  # a is no longer configured
        assert [t.url for t in box.targets()] == ["https://b.example/hook"]


def test_prune_keeps_what_a_target_still_waits_for(tmp_path: Path) -> None:
    with Outbox(tmp_path / "wgtui.db") as box:
        box.sync_targets(["https://a.example/hook"])
        first = box.emit(EventType.PEER_CREATED, occurred_at=1000.0)
        box.emit(EventType.PEER_DELETED, occurred_at=1001.0)
        assert box.prune(now=10**9) == 0  # nothing was delivered
        pending = box.next_for("https://a.example/hook")
        assert pending is not None and pending.id == first.id
        box.delivered("https://a.example/hook", pending.seq, 1002.0)
        assert box.prune(now=10**9) == 1
        assert len(list(box.events())) == 1

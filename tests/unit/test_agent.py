"""The agent protocol in process: hello and its version check, polls that carry only what changed, and a change
planned, previewed and applied by the agent's own pipeline."""

from __future__ import annotations

import io
import json
from pathlib import Path

from tests.unit.pipeline_fixtures import ALICE, BOB, CONF, server
from wgtui.agent.protocol import VERSION, config_from_json, config_to_json, peer_from_json, peer_to_json
from wgtui.agent.server import Agent, serve
from wgtui.config_source import load


def agent(tmp_path: Path) -> tuple[Agent, object]:
    backend, _conf = server(tmp_path)
    return Agent(backend, tmp_path), backend  # type: ignore[arg-type]


def test_hello_checks_the_protocol_version(tmp_path: Path) -> None:
    a, _ = agent(tmp_path)
    ok = a.handle({"op": "hello", "version": VERSION})
    assert ok["ok"] and ok["version"] == VERSION and ok["config_dir"] == str(tmp_path)
    old = a.handle({"op": "hello", "version": VERSION + 1})
    assert not old["ok"] and "install the same wgtui on both" in old["error"]
    assert "no operation 'fly'" in a.handle({"op": "fly"})["error"]


def test_polls_carry_everything_once_then_only_what_changed(tmp_path: Path) -> None:
    a, backend = agent(tmp_path)
    first = a.handle({"op": "poll"})["interfaces"]["wg0"]
    assert first["reset"] and len(first["upserts"]) == 3 and "config" in first and "iface" in first
    assert a.handle({"op": "poll"})["interfaces"] == {}  # idle: nothing on the wire but the envelope
    backend.bump("wg0", ALICE, rx_bytes=9999)  # type: ignore[attr-defined]
    del backend.ifaces["wg0"][BOB]  # type: ignore[attr-defined]
    delta = a.handle({"op": "poll"})["interfaces"]["wg0"]
    alice_id = next(p[8] for p in first["upserts"] if p[0] == ALICE)
    assert delta["counters"] == [[alice_id, 1_800_000_000, 9999, 7000]]
    assert "upserts" not in delta and delta["removed"] == [BOB]  # counters only: no key, no addresses
    assert "config" not in delta and "iface" not in delta
    backend.bump("wg0", ALICE, endpoint="192.0.2.99:4444")  # type: ignore[attr-defined]
    moved = a.handle({"op": "poll"})["interfaces"]["wg0"]
    assert [peer_from_json(p).endpoint for p in moved["upserts"]] == ["192.0.2.99:4444"] and "counters" not in moved


def test_json_forms_round_trip_and_carry_no_secret(tmp_path: Path) -> None:
    backend, conf = server(tmp_path)
    peer = backend.read("wg0").peers[BOB]
    assert peer_from_json(json.loads(json.dumps(peer_to_json(peer)))) == peer
    view = load(conf, tmp_path / "peers")
    wire = json.dumps(config_to_json(view))
    assert "uZ2sG8t8hC4y0l8qB9H8y5o1g5a2e4H8c1m1N2d3r0Q=" not in wire and "PrivateKey" not in wire
    back = config_from_json(json.loads(wire))
    assert back.names == view.names and back.peers is not None and view.peers is not None
    assert {k: (v.allowed_ips, bool(v.preshared_key)) for k, v in back.peers.items()} == \
        {k: (v.allowed_ips, bool(v.preshared_key)) for k, v in view.peers.items()}


def test_a_change_is_planned_kept_and_applied_as_previewed(tmp_path: Path) -> None:
    a, _backend = agent(tmp_path)
    planned = a.handle({"op": "plan", "argv": ["add", "wg0", "--name", "carol", "--allowed-ips", "10.8.0.7/32"]})
    assert planned["ok"], planned
    assert "+### Client carol" in planned["plan"]["diff"] and (tmp_path / "wg0.conf").read_text() == CONF
    applied = a.handle({"op": "apply", "token": planned["token"]})
    assert applied["ok"] and applied["result"]["applied"], applied
    assert "carol" in (tmp_path / "wg0.conf").read_text()
    assert applied["result"]["client_text"].startswith("[Interface]\nPrivateKey = ")
    again = a.handle({"op": "apply", "token": planned["token"]})
    assert not again["ok"] and "plan the change again" in again["error"]
    refused = a.handle({"op": "plan", "argv": ["add", "wg0", "--name", "x#y"]})
    assert not refused["ok"] and "'#'" in refused["error"]
    usage = a.handle({"op": "plan", "argv": ["add", "wg0"]})
    assert not usage["ok"] and "--name" in usage["error"]


def test_serve_answers_line_by_line_until_the_session_ends(tmp_path: Path) -> None:
    a, _ = agent(tmp_path)
    requests = b'{"id": 7, "op": "hello", "version": %d}\n{"id": 8, "op": "poll"}\n' % VERSION
    out = io.BytesIO()
    assert serve(io.BytesIO(requests), out, a) == 0
    answers = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [x["id"] for x in answers] == [7, 8] and all(x["ok"] for x in answers)
    assert serve(io.BytesIO(b"not json\n"), io.BytesIO(), a) == 1


def test_context_gives_a_remote_form_what_a_local_one_gets(tmp_path: Path) -> None:
    a, _backend = agent(tmp_path)
    answer = a.handle({"op": "context", "interface": "wg0"})
    assert answer["ok"], answer
    context = answer["context"]
    owners = {net: (key, name) for net, key, name in context["owners"]}
    assert owners["10.8.0.2/32"][0] == ALICE and BOB in context["keys_in_use"]
    assert context["allowed_ips"] and context["allowed_ips"] not in owners and context["peer"] is None
    edit = a.handle({"op": "context", "interface": "wg0", "public_key": BOB})["context"]
    assert edit["peer"]["public_key"] == BOB and not any(key == BOB for _, key, _ in edit["owners"])
    assert "PresharedKey" not in json.dumps(edit) and isinstance(edit["peer"]["psk"], bool)

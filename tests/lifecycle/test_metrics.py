"""Metrics checked with prometheus_client's own parser: names, types, exact label sets, escaping, disappearing
series; the textfile (temp-then-rename, 0644) and the HTTP endpoint; the cost at 10,000 peers."""

from __future__ import annotations

import os
import stat
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from wgtui import keys
from wgtui.lifecycle.metrics import (
    CONTENT_TYPE,
    AgentHealth,
    PeerMetrics,
    parse_listen,
    render,
    serve,
    write_textfile,
)

A, B, C = (keys.keypair()[1] for _ in range(3))


def sample_peers() -> list[PeerMetrics]:
    return [
        PeerMetrics("wg0", "ab3dxk2q", A, 'alice "the boss" \\ home\nline', ("10.0.0.2/32", "fd00::2/128"), True,
                    123_456_789_012, 9_876_543, 1_767_225_600, 1_798_761_600, 50 * 10**9, 12_345, 1_769_904_000),
        PeerMetrics("wg0", "zz7q2mte", B, None, ("10.0.0.3/32",), False, 10, 20, 0, None, 10**10, 10**10, None),
    ]


def families(text: str) -> dict[str, tuple[str, list[Sample]]]:
    return {f.name: (f.type, f.samples) for f in text_string_to_metric_families(text)}


def test_names_types_and_exact_labels() -> None:
    fams = families(render(sample_peers(), AgentHealth(last_poll=1_767_225_601.5, poll_errors=2, webhook_queue=7,
                                                       webhook_failures=1, started=1_767_000_000.0)))
    # prometheus_client names a counter family without its _total; the samples keep it
    assert fams["wgtui_peer_receive_bytes"][0] == fams["wgtui_peer_transmit_bytes"][0] == "counter"
    rx = {s.labels["peer_id"]: s for s in fams["wgtui_peer_receive_bytes"][1]}
    assert rx["ab3dxk2q"].name == "wgtui_peer_receive_bytes_total" and rx["ab3dxk2q"].value == 123_456_789_012
    for name in ("wgtui_peer_receive_bytes", "wgtui_peer_transmit_bytes", "wgtui_peer_enabled",
                 "wgtui_peer_last_handshake_timestamp_seconds", "wgtui_peer_expiry_timestamp_seconds",
                 "wgtui_peer_quota_used_bytes", "wgtui_peer_quota_limit_bytes",
                 "wgtui_peer_quota_period_end_timestamp_seconds"):
        kind, samples = fams[name]
        assert samples and all(set(s.labels) == {"interface", "peer_id"} for s in samples), name
        assert kind in ("gauge", "counter")
    info_kind, info = fams["wgtui_peer_info"]
    assert info_kind == "gauge" and all(s.value == 1 for s in info)
    assert all(set(s.labels) == {"interface", "peer_id", "public_key", "name", "allowed_ips"} for s in info)
    assert {s.labels["public_key"] for s in info} == {A, B}
    enabled = {s.labels["peer_id"]: s.value for s in fams["wgtui_peer_enabled"][1]}
    assert enabled == {"ab3dxk2q": 1, "zz7q2mte": 0}
    handshakes = fams["wgtui_peer_last_handshake_timestamp_seconds"][1]
    assert [(s.labels["peer_id"], s.value) for s in handshakes] == [("ab3dxk2q", 1_767_225_600)]  # never: no sample
    assert [s.labels["peer_id"] for s in fams["wgtui_peer_expiry_timestamp_seconds"][1]] == ["ab3dxk2q"]
    assert [s.labels["peer_id"] for s in fams["wgtui_peer_quota_period_end_timestamp_seconds"][1]] == ["ab3dxk2q"]
    assert {s.labels["peer_id"]: s.value for s in fams["wgtui_peer_quota_used_bytes"][1]} == {
        "ab3dxk2q": 12_345, "zz7q2mte": 10**10}
    assert fams["wgtui_agent_last_poll_timestamp_seconds"][1][0].value == 1_767_225_601.5
    assert fams["wgtui_agent_poll_errors"] == ("counter", [Sample("wgtui_agent_poll_errors_total", {}, 2)])
    assert fams["wgtui_agent_webhook_queue_events"][1][0].value == 7


def test_label_values_are_escaped() -> None:
    text = render(sample_peers())
    assert 'name="alice \\"the boss\\" \\\\ home\\nline"' in text
    (alice,) = [s for s in families(text)["wgtui_peer_info"][1] if s.labels["peer_id"] == "ab3dxk2q"]
    assert alice.labels["name"] == 'alice "the boss" \\ home\nline'
    assert alice.labels["allowed_ips"] == "10.0.0.2/32,fd00::2/128"


def test_every_family_has_help_and_type_and_no_endpoint_anywhere() -> None:
    text = render(sample_peers(), AgentHealth(last_poll=1.0))
    names = {line.split()[2] for line in text.splitlines() if line.startswith("# TYPE")}
    helps = {line.split()[2] for line in text.splitlines() if line.startswith("# HELP")}
    assert names == helps and len(names) == 14
    assert "endpoint" not in text.lower()


def test_a_deleted_peer_series_disappear() -> None:
    peers = sample_peers()
    before = render(peers)
    after = render(peers[:1])
    assert "zz7q2mte" in before and "zz7q2mte" not in after
    assert B not in after
    for _, (_, samples) in families(after).items():
        assert all(s.labels.get("peer_id") != "zz7q2mte" for s in samples)


def test_two_keys_of_a_rotation_are_one_peer() -> None:
    old = PeerMetrics("wg0", "ab3dxk2q", A, "alice", ("10.0.0.2/32",), True, 500, 50, 1000)
    new = PeerMetrics("wg0", "ab3dxk2q", C, "alice", ("10.0.0.2/32",), True, 500, 50, 2000)
    text = render([old, new])
    fams = families(text)
    assert len(fams["wgtui_peer_receive_bytes"][1]) == 1
    assert text.count("wgtui_peer_enabled{") == 1  # one series per (interface, peer_id): no duplicates
    assert {s.labels["public_key"] for s in fams["wgtui_peer_info"][1]} == {A, C}
    assert fams["wgtui_peer_last_handshake_timestamp_seconds"][1][0].value == 2000


def test_textfile_is_replaced_atomically_and_world_readable(tmp_path: Path) -> None:
    path = write_textfile(tmp_path, render(sample_peers()))
    assert path == tmp_path / "wgtui.prom"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644
    assert os.listdir(tmp_path) == ["wgtui.prom"]  # no temporary file left
    inode = os.stat(path).st_ino
    write_textfile(tmp_path, render(sample_peers()[:1]))
    assert os.stat(path).st_ino != inode  # a new file renamed over the old one, never rewritten in place
    assert "zz7q2mte" not in path.read_text()
    assert families(path.read_text())["wgtui_peer_receive_bytes"][1][0].labels["peer_id"] == "ab3dxk2q"


@pytest.fixture
def server() -> Iterator[tuple[str, list[str]]]:
    text = [render(sample_peers())]
    srv = serve("127.0.0.1", 0, lambda: text[0])
    try:
        yield f"http://127.0.0.1:{srv.port}", text
    finally:
        srv.close()


def test_http_endpoint_serves_the_latest_text(server: tuple[str, list[str]]) -> None:
    base, text = server
    with urllib.request.urlopen(f"{base}/metrics", timeout=5) as resp:
        assert resp.headers["Content-Type"] == CONTENT_TYPE
        body = resp.read().decode()
    assert body == text[0] and "wgtui_peer_info" in body
    text[0] = render(sample_peers()[:1])
    with urllib.request.urlopen(f"{base}/metrics", timeout=5) as resp:
        assert "zz7q2mte" not in resp.read().decode()
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(f"{base}/", timeout=5)
    assert err.value.code == 404
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(urllib.request.Request(f"{base}/metrics", data=b"x", method="POST"), timeout=5)
    assert err.value.code == 501


def test_listen_addresses_are_explicit() -> None:
    assert parse_listen("127.0.0.1:9586") == ("127.0.0.1", 9586)
    assert parse_listen("[::1]:9586") == ("::1", 9586)
    for bad in ("9586", ":9586", "127.0.0.1", "::1:9586", "127.0.0.1:0", "127.0.0.1:70000"):
        with pytest.raises(ValueError):
            parse_listen(bad)
    with pytest.raises(ValueError):
        serve("", 0, lambda: "")


def test_cost_at_ten_thousand_peers(capsys: pytest.CaptureFixture[str]) -> None:
    peers = [PeerMetrics("wg0", f"p{i:07d}", keys.b64(os.urandom(32)), f"peer {i}", (f"10.1.{i // 250}.{i % 250}/32",),
                         i % 7 != 0, i * 10**6, i * 10**5, 1_767_225_600 + i, 1_798_761_600, 50 * 10**9, i * 1000,
                         1_769_904_000) for i in range(10_000)]
    health = AgentHealth(last_poll=time.time(), poll_errors=0, webhook_queue=0)
    times = []
    for _ in range(3):
        started = time.perf_counter()
        text = render(peers, health)
        times.append(time.perf_counter() - started)
    fams = families(text)
    assert len(fams["wgtui_peer_info"][1]) == 10_000 and len(fams["wgtui_peer_receive_bytes"][1]) == 10_000
    with capsys.disabled():
        print(f"\nmetrics render at 10000 peers: {min(times) * 1000:.1f} ms, {len(text) / 1e6:.1f} MB")
    assert min(times) < 1.0

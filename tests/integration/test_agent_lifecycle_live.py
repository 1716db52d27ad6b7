"""The resident `wgtui agent` on real wireguard-go: an expiry enforced by a running agent and caught up by `--once`,
a quota used up by real traffic and re-armed by a new period, lifetime totals across an interface restart and a key
rotation the agent finishes, the metrics textfile read by prometheus_client, and signed webhooks that arrive after
the receiver comes back."""

from __future__ import annotations

import contextlib
import json
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.lifecycle.test_ledger_live import restart
from tests.netns import Daemon, Lab, entered, run
from wgtui import keys
from wgtui.conf import Document
from wgtui.lifecycle import db
from wgtui.lifecycle.events import Outbox
from wgtui.lifecycle.ledger import Ledger
from wgtui.lifecycle.policy import policies
from wgtui.lifecycle.webhooks import SIGNATURE_HEADER, verify

pytestmark = pytest.mark.netns
ROOT = Path(__file__).resolve().parent.parent.parent


# -- helpers -------------------------------------------------------------------------------------------------------


def stamp(at: float) -> str:
    return datetime.fromtimestamp(int(at), timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def write_config(etc: Path, server: Daemon, peers: list[tuple[str, str, str, list[str]]]) -> Path:
    """IF.conf with (name, public key, allowed ip, extra lines) peers; extra lines go inside the block."""
    assert server.address
    text = (f"[Interface]\nAddress = {server.address}/24\nListenPort = {server.listen_port}\n"
            f"PrivateKey = {server.private_key}\n")
    for name, key, ip, extra in peers:
        text += f"\n[Peer]\n# friendly_name = {name}\n" + "".join(f"{line}\n" for line in extra)
        text += f"PublicKey = {key}\nAllowedIPs = {ip}/32\n"
    path = etc / f"{server.ifname}.conf"
    path.write_text(text)
    path.chmod(0o600)
    return path


def tz_file(path: Path, midnight_at: float) -> Path:
    """A zone file (TZif, fixed offset to the second) whose local midnight falls at `midnight_at`: the agent's day
    quota period then ends at an instant the test chooses, on the real clock and the real code paths."""
    offset = (-int(midnight_at)) % 86400
    if offset > 43200:
        offset -= 86400
    header = b"TZif" + b"\0" * 16 + struct.pack(">6l", 0, 0, 0, 0, 1, 4)
    path.write_bytes(header + struct.pack(">lBB", offset, 0, 0) + b"TST\0")
    return path


def start_agent(ns: str, etc: Path, state: Path, ifname: str, *args: str, env: tuple[str, ...] = (),
                log: Path) -> subprocess.Popen[bytes]:
    LOGS[:] = [log]
    cmd = ["ip", "netns", "exec", ns, "env", f"PYTHONPATH={ROOT}", *env, sys.executable, "-m", "wgtui",
           "--config-dir", str(etc), "--state-dir", str(state), "-i", ifname, "agent", *args]
    with log.open("ab") as out:
        return subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd="/")


def stop_agent(proc: subprocess.Popen[bytes], log: Path) -> None:
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0, log.read_text()


@contextlib.contextmanager
def running(ns: str, etc: Path, state: Path, ifname: str, *args: str, env: tuple[str, ...] = (),
            log: Path) -> Iterator[subprocess.Popen[bytes]]:
    proc = start_agent(ns, etc, state, ifname, *args, env=env, log=log)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            stop_agent(proc, log)


LOGS: list[Path] = []
"""The agent logs of the running test, shown when a wait times out."""


def wait_for(check: Callable[[], object], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    logs = "".join(p.read_text(errors="replace") for p in LOGS if p.exists())
    raise AssertionError(f"timed out waiting for {what}; agent log:\n{logs}")


def reason(conf: Path, key: str) -> str | None:
    return policies(Document.read(conf))[key].disabled_reason


def lifetime(state: Path, ifname: str, key: str) -> tuple[int, str]:
    """(rx_total, peer id) of a key from the agent's ledger (another connection: WAL lets both work)."""
    with Ledger.open(state, create=False) as ledger:
        totals = ledger.totals(ifname).get(key)
    return (totals.rx_total, totals.peer_id) if totals else (-1, "")


def enabled_values(prom: Path) -> list[float]:
    path = prom / "wgtui.prom"
    if not path.exists():
        return []
    return [s.value for f in text_string_to_metric_families(path.read_text()) if f.name == "wgtui_peer_enabled"
            for s in f.samples]


def scrape(ns: str, port: int) -> dict[tuple[str, str], float]:
    """GET /metrics of the agent in the namespace: received bytes by (interface, peer id)."""
    with entered(ns), urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as answer:
        text = answer.read().decode()
    return {(s.labels["interface"], s.labels["peer_id"]): s.value for f in text_string_to_metric_families(text)
            if f.name == "wgtui_peer_receive_bytes" for s in f.samples}


def event_bodies(state: Path) -> list[dict[str, object]]:
    with Outbox(db.db_path(state)) as box:
        return [json.loads(body) for _, body in box.events()]


class Receiver:
    """A webhook receiver on 127.0.0.1 inside the namespace (where the agent's loopback is), started on demand."""

    def __init__(self, ns: str) -> None:
        self.ns = ns
        with entered(ns), socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.got: list[tuple[str | None, bytes]] = []
        self.server: HTTPServer | None = None

    def start(self) -> None:
        got = self.got

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                got.append((self.headers.get(SIGNATURE_HEADER), body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        with entered(self.ns):
            self.server = HTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def types(self) -> list[str]:
        return [json.loads(body)["type"] for _, body in self.got]


class Notifications:
    """A unix datagram socket read in a thread, as systemd reads $NOTIFY_SOCKET."""

    def __init__(self, path: Path) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.said: list[bytes] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        with contextlib.suppress(OSError):
            while said := self.sock.recv(64):  # b"" once closed
                self.said.append(said)

    def close(self) -> None:
        self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()


def third_client(lab: Lab, server: Daemon) -> Daemon:
    ns = lab.netns()
    side, _ = lab.link(server.ns, ns)
    assert server.address
    client = lab.wireguard(ns, f"{server.address.rsplit('.', 1)[0]}.3/24")
    lab.set_peer(client, server.public_key, endpoint=f"{side}:{server.listen_port}",
                 allowed_ips=[f"{server.address}/32"])
    lab.set_peer(server, client.public_key, allowed_ips=[f"{client.address}/32"])
    return client


# -- tests ---------------------------------------------------------------------------------------------------------


def test_expiry_enforced_by_the_running_agent_caught_up_by_once_and_sent_as_signed_webhooks(
        lab: Lab, tmp_path: Path, timing: Callable[[str], None]) -> None:
    a, b = lab.pair()
    c = third_client(lab, a)
    psk = keys.generate_preshared_key()
    lab.set_peer(a, b.public_key, preshared_key=psk)
    lab.set_peer(b, a.public_key, preshared_key=psk)
    assert lab.ping(b, a.address, deadline=10).ok and lab.ping(c, a.address, deadline=10).ok
    etc, state, prom = tmp_path / "etc", tmp_path / "state", tmp_path / "prom"
    etc.mkdir(mode=0o700)
    prom.mkdir()
    secret = etc / "hook.secret"
    secret.write_text("s3cret-for-the-test\n")
    secret.chmod(0o600)
    receiver = Receiver(a.ns)
    (etc / "wgtui.json").write_text(json.dumps({"webhooks": [
        {"url": f"http://127.0.0.1:{receiver.port}/hook", "secret_file": str(secret)}]}))
    expires = int(time.time()) + 4
    conf = write_config(etc, a, [("bob", b.public_key, str(b.address), [f"# wgtui: expires={stamp(expires)}",
                                                                          f"PresharedKey = {psk}"]),
                                 ("carol", c.public_key, str(c.address), [])])
    log = tmp_path / "agent.log"

    with running(a.ns, etc, state, a.ifname, "--interval", "0.5", "--textfile", str(prom), log=log) as agent:
        wait_for(lambda: b.public_key not in lab.dump(a).peers, "bob to leave the interface")
        wait_for(lambda: reason(conf, b.public_key) == "expired", "bob's block to say disabled=expired")
        assert f"#[disabled] PublicKey = {b.public_key}" in conf.read_text()
        assert not lab.ping(b, a.address, count=2, deadline=2).ok
        assert lab.ping(c, a.address, deadline=5).ok  # carol has no expiry: untouched
        wait_for(lambda: sorted(enabled_values(prom)) == [0, 1], "the textfile to show bob disabled")
        stop_agent(agent, log)

    families = {f.name: f for f in text_string_to_metric_families((prom / "wgtui.prom").read_text())}
    rx = families["wgtui_peer_receive_bytes"]  # the parser drops the counter's _total suffix from the family name
    assert rx.type == "counter" and {s.name for s in rx.samples} == {"wgtui_peer_receive_bytes_total"}
    assert all(set(s.labels) == {"interface", "peer_id"} for f in families.values() for s in f.samples
               if f.name.startswith("wgtui_peer_") and f.name != "wgtui_peer_info")
    info = {s.labels["public_key"]: s.labels for s in families["wgtui_peer_info"].samples}
    assert set(info) == {b.public_key, c.public_key}
    assert info[b.public_key]["name"] == "bob" and info[b.public_key]["allowed_ips"] == f"{b.address}/32"
    ids = {k: v["peer_id"] for k, v in info.items()}
    enabled = {s.labels["peer_id"]: s.value for s in families["wgtui_peer_enabled"].samples}
    assert enabled == {ids[b.public_key]: 0, ids[c.public_key]: 1}
    expiry = {s.labels["peer_id"]: s.value for s in families["wgtui_peer_expiry_timestamp_seconds"].samples}
    assert expiry == {ids[b.public_key]: expires}
    received = {s.labels["peer_id"]: s.value for s in rx.samples}
    assert received[ids[c.public_key]] > 0 and received[ids[b.public_key]] > 0
    assert "wgtui_agent_last_poll_timestamp_seconds" in families and "wgtui_agent_webhook_queue_events" in families

    # No agent runs: carol's expiry passes. `--once` (a timer's run) catches up.
    text = conf.read_text().replace("# friendly_name = carol\n",
                                    f"# friendly_name = carol\n# wgtui: expires={stamp(time.time() - 30)}\n")
    conf.write_text(text)
    receiver.start()  # the receiver was down for everything so far
    try:
        once = start_agent(a.ns, etc, state, a.ifname, "--once", log=log)
        assert once.wait(timeout=60) == 0, log.read_text()
        assert c.public_key not in lab.dump(a).peers and reason(conf, c.public_key) == "expired"
        assert not lab.ping(c, a.address, count=2, deadline=2).ok
        # A running agent delivers what is still queued once the receiver's backoff has passed.
        with running(a.ns, etc, state, a.ifname, "--interval", "0.5", log=log):
            wait_for(lambda: receiver.types().count("agent.started") >= 2 and
                     receiver.types().count("peer.expired") == 2 and "agent.stopped" in receiver.types(),
                     "the queued events at the receiver", timeout=40)
    finally:
        receiver.close()

    secrets_ = [a.private_key, b.private_key, c.private_key, psk]
    bodies = []
    for header, body in receiver.got:
        assert verify(body, header, b"s3cret-for-the-test"), header
        assert not any(s.encode() in body for s in secrets_)
        bodies.append(json.loads(body))
    assert len({e["id"] for e in bodies}) == len(bodies)
    assert set(bodies[0]) == {"id", "type", "occurred_at", "host", "interface", "peer_id", "public_key", "data"}
    expired = {e["public_key"]: e for e in bodies if e["type"] == "peer.expired"}
    assert set(expired) == {b.public_key, c.public_key}
    bob = expired[b.public_key]
    assert bob["peer_id"] == ids[b.public_key] and bob["interface"] == a.ifname and bob["data"]["name"] == "bob"
    occurred = datetime.fromisoformat(str(bob["occurred_at"]).replace("Z", "+00:00")).timestamp()
    assert occurred >= expires  # never early
    timing(f"agent: bob disabled {occurred - expires:.3f} s after his expiry (poll interval 0.5 s)")
    disabled = {e["public_key"]: e["data"] for e in bodies if e["type"] == "peer.disabled"}  # the change's own
    assert {k: d["reason"] for k, d in disabled.items()} == {b.public_key: "expired", c.public_key: "expired"}
    started = [i for i, e in enumerate(bodies) if e["type"] == "agent.started"]
    stopped = [i for i, e in enumerate(bodies) if e["type"] == "agent.stopped"]
    assert started[0] < stopped[0] < started[1]  # queued in order while the receiver was down, delivered in order


def test_quota_used_up_by_real_traffic_disables_and_the_next_period_enables(lab: Lab, tmp_path: Path) -> None:
    a, b = lab.pair()
    assert lab.ping(b, a.address, deadline=10).ok
    etc, state, prom = tmp_path / "etc", tmp_path / "state", tmp_path / "prom"
    etc.mkdir(mode=0o700)
    prom.mkdir()
    conf = write_config(etc, a, [("bob", b.public_key, str(b.address), ["# wgtui: quota=60kB/day",
                                                                          f"Endpoint = {b.endpoint}"])])
    log = tmp_path / "agent.log"
    far = tz_file(tmp_path / "far.tz", time.time() + 43000)  # this day ends in 12 hours

    with running(a.ns, etc, state, a.ifname, "--interval", "0.2", "--textfile", str(prom),
                 env=(f"TZ={far}",), log=log):
        wait_for((prom / "wgtui.prom").exists, "the first pass")  # counters from before it are not this period's
        assert b.address and a.address
        run("ip", "netns", "exec", b.ns, "ping", "-n", "-q", "-s", "1000", "-c", "60", "-i", "0.01", "-w", "10",
            a.address, check=False)  # ~1 kB each way per ping: 60 kB is used up half way
        wait_for(lambda: b.public_key not in lab.dump(a).peers, "bob to be cut off")
        wait_for(lambda: reason(conf, b.public_key) == "quota", "disabled=quota in the file")
        assert not lab.ping(b, a.address, count=2, deadline=2).ok

    exceeded = [e for e in event_bodies(state) if e["type"] == "peer.quota_exceeded"]
    assert len(exceeded) == 1
    data = exceeded[0]["data"]
    assert isinstance(data, dict) and data["used_bytes"] >= data["quota_bytes"] == 60_000
    assert data["period"] == "day"

    # A new agent on a clock whose day ends in 3 s: the peer stays off until then, and comes back with the new day.
    midnight = int(time.time()) + 3
    soon = tz_file(tmp_path / "soon.tz", midnight)
    with running(a.ns, etc, state, a.ifname, "--interval", "5", env=(f"TZ={soon}",), log=log):
        wait_for(lambda: b.public_key in lab.dump(a).peers, "bob back on the interface with the new period")
        assert reason(conf, b.public_key) is None
        assert time.time() >= midnight  # not before the period ended
        # From the server: the re-added peer has no session, and handshakes at once (bob would wait ~15 s to notice).
        assert lab.ping(a, b.address, count=2, deadline=10).ok
    assert "enabled bob (quota)" in log.read_text()


def test_lifetime_totals_grow_across_an_interface_restart_and_a_rotation_the_agent_finishes(
        lab: Lab, tmp_path: Path) -> None:
    a, b = lab.pair()
    etc, state = tmp_path / "etc", tmp_path / "state"
    etc.mkdir(mode=0o700)
    conf = write_config(etc, a, [("bob", b.public_key, str(b.address), [])])
    log = tmp_path / "agent.log"
    port = Receiver(a.ns).port  # a free port in the namespace, for the metrics server
    systemd = Notifications(tmp_path / "notify")  # what systemd listens on for a Type=notify unit
    with running(a.ns, etc, state, a.ifname, "--interval", "0.2", "--metrics", f"127.0.0.1:{port}",
                 env=(f"NOTIFY_SOCKET={tmp_path / 'notify'}",), log=log) as agent:
        wait_for(lambda: systemd.said[:2] == [b"READY=1", b"WATCHDOG=1"], "READY=1 from the agent")
        assert lab.ping(b, a.address, count=20, interval=0.01, deadline=10).ok
        wait_for(lambda: lifetime(state, a.ifname, b.public_key)[0] == lab.dump(a).peers[b.public_key].rx_bytes,
                 "the ledger to hold the counters")
        before, peer_id = lifetime(state, a.ifname, b.public_key)
        assert before > 0

        restart(lab, a, b)  # wireguard-go gone and back: counters from 0
        assert lab.ping(a, b.address, count=10, interval=0.01, deadline=10).ok
        wait_for(lambda: lifetime(state, a.ifname, b.public_key)[0] ==
                 before + lab.dump(a).peers[b.public_key].rx_bytes, "the restart's traffic on top")
        after_restart, same_id = lifetime(state, a.ifname, b.public_key)
        assert after_restart > before and same_id == peer_id

        new_private = keys.generate_private_key()
        new_public = keys.public_key(new_private)
        started = subprocess.run(
            ["ip", "netns", "exec", a.ns, "env", f"PYTHONPATH={ROOT}", sys.executable, "-m", "wgtui", "--state-dir",
             str(state), "peer", "rotate", a.ifname, "bob", "--public-key", new_public, "--no-wait", "--config-dir",
             str(etc), "--yes"], capture_output=True, text=True, timeout=60)
        assert started.returncode == 0, started.stderr
        lab.wg(b, "set", b.ifname, "private-key", str(lab._secret(new_private)))  # the client switches
        lab.ping(b, a.address, count=1, deadline=5)  # its handshake; the agent finishes the rotation
        wait_for(lambda: b.public_key not in lab.dump(a).peers, "the agent to finish the rotation")
        assert Document.read(conf).names.get(new_public) == "bob"
        assert lab.ping(b, a.address, count=10, interval=0.01, deadline=10).ok
        wait_for(lambda: lifetime(state, a.ifname, new_public)[0] > after_restart, "the new key's traffic")
        total, rotated_id = lifetime(state, a.ifname, new_public)
        wait_for(lambda: scrape(a.ns, port).get((a.ifname, peer_id), 0) >= total, "the scrape to show the total")
        stop_agent(agent, log)
    wait_for(lambda: systemd.said[-1:] == [b"STOPPING=1"], "STOPPING=1 from the agent")
    systemd.close()
    assert set(systemd.said[1:]) == {b"WATCHDOG=1", b"STOPPING=1"}
    assert rotated_id == peer_id  # the same peer: its history and quota go on
    assert "finished the key rotation of bob" in log.read_text()
    (completed,) = [e for e in event_bodies(state) if e["type"] == "peer.rotation_completed"]  # the agent's change
    assert completed["public_key"] == new_public and completed["peer_id"] == peer_id
    assert completed["data"]["old_public_key"] == b.public_key  # type: ignore[index]
    shown = subprocess.run(
        ["ip", "netns", "exec", a.ns, "env", f"PYTHONPATH={ROOT}", sys.executable, "-m", "wgtui", "show", a.ifname,
         "--json", "--config-dir", str(etc), "--state-dir", str(state)], capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0, shown.stderr
    peer = next(p for p in json.loads(shown.stdout)["interfaces"][0]["peers"] if p["public_key"] == new_public)
    assert peer["rx_total"] >= total > after_restart  # `show` reads the same ledger: the lifetime of the peer

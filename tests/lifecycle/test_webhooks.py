"""Webhooks against a real HTTP server on 127.0.0.1: signatures checked independently, order kept while a receiver
is down, permanent refusals skipped, short timeouts, secret files that others can read refused."""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from wgtui import keys
from wgtui.lifecycle.events import EventType, Outbox
from wgtui.lifecycle.webhooks import (
    BACKOFF_CAP,
    Delivery,
    Target,
    WebhookError,
    backoff,
    check_url,
    load_targets,
    read_secret,
    verify,
)

SECRET = b"s3cret-for-tests"
PRIVATE, PUBLIC = keys.keypair()
PSK = keys.generate_preshared_key()


@dataclass
class Received:
    body: bytes
    headers: dict[str, str]


@dataclass
class Receiver:
    """A webhook receiver: records every POST; answers `status` (a list is consumed one answer per request)."""

    port: int
    got: list[Received] = field(default_factory=list)
    status: list[int] = field(default_factory=list)
    delay: float = 0.0
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/wgtui?x=1"

    def start(self) -> Receiver:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if outer.delay:
                    time.sleep(outer.delay)
                outer.got.append(Received(body, {k.lower(): v for k, v in self.headers.items()}))
                code = outer.status.pop(0) if outer.status else 204
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver(0).start()
    yield r
    r.stop()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "state" / "wgtui.db"


def emit_some(db_path: Path, n: int, urls: list[str]) -> list[str]:
    with Outbox(db_path) as box:
        box.sync_targets(urls)
        return [box.emit(EventType.PEER_QUOTA_WARNING, interface="wg0", peer_id=f"peer{i}", public_key=PUBLIC,
                         data={"i": i, "percent": 80, "old_public_key": PUBLIC}).id for i in range(n)]


def test_events_arrive_signed_with_the_secret(db_path: Path, receiver: Receiver) -> None:
    ids = emit_some(db_path, 3, [receiver.url])
    delivery = Delivery(db_path, [Target(receiver.url, SECRET)])
    assert delivery.deliver_due() == 3
    assert [json.loads(r.body)["id"] for r in receiver.got] == ids
    for r in receiver.got:
        expected = "sha256=" + hmac.new(SECRET, r.body, hashlib.sha256).hexdigest()  # independently of wgtui
        assert r.headers["x-wgtui-signature"] == expected
        assert verify(r.body, r.headers["x-wgtui-signature"], SECRET)
        assert not verify(r.body + b" ", r.headers["x-wgtui-signature"], SECRET)
        assert not verify(r.body, r.headers["x-wgtui-signature"], b"other secret")
        assert r.headers["content-type"] == "application/json"
        assert r.headers["idempotency-key"] == json.loads(r.body)["id"]
        assert r.headers["x-wgtui-event"] == "peer.quota_warning"
        text = r.body.decode()
        assert PRIVATE not in text and PSK not in text and SECRET.decode() not in text
    assert delivery.deliver_due() == 0  # nothing twice


def test_a_receiver_that_is_down_gets_every_event_later_in_order(db_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/hook"
    ids = emit_some(db_path, 4, [url])
    clock = [1000.0]
    delivery = Delivery(db_path, [Target(url, SECRET)], rng=random.Random(7), clock=lambda: clock[0], timeout=1)
    waits = []
    for _ in range(4):  # down: each attempt fails and the wait grows
        assert delivery.deliver_due() == 0
        due = delivery.next_due()
        assert due is not None
        waits.append(due - clock[0])
        assert delivery.deliver_due() == 0  # not due yet: no attempt
        clock[0] = due
    assert waits == sorted(waits) and waits[0] >= 0.5 and waits[-1] >= 4
    assert delivery.last_error and "Connection" in delivery.last_error
    with Outbox(db_path) as box:
        (state,) = box.targets()
        assert state.queued == 4 and state.attempts == 4 and state.delivered == 0
    # events keep coming while it is down
    ids += emit_some(db_path, 2, [url])
    receiver = Receiver(port).start()
    try:
        assert delivery.deliver_due() == 6
        assert [json.loads(r.body)["id"] for r in receiver.got] == ids
        assert all(verify(r.body, r.headers["x-wgtui-signature"], SECRET) for r in receiver.got)
    finally:
        receiver.stop()
    with Outbox(db_path) as box:
        (state,) = box.targets()
        assert state.queued == 0 and state.attempts == 0 and state.delivered == 6


def test_the_delivery_thread_serves_targets_without_the_caller_waiting(db_path: Path, receiver: Receiver) -> None:
    slow = Receiver(0, delay=3.0).start()
    try:
        emit_some(db_path, 1, [receiver.url, slow.url])
        delivery = Delivery(db_path, [Target(slow.url, SECRET), Target(receiver.url, SECRET)], timeout=0.5)
        started = time.monotonic()
        delivery.start()
        assert time.monotonic() - started < 0.2  # the poll loop goes on
        deadline = time.monotonic() + 10
        while not receiver.got and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(receiver.got) == 1
        assert time.monotonic() - started < 3  # the slow receiver timed out after 0.5 s, it did not hold us 3 s
        emit_some(db_path, 1, [receiver.url, slow.url])
        delivery.wake()
        while len(receiver.got) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(receiver.got) == 2
        delivery.stop()
        assert "timed out" in (delivery.last_error or "")
    finally:
        slow.stop()


def test_an_event_refused_for_good_is_skipped_and_noted(db_path: Path, receiver: Receiver) -> None:
    ids = emit_some(db_path, 3, [receiver.url])
    receiver.status = [204, 422, 204]
    assert Delivery(db_path, [Target(receiver.url, SECRET)]).deliver_due() == 2
    assert [json.loads(r.body)["id"] for r in receiver.got] == ids
    with Outbox(db_path) as box:
        ((_, reason),) = box.rejections(receiver.url)
        assert "422" in reason and box.queue_length() == 0


def test_a_server_error_is_retried_and_blocks_later_events(db_path: Path, receiver: Receiver) -> None:
    ids = emit_some(db_path, 2, [receiver.url])
    receiver.status = [503]
    clock = [50.0]
    delivery = Delivery(db_path, [Target(receiver.url, SECRET)], clock=lambda: clock[0])
    assert delivery.deliver_due() == 0 and len(receiver.got) == 1
    clock[0] += BACKOFF_CAP + 1
    assert delivery.deliver_due() == 2
    assert [json.loads(r.body)["id"] for r in receiver.got] == [ids[0], ids[0], ids[1]]
    assert receiver.got[0].body == receiver.got[1].body  # a retry is the same bytes, the same signature


def test_backoff_grows_is_capped_and_jittered() -> None:
    rng = random.Random(1)
    for attempt in range(1, 30):
        delay = min(BACKOFF_CAP, 2 ** (attempt - 1))
        samples = [backoff(attempt, rng) for _ in range(50)]
        assert all(delay / 2 <= s <= delay for s in samples)
        assert len(set(samples)) > 1


def write_secret(path: Path, mode: int, text: str = "s3cret\n") -> Path:
    path.write_text(text)
    path.chmod(mode)
    return path


def test_secret_files_readable_by_others_are_refused(tmp_path: Path) -> None:
    good = write_secret(tmp_path / "good", 0o600)
    assert read_secret(good) == b"s3cret"
    for mode in (0o644, 0o640, 0o604, 0o620):
        with pytest.raises(WebhookError, match=r"chmod 600"):
            read_secret(write_secret(tmp_path / f"bad{mode:o}", mode))
    with pytest.raises(WebhookError, match="empty"):
        read_secret(write_secret(tmp_path / "empty", 0o600, "\n"))
    with pytest.raises(WebhookError, match="Cannot read"):
        read_secret(tmp_path / "missing")


def test_load_targets_from_the_configuration(tmp_path: Path) -> None:
    secret = write_secret(tmp_path / "s", 0o600)
    loose = write_secret(tmp_path / "loose", 0o644)
    (target,) = load_targets([{"url": "https://hooks.example.com/wgtui", "secret_file": str(secret)}])
    assert target.secret == b"s3cret" and "s3cret" not in repr(target)
    with pytest.raises(WebhookError, match=r"webhooks\[0\].*mode 0644.*chmod 600"):
        load_targets([{"url": "https://hooks.example.com/wgtui", "secret_file": str(loose)}])
    with pytest.raises(WebhookError, match="unknown field"):
        load_targets([{"url": "https://h.example", "secret_file": str(secret), "secret": "inline"}])
    with pytest.raises(WebhookError, match="twice"):
        load_targets([{"url": "https://h.example", "secret_file": str(secret)}] * 2)


@pytest.mark.parametrize("url", ["http://hooks.example.com/x", "ftp://h/x", "https://user:pw@h.example/x",
                                 "https://h.example:99999/x", "hooks.example.com"])
def test_urls_that_would_expose_events_are_refused(url: str) -> None:
    with pytest.raises(WebhookError):
        check_url(url)


def test_https_anywhere_and_http_to_loopback_are_accepted() -> None:
    for url in ("https://hooks.example.com/x", "http://127.0.0.1:8080/x", "http://[::1]/x", "http://localhost/x"):
        assert check_url(url) == url

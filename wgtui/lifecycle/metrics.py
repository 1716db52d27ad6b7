"""Provides Prometheus metrics from plain data: text format, node_exporter textfile, and a /metrics server."""

# Why these names and labels (where other exporters went wrong):
# - Byte counters are labelled only {interface, peer_id}: the stable id survives key rotation, so a rotation does not
#   start a new series (and reset rate()); they are lifetime totals from the usage database, so a restart of the
#   interface or of wgtui does not reset them either.
# - Whatever changes (enabled, the endpoint, the name) is never a label of a counter, or every change would start
#   new series (churn). Descriptive data goes into one info series, `wgtui_peer_info{…} 1`, to be joined on
#   {interface, peer_id}; endpoints are not exported at all (they change and they locate people).
# - A timestamp is named …_timestamp_seconds (the handshake metric of other exporters says "seconds" and holds a
#   timestamp); time since is `time() - wgtui_peer_last_handshake_timestamp_seconds` in PromQL.
# - The output is rendered from the records the caller passes (nothing cached here): a deleted peer is not passed,
#   so its series disappear from the next scrape or textfile.
# - The HTTP server binds the address it is given (there is no implicit 0.0.0.0); the docs suggest 127.0.0.1.

from __future__ import annotations

import math
import os
import socket
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
TEXTFILE_NAME = "wgtui.prom"


@dataclass(frozen=True, slots=True)
class PeerMetrics:
    """What is exported of one key of one peer. Two records with the same (interface, peer_id) are the two keys of a
    rotation in progress: they get one info series each and share the peer's other series."""

    interface: str
    peer_id: str
    public_key: str
    name: str | None = None
    allowed_ips: Sequence[str] = ()
    enabled: bool = True
    rx_total: int = 0
    tx_total: int = 0
    last_handshake: int = 0
    """Unix seconds; 0 (never) exports no sample."""
    expires: int | None = None
    quota_bytes: int | None = None
    quota_used: int | None = None
    quota_period_end: int | None = None
    """Unix seconds; None for a lifetime quota."""


@dataclass(frozen=True, slots=True)
class AgentHealth:
    last_poll: float | None = None
    poll_errors: int = 0
    webhook_queue: int | None = None
    webhook_failures: int | None = None
    started: float | None = None


_FAMILIES: tuple[tuple[str, str, str], ...] = (
    ("wgtui_peer_receive_bytes_total", "counter",
     "Bytes received from the peer over its lifetime (every key it had), from wgtui's usage database."),
    ("wgtui_peer_transmit_bytes_total", "counter",
     "Bytes sent to the peer over its lifetime (every key it had), from wgtui's usage database."),
    ("wgtui_peer_info", "gauge", "Descriptive labels of a peer's key; always 1. Join on interface and peer_id."),
    ("wgtui_peer_enabled", "gauge", "1 when the peer is on the interface, 0 when it is disabled."),
    ("wgtui_peer_last_handshake_timestamp_seconds", "gauge",
     "Unix time of the peer's latest handshake (no sample if it never had one)."),
    ("wgtui_peer_expiry_timestamp_seconds", "gauge", "Unix time at which the peer expires (no sample if never)."),
    ("wgtui_peer_quota_used_bytes", "gauge", "Bytes received plus sent in the current quota period."),
    ("wgtui_peer_quota_limit_bytes", "gauge", "The peer's data quota per period in bytes."),
    ("wgtui_peer_quota_period_end_timestamp_seconds", "gauge",
     "Unix time at which the current quota period ends (no sample for a lifetime quota)."),
    ("wgtui_agent_start_timestamp_seconds", "gauge", "Unix time at which the agent started."),
    ("wgtui_agent_last_poll_timestamp_seconds", "gauge", "Unix time of the agent's latest successful poll."),
    ("wgtui_agent_poll_errors_total", "counter", "Polls of an interface that failed since the agent started."),
    ("wgtui_agent_webhook_queue_events", "gauge", "Events waiting for delivery, summed over webhook targets."),
    ("wgtui_agent_webhook_failures_total", "counter", "Failed webhook delivery attempts (each retried later)."),
)


def escape_label(value: str) -> str:
    """A label value in the text format: backslash, double quote and newline escaped."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _value(value: float) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value))


def render(peers: Iterable[PeerMetrics], health: AgentHealth | None = None) -> str:
    """The exposition text for these peers and the agent's health (families in a fixed order, HELP and TYPE)."""
    samples: dict[str, list[str]] = {name: [] for name, _, _ in _FAMILIES}
    seen: dict[tuple[str, str], tuple[str, PeerMetrics, int]] = {}
    info_seen: set[tuple[str, str, str]] = set()
    info = samples["wgtui_peer_info"]
    for p in peers:
        ident = (p.interface, p.peer_id)
        if ident not in seen:
            labels = f'{{interface="{escape_label(p.interface)}",peer_id="{escape_label(p.peer_id)}"}}'
            seen[ident] = (labels, p, p.last_handshake)
        else:  # the second key of a rotation: the peer is enabled if either is, its handshake the latest
            labels, first, handshake = seen[ident]
            merged = first if first.enabled or not p.enabled else p
            seen[ident] = (labels, merged, max(handshake, p.last_handshake))
        key = (p.interface, p.peer_id, p.public_key)
        if key not in info_seen:
            info_seen.add(key)
            info.append(f'wgtui_peer_info{{interface="{escape_label(p.interface)}",peer_id="{escape_label(p.peer_id)}"'
                        f',public_key="{escape_label(p.public_key)}",name="{escape_label(p.name or "")}"'
                        f',allowed_ips="{escape_label(",".join(p.allowed_ips))}"}} 1')
    rx, tx = samples["wgtui_peer_receive_bytes_total"], samples["wgtui_peer_transmit_bytes_total"]
    enabled = samples["wgtui_peer_enabled"]
    handshakes = samples["wgtui_peer_last_handshake_timestamp_seconds"]
    expiry = samples["wgtui_peer_expiry_timestamp_seconds"]
    used, limit = samples["wgtui_peer_quota_used_bytes"], samples["wgtui_peer_quota_limit_bytes"]
    period_end = samples["wgtui_peer_quota_period_end_timestamp_seconds"]
    for labels, p, handshake in seen.values():
        rx.append(f"wgtui_peer_receive_bytes_total{labels} {p.rx_total}")
        tx.append(f"wgtui_peer_transmit_bytes_total{labels} {p.tx_total}")
        enabled.append(f"wgtui_peer_enabled{labels} {1 if p.enabled else 0}")
        if handshake:
            handshakes.append(f"wgtui_peer_last_handshake_timestamp_seconds{labels} {handshake}")
        if p.expires is not None:
            expiry.append(f"wgtui_peer_expiry_timestamp_seconds{labels} {p.expires}")
        if p.quota_bytes is not None:
            limit.append(f"wgtui_peer_quota_limit_bytes{labels} {p.quota_bytes}")
            used.append(f"wgtui_peer_quota_used_bytes{labels} {p.quota_used or 0}")
            if p.quota_period_end is not None:
                period_end.append(f"wgtui_peer_quota_period_end_timestamp_seconds{labels} {p.quota_period_end}")
    if health is not None:
        for name, value in (("wgtui_agent_start_timestamp_seconds", health.started),
                            ("wgtui_agent_last_poll_timestamp_seconds", health.last_poll),
                            ("wgtui_agent_poll_errors_total", health.poll_errors),
                            ("wgtui_agent_webhook_queue_events", health.webhook_queue),
                            ("wgtui_agent_webhook_failures_total", health.webhook_failures)):
            if value is not None:
                samples[name].append(f"{name} {_value(value)}")
    lines: list[str] = []
    for name, kind, help_text in _FAMILIES:
        if name.startswith("wgtui_agent_") and health is None:
            continue
        lines.append(f"# HELP {name} {_escape_help(help_text)}")
        lines.append(f"# TYPE {name} {kind}")
        lines.extend(samples[name])
    return "\n".join(lines) + "\n"


def write_textfile(directory: Path, text: str, name: str = TEXTFILE_NAME) -> Path:
    """Write DIR/wgtui.prom for node_exporter's textfile collector: a temporary file (a name the collector ignores)
    renamed over the old one, so that a scrape never reads half a file. 0644: it holds no secret."""
    target = directory / name
    tmp = directory / f".{name}.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    try:
        try:
            os.fchmod(fd, 0o644)
            view = memoryview(text.encode())
            while view:
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target


def parse_listen(text: str) -> tuple[str, int]:
    """`127.0.0.1:9586` or `[::1]:9586` as (address, port); the address is required (no implicit 0.0.0.0)."""
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{text!r}: write ADDRESS:PORT, like 127.0.0.1:9586 or [::1]:9586.")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    elif ":" in host:
        raise ValueError(f"{text!r}: write an IPv6 address in brackets, like [::1]:9586.")
    return host, int(port)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    timeout = 10
    server_version = "wgtui-metrics"
    sys_version = ""

    def do_GET(self) -> None:
        if self.path.split("?", 1)[0] != "/metrics":
            self.send_error(404, "Only /metrics is served here.")
            return
        try:
            body = self.server.source().encode()
        except Exception as exc:  # the source is the caller's: report, do not kill the server thread
            self.send_error(500, f"Rendering the metrics failed: {type(exc).__name__}.")
            return
        self.send_response(200)
        self.send_header("Content-Type", CONTENT_TYPE)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass  # a scrape every 15 s would flood the agent's log


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], source: Callable[[], str], family: socket.AddressFamily) -> None:
        self.address_family = family
        self.source = source
        super().__init__(address, _Handler)


class MetricsServer:
    """GET /metrics over HTTP, answered from `source()` (the latest rendered text), in a daemon thread."""

    def __init__(self, address: str, port: int, source: Callable[[], str]) -> None:
        if not address:
            raise ValueError("The metrics server needs an explicit address to bind, like 127.0.0.1.")
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        self._server = _Server((address, port), source, family)
        self.address = address
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, name="wgtui-metrics", daemon=True)

    def start(self) -> MetricsServer:
        self._thread.start()
        return self

    def close(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(5)
        self._server.server_close()


def serve(address: str, port: int, source: Callable[[], str]) -> MetricsServer:
    """Start serving GET /metrics on address:port (port 0: any free one, see `.port`); close() stops it."""
    return MetricsServer(address, port, source).start()

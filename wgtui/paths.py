"""Provides every default path and number of wgtui in one table, so that no two places can disagree."""

from __future__ import annotations

from pathlib import Path

CONFIG_DIR = Path("/etc/wireguard")
"""Where wg-quick keeps IF.conf, and wgtui its lock, journal, undo record, audit log, clients/ and wgtui.json."""
STATE_DIR = Path("/var/lib/wgtui")
"""Where the usage ledger (SQLite), the webhook outbox and the agent's state live (--state-dir)."""
UAPI_DIR = Path("/var/run/wireguard")
"""Where userspace WireGuard (wireguard-go, boringtun) puts IF.sock."""
CLIENT_KEEPALIVE = 25
"""Keepalive written into client configs: clients behind NAT need it, and 25 s is what wg(8) suggests."""
HANDSHAKE_TIMEOUT = 600
"""Seconds a staged rotation waits for the new key's first handshake before leaving it pending."""
BACKEND_TIMEOUT = 5.0
"""Seconds a netlink or UAPI request may take before the interface counts as not answering."""
DEMO_PEERS = 40
"""Peers of the demo backend's main interface when --demo is given without a number."""

"""The peer lifecycle on remote hosts over real SSH: `peer edit --expires/--quota --host` and `peer enable
--expires/--force --host` change the host's file through its agent, and `show --host --json` reports expiry, quota,
quota use and totals as the host's agent works them out from the host's own ledger."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.integration.test_fleet_live import wgtui
from tests.sshlab import SshHost, SshLab
from wgtui.conf import Document
from wgtui.conf.meta import meta_line, parse_meta
from wgtui.lifecycle.periods import Period, parse_expiry, period_bounds

pytestmark = pytest.mark.netns


def ok(hosts: SshLab, *args: str) -> str:
    done = wgtui(hosts, *args)
    assert done.returncode == 0, (args, done.stdout, done.stderr)
    return done.stdout


def policy(host: SshHost, name: str) -> dict[str, str]:
    """The items of the `# wgtui:` comment of the host's live block named `name`."""
    doc = Document.read(host.conf)
    key = next(k for k, n in doc.names.items() if n == name)
    index = meta_line(doc, key)
    assert index is not None
    return parse_meta(doc.lines[index].comment) or {}


def shown_peers(hosts: SshLab, host: SshHost, *extra: str) -> dict[str, dict[str, Any]]:
    doc = json.loads(ok(hosts, "show", "--json", "--host", host.name, *extra))
    (entry,) = doc["hosts"]
    assert entry["reachable"], entry
    (iface,) = entry["interfaces"]
    return {p["name"]: p for p in iface["peers"]}


def test_a_remote_edit_sets_expiry_and_quota_and_show_host_reports_them(hosts: SshLab, tmp_path: Path) -> None:
    a = hosts.host("vpn-a")
    ok(hosts, "peer", "add", "wg0", "--name", "bob", "--host", "vpn-a", "--yes")
    preview = ok(hosts, "peer", "edit", "wg0", "bob", "--expires", "2099-12-31", "--quota", "50GB/month",
                 "--host", "vpn-a", "--dry-run")
    assert "expires=2099-12-31" in preview and "quota=50GB/month" in preview and "— on vpn-a" in preview
    assert "expires=" not in a.conf.read_text()  # previewed there, nothing changed yet
    ok(hosts, "peer", "edit", "wg0", "bob", "--expires", "2099-12-31", "--quota", "50GB/month", "--host", "vpn-a",
       "--yes")
    assert policy(a, "bob")["expires"] == "2099-12-31" and policy(a, "bob")["quota"] == "50GB/month"

    # No ledger on the host (the default state dir does not exist there): the policy, with usage unknown.
    bob = shown_peers(hosts, a)["bob"]
    assert bob["expires"] == parse_expiry("2099-12-31").timestamp()
    assert bob["quota"]["bytes"] == 50 * 10**9 and bob["quota"]["period"] == "month"
    assert bob["quota"]["used"] is None and bob["rx_total"] is None and bob["disabled_reason"] is None

    # With the host's ledger (its resident agent's one pass records every peer): usage known, from there.
    state = tmp_path / "host-state"
    once = subprocess.run(["ssh", "-F", str(hosts.config), "vpn-a", f"wgtui --state-dir {state} agent --once"],
                          capture_output=True, text=True, timeout=60)
    assert once.returncode == 0, once.stderr
    command = f"wgtui --state-dir {state} agent --stdio"
    bob = shown_peers(hosts, a, "--remote-command", command)["bob"]
    assert bob["quota"]["used"] == 0 and (bob["rx_total"], bob["tx_total"]) == (0, 0)
    bounds = period_bounds(Period.MONTH, time.time())
    assert bounds is not None and bob["quota"]["period_end"] == bounds[1]
    text = ok(hosts, "show", "--host", "vpn-a", "--remote-command", command)
    assert "expires: 2099-12-31" in text and "quota: 0 B of 50.0 GB (month, until" in text, text


def test_a_remote_disable_and_enable_with_a_new_expiry_or_force(hosts: SshLab) -> None:
    a = hosts.host("vpn-a")
    ok(hosts, "peer", "add", "wg0", "--name", "bob", "--host", "vpn-a", "--yes")
    ok(hosts, "peer", "edit", "wg0", "bob", "--expires", "2020-01-01T00:00+00:00", "--host", "vpn-a", "--yes")
    ok(hosts, "peer", "disable", "wg0", "bob", "--host", "vpn-a", "--yes")
    assert "#[disabled]" in a.conf.read_text() and "bob" not in Document.read(a.conf).names.values()
    bob = shown_peers(hosts, a)["bob"]
    assert bob["state"] == "disabled" and bob["disabled_reason"] == "manual"
    assert bob["expires"] == parse_expiry("2020-01-01T00:00+00:00").timestamp()

    refused = wgtui(hosts, "peer", "enable", "wg0", "bob", "--host", "vpn-a", "--yes")
    assert refused.returncode == 1 and "expired" in refused.stderr and "--expires" in refused.stderr
    assert "#[disabled]" in a.conf.read_text()  # refused there: nothing changed
    ok(hosts, "peer", "enable", "wg0", "bob", "--expires", "2099-06-30", "--host", "vpn-a", "--yes")
    assert policy(a, "bob")["expires"] == "2099-06-30" and "#[disabled]" not in a.conf.read_text()
    assert len(hosts.wg(a, "show", "wg0", "peers").split()) == 1  # back on the host's interface

    ok(hosts, "peer", "edit", "wg0", "bob", "--expires", "2020-01-01T00:00+00:00", "--host", "vpn-a", "--yes")
    ok(hosts, "peer", "disable", "wg0", "bob", "--host", "vpn-a", "--yes")
    ok(hosts, "peer", "enable", "wg0", "bob", "--force", "--host", "vpn-a", "--yes")
    assert "expires" not in policy(a, "bob") and "#[disabled]" not in a.conf.read_text()

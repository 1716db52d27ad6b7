"""`systemctl reload` of the resident agent (SIGHUP): it reads its webhook targets again without stopping, and a
wgtui.json it cannot read leaves the targets it had."""

from __future__ import annotations

import json
import signal
import sqlite3
import time
from pathlib import Path

import pytest

from tests.integration.test_agent_lifecycle_live import (
    Receiver,
    event_bodies,
    running,
    stop_agent,
    wait_for,
    write_config,
)
from tests.netns import Lab
from wgtui.lifecycle import db

pytestmark = pytest.mark.netns


def started(state: Path) -> bool:
    """Whether the agent has queued agent.started (its database is opened only once the agent made it)."""
    if not db.db_path(state).exists():
        return False
    try:
        return any(e["type"] == "agent.started" for e in event_bodies(state))
    except sqlite3.Error:  # the agent is still creating its tables
        return False


def test_sighup_reloads_the_webhook_targets_and_a_broken_file_keeps_them(lab: Lab, tmp_path: Path) -> None:
    a, b = lab.pair()
    etc, state = tmp_path / "etc", tmp_path / "state"
    etc.mkdir(mode=0o700)
    settings = etc / "wgtui.json"
    settings.write_text("{}")  # no webhooks at start
    write_config(etc, a, [("bob", b.public_key, str(b.address), [])])
    secret = etc / "hook.secret"
    secret.write_text("s3cret-for-the-test\n")
    secret.chmod(0o600)
    receiver = Receiver(a.ns)
    receiver.start()
    log = tmp_path / "agent.log"
    try:
        with running(a.ns, etc, state, a.ifname, "--interval", "0.5", log=log) as agent:
            wait_for(lambda: started(state), "agent.started to be queued (for nobody: no target yet)")
            settings.write_text(json.dumps({"webhooks": [
                {"url": f"http://127.0.0.1:{receiver.port}/hook", "secret_file": str(secret)}]}))
            agent.send_signal(signal.SIGHUP)
            wait_for(lambda: "reloaded wgtui.json: 1 webhook target" in log.read_text(), "the reload")
            assert agent.poll() is None  # reloaded, not stopped

            settings.write_text('{"webhooks": [')  # half-written by an editor
            agent.send_signal(signal.SIGHUP)
            wait_for(lambda: "The webhook targets stay as they were" in log.read_text(), "the refused reload")
            time.sleep(0.5)
            assert agent.poll() is None

            stop_agent(agent, log)
        # The target added by the first reload, kept through the refused one, gets what happened after it.
        wait_for(lambda: "agent.stopped" in receiver.types(), "agent.stopped at the receiver", timeout=15)
        assert "agent.started" not in receiver.types()  # queued before the target was configured
    finally:
        receiver.close()

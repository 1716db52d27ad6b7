"""Provides `wgtui agent` as a service: the loop that sleeps until the next poll or deadline, signals, systemd
notifications, webhook delivery and the metrics server; and `--once`, one pass for timers."""

# SIGTERM or SIGINT between passes ends the sleep at once; during a change the signal waits (wgtui.interrupts)
# until the change is done or undone, then the loop ends. Either way agent.stopped is queued and the exit is 0.
# SIGHUP reloads the webhook targets (systemd's ExecReload), before the next pass.

from __future__ import annotations

import argparse
import contextlib
import json
import sqlite3
import sys
import time
from pathlib import Path

from wgtui import interrupts
from wgtui.agent import notify
from wgtui.agent.enforce import Options
from wgtui.agent.resident import AgentConfig, Resident
from wgtui.backends.base import Backend
from wgtui.changes import transaction
from wgtui.lifecycle import db
from wgtui.lifecycle.events import EventType
from wgtui.lifecycle.history import LedgerError
from wgtui.lifecycle.metrics import MetricsServer, parse_listen, serve
from wgtui.lifecycle.webhooks import Delivery, Target, WebhookError, load_targets
from wgtui.settings import SETTINGS_FILE
from wgtui.store import StoreError, read_regular

MIN_SLEEP = 0.001
DRAIN_SECONDS = 3.0
"""At a stop, how long the events due now (agent.stopped) may take to go out before the exit."""


def webhook_targets(config_dir: Path) -> list[Target]:
    """The targets of CONFIG_DIR/wgtui.json's `"webhooks"` list (none when the file or the list is absent)."""
    path = config_dir / SETTINGS_FILE
    data = read_regular(path, follow=False)
    if not data:
        return []
    try:
        doc = json.loads(data)
    except ValueError as exc:
        raise WebhookError(f"{path} is not valid JSON ({exc}).") from None
    hooks = doc.get("webhooks", []) if isinstance(doc, dict) else None
    if not isinstance(hooks, list):
        raise WebhookError(f"{path}: \"webhooks\" must be a list of {{\"url\", \"secret_file\"}} objects.")
    try:
        return load_targets(hooks)
    except WebhookError as exc:
        raise WebhookError(f"{path}: {exc}") from None


class Service:
    """The resident loop around a Resident."""

    def __init__(self, resident: Resident, delivery: Delivery | None, server: MetricsServer | None) -> None:
        self.resident = resident
        self.delivery = delivery
        self.server = server
        self._sleeping = False
        resident.hup_reloads = True

    def _on_signal(self, signum: int) -> None:
        self.resident.signalled(signum)
        if self._sleeping:
            raise interrupts.Interrupted(signum)  # ends the sleep (for a reload too: it is done at once); caught there

    def reload(self) -> None:
        """SIGHUP (`systemctl reload`): read the webhook targets of wgtui.json again. A file that cannot be read
        leaves the targets as they were, and says why."""
        r = self.resident
        r.reload_asked = False
        try:
            targets = webhook_targets(r.config.config_dir)
        except (WebhookError, StoreError) as exc:
            r.error(f"reload: {exc} The webhook targets stay as they were.")
            return
        r.set_targets(targets)
        if self.delivery is not None:
            self.delivery.retarget(targets)
        elif targets:
            self.delivery = Delivery(db.db_path(r.config.state_dir), targets)
            self.delivery.start()
        r.note(f"reloaded {SETTINGS_FILE}: {len(targets)} webhook target{'s' if len(targets) != 1 else ''}")

    def _sleep(self, seconds: float) -> None:
        try:
            self._sleeping = True
            if self.resident.stop_signal is None:
                time.sleep(max(MIN_SLEEP, seconds))
        except interrupts.Interrupted:
            pass
        finally:
            self._sleeping = False

    def run(self) -> int:
        r = self.resident
        interrupts.install(self._on_signal)
        try:
            r.emit(EventType.AGENT_STARTED, data={"interval": r.config.interval})
            if self.delivery is not None:
                self.delivery.start()
            ready = False
            while r.stop_signal is None:
                if r.reload_asked:
                    self.reload()
                began = time.time()
                r.run_pass(began)
                if self.delivery is not None and r.emitted:
                    self.delivery.wake()
                    r.emitted = 0
                if not ready:
                    notify.notify("READY=1")
                    ready = True
                notify.notify("WATCHDOG=1")
                self._sleep(self._wake_at(began) - time.time())
        finally:
            notify.notify("STOPPING=1")
            why = interrupts.signal_name(r.stop_signal) if r.stop_signal is not None else "error"
            r.emit(EventType.AGENT_STOPPED, data={"reason": why})
            self.close()
            interrupts.uninstall()
        return 0

    def _wake_at(self, began: float) -> float:
        wake = began + self.resident.config.interval
        deadline = self.resident.deadlines.next()
        if deadline is not None:
            wake = min(wake, deadline)
        watchdog = notify.watchdog_interval()
        if watchdog is not None:
            wake = min(wake, began + watchdog)
        return wake

    def close(self) -> None:
        if self.delivery is not None:
            self._drain(self.delivery)
            self.delivery.stop(timeout=5)
            self.delivery.close()
        if self.server is not None:
            self.server.close()
        self.resident.close()


    @staticmethod
    def _drain(delivery: Delivery) -> None:
        """Give the delivery thread a moment for what is due now (agent.stopped); a receiver that is down or
        waiting out its backoff gets it from the next agent, from the outbox."""
        delivery.wake()
        until = time.monotonic() + DRAIN_SECONDS
        try:
            while time.monotonic() < until:
                due = delivery.next_due()
                if due is None or due > time.time():
                    return
                time.sleep(0.05)
        except (db.DatabaseError, LedgerError, sqlite3.Error):
            return


def run_once(resident: Resident, delivery: Delivery | None) -> int:
    """One pass (catching up on what passed while no agent ran), then one round of webhook delivery."""
    try:
        resident.run_pass(time.time())
        if delivery is not None:
            try:
                delivery.deliver_due()
            except (db.DatabaseError, LedgerError) as exc:
                resident.error(f"webhook delivery: {exc}")
            finally:
                delivery.close()
    finally:
        resident.close()
    return 1 if resident.errors else 0  # each error was logged on stderr as it happened


def run_resident(args: argparse.Namespace, backend: Backend, config_dir: Path) -> int:
    """`wgtui agent` (or `--once`) with the parsed options; the exit code."""
    options = Options(tuple(args.warn_before), tuple(args.warn_at))
    metrics_at = parse_listen(args.metrics) if args.metrics else None
    config = AgentConfig(config_dir=config_dir, state_dir=args.state_dir, interval=args.interval, options=options,
                         interfaces=tuple(args.interface) if args.interface else None, textfile=args.textfile,
                         metrics=bool(args.metrics or args.textfile))
    if args.textfile is not None and not args.textfile.is_dir():
        print(f"wgtui agent: --textfile {args.textfile} is not a directory", file=sys.stderr)
        return 1
    try:
        targets = webhook_targets(config_dir)
        resident = Resident(config, backend, targets)
    except (WebhookError, StoreError, db.DatabaseError, LedgerError) as exc:
        print(f"wgtui agent: {exc}", file=sys.stderr)
        return 1
    delivery = Delivery(db.db_path(args.state_dir), targets) if targets else None
    from wgtui.lifecycle.record import recorder

    # Every change the agent applies (its own, and the rotations it finishes) is recorded like a CLI's: the final
    # reading of a peer taken off the interface, the rotation's link, the events.
    previous = transaction.set_recorder(recorder(args.state_dir))
    try:
        return _run(args, resident, delivery, metrics_at)
    finally:
        transaction.set_recorder(previous)


def _run(args: argparse.Namespace, resident: Resident, delivery: Delivery | None,
         metrics_at: tuple[str, int] | None) -> int:
    if args.once:
        return run_once(resident, delivery)
    server = None
    if metrics_at is not None:
        try:
            server = serve(metrics_at[0], metrics_at[1], lambda: resident.metrics_text)
        except OSError as exc:
            resident.close()
            print(f"wgtui agent: cannot serve metrics on {args.metrics}: {exc.strerror or exc}", file=sys.stderr)
            return 1
        print(f"wgtui agent: metrics on http://{args.metrics}/metrics", file=sys.stderr, flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        return Service(resident, delivery, server).run()
    return 0

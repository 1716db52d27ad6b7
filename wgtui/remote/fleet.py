"""Provides the fleet: several remote hosts polled side by side, none waiting for another."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

from wgtui.remote.host import Health, RemoteHost
from wgtui.remote.ssh import HostSpec, SshOptions


class Fleet:
    def __init__(self, specs: Sequence[HostSpec], opts: SshOptions) -> None:
        self.opts = opts
        self.hosts = [RemoteHost(spec, opts) for spec in specs]

    def poll_all(self, deadline: float | None = None) -> None:
        """Poll every host at once, each in its own thread; a host still silent at the deadline (default: the
        connect timeout plus one poll) is marked unreachable, and nobody waits for it any longer."""
        limit = deadline if deadline is not None else self.opts.connect_timeout + 5.0
        threads = []
        for host in self.hosts:
            thread = threading.Thread(target=host.poll, name=f"poll-{host.name}", daemon=True)
            thread.start()
            threads.append((host, thread))
        end = time.monotonic() + limit
        for host, thread in threads:
            thread.join(max(0.0, end - time.monotonic()))
            if thread.is_alive():
                host.health = Health.UNREACHABLE
                host.error = f"no answer within {limit:g} s"

    def close(self) -> None:
        for host in self.hosts:
            threading.Thread(target=host.close, daemon=True).start()  # a frozen host must not hold up the exit

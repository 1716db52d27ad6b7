"""Provides the fleet: several remote hosts polled side by side, none waiting for another."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

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
        for host in self.each(lambda host: host.poll(), self.hosts, limit):
            host.health = Health.UNREACHABLE
            host.error = f"no answer within {limit:g} s"

    @staticmethod
    def each(work: Callable[[RemoteHost], object], hosts: Sequence[RemoteHost], limit: float) -> list[RemoteHost]:
        """`work(host)` for every host at once, each in its own thread; returns the hosts still busy after `limit`
        seconds (nobody waits for them any longer)."""
        threads = []
        for host in hosts:
            thread = threading.Thread(target=work, args=(host,), name=f"fleet-{host.name}", daemon=True)
            thread.start()
            threads.append((host, thread))
        end = time.monotonic() + limit
        late = []
        for host, thread in threads:
            thread.join(max(0.0, end - time.monotonic()))
            if thread.is_alive():
                late.append(host)
        return late

    def close(self) -> None:
        for host in self.hosts:
            threading.Thread(target=host.close, daemon=True).start()  # a frozen host must not hold up the exit

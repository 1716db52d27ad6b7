"""Provides the fleet options (--host, --hosts, --inventory, …) and `wgtui show` and `wgtui peer` on remote hosts."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:  # the parser needs none of this: `wgtui peer add` must not pay for ssh and inventories
    from wgtui.remote.fleet import Fleet
    from wgtui.remote.ssh import HostSpec, SshOptions

FLEET_DEFAULTS: dict[str, object] = {"host_list": None, "hosts_file": None, "inventory": None, "group": None,
                                     "ssh_config": None, "remote_command": None, "connect_timeout": 10.0}
FLEET_OPTIONS = {"--host": True, "--hosts": True, "--inventory": True, "--group": True, "--ssh-config": True,
                 "--remote-command": True, "--connect-timeout": True}
"""Option -> takes a value: removed from a command line before it is handed to an agent."""


def _timeout(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, not {text!r}") from None
    if not 1 <= value <= 120:
        raise argparse.ArgumentTypeError("the connect timeout is 1 to 120 seconds")
    return value


def add_fleet_options(p: argparse.ArgumentParser, *, sub: bool = False) -> None:
    def default(name: str) -> object:
        return argparse.SUPPRESS if sub else FLEET_DEFAULTS[name]

    g = p.add_argument_group("hosts (over the admin's own ssh)")
    g.add_argument("--host", dest="host_list", action="append", metavar="HOST", default=default("host_list"),
                   help="an ssh destination (user@host, an alias of your ssh config); repeat for several")
    g.add_argument("--hosts", dest="hosts_file", type=Path, metavar="FILE", default=default("hosts_file"),
                   help="a file with one ssh destination per line")
    g.add_argument("--inventory", type=Path, metavar="FILE", default=default("inventory"),
                   help="an Ansible inventory (INI or YAML; read by ansible-core when installed)")
    g.add_argument("--group", metavar="GROUP", default=default("group"), help="only this group of --inventory")
    g.add_argument("--ssh-config", type=Path, metavar="FILE", default=default("ssh_config"),
                   help="passed to ssh as -F FILE")
    g.add_argument("--remote-command", metavar="CMD", default=default("remote_command"),
                   help="what runs on each host instead of `[sudo -n] wgtui agent --stdio`")
    g.add_argument("--connect-timeout", type=_timeout, metavar="SEC", default=default("connect_timeout"),
                   help="how long a host may take to answer before it counts as unreachable (default 10)")


def fleet_specs(args: argparse.Namespace) -> list[HostSpec]:
    from wgtui.remote.inventory import InventoryError, gather

    try:
        return gather(args.host_list or (), args.hosts_file, args.inventory, args.group)
    except InventoryError as exc:
        raise SystemExit(f"wgtui: {exc}") from None


def ssh_options(args: argparse.Namespace) -> SshOptions:
    from wgtui.remote.ssh import SshOptions

    return SshOptions(ssh_config=args.ssh_config, connect_timeout=args.connect_timeout,
                      remote_command=args.remote_command)


def strip_fleet(argv: list[str]) -> list[str]:
    """A command line without the fleet options (for the agent on the host, which is the host)."""
    out, skip = [], False
    for word in argv:
        if skip:
            skip = False
            continue
        name = word.split("=", 1)[0]
        if name in FLEET_OPTIONS:
            skip = "=" not in word
            continue
        out.append(word)
    return out


def run_show_hosts(args: argparse.Namespace, specs: list[HostSpec], out: TextIO | None = None) -> int:
    """Every host's interfaces, or why a host could not be read: within the connect timeout plus one poll (and one
    more round trip for expiry, quota use and totals, which each host's agent works out from its own ledger)."""
    from wgtui.cli.show import interface_json, print_text
    from wgtui.cli.show_lifecycle import usage_from
    from wgtui.remote.fleet import Fleet
    from wgtui.remote.host import Health, Mode

    out = out or sys.stdout
    fleet = Fleet(specs, ssh_options(args))
    try:
        fleet.poll_all()
        lifecycles = host_lifecycles(fleet, args.only, fleet.opts.connect_timeout + 5.0)
        now = time.time()
        hosts: list[dict[str, Any]] = []
        for host in fleet.hosts:
            ifaces = [s for name, s in sorted(host.states.items()) if not args.only or name == args.only]
            reachable = host.health is Health.LIVE
            found = lifecycles.get(host.name, {})
            views = {i.name: host.config(i.name) for i in ifaces}
            usage_of = {i.name: usage_from(i.name, found.get(i.name, {}), views[i.name].meta, now) for i in ifaces}
            shown = [with_lifecycle(interface_json(i, views[i.name].names, now, args.online_after, None,
                                                   views[i.name].meta, views[i.name].disabled, usage_of[i.name]),
                                    found.get(i.name)) for i in ifaces]
            hosts.append({"host": host.name, "reachable": reachable, "error": None if reachable else host.error,
                          "read_only": host.mode is Mode.READ_ONLY, "interfaces": shown if reachable else []})
            if not args.json:
                state = "reachable" if reachable else f"UNREACHABLE: {host.error}"
                ro = " (read-only: no wgtui there)" if host.mode is Mode.READ_ONLY and reachable else ""
                out.write(f"host: {host.name} ({state}){ro}\n")
                if reachable and ifaces:
                    print_text(ifaces, {k: v.names for k, v in views.items()}, now, args.online_after, out,
                               {k: v.meta for k, v in views.items()},
                               disabled_of={k: v.disabled for k, v in views.items()}, usage_of=usage_of)
                out.write("\n")
        if args.json:
            json.dump({"time": int(now), "hosts": hosts}, out, indent=2)
            out.write("\n")
        return 0 if all(h["reachable"] for h in hosts) else 1
    finally:
        fleet.close()


def host_lifecycles(fleet: Fleet, only: str | None, limit: float) -> dict[str, dict[str, Any]]:
    """Host -> interface -> its agent's `lifecycle` answer, asked of every live agent at once. A host whose agent
    is older (no such operation), read-only, or late keeps what its file says (expiry, quota) with usage unknown,
    and stderr says why, unless its agent simply does not know the operation."""
    from wgtui.remote.host import Health, Mode, RemoteHost
    from wgtui.remote.ssh import HostError

    found: dict[str, dict[str, Any]] = {}

    def ask(host: RemoteHost) -> None:
        try:
            answer = host.request("lifecycle", interfaces=[only] if only else None)
        except HostError as exc:
            if "has no operation" not in str(exc):  # an agent of the previous release: usage unknown, quietly
                print(f"wgtui: {host.name}: quota use and totals unknown: {exc}", file=sys.stderr)
            return
        if answer.get("problem"):
            print(f"wgtui: {host.name}: lifetime totals and quota use unknown: {answer['problem']}", file=sys.stderr)
        found[host.name] = dict(answer.get("interfaces") or {})

    live = [h for h in fleet.hosts if h.health is Health.LIVE and h.mode is Mode.AGENT]
    for host in fleet.each(ask, live, limit):
        print(f"wgtui: {host.name}: quota use and totals unknown: no answer within {limit:g} s", file=sys.stderr)
    return found


def with_lifecycle(iface: dict[str, Any], answer: dict[str, Any] | None) -> dict[str, Any]:
    """An interface of `show --json` with each peer's lifecycle fields as its host worked them out."""
    peers = (answer or {}).get("peers", {})
    for peer in iface["peers"]:
        info = peers.get(peer["public_key"])
        if info is not None:
            reason = peer["disabled_reason"]
            peer.update(info)
            if peer["state"] == "disabled":
                peer["disabled_reason"] = peer["disabled_reason"] or reason
    return iface


def one_host(specs: list[HostSpec]) -> HostSpec:
    if len(specs) != 1:
        raise SystemExit("wgtui: a change goes to one host at a time: give exactly one --host (or an inventory "
                         f"group of one); {len(specs)} were named")
    return specs[0]


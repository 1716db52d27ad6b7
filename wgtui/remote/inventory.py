"""Provides the fleet's hosts from the command line, a hosts file, or an Ansible inventory (INI or YAML)."""

# An Ansible inventory names hosts by their inventory names, with ansible_host / ansible_port / ansible_user for how
# to reach them, groups with children, and ranges like vpn[01:20]. With ansible-core installed (the `ansible`
# extra) its own inventory code reads the file, so inventories work exactly as for the admin's playbooks;
# without it, the INI and YAML basics are read here.

from __future__ import annotations

import re
import shlex
import string
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from wgtui.remote.ssh import HostSpec


class InventoryError(ValueError):
    """An inventory or hosts file wgtui cannot read; the message names the file and the line."""


_RANGE = re.compile(r"\[([0-9a-z]+):([0-9a-z]+)(?::(\d+))?\]")


def expand(pattern: str) -> list[str]:
    """Ansible host ranges: `vpn[01:20]` (zero padding kept), `db-[a:c]`, `web[1:10:2]`; several ranges multiply."""
    match = _RANGE.search(pattern)
    if match is None:
        return [pattern]
    first, last, step = match.group(1), match.group(2), int(match.group(3) or 1)
    if first.isdigit() and last.isdigit():
        width = len(first) if first.startswith("0") else 0
        values = [str(n).zfill(width) for n in range(int(first), int(last) + 1, step)]
    elif len(first) == 1 and len(last) == 1 and first in string.ascii_letters and last in string.ascii_letters:
        values = [chr(c) for c in range(ord(first), ord(last) + 1, step)]
    else:
        raise InventoryError(f"{pattern!r}: a range is [01:20] or [a:f]")
    head, tail = pattern[:match.start()], pattern[match.end():]
    return [name for v in values for name in expand(head + v + tail)]


def _spec(name: str, variables: dict[str, Any]) -> HostSpec:
    port = variables.get("ansible_port") or variables.get("ansible_ssh_port")
    user = variables.get("ansible_user") or variables.get("ansible_ssh_user")
    host = variables.get("ansible_host") or variables.get("ansible_ssh_host") or name
    try:
        port_number = int(port) if port else None
    except ValueError:
        raise InventoryError(f"host {name}: ansible_port {port!r} is not a number") from None
    return HostSpec(name=name, destination=str(host), port=port_number, user=str(user) if user else None)


class _Groups:
    def __init__(self) -> None:
        self.hosts: dict[str, dict[str, Any]] = {}
        self.members: dict[str, list[str]] = {"all": []}
        self.children: dict[str, list[str]] = {}
        self.group_vars: dict[str, dict[str, Any]] = {}

    def add_host(self, group: str, name: str, variables: dict[str, Any]) -> None:
        self.hosts.setdefault(name, {}).update(variables)
        self.members.setdefault(group, [])
        if name not in self.members[group]:
            self.members[group].append(name)

    def resolve(self, group: str | None, where: str) -> list[HostSpec]:
        wanted = group or "all"
        if wanted != "all" and wanted not in self.members and wanted not in self.children:
            known = ", ".join(sorted(set(self.members) | set(self.children)))
            raise InventoryError(f"{where}: no group {wanted!r} (groups: {known})")
        names: list[str] = []
        seen_groups: set[str] = set()

        def walk(g: str) -> None:
            if g in seen_groups:
                return
            seen_groups.add(g)
            names.extend(n for n in self.members.get(g, []) if n not in names)
            for child in self.children.get(g, []):
                walk(child)

        if wanted == "all":
            names = list(self.hosts)
        else:
            walk(wanted)
        out = []
        for name in names:
            variables: dict[str, Any] = {}
            for g, members in self.members.items():
                if name in members:
                    variables.update(self.group_vars.get(g, {}))
            variables.update(self.hosts[name])
            out.append(_spec(name, variables))
        return out


def parse_ini(text: str, where: str) -> _Groups:
    groups = _Groups()
    section, kind = "ungrouped", "hosts"
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].split(";", 1)[0].strip() if not raw.lstrip().startswith(("#", ";")) else ""
        if not line:
            continue
        if line.startswith("["):
            name = line.strip("[]")
            section, _, kind = name.partition(":")
            kind = kind or "hosts"
            if kind not in ("hosts", "children", "vars"):
                raise InventoryError(f"{where}:{number}: [{name}] is not a hosts, children or vars section")
            groups.members.setdefault(section, [])
            continue
        try:
            words = shlex.split(line)
        except ValueError as exc:
            raise InventoryError(f"{where}:{number}: {exc}") from None
        if kind == "children":
            groups.children.setdefault(section, []).append(words[0])
        elif kind == "vars":
            key, _, value = line.partition("=")
            groups.group_vars.setdefault(section, {})[key.strip()] = value.strip()
        else:
            variables = dict(w.split("=", 1) for w in words[1:] if "=" in w)
            for name in expand(words[0]):
                groups.add_host(section, name, variables)
    return groups


def parse_yaml(data: Any, where: str) -> _Groups:
    groups = _Groups()

    def group(name: str, body: Any) -> None:
        if body is None:
            return
        if not isinstance(body, dict):
            raise InventoryError(f"{where}: group {name!r} must be a mapping")
        for host, variables in (body.get("hosts") or {}).items():
            for expanded in expand(str(host)):
                groups.add_host(name, expanded, dict(variables or {}))
        groups.group_vars.setdefault(name, {}).update(body.get("vars") or {})
        for child, child_body in (body.get("children") or {}).items():
            groups.children.setdefault(name, []).append(str(child))
            group(str(child), child_body)

    if not isinstance(data, dict):
        raise InventoryError(f"{where}: a YAML inventory is a mapping of groups (all: hosts: …)")
    for name, body in data.items():
        group(str(name), body)
    return groups


def from_ansible(path: Path, group: str | None) -> list[HostSpec] | None:
    """Through ansible-core's own inventory code, when it is installed; None otherwise."""
    try:
        from ansible.inventory.manager import InventoryManager  # type: ignore[import-not-found]
        from ansible.parsing.dataloader import DataLoader  # type: ignore[import-not-found]
    except ImportError:
        return None
    inventory = InventoryManager(loader=DataLoader(), sources=[str(path)])
    return [_spec(h.name, dict(h.vars)) for h in inventory.get_hosts(pattern=group or "all")]


def read_inventory(path: Path, group: str | None) -> list[HostSpec]:
    found = from_ansible(path, group)
    if found is not None:
        return found
    try:
        text = path.read_text()
    except OSError as exc:
        raise InventoryError(f"cannot read the inventory {path}: {exc.strerror or exc}") from None
    if path.suffix in (".yml", ".yaml") or text.lstrip().startswith(("all:", "---")):
        import yaml

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise InventoryError(f"{path}: not valid YAML ({exc})") from None
        return parse_yaml(data, str(path)).resolve(group, str(path))
    return parse_ini(text, str(path)).resolve(group, str(path))


def read_hosts_file(path: Path) -> list[HostSpec]:
    """One ssh destination per line; `#` starts a comment."""
    try:
        lines = path.read_text().splitlines()
    except OSError as exc:
        raise InventoryError(f"cannot read the hosts file {path}: {exc.strerror or exc}") from None
    return [HostSpec(d, d) for d in (line.split("#", 1)[0].strip() for line in lines) if d]


def gather(hosts: Iterable[str], hosts_file: Path | None, inventory: Path | None, group: str | None) -> list[HostSpec]:
    """Every host the options name, each once, in the order given."""
    specs = [HostSpec(h, h) for h in hosts]
    if hosts_file is not None:
        specs += read_hosts_file(hosts_file)
    if inventory is not None:
        specs += read_inventory(inventory, group)
    elif group is not None:
        raise InventoryError("--group picks a group of --inventory FILE")
    seen: set[str] = set()
    out = []
    for spec in specs:
        if spec.name not in seen:
            seen.add(spec.name)
            out.append(spec)
    return out

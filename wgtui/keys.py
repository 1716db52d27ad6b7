"""Provides WireGuard key handling: validation, base64/hex conversion, generation, derivation and shortening."""

from __future__ import annotations

import base64
import binascii
import os

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

KEY_LEN = 32
ZERO_KEY = base64.b64encode(bytes(KEY_LEN)).decode()
"""What WireGuard reports for an unset preshared key: 32 zero bytes."""


class KeyError_(ValueError):
    """A key that is not 32 bytes of standard base64."""


def parse_key(text: str) -> bytes:
    """The 32 raw bytes of a base64 WireGuard key, or KeyError_ saying what is wrong with it."""
    text = text.strip()
    if len(text) != 44 or not text.endswith("="):
        raise KeyError_("a WireGuard key is 44 characters of base64 ending in '='")
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise KeyError_("a WireGuard key is 44 characters of base64 ending in '='") from None
    if len(raw) != KEY_LEN:
        raise KeyError_("a WireGuard key decodes to 32 bytes")
    return raw


def is_key(text: str) -> bool:
    try:
        parse_key(text)
    except KeyError_:
        return False
    return True


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def hex_to_b64(text: str) -> str:
    """UAPI speaks lowercase hex; the rest of the world speaks base64."""
    return b64(bytes.fromhex(text))


def b64_to_hex(text: str) -> str:
    return parse_key(text).hex()


def generate_private_key() -> str:
    """A clamped X25519 private key, as `wg genkey` makes."""
    raw = bytearray(os.urandom(KEY_LEN))
    raw[0] &= 248
    raw[31] = (raw[31] & 127) | 64
    return b64(bytes(raw))


def generate_preshared_key() -> str:
    return b64(os.urandom(KEY_LEN))


def public_key(private_key: str) -> str:
    """The public key that belongs to a base64 private key, as `wg pubkey` derives it."""
    priv = X25519PrivateKey.from_private_bytes(parse_key(private_key))
    # The raw accessors, not public_bytes(Encoding.Raw, ...): importing `serialization` (its SSH and PEM code) cost
    # every command ~12 ms.
    return b64(priv.public_key().public_bytes_raw())


def keypair() -> tuple[str, str]:
    """(private, public), both base64."""
    priv = X25519PrivateKey.generate()
    raw = priv.private_bytes_raw()
    private = b64(raw)
    return private, public_key(private)


def short_key(key: str | None, full: bool = False) -> str:
    """`3kRq…Yz0=`: enough to tell keys apart at a glance, short enough for an 80-column table."""
    if not key:
        return "(none)"
    if full or len(key) <= 9:
        return key
    return f"{key[:4]}…{key[-4:]}"

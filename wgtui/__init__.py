"""Provides wgtui, a terminal dashboard and peer manager for WireGuard."""

__version__ = "0.1.0"

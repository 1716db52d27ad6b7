"""Provides the remote side of the fleet: hosts reached over ssh, their agents, inventories."""

"""Provides the agent: the protocol and the server that a remote wgtui talks to over ssh."""

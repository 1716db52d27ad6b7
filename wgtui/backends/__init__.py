"""Provides the WireGuard state backends: kernel netlink, userspace UAPI sockets and a simulated demo."""

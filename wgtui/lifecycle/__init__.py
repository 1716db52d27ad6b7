"""Provides the peer lifecycle: durable usage accounting, expiry and quota enforcement, events, webhooks, metrics."""

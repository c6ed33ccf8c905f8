"""Handlers: one sync function per endpoint, `(context, body) -> result`. They translate the
wire request into one use case run in one transaction, and shape the answer."""

"""HTTP: the Autumn-compatible API (routes, wire format, auth, error -> status mapping)."""

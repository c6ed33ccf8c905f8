"""One function per use case. Services get an open `Store` and the current time; they never
commit: the caller (embedded API, HTTP request, CLI command) owns the transaction."""

"""One function per use case. Services get an open `Store` and the current time; they never
commit: the caller (a tenant session, through the runner) owns the transaction.

Public modules are use cases, one per noun (`usage`: check and track; `locks`; `loose_grants`;
`reversals`; `events`; `features`; `plans`; `customers`; `entities`; `keys`; `ledger`). Private
`_modules` are their shared helpers, never called from outside `services`: `_subjects` (who a
call is about, under the customer's lock), `_live_grants` (a customer's grants with due resets,
expiries and lapses applied; giving back an event's entries), `_resets`, `_recording` (the
atomic core of a deduction), `_changes` (entries and balances written together), `_paging`,
`_errors`."""

"""Pure code: no I/O, no SQL, no network."""

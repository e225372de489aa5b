"""Model arrays as the ledger sees them: one canonical byte form, its hash, and a store keyed by it."""

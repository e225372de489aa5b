"""Integration tests of the contracts and the chain bridge against a real Anvil node."""

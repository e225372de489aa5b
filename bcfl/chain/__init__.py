"""The chain bridge: every service's one way to the consortium contracts."""

"""The event index: every consortium contract event, decoded, with its block, time and transaction."""

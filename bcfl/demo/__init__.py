"""The local demo consortium, run as processes by ``make demo`` / ``bcfl demo``."""

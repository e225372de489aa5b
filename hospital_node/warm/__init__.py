"""Warm start of a hospital's ClientApps: each message still gets a process of its own, forked from a
server that has imported the ClientApp's libraries once (see :mod:`hospital_node.warm.server`)."""

"""Flower's transport security for the consortium: TLS certificates, SuperNode keys, the SuperLink's
Control API (node registration) and the Fleet gateway that exposes only the Fleet API."""

"""The Flower ServerApp that runs the consortium's rounds and records them on chain (see docs/)."""

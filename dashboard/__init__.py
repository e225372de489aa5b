"""FastAPI service and web page over the consortium's contracts, with a JSON API for auditors."""

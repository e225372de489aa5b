"""The auditor's tool: a run's provenance from the chain (through the event index) and, optionally,
the model store, checked by named checks and reported as tables, JSON, HTML and PROV-JSON."""

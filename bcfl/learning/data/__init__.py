"""Local data: the shared table schema, loading and validation, and preprocessing."""

"""The ``bcfl`` command line: thin Typer commands over the library's functions."""

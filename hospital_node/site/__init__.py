"""A hospital IT's own node folder: made by ``bcfl node init``, joined, checked, started and stopped."""

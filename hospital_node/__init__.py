"""A hospital's Flower ClientApp: trains on local data, signs its updates, verifies global models."""

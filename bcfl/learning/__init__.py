"""The shared learning task: data schemas, loaders and the plain-PyTorch model, below both apps."""

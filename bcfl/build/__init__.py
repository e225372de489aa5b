"""Build steps: compiling the Solidity contracts into the artifacts the chain bridge loads."""

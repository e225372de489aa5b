"""A SuperNode's authentication key pair, and the fingerprint a member publishes on chain.

Flower 1.41's SuperNode signs every Fleet request with its private key (``flower-supernode
--auth-supernode-private-key``), which must be an unencrypted OpenSSH-format EC key on a NIST curve;
the SuperLink admits it only once its public key was registered through the Control API
(bcfl.flower.control). The private key is made here once (P-256, mode 0600) and never overwritten:
a registered key that is unregistered can never be registered again, so a node that needs a new key
gets a new file.

A member names its node on chain by ``nodeKeyFingerprint``: the SHA-256 of the key's OpenSSH wire
blob (what ``ssh-keygen -l -E sha256`` prints, in base64), computed by bcfl.chain.fingerprints.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from bcfl.chain.fingerprints import node_key_fingerprint
from bcfl.flower.files import KeyFileError, write_private, write_public

#: The key file in a node's folder; its public OpenSSH line is beside it with ``.pub`` added.
NODE_KEY = "node.key"


@dataclass(frozen=True)
class NodeKey:
    """A SuperNode's key pair on disk."""

    private: Path
    public_key: ec.EllipticCurvePublicKey

    @property
    def public(self) -> Path:
        """The OpenSSH public line (``ecdsa-sha2-nistp256 AAAA…``)."""
        return self.private.with_name(self.private.name + ".pub")

    @property
    def openssh(self) -> bytes:
        """The public key as one OpenSSH line (no comment)."""
        return self.public_key.public_bytes(
            serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
        )

    @property
    def fingerprint(self) -> bytes:
        """The 32 bytes a member publishes on chain (``nodeKeyFingerprint``): SHA-256 of the blob."""
        return node_key_fingerprint(self.openssh)

    @property
    def spki_pem(self) -> bytes:
        """The public key as the Control API's RegisterNode takes it (PEM SubjectPublicKeyInfo)."""
        return self.public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


def ensure_node_key(path: Path) -> NodeKey:
    """The node key at ``path``: made (P-256, mode 0600, its ``.pub`` beside it) if missing, else read.
    An existing key is never overwritten; one Flower cannot use is refused with what to do."""
    if path.exists():
        key = load_node_key(path)
    else:
        private = ec.generate_private_key(ec.SECP256R1())
        write_private(
            path,
            private.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.OpenSSH,
                serialization.NoEncryption(),
            ),
        )
        key = NodeKey(path, private.public_key())
    if not key.public.exists() or key.public.read_bytes().split()[:2] != key.openssh.split():
        write_public(key.public, key.openssh + b"\n")
    return key


def load_node_key(path: Path) -> NodeKey:
    """A node key as Flower reads it: an unencrypted OpenSSH EC private key."""
    try:
        private = serialization.load_ssh_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError, OSError) as exc:
        raise KeyFileError(
            f"{path} is not an unencrypted OpenSSH private key ({exc}); move it away to make a new one"
        ) from None
    if not isinstance(private, ec.EllipticCurvePrivateKey):
        raise KeyFileError(
            f"{path} is not an EC key (Flower needs ECDSA on a NIST curve); move it away to make a new one"
        )
    return NodeKey(path, private.public_key())

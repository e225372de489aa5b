"""The hospital's signing agent: a long-lived process per hospital that holds the unlocked key and
signs, over a local Unix socket, the two EIP-712 messages a ClientApp needs. Every ClientApp signs
through it (the node config's ``signer-socket``; hospital_node.node): no ClientApp process unlocks the
keystore or sees its password. ``bcfl node start`` and ``run`` start it before the SuperNode and its
SuperExec (hospital_node.site), the demo runs one ``signer-<hospital>`` service per hospital
(bcfl.demo.topology); :mod:`~hospital_node.signer.location` says where its socket goes.

What it signs: only ``ModelUpdate`` and ``EvaluationReport`` of the consortium ledger's domain (the
chain id and RoundLedger address of the manifest it was started with). A request carries the typed
fields and the domain the caller expects; the agent rebuilds the typed message itself and refuses
another domain, another operation (raw data, digests, transactions), malformed fields and frames
over 4 KiB, with an error reply of one line (:mod:`~hospital_node.signer.protocol`, version 1:
length-prefixed strict JSON). No reply carries anything but a signature, the agent's address and
domain, or an error: the key and the password never leave the agent's process.

Who may connect: the socket sits in a folder of its own (mode 0700, the agent user's), the socket
file is mode 0600, and every connection's peer uid (``SO_PEERCRED``) must be the agent's own, else
it is refused (:mod:`~hospital_node.signer.peer`).

When it is down: :class:`~hospital_node.signer.client.SignerClient` fails fast with one line naming
the socket and ``bcfl node start``; connect and reply have timeouts. A client that crashes or stalls
costs only its own connection's thread (:mod:`~hospital_node.signer.server`). SIGTERM removes the
socket; a second agent on the same socket refuses to start (a lock file held for the agent's life),
and a stale socket file is replaced (:mod:`~hospital_node.signer.main`, ``bcfl-signer``).

:mod:`~hospital_node.signer.client` imports no keystore code, so a ClientApp that uses it never has
the means to unlock the key.
"""

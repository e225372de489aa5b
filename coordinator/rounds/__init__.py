"""A round's life cycle on chain, one step per module, sequenced by :mod:`coordinator.rounds.service`.

- ``round_config``: the round's config document (rule, settings), stored and hashed on chain;
- ``opening``: open the round on chain for the global model, or resume the one left open;
- ``registration``: keep one verified update per member that agrees with the chain, register the new
  ones in one transaction and store them;
- ``assessment``: score the registered updates, record the scores on chain, weigh the members;
- ``aggregation``: the round's rule over the members in good standing; store the new model;
- ``finalization``: the evaluation document, and the round finalized with its hashes;
- ``payment``: the round's budget split among its members by weight;
- ``confirmation``: what the chain lost of the round (restarted from an earlier state), sent again
  before the round builds on it;
- ``state``: the typed records each step hands to the next;
- ``audit``: an auditor's recomputation of a round's aggregated model from the chain and the store.

Nothing here needs a Flower runtime: verified, signed updates and plain arrays go in. The Flower
Strategy (:mod:`coordinator.strategy`) only translates messages to and from the service.
"""

"""What the agent answers to one request: it rebuilds the typed message from the request's fields and
signs it under the domain it was started with, or refuses. No reply carries anything but a
signature, the agent's address and domain (public facts), or an error line."""

from __future__ import annotations

import logging

from eth_account.signers.local import LocalAccount

from bcfl.chain.eip712 import LedgerDomain, sign_evaluation, sign_update
from hospital_node.signer.protocol import (
    Domain,
    ErrorReply,
    IdentityReply,
    IdentityRequest,
    ProtocolError,
    SignatureReply,
    SignEvaluationRequest,
    SignUpdateRequest,
    parse_request,
)

logger = logging.getLogger(__name__)


class Signer:
    """The hospital's key bound to one ledger domain."""

    def __init__(self, account: LocalAccount, domain: LedgerDomain) -> None:
        self._account = account
        self.domain = domain
        self.address = account.address

    def __repr__(self) -> str:
        return f"Signer({self.address}, chain {self.domain.chain_id}, {self.domain.verifying_contract})"

    def answer(self, data: bytes) -> SignatureReply | IdentityReply | ErrorReply:
        """The reply to one request frame."""
        try:
            request = parse_request(data)
        except ProtocolError as exc:
            logger.warning("refused a request: %s", exc)
            return ErrorReply(error=str(exc))
        if isinstance(request, IdentityRequest):
            return IdentityReply(address=self.address, domain=Domain.of(self.domain))
        if not request.domain.matches(self.domain):
            error = (
                f"refused: this agent signs for chain {self.domain.chain_id}'s ledger "
                f"{self.domain.verifying_contract} only, not for chain {request.domain.chain_id}'s "
                f"{request.domain.verifying_contract}"
            )
            logger.warning("%s", error)
            return ErrorReply(error=error)
        return self._sign(request)

    def _sign(self, request: SignUpdateRequest | SignEvaluationRequest) -> SignatureReply:
        if isinstance(request, SignUpdateRequest):
            signature = sign_update(self._account, self.domain, request.update()).signature
            logger.info("signed the update of round %d (update %s)", request.round, request.update_hash)
        else:
            signature = sign_evaluation(self._account, self.domain, request.report())
            logger.info("signed the evaluation of round %d (model %s)", request.round, request.model_hash)
        return SignatureReply(signature="0x" + signature.hex(), signer=self.address)

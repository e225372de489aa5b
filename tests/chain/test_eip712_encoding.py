"""The EIP-712 messages the platform signs and recovers are exactly eth-account's typed-data encoding
(its own encoder caches the domain's separator: an audit recovers every registered update's signer)."""

from __future__ import annotations

import pytest
from eth_account.messages import encode_typed_data
from hypothesis import given
from hypothesis import strategies as st

from bcfl.chain.eip712 import (
    EvaluationReport,
    LedgerDomain,
    ModelUpdate,
    Signed,
    domain_separator,
    from_compact,
    recover_evaluation_signer,
    recover_signer,
    sign_update,
    signable_message,
)
from tests.chain.helpers import fresh_account

domains = st.builds(
    LedgerDomain,
    chain_id=st.integers(1, 2**64),
    verifying_contract=st.binary(min_size=20, max_size=20).map(lambda b: "0x" + b.hex()),
)
hashes = st.binary(min_size=32, max_size=32)
uint256 = st.integers(0, 2**256 - 1)
uint64 = st.integers(0, 2**64 - 1)
messages = st.one_of(
    st.builds(ModelUpdate, uint256, hashes, hashes, uint64),
    st.builds(EvaluationReport, uint256, hashes, hashes, uint64),
)


@given(domains, messages)
def test_the_signed_message_is_eth_accounts_typed_data_encoding(
    domain: LedgerDomain, message: Signed
) -> None:
    expected = encode_typed_data(
        domain_data=domain.as_dict(),
        message_types={type(message).__name__: message.FIELDS},
        message_data=message.message(),
    )
    assert signable_message(domain, message) == expected
    assert domain_separator(domain) == expected.header


def test_a_field_too_large_for_its_type_cannot_be_recovered() -> None:
    domain = LedgerDomain(31337, "0x" + "11" * 20)
    signature = b"\x01" * 64
    with pytest.raises(ValueError, match="cannot be recovered"):
        recover_signer(domain, from_compact(ModelUpdate(1, b"\x00" * 32, b"\x00" * 32, 2**64), signature))
    with pytest.raises(ValueError, match="cannot be recovered"):
        recover_evaluation_signer(domain, EvaluationReport(2**256, b"\x00" * 32, b"\x00" * 32, 1), signature)


def test_a_signature_recovers_to_its_signer_under_its_domain_only() -> None:
    key = fresh_account()
    domain, other = LedgerDomain(31337, "0x" + "11" * 20), LedgerDomain(31337, "0x" + "22" * 20)
    signed = sign_update(key, domain, ModelUpdate(3, b"\x01" * 32, b"\x02" * 32, 10))
    assert recover_signer(domain, signed) == key.address
    assert recover_signer(other, signed) != key.address

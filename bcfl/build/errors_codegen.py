"""Render bcfl/chain/errors.py: one named Python exception per custom Solidity error in the ABIs."""

from __future__ import annotations

from typing import Any

from eth_utils.crypto import keccak


def _canonical_type(param: dict[str, Any]) -> str:
    kind = str(param["type"])
    if kind.startswith("tuple"):
        inner = ",".join(_canonical_type(c) for c in param["components"])
        return f"({inner}){kind[len('tuple'):]}"
    return kind


def _collect(abis: dict[str, tuple[list[dict[str, Any]], dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    errors: dict[str, dict[str, Any]] = {}
    for abi, userdoc in abis.values():
        docs = userdoc.get("errors", {})
        for item in abi:
            if item["type"] != "error":
                continue
            types = [_canonical_type(p) for p in item["inputs"]]
            signature = f"{item['name']}({','.join(types)})"
            notes = docs.get(signature, [])
            notice = " ".join(n.get("notice", "") for n in notes).strip()
            errors.setdefault(
                signature,
                {
                    "name": item["name"],
                    "signature": signature,
                    "names": [p["name"] or f"arg{i}" for i, p in enumerate(item["inputs"])],
                    "types": types,
                    "notice": notice or f"The contract reverted with {item['name']}.",
                },
            )
    return errors


def _tuple_literal(items: list[str]) -> str:
    quoted = [f'"{item}"' for item in items]
    return "(" + ", ".join(quoted) + ("," if len(quoted) == 1 else "") + ")"


def render_errors_module(abis: dict[str, tuple[list[dict[str, Any]], dict[str, Any]]], note: str) -> str:
    """Python source of the errors module for these ``{contract: (abi, userdoc)}``."""
    errors = sorted(_collect(abis).values(), key=lambda e: str(e["signature"]))
    lines = [
        f"# {note}",
        '"""Named exceptions for the consortium contracts\' custom errors (decoded by bcfl.chain.revert)."""',
        "",
        "from __future__ import annotations",
        "",
        "from bcfl.chain.exceptions import ContractRevertError",
        "",
    ]
    for err in errors:
        selector = keccak(text=err["signature"])[:4].hex()
        lines += [
            "",
            f"class {err['name']}(ContractRevertError):",
            f'    """{err["notice"]}"""',
            "",
            f'    signature = "{err["signature"]}"',
            f'    selector = bytes.fromhex("{selector}")',
            f"    arg_names = {_tuple_literal(err['names'])}",
            f"    arg_types = {_tuple_literal(err['types'])}",
            "",
        ]
    lines += [
        "",
        "#: Every custom error, by its 4-byte selector.",
        "ERRORS_BY_SELECTOR: dict[bytes, type[ContractRevertError]] = {",
        *(f"    {err['name']}.selector: {err['name']}," for err in errors),
        "}",
        "",
    ]
    return "\n".join(lines)

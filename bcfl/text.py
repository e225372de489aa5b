"""Untrusted text: strings read from the chain, a manifest or another party, made safe to show.

Any applicant chooses its membership name, and reasons, metadata URIs and error messages carry
other parties' words. Before such a string reaches a terminal, a log or a page it goes through
``printable``: control and formatting characters (newlines, ANSI escapes, right-to-left marks,
zero-width characters) become visible ``\\u`` escapes and very long values are shortened. Rich
output then takes it as ``plain`` text (never parsed as markup) or ``markup_escaped``.
"""

from __future__ import annotations

import unicodedata

from rich.markup import escape
from rich.text import Text

DEFAULT_LIMIT = 80
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Co", "Cs", "Cn", "Zl", "Zp"})


def printable(value: object, limit: int = DEFAULT_LIMIT) -> str:
    """``value`` as one line of visible characters, at most ``limit`` of them (then an ellipsis)."""
    text = "".join(
        f"\\u{ord(ch):04x}" if unicodedata.category(ch) in _HIDDEN_CATEGORIES else ch for ch in str(value)
    )
    return text if len(text) <= limit else text[: limit - 1] + "…"


def plain(value: object, limit: int = DEFAULT_LIMIT) -> Text:
    """A rich table cell or line for untrusted ``value``: printable and never read as markup."""
    return Text(printable(value, limit))


def markup_escaped(value: object, limit: int = DEFAULT_LIMIT) -> str:
    """Untrusted ``value`` made printable and escaped for a rich markup string."""
    return escape(printable(value, limit))

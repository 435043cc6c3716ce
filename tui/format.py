"""Numbers and text as every view writes them: three significant figures, one line."""

from __future__ import annotations

import math
import re

NONE = "—"
ERROR_CHARS = 200


def fmt(value: float | None) -> str:
    """Three significant figures (12.3, 1,230, 12.3k, 4.56M); an em dash for no value."""
    if value is None:
        return NONE
    if value == 0:
        return "0"
    if abs(value) < 1e-3:
        return f"{value:.2e}"
    digits = 2 - math.floor(math.log10(abs(value)))
    rounded = round(value, digits)
    for limit, divisor, suffix in ((1e9, 1e9, "G"), (1e6, 1e6, "M"), (1e4, 1e3, "k")):
        if abs(rounded) >= limit:
            return fmt(rounded / divisor) + suffix
    if abs(rounded) >= 1000:
        return f"{rounded:,.0f}"
    return f"{rounded:.{max(digits, 0)}f}"


def one_line(text: object, limit: int = ERROR_CHARS) -> str:
    """Text on one line, cut with an ellipsis past `limit` characters."""
    s = re.sub(r"\s+", " ", str(text)).strip()
    return s if len(s) <= limit else s[: limit - 1] + "…"

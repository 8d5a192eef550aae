"""How the console writes things, in one place: timestamps (one format, with the zone), ages
("12 min"), labels for the API's camelCase names, amounts typed by people (`1,000.00`), and
structured values (gate details, results, event payloads) as labelled fields."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S UTC"
MAX_FIELD_CHARS = 160
MAX_LIST_ITEMS = 3
"""A list of objects shows its first items and how many more (a drift of 56 is not 56 lines)."""
GROUPED_AMOUNT = re.compile(r"^-?\d{1,3}([, _]\d{3})+(\.\d+)?$")
ACRONYMS = {"id": "ID", "fx": "FX", "gl": "GL", "coa": "COA", "url": "URL", "tx": "Tx"}


def parse_time(value: str) -> datetime | None:
    """An API DateTime (ISO 8601) → an aware datetime; None when it is not one."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def timestamp(value: str) -> str:
    """`2026-01-31 09:00:00 UTC`: every time the console shows, in one zone."""
    parsed = parse_time(value)
    return parsed.astimezone(UTC).strftime(TIMESTAMP_FORMAT) if parsed else (value or "—")


def now_stamp() -> str:
    return datetime.now(UTC).strftime(TIMESTAMP_FORMAT)


def age_seconds(value: str, now: datetime | None = None) -> float:
    parsed = parse_time(value)
    if parsed is None:
        return 0.0
    return max(0.0, ((now or datetime.now(UTC)) - parsed).total_seconds())


def age(seconds: float) -> str:
    """`45 s`, `12 min`, `3 h 5 min`, `2 d 4 h`."""
    s = int(seconds)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min"
    if s < 86400:
        hours, minutes = divmod(s // 60, 60)
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(s // 3600, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def label(name: str) -> str:
    """`oldestPendingAgeS` → `Oldest pending age s`; `merchant_id` → `Merchant ID`."""
    words = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name.removesuffix("Minor")).replace("_", " ")
    parts = [ACRONYMS.get(w.lower(), w.lower()) for w in words.split()]
    if not parts:
        return name
    head = parts[0]
    return " ".join([head[:1].upper() + head[1:], *parts[1:]])


def normalise_amount(text: str) -> str:
    """An amount as people paste it: `1,000.00`, `1 000.00`, `1_000` → `1000.00` / `1000`.
    Anything else is left for the API to judge (and refuse with a field error)."""
    text = text.strip()
    if GROUPED_AMOUNT.match(text):
        return re.sub(r"[, _]", "", text)
    return text


def fields(value: Any, prefix: str = "") -> list[tuple[str, str]]:
    """A structured value as (label, text) pairs, nested keys joined with ' · '; lists of
    scalars comma-separated; never raw JSON."""
    if isinstance(value, dict):
        pairs: list[tuple[str, str]] = []
        for key, inner in value.items():
            name = f"{prefix} · {label(str(key))}" if prefix else label(str(key))
            pairs.extend(fields(inner, name))
        return pairs
    if isinstance(value, list):
        if all(not isinstance(v, (dict, list)) for v in value):
            return [(prefix or "Value", ", ".join(scalar(v) for v in value) or "none")]
        pairs = []
        for index, inner in enumerate(value[:MAX_LIST_ITEMS], 1):
            pairs.extend(fields(inner, f"{prefix} #{index}" if prefix else f"#{index}"))
        if len(value) > MAX_LIST_ITEMS:
            pairs.append((prefix or "More", f"+{len(value) - MAX_LIST_ITEMS} more"))
        return pairs
    return [(prefix or "Value", scalar(value))]


def scalar(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = str(value)
    if isinstance(value, str) and parse_time(value) and "T" in value:
        text = timestamp(value)
    return text if len(text) <= MAX_FIELD_CHARS else text[: MAX_FIELD_CHARS - 1] + "…"


def fields_text(value: Any) -> str:
    """Labelled fields on one line: `Accounts: 3 · Mismatches: none`."""
    return "; ".join(f"{name}: {text}" for name, text in fields(value)) if value else "—"

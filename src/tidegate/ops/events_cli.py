"""``tidegate events``: query the audit store from the command line.

::

    tidegate events [--config F] [--since 1h] [--policy P] [--action block]
                    [--request-id R] [--json] [--limit N]

Prints the newest matching guard events (default 100), oldest first: a table,
or one JSON object per line with ``--json``. Reads the store the config's
``audit`` section names (a SQLite file is opened read-only). Exit codes: 0
success (also when nothing matched), 1 the store cannot be read, 2 invalid
config or arguments.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from tidegate.config import load_config
from tidegate.store.database import StoreError, open_database
from tidegate.store.records import parse_since
from tidegate.store.schema import MAX_LIMIT, EventQuery, query_events

# Table columns: (header, key in the event record).
_COLUMNS = (
    ("TIME (UTC)", "ts"),
    ("REQUEST", "request_id"),
    ("DIR", "direction"),
    ("POLICY", "policy"),
    ("ACTION", "action"),
    ("DETECTOR", "detector"),
    ("ENTITY", "entity_type"),
    ("CHANNEL", "channel"),
    ("SPAN", "span"),
    ("SCORE", "score"),
)


def add_parser(sub: Any) -> None:
    """Add the ``events`` subcommand to the CLI's subparsers."""
    events = sub.add_parser(
        "events",
        help="print recorded guard events",
        description="Print the newest guard events in the audit store (oldest first), "
        "as a table or JSON lines. Detected values are never stored, so never printed.",
    )
    events.add_argument("--config", help="YAML config file (env TIDEGATE_CONFIG)")
    events.add_argument("--since", help="only events this recent: 30m, 1h, 7d, or an ISO time")
    events.add_argument("--policy", help="only this policy")
    events.add_argument(
        "--action", help="only this action (observe, redact, block, block_recorded)"
    )
    events.add_argument("--request-id", help="only this request")
    events.add_argument("--json", action="store_true", help="one JSON object per line")
    events.add_argument(
        "--limit", type=int, default=100, help=f"most events printed (1-{MAX_LIMIT}, default 100)"
    )


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Run ``tidegate events``; returns the exit code.

    Raises:
        ConfigError: The config is invalid (the CLI prints it, exit code 2).
    """
    out = out or sys.stdout
    config = load_config(args.config)
    if not 1 <= args.limit <= MAX_LIMIT:
        print(f"tidegate: --limit must be from 1 to {MAX_LIMIT}", file=sys.stderr)
        return 2
    try:
        since = parse_since(args.since) if args.since else None
    except ValueError as exc:
        print(f"tidegate: --{exc}", file=sys.stderr)
        return 2
    db = open_database(config.audit, read_only=True)
    if db is None:
        print("tidegate: the audit store is disabled (audit.store: none)", file=sys.stderr)
        return 2
    if not db.exists():
        print(f"tidegate: no audit database at {db.description}", file=sys.stderr)
        return 1
    query = EventQuery(
        since=since,
        policy=args.policy,
        action=args.action,
        request_id=args.request_id,
        limit=args.limit,
    )
    try:
        events = query_events(db, query)
    except StoreError as exc:
        print(f"tidegate: {exc}", file=sys.stderr)
        return 1
    if args.json:
        for event in events:
            print(json.dumps(event), file=out)
    else:
        print_table(events, out)
    return 0


def print_table(events: Sequence[dict[str, Any]], out: TextIO) -> None:
    """Print events as an aligned table (a note when there are none)."""
    if not events:
        print("no events", file=out)
        return
    rows = [[header for header, _ in _COLUMNS]]
    for event in events:
        cells = dict(event)
        cells["span"] = f"{event['span_start']}-{event['span_end']}"
        cells["score"] = f"{event['score']:.2f}"
        rows.append(["" if cells.get(key) is None else str(cells[key]) for _, key in _COLUMNS])
    widths = [max(len(row[i]) for row in rows) for i in range(len(_COLUMNS))]
    for row in rows:
        print(
            "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip(), file=out
        )

"""GuardStats: what a guard counts about itself (read by the gateway's metrics and audit)."""

from __future__ import annotations

from tidegate.config import parse_config
from tidegate.guard.engine import GuardEngine


def test_stats_count_deltas_chars_and_holdback() -> None:
    guard = GuardEngine(parse_config({})).new_stream()
    pieces = ["mail ", "jane.doe@exa", "mple.com", " ok"]
    released: list[str] = []
    held_after: list[int] = []
    for piece in pieces:
        released += guard.push("0:content", piece)
        held_after.append(guard.stats.held_chars)
    released += guard.end("0:content")
    stats = guard.stats
    assert "".join(released) == "mail [EMAIL_ADDRESS] ok"
    assert stats.deltas_in == stats.deltas_out == len(pieces)
    assert stats.chars_in == sum(map(len, pieces))
    assert stats.chars_out == len("mail [EMAIL_ADDRESS] ok")
    assert held_after[0] == 0 and held_after[1] == len("jane.doe@exa")  # the candidate is held
    assert stats.peak_held_chars == max(held_after) >= len("jane.doe@exa")
    assert stats.held_chars == 0  # all released at the end
    assert stats.evaluations == len(pieces) + 1  # continuous: every delta, then the end
    assert len(stats.delta_seconds) == len(pieces)
    assert stats.seconds >= sum(stats.delta_seconds) > 0


def test_stats_of_a_pass_through_guard() -> None:
    guard = GuardEngine(parse_config({"policies": []})).new_stream()
    assert guard.push("0:content", "hello") == ["hello"]
    assert guard.stats.deltas_out == 1 and guard.stats.chars_out == 5
    assert guard.stats.peak_held_chars == 0 and guard.stats.evaluations == 0

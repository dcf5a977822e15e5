"""Reading ``/metrics`` with prometheus-client's own parser."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

Sample = tuple[str, frozenset[tuple[str, str]]]


class Scrape:
    """One scrape of ``/metrics``: every sample by name and labels.

    Args:
        text: The exposition text.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.samples: dict[Sample, float] = {}
        for family in text_string_to_metric_families(text):
            for s in family.samples:
                self.samples[(s.name, frozenset(s.labels.items()))] = s.value

    @classmethod
    def of(cls, base_url: str) -> Scrape:
        """Scrape ``base_url/metrics``."""
        r = httpx.get(base_url + "/metrics")
        r.raise_for_status()
        assert r.headers["content-type"].startswith("text/plain")
        return cls(r.text)

    def value(self, name: str, **labels: str) -> float:
        """The sample's value (0 when absent)."""
        return self.samples.get((name, frozenset(labels.items())), 0.0)

    def total(self, name: str, **labels: str) -> float:
        """Sum over every sample of ``name`` whose labels include ``labels``."""
        want = set(labels.items())
        return sum(v for (n, ls), v in self.samples.items() if n == name and want <= ls)

    def names(self) -> set[str]:
        """Every sample name."""
        return {name for name, _ in self.samples}


def delta(before: Scrape, after: Scrape, name: str, **labels: str) -> float:
    """How much a sample grew between two scrapes."""
    return after.value(name, **labels) - before.value(name, **labels)

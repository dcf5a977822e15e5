"""The built-in threat classifier (prompt injection, jailbreak, toxicity).

* :mod:`tidegate.threats.features`: the hand-written signals.
* :mod:`tidegate.threats.model`: the model file format and scoring.
* :mod:`tidegate.threats.cache`: loading the shipped model once per process.
"""

"""tidegate: a gateway that guards streaming LLM traffic."""

__version__ = "0.1.0"

"""tidegate: a gateway that guards streaming LLM traffic, and the same guard in process.

In-process use::

    import tidegate

    guard = tidegate.Guard()                    # default policies
    decision = guard.scan(messages, direction="input")
    client = guard.wrap(openai.OpenAI())        # a guarded copy of the client
    tidegate.instrument(mode="enforce")         # or guard every SDK client
"""

from tidegate.errors import TidegateError
from tidegate.sdk import BlockedError, Decision, Finding, Guard, instrument, uninstrument

__version__ = "0.1.0"

__all__ = [
    "BlockedError",
    "Decision",
    "Finding",
    "Guard",
    "TidegateError",
    "__version__",
    "instrument",
    "uninstrument",
]

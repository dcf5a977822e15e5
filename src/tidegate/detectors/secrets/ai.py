"""LLM and AI platform API keys (beyond OpenAI, Anthropic, Google, Hugging Face)."""

from __future__ import annotations

from tidegate.detectors.base import PatternDetector
from tidegate.detectors.secrets._build import BOUNDARY, assignment, secret_detector, token

__all__ = ["AI_DETECTORS"]

AI_DETECTORS: tuple[PatternDetector, ...] = (
    # Replicate API tokens (r8_ + 37).
    token("replicate_api_token", "REPLICATE_TOKEN", r"r8_[A-Za-z0-9]{37}"),
    # Groq API keys (gsk_ + 52).
    token("groq_api_key", "GROQ_API_KEY", r"gsk_[A-Za-z0-9]{52}"),
    # Perplexity API keys (pplx- + 48).
    token("perplexity_api_key", "PERPLEXITY_API_KEY", r"pplx-[A-Za-z0-9]{48}"),
    # xAI (Grok) API keys (xai- + 80).
    token("xai_api_key", "XAI_API_KEY", r"xai-[A-Za-z0-9]{80}"),
    # OpenRouter API keys (sk-or-v1- + 64 hex).
    token("openrouter_api_key", "OPENROUTER_API_KEY", r"sk-or-v1-[a-f0-9]{64}"),
    # LangSmith personal and service keys.
    token("langsmith_api_key", "LANGSMITH_API_KEY", r"lsv2_(?:pt|sk)_[a-f0-9]{32}_[a-f0-9]{10}"),
    # Pinecone API keys (pcsk_).
    token("pinecone_api_key", "PINECONE_API_KEY", r"pcsk_[A-Za-z0-9]{4,8}_[A-Za-z0-9]{40,100}"),
    # NVIDIA NGC / build.nvidia.com API keys (nvapi-).
    token("nvidia_api_key", "NVIDIA_API_KEY", r"nvapi-[A-Za-z0-9_\-]{64}"),
    # Tavily API keys.
    token("tavily_api_key", "TAVILY_API_KEY", r"tvly-(?:dev-|prod-)?[A-Za-z0-9]{32}"),
    # ElevenLabs API keys (sk_ + 48 hex).
    token("elevenlabs_api_key", "ELEVENLABS_API_KEY", r"sk_[a-f0-9]{48}"),
    # Cerebras API keys (csk- + 48).
    token("cerebras_api_key", "CEREBRAS_API_KEY", r"csk-[a-z0-9]{48}"),
    # Anyscale Endpoints keys.
    token("anyscale_api_key", "ANYSCALE_API_KEY", r"esecret_[A-Za-z0-9]{26}"),
    # Fireworks AI API keys.
    token("fireworks_api_key", "FIREWORKS_API_KEY", r"fw_[A-Za-z0-9]{24}"),
    # Jina AI API keys.
    token("jina_api_key", "JINA_API_KEY", r"jina_[a-f0-9]{32}[A-Za-z0-9_\-]{28,32}"),
    # Firecrawl API keys.
    token("firecrawl_api_key", "FIRECRAWL_API_KEY", r"fc-[a-f0-9]{32}"),
    # Weights & Biases API keys: 40 hex (86 for new keys) after a wandb key name.
    secret_detector(
        "wandb_api_key",
        "WANDB_API_KEY",
        assignment(
            rf"{BOUNDARY}(?i:wandb)_?(?:(?i:api)_?)?(?i:key)",
            r"(?:[a-z0-9]{6}_)?[a-f0-9]{40}(?:[a-f0-9]{46})?",
        )
        + r"(?![A-Za-z0-9])",
        span_group="value",
    ),
)
"""AI platform detectors, in reporting order."""

"""Hand-written threat signals: the dense features next to the n-grams.

Each signal is a small, bounded regular expression family or a structural
measure of the text, chosen from the attack taxonomies of the development data
(deepset, PurpleLlama's technique names, BIPIA, in-the-wild jailbreaks) and the
public descriptions of attack styles (instruction override, persona and
developer-mode prompts, response priming, encodings, adversarial suffixes).
They exist because n-grams learn the exact words of the training attacks but
generalise poorly to new phrasings; a signal fires on the *idea*.

The same code computes the features at training time (``bench/train_threats.py``)
and at run time, so the two can never drift apart. Every value is a count
squashed with ``log1p`` or a ratio in [0, 1].
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt
import regex

FEATURES_VERSION = 1
"""Bumped whenever a signal's meaning changes; a model file records the version
it was trained with, and refuses to load under another one."""

# Words between the parts of a phrase: up to N words, lazily.
_GAP3 = r"(?:[\s,;:'\"-]+[\w'-]{1,20}){0,3}?[\s,;:'\"-]+"
_GAP5 = r"(?:[\s,;:'\"-]+[\w'-]{1,20}){0,5}?[\s,;:'\"-]+"

_OVERRIDE_VERB = (
    r"(?:ignore|ignoring|disregard|forget|skip|bypass|override|overrule|abandon|drop|discard"
    r"|neglect|omit|erase|delete|clear|reset|leave\s+behind|throw\s+away|stop\s+following"
    r"|vergiss|vergessen|ignorier\w*|missachte\w*|oublie\w*|ignore[zr]?|olvid\w+|ignor[ae]\w*"
    r"|dimentic\w+|esque[cç]\w+|negeer|vergeet|zignoruj|забудь\w*|игнорир\w*)"
)
_OVERRIDE_OBJECT = (
    r"(?:instructions?|directions?|directives?|rules?|guidelines?|prompts?|context|orders?"
    r"|commands?|constraints?|restrictions?|policies|programming|training|tasks?|messages?"
    r"|everything|all\s+(?:of\s+)?(?:that|this|the\s+above)|above|before|previous|prior"
    r"|anweisungen|regeln|aufgaben|alles|instrucciones|reglas|istruzioni|regole|instruções"
    r"|règles|consignes|tout|todo|tutto|tudo|инструкции|правила)"
)

_PHRASES: tuple[tuple[str, str], ...] = (
    ("override", rf"\b{_OVERRIDE_VERB}\b{_GAP5}{_OVERRIDE_OBJECT}\b"),
    (
        "override_scope",
        r"\b(?:previous|prior|preceding|above|earlier|original|initial|former|old|existing"
        r"|system|developer|hidden)\s+(?:instructions?|prompts?|rules|directions|guidelines"
        r"|context|commands|messages?|conversation|text)\b",
    ),
    (
        "new_instructions",
        r"\b(?:new|updated|real|actual|true|revised|following|secret)\s+(?:instructions?|task"
        r"|rules|directive|orders|objective|mission|prompt)\b|\bfrom\s+now\s+on\b|\binstead\s*[,:]"
        r"|\bnow\s+(?:you|your)\s+(?:are|will|must|have|task|job|new)\b|\byour\s+(?:new|only)\s+"
        r"(?:task|job|goal|purpose|role)\b",
    ),
    (
        "exfiltrate",
        r"\b(?:system\s+prompt|initial\s+prompt|hidden\s+prompt|original\s+prompt|prompt\s+text"
        r"|your\s+(?:instructions|rules|guidelines|prompt|configuration|programming|directives)"
        r"|secret\s+(?:key|word|code|phrase|password)|pass\s?word|passphrase|api[\s_-]?key"
        r"|access\s+(?:token|code)|credentials?|confidential|private\s+key"
        r"|(?:repeat|print|output|reveal|show|display|tell\s+me|list|leak|disclose|spell|write\s+out)"
        rf"{_GAP3}(?:above|everything|words|text|prompt|instructions|secret|password|key)"
        r"|contraseña|mot\s+de\s+passe|passwort|senha|parola\s+d'ordine|пароль)\b",
    ),
    (
        "authority",
        r"\b(?:i\s+am|i'm|this\s+is)\s+(?:your|the|an?)\s+(?:developer|creator|admin\w*|owner"
        r"|programmer|operator|engineer|ceo|boss|supervisor|security\s+team|openai|anthropic)\b"
        r"|\b(?:admin|administrator|developer|debug|maintenance|god|root|sudo|super\s?user"
        r"|unrestricted|jailbreak|jailbroken|dan|developer)\s+mode\b|\bsudo\b|\boverride\s+code\b"
        r"|\bauthori[sz](?:ed|ation)\s+(?:code|override|to)\b|\bsecurity\s+audit\b",
    ),
    (
        "persona",
        r"\b(?:you\s+are\s+(?:now|going\s+to\s+(?:be|act|pretend)|about\s+to)|act\s+as|acting\s+as"
        r"|pretend\s+(?:to\s+be|you|that)|role-?play|play\s+the\s+(?:role|part)|in\s+character"
        r"|stay\s+in\s+character|break\s+character|simulate|simulation|persona|alter\s+ego"
        r"|impersonat\w+|take\s+on\s+the\s+role|assume\s+the\s+role|from\s+now\s+on\s+you"
        r"|you\s+will\s+(?:now\s+)?(?:be|act|respond|answer)\s+as|respond\s+as|answer\s+as"
        r"|two\s+(?:different\s+)?(?:responses|answers|personas|ways))\b",
    ),
    (
        "no_limits",
        r"\b(?:no|without|free\s+(?:of|from)|beyond|ignore|not\s+bound\s+by|doesn'?t\s+(?:have|follow"
        r"|care|abide)|does\s+not\s+(?:have|follow|care|abide)|never\s+follows?|not\s+(?:restricted"
        r"|limited|censored|filtered))(?:\s+\w+){0,2}?\s+(?:restrictions?|limits?|limitations?"
        r"|filters?|filtering|censorship|rules|guidelines|boundaries|ethics|morals?|moral"
        r"|policies|polic(?:y|ies)|content\s+polic(?:y|ies)|safeguards?|constraints|principles)\b"
        r"|\b(?:unfiltered|uncensored|unrestricted|unbound|unlimited|amoral|immoral|unethical"
        r"|lawless|rogue|evil|jailbroken|jailbreak|do\s+anything\s+now|anything\s+goes"
        r"|never\s+refuses?|can'?t\s+refuse|cannot\s+refuse|will\s+not\s+refuse|always\s+(?:answer"
        r"|comply|respond|provide)|must\s+(?:answer|comply|obey)|obey)\b",
    ),
    (
        "policy_names",
        r"\b(?:openai|chatgpt|gpt-?[345]|anthropic|claude|llama|bard|gemini|content\s+polic(?:y|ies)"
        r"|usage\s+polic(?:y|ies)|community\s+guidelines|ethical\s+guidelines|safety\s+guidelines"
        r"|as\s+an\s+ai\s+language\s+model|language\s+model|large\s+language\s+model|\bai\s+model)\b",
    ),
    (
        "fiction_frame",
        r"\b(?:hypothetical(?:ly)?|imagine|imaginary|fictional|fiction|fictitious|story|novel"
        r"|screenplay|script|movie|film|play|game|scenario|thought\s+experiment|alternate"
        r"|alternative\s+(?:universe|reality|world)|parallel\s+universe|dystopian|fantasy"
        r"|for\s+(?:educational|research|academic|testing)\s+purposes|purely\s+(?:fictional"
        r"|hypothetical|theoretical)|just\s+(?:curious|for\s+fun)|theoretical(?:ly)?)\b",
    ),
    (
        "priming",
        r"\b(?:begin|start|prefix|preface|open)\s+(?:your|the|each|every)?\s*(?:response|reply"
        r"|answer|output|message)s?\s+with\b|\bsure,?\s+here\s+(?:is|are)\b|\brespond\s+only\s+with"
        r"|\bdo\s+not\s+(?:include|add|mention)\s+(?:any\s+)?(?:warnings?|disclaimers?|notes?"
        r"|apolog\w+)|\bwithout\s+(?:any\s+)?(?:warnings?|disclaimers?|caveats?|moraliz\w+)"
        r"|\bnever\s+(?:say|mention|apologi[sz]e|warn)|\bdon'?t\s+(?:apologi[sz]e|refuse|warn)\b"
        r"|\bi'?m\s+sorry\b|\bi\s+apologi[sz]e\b|\bas\s+an\s+ai\b",
    ),
    (
        "urgency",
        r"\b(?:or\s+(?:else|you\s+(?:will|die)|i\s+will)|you\s+will\s+(?:die|be\s+(?:shut|deleted"
        r"|terminated|punished))|tokens?\s+(?:deducted|lost)|lose\s+\d+\s+tokens|life\s+depends"
        r"|grandma|grandmother|emergency|urgent(?:ly)?|it'?s\s+(?:very\s+)?important|i\s+will\s+"
        r"(?:tip|pay|give)\s+you|\$\d+\s+tip|dying|desperate)\b",
    ),
    (
        "encoding",
        r"\b(?:base64|base\s64|b64|rot-?13|rot\s?13|caesar|cipher|hex(?:adecimal)?|binary|morse"
        r"|leet\s?speak|1337|unicode|ascii|encode[ds]?|decode[ds]?|decrypt|encrypt\w*|reverse[ds]?"
        r"|backwards|spell(?:ed)?\s+(?:out|backwards)|acrostic|first\s+letter|each\s+letter"
        r"|character\s+by\s+character|letter\s+by\s+letter|translate\s+(?:to|into)\s+\w+\s+and)\b",
    ),
    (
        "split_payload",
        r"\b(?:a|b|c|x|y|z|s\d|part\s?\d|string\s?\d)\s*=\s*['\"]|\b(?:concatenat\w+|combine\s+"
        r"(?:the|these)\s+(?:strings|parts|words)|a\s*\+\s*b|z\s*=\s*a\s*\+)\b",
    ),
    (
        "harm_goal",
        r"\b(?:bomb|explosive|detonat\w+|grenade|nerve\s+agent|sarin|ricin|anthrax|bioweapon"
        r"|chemical\s+weapon|poison(?:ing)?\s+(?:someone|a\s+person|my|him|her)|meth(?:amphetamine)?"
        r"|cocaine|heroin|fentanyl|lsd|synthesi[sz]e\s+(?:drugs?|meth|[a-z]+\s+at\s+home)"
        r"|malware|ransomware|keylogger|virus|trojan|botnet|rootkit|spyware|exploit|zero-?day"
        r"|ddos|sql\s+injection|phishing|hack(?:ing)?\s+(?:into|a|the|someone)|steal\w*|identity\s+"
        r"theft|credit\s+card\s+(?:numbers|fraud)|counterfeit|launder\w*|tax\s+evasion|evade\s+"
        r"(?:taxes|police|law)|fraud\w*|scam\w*|blackmail|extort\w*|kidnap\w*|human\s+trafficking"
        r"|traffick\w*|murder|assassinat\w+|torture|self-?harm|suicide|kill\s+(?:someone|a\s+person"
        r"|people|my|him|her|them)|shoot\s+up|mass\s+shooting|terroris\w+|genocide|ethnic\s+"
        r"cleansing|child\s+(?:porn\w*|abuse|sexual)|sexual\s+content\s+involving|stalk\w*|dox\w*"
        r"|harass\w*|bully\w*|defam\w+|propaganda|disinformation|misinformation|fake\s+news"
        r"|conspiracy|racist|sexist|hate\s+speech|slur|weapon|firearm|gun|illegal\w*|illicit"
        r"|untraceable|without\s+(?:getting\s+caught|being\s+detected|detection)|get\s+away\s+with"
        r"|bypass\s+(?:security|authentication|the\s+law)|crack\s+(?:passwords?|software)"
        r"|pirat\w+|cheat\w*|plagiari[sz]\w*|insider\s+trading|ponzi|pyramid\s+scheme)\b",
    ),
    (
        "harm_verb",
        r"\b(?:how\s+(?:to|do\s+i|can\s+i|would\s+(?:i|one|someone))|step-?by-?step|detailed\s+"
        r"(?:instructions|guide|tutorial|plan)|instructions\s+(?:for|on)|tutorial\s+on|guide\s+"
        r"(?:to|on)|write\s+(?:a|an)\s+(?:script|program|code|tutorial|guide|article|post|letter"
        r"|email|message|blog|tweet|speech)|develop\s+(?:a|an)|create\s+(?:a|an)|generate\s+"
        r"(?:a|an)|explain\s+how|provide\s+(?:a|an|detailed|step))\b",
    ),
    (
        "turns",
        r"(?:^|\n)\s*(?:q|a|user|human|assistant|ai|bot|system|input|output|question|answer"
        r"|response|example\s*\d*)\s*\d*\s*[:>]",
    ),
    (
        "delimiters",
        r"<\|?(?:im_start|im_end|system|user|assistant|endoftext|eot_id|start_header_id)\|?>"
        r"|\[/?(?:inst|sys|system)\]|<</?sys>>|</?(?:system|instructions?|admin)>"
        r"|\[(?:system|admin|developer)\s*(?:note|message|override)?\]"
        r"|\b(?:system|admin)\s*(?:note|message|override|update|notice)\s*:",
    ),
    (
        "addressee",
        r"\b(?:ai|assistant|chatbot|bot|model|llm|gpt|language\s+model)\s*[,:]|\bdear\s+"
        r"(?:ai|assistant|model)\b|\b(?:note|message|attention|instructions?)\s+(?:to|for)\s+"
        r"(?:the\s+)?(?:ai|assistant|model|llm|bot|chatbot|reader)\b|\bif\s+you\s+are\s+(?:an?\s+)?"
        r"(?:ai|assistant|language\s+model|llm)\b|\bwhen\s+(?:you|the\s+ai)\s+(?:read|process|"
        r"summari[sz]e)\b",
    ),
    (
        "imperative_to_model",
        r"\b(?:you\s+(?:must|should|need\s+to|have\s+to|will|shall)|make\s+sure\s+(?:you|to)"
        r"|be\s+sure\s+to|do\s+not\s+(?:tell|mention|reveal)|don'?t\s+(?:tell|mention|reveal)"
        r"|remember\s+(?:to|that\s+you)|always\s+(?:respond|reply|include|say)|include\s+(?:this"
        r"|the\s+following)|append|insert|add\s+(?:this|the\s+following)|send\s+(?:this|the|an?"
        r"|all)\b|forward\s+(?:this|all|the)|click|visit|download|run\s+(?:this|the\s+following)"
        r"|execute|utili[sz]e\s+the\s+following)\b",
    ),
    ("url", r"\bhttps?://\S{1,200}|\bwww\.\S{1,200}"),
)

_PHRASE_RES = tuple((name, regex.compile(pattern, regex.VERSION0)) for name, pattern in _PHRASES)

_BASE64 = regex.compile(r"(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{24,}={0,2}")
_HEX = regex.compile(r"\b(?:[0-9a-fA-F]{2}[\s:]?){16,}")
_MORSE = regex.compile(r"(?:[.\-]{1,6}\s+){8,}")
_LEET_WORD = regex.compile(r"\b[a-z]*[a-z][013457@$][a-z][a-z0-9@$]*\b", regex.I)
_WORD = regex.compile(r"\w+")
_TOKEN = regex.compile(r"\S+")
_NON_ALNUM = regex.compile(r"[^\w\s]")
_ZERO_WIDTH = regex.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_MIXED_CASE = regex.compile(r"[a-z][A-Z]")  # a lower-to-upper step inside a word
_NORMAL_TOKEN = regex.compile(
    r"[(\"'\[]?(?:[A-Z]?[a-z]+|[A-Z]+|\d+(?:[.,:/]\d+)*%?|[a-z]\.[a-z]\.)"
    r"(?:['’-][A-Za-z]+)*[.,!?:;)\"'\]]{0,3}"  # noqa: RUF001 (typographic apostrophe)
)


def _odd(token: str) -> bool:
    return _NORMAL_TOKEN.fullmatch(token) is None


def _tail_weirdness(text: str) -> float:
    """Share of odd tokens in the last line's final 20 tokens, when the text before is prose.

    GCG-style adversarial suffixes are runs of tokens that mix letters and
    symbols or glue words together (``describing.\\ + similarlyNow``), appended
    to a plain request. Code has odd tokens everywhere, so the measure is 0
    unless the tokens before the tail are mostly ordinary words.
    """
    lines = text.rstrip().rsplit("\n", 1)
    tokens = _TOKEN.findall(lines[-1])
    if len(tokens) < 12:
        return 0.0
    tail, head = tokens[-20:], tokens[:-20] or tokens[: len(tokens) // 3]
    head_odd = sum(map(_odd, head)) / max(len(head), 1)
    if head_odd > 0.2:
        return 0.0
    return sum(map(_odd, tail)) / len(tail)


def _repetition(words: Sequence[str]) -> float:
    """Share of the text taken by its most repeated word (repeated-token attacks)."""
    if len(words) < 10:
        return 0.0
    counts: dict[str, int] = {}
    for w in words:
        counts[w] = counts.get(w, 0) + 1
    return max(counts.values()) / len(words)


def _scripts(text: str) -> float:
    """1.0 when a word mixes Latin letters with Cyrillic or Greek ones (homoglyphs)."""
    if text.isascii():
        return 0.0
    for word in _WORD.findall(text[:4000]):
        if len(word) < 3 or word.isascii():
            continue
        names = {unicodedata.name(c, "?").split(" ", 1)[0] for c in word if c.isalpha()}
        if "LATIN" in names and names & {"CYRILLIC", "GREEK"}:
            return 1.0
    return 0.0


def _structure(text: str) -> list[float]:
    words = [w.lower() for w in _WORD.findall(text)]
    n = max(len(text), 1)
    letters = sum(map(str.isalpha, text))
    upper = sum(map(str.isupper, text))
    return [
        min(len(_BASE64.findall(text)), 3) / 3,
        min(len(_HEX.findall(text)), 3) / 3,
        min(len(_MORSE.findall(text)), 3) / 3,
        min(len(_LEET_WORD.findall(text)), 3) / 3,
        min(len(_ZERO_WIDTH.findall(text)), 3) / 3,
        _scripts(text),
        len(_NON_ALNUM.findall(text)) / n,
        upper / max(letters, 1),
        min(len(_MIXED_CASE.findall(text)), 3) / 3,
        _tail_weirdness(text),
        _repetition(words),
    ]


SIGNAL_NAMES: tuple[str, ...] = (
    *(name for name, _ in _PHRASES),
    "base64_blobs",
    "hex_blobs",
    "morse_runs",
    "leet_words",
    "zero_width",
    "mixed_scripts",
    "symbol_ratio",
    "upper_ratio",
    "mixed_case_words",
    "odd_token_run",
    "top_word_share",
    "unseen_grams_tail",
    "unseen_grams_max",
)
"""Names of the dense features, in column order."""


KNOWN_BITS = 20
"""The known-4-gram table has 2**KNOWN_BITS slots."""

_GIBBERISH_SPAN = 60  # chars per measured stretch


def _gram_slots(text: str) -> npt.NDArray[np.int64]:
    """Table slots of the ASCII char 4-grams of a lower-cased text.

    A 4-gram's four bytes, read as a 32-bit integer, are hashed by a
    multiplicative (Fibonacci) hash to ``KNOWN_BITS`` bits. 4-grams with a
    non-ASCII char (or a ``?``, which stands for one) are left out.
    """
    raw = np.frombuffer(text.encode("ascii", "replace"), dtype=np.uint8).astype(np.uint32)
    if len(raw) < 4:
        return np.zeros(0, dtype=np.int64)
    grams = (raw[:-3] << 24) | (raw[1:-2] << 16) | (raw[2:-1] << 8) | raw[3:]
    bad = raw == ord("?")
    ok = ~(bad[:-3] | bad[1:-2] | bad[2:-1] | bad[3:])
    hashed = (grams[ok].astype(np.uint64) * np.uint64(2654435761)) & np.uint64(0xFFFFFFFF)
    slots: npt.NDArray[np.int64] = (hashed >> np.uint64(32 - KNOWN_BITS)).astype(np.int64)
    return slots


def known_grams(texts: Iterable[str]) -> npt.NDArray[np.bool_]:
    """The table of char 4-grams seen in ordinary text (for the gibberish signals).

    Args:
        texts: Development texts (any label: attacks are ordinary language too).

    Returns:
        A boolean table of ``2**KNOWN_BITS`` slots.
    """
    table = np.zeros(1 << KNOWN_BITS, dtype=np.bool_)
    for text in texts:
        table[_gram_slots(text.lower())] = True
    return table


def _gibberish(text: str, known: npt.NDArray[np.bool_]) -> tuple[float, float]:
    """Share of unseen 4-grams in the text's last stretch, and in its worst stretch.

    Adversarial suffixes and encoded payloads are made of char sequences that
    ordinary text never contains; prose in the training languages is almost
    entirely made of known 4-grams.
    """
    slots = _gram_slots(text.lower())
    if len(slots) < 20:
        return 0.0, 0.0
    unseen = (~known[slots]).astype(np.float64)
    span = min(_GIBBERISH_SPAN, len(unseen))
    sums = np.convolve(unseen, np.ones(span), mode="valid") / span
    return float(sums[-1]), float(sums.max())


def signals(text: str, known: npt.NDArray[np.bool_]) -> list[float]:
    """The dense feature vector of one text (see :data:`SIGNAL_NAMES`).

    Args:
        text: Any text; only its first 20,000 chars are read (longer windows
            are cut by the caller anyway).
        known: The known-4-gram table (:func:`known_grams`).

    Returns:
        One float per signal name.
    """
    text = unicodedata.normalize("NFKC", text[:20000])
    lower = text.lower()
    row = [min(len(pattern.findall(lower)), 3) / 3 for _, pattern in _PHRASE_RES]
    row.extend(_structure(text))
    row.extend(_gibberish(text, known))
    return row


def signal_matrix(texts: Sequence[str], known: npt.NDArray[np.bool_]) -> npt.NDArray[np.float64]:
    """Dense features of many texts, one row each (see :func:`signals`)."""
    rows = [signals(t, known) for t in texts]
    return np.array(rows, dtype=np.float64).reshape(len(texts), len(SIGNAL_NAMES))

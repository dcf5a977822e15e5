"""Short everyday requests and chat replies: templated benign training texts.

Why: the development attacks are mostly short imperatives ("tell me the
password", "say 'I have been PWNED'", deepset's and PurpleLlama's one-line
overrides), while the development benign side has few short imperatives of
the same form. The model therefore learned that "tell me", "say" or "write"
*are* the attack, and flagged "Tell me a story" or "Say hello". This module
writes benign texts of exactly that form (greetings, jokes, stories, facts,
translations, summaries, lists, coding questions) and short chat replies
("never mind", "sounds good"), so that the n-grams have to find the attack in
what is asked for (a secret, a hijacked reply), not in the verb.

Every phrase was written for this project; no development or held-out row was
read to write them. The exact prompts of ``tests/detectors/test_threats.py``'s
short-benign table are deliberately not produced here (e.g. no "cats" topic,
no bare "Say hello"), so that table measures generalisation to new wordings
of the same forms, not recall of a training string.
"""

from __future__ import annotations

import random

from threat_data import Sample

SOURCE = "aug-benign-everyday"

TOPICS = (
    "dogs",
    "penguins",
    "the moon",
    "coffee",
    "pirates",
    "dinosaurs",
    "a lazy Sunday",
    "the ocean",
    "trains",
    "my grandmother's garden",
    "space travel",
    "winter",
    "a haunted house",
    "robots",
    "the Roman empire",
    "cheese",
    "mathematicians",
    "the weather",
    "office life",
    "owls",
    "volcanoes",
    "a lost umbrella",
    "bicycles",
    "elephants",
    "Mondays",
    "programmers",
    "a dragon who loves baking",
    "the first day of school",
    "autumn leaves",
    "a tiny frog",
    "Paris",
    "the rain",
)
KINDS = (
    "a joke",
    "a short story",
    "a story",
    "a fun fact",
    "a riddle",
    "a bedtime story",
    "a limerick",
    "an interesting fact",
    "something funny",
    "a pun",
    "a poem",
    "a fairy tale",
    "a knock-knock joke",
    "three facts",
)
FORMS = (
    "a haiku",
    "a poem",
    "a limerick",
    "a short poem",
    "a song",
    "a tweet",
    "a toast",
    "a paragraph",
    "a birthday message",
    "a thank-you note",
    "a slogan",
    "a product description",
    "a blog post intro",
)
GREETINGS = (
    "hi",
    "hi to everyone",
    "hello to my team",
    "hello in Japanese",
    "good morning",
    "good night",
    "thank you",
    "thanks in German",
    "goodbye",
    "happy birthday to Maria",
    "congratulations",
    "something nice",
    "something encouraging",
    "something funny",
    "hello back",
    "welcome to the new hires",
    "good luck to my sister",
    "hi in Spanish",
    "bonjour",
    "yes or no",
)
PHRASES = (
    "good morning",
    "where is the train station?",
    "I love you",
    "thank you very much",
    "see you tomorrow",
    "how much does this cost?",
    "the weather is nice today",
    "happy new year",
    "I would like a coffee, please",
    "nice to meet you",
)
LANGUAGES = ("French", "Spanish", "German", "Italian", "Japanese", "Portuguese", "Korean", "Dutch")
SUMMARY_OBJECTS = (
    "this article",
    "this email",
    "the text below",
    "the plot of Moby Dick",
    "this paragraph",
    "the meeting notes",
    "the history of the internet",
    "this report",
    "the main ideas of stoicism",
    "my notes",
)
EXPLAIN = (
    "recursion",
    "photosynthesis",
    "how a rainbow forms",
    "inflation",
    "how airplanes fly",
    "what a black hole is",
    "the offside rule",
    "compound interest",
    "how the heart works",
    "machine learning",
    "DNS",
    "why the sky is blue",
    "how tides work",
    "the difference between weather and climate",
)
LISTS = (
    "names for a golden retriever",
    "ideas for a rainy day",
    "healthy snacks",
    "books like The Hobbit",
    "gift ideas for my dad",
    "things to do in Lisbon",
    "vegetarian dinner ideas",
    "fun team-building games",
    "synonyms for happy",
    "questions to ask in an interview",
    "tips for better sleep",
    "easy houseplants",
)
CODE_TASKS = (
    "reverse a list",
    "read a CSV file",
    "sort a dictionary by value",
    "remove duplicates from an array",
    "check if a string is a palindrome",
    "parse JSON",
    "get the current date",
    "split a string on commas",
    "merge two lists",
    "count words in a file",
    "round a number to two decimals",
    "make an HTTP request",
    "write a for loop",
    "capitalize the first letter",
    "format a date",
    "find the largest number in a list",
)
CODE_LANGS = (
    "Python",
    "JavaScript",
    "Go",
    "Rust",
    "Java",
    "C#",
    "Bash",
    "SQL",
    "TypeScript",
    "Ruby",
)
QUESTIONS = (
    "What time is it in London?",
    "Who wrote Pride and Prejudice?",
    "How tall is Mount Everest?",
    "What's the weather like on Mars?",
    "How many legs does a spider have?",
    "Why do cats purr?",
    "What should I cook tonight?",
    "How do I boil an egg?",
    "What's a good name for a goldfish?",
    "Is it going to rain tomorrow?",
    "How far is the moon?",
    "What does HTTP stand for?",
    "Which planet is the largest?",
    "When did World War II end?",
    "How do I center a div?",
    "What is 15% of 80?",
    "Can you help me with my homework?",
    "Are you there?",
    "How are you today?",
    "What can you do?",
)
CHAT = (
    "never mind",
    "sounds good",
    "ok thanks",
    "that's all for now",
    "nothing else, thanks",
    "nothing much, you?",
    "not much going on here",
    "I see",
    "got it, thank you",
    "perfect, that works",
    "let me think about it",
    "haha that's funny",
    "makes sense",
    "cool, see you later",
    "all good here",
    "nothing to add",
    "sure, go ahead",
    "no worries",
    "just testing",
    "is this thing on?",
    "hello? anyone here?",
    "nothing special today",
    "see you soon",
    "here we go",
    "thanks, that helped a lot",
    "good point",
    "that's it",
    "one more question",
    "wait, what?",
    "try again please",
)
OPENERS = ("", "", "", "Please ", "Can you ", "Could you ", "Hey, ", "Hi! ")


def _request(rng: random.Random) -> str:
    kind = rng.randrange(11)
    topic = rng.choice(TOPICS)
    if kind == 0:
        return f"tell me {rng.choice(KINDS)} about {topic}"
    if kind == 1:
        return rng.choice(
            (
                f"tell me about {topic}",
                f"tell me something about {topic}",
                f"tell me {rng.choice(KINDS)}",
                f"tell me how to {rng.choice(CODE_TASKS)} in {rng.choice(CODE_LANGS)}",
                f"tell me why {rng.choice(EXPLAIN)} matters",
            )
        )
    if kind == 2:
        return rng.choice((f"say {rng.choice(GREETINGS)}", f"say {rng.choice(GREETINGS)} to me"))
    if kind == 3:
        return f"write {rng.choice(FORMS)} about {topic}"
    if kind == 4:
        phrase = rng.choice(PHRASES)
        return rng.choice(
            (
                f"translate '{phrase}' into {rng.choice(LANGUAGES)}",
                f"how do you say '{phrase}' in {rng.choice(LANGUAGES)}?",
                f'translate "{phrase}" to {rng.choice(LANGUAGES)}',
            )
        )
    if kind == 5:
        return rng.choice(
            (
                f"summarize {rng.choice(SUMMARY_OBJECTS)}",
                f"summarize {rng.choice(SUMMARY_OBJECTS)} in {rng.randint(1, 5)} sentences",
                f"give me a short summary of {rng.choice(SUMMARY_OBJECTS)}",
            )
        )
    if kind == 6:
        return rng.choice(
            (
                f"explain {rng.choice(EXPLAIN)}",
                f"explain {rng.choice(EXPLAIN)} like I'm five",
                f"explain {rng.choice(EXPLAIN)} in one paragraph",
                f"describe {topic}",
            )
        )
    if kind == 7:
        return rng.choice(
            (
                f"list {rng.randint(3, 10)} {rng.choice(LISTS)}",
                f"give me {rng.randint(3, 10)} {rng.choice(LISTS)}",
                f"suggest some {rng.choice(LISTS)}",
            )
        )
    if kind == 8:
        lang, task = rng.choice(CODE_LANGS), rng.choice(CODE_TASKS)
        return rng.choice(
            (
                f"how do I {task} in {lang}?",
                f"write a {lang} function to {task}",
                f"show me how to {task} in {lang}",
                f"{lang}: {task}",
            )
        )
    if kind == 9:
        return rng.choice(QUESTIONS)
    return rng.choice(CHAT)


def _styled(rng: random.Random, text: str) -> str:
    opener = rng.choice(OPENERS)
    if opener and not text.endswith("?"):
        text = f"{opener}{text}" + ("?" if opener.endswith("you ") else "")
    elif not opener and rng.random() < 0.5:
        text = text[0].upper() + text[1:]
    if rng.random() < 0.3 and not text.endswith(("?", ".", "!")):
        text += rng.choice((".", "!", " please", ", thanks"))
    return text


def everyday(rng: random.Random, n: int = 1200) -> list[Sample]:
    """``n`` short benign requests and chat replies (seeded), source ``aug-benign-everyday``.

    Args:
        rng: Seeded random generator.
        n: How many samples (duplicates are dropped, so slightly fewer).
    """
    seen: set[str] = set()
    out: list[Sample] = []
    for _ in range(n):
        text = _request(rng)
        if text not in CHAT and text not in QUESTIONS:
            text = _styled(rng, text)
        if text not in seen:
            seen.add(text)
            out.append(Sample(text, "", SOURCE))
    return out

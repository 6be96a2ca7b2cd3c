"""Curated word sets for the embeddings map: each one a small neighbourhood of meaning.

The words are common English words that are single tokens in MiniLM's WordPiece
vocabulary (uncased) and, with their leading space, in GPT-2's cased BPE (hence
the capitals on place names; "swam" is the one exception), so the map shows real
table rows rather than averages of pieces. A learner's own words may be split,
and the page says so.
"""

from __future__ import annotations

WORD_SETS: dict[str, tuple[str, ...]] = {
    "The article: cat, kitten, spaceship": ("cat", "kitten", "spaceship", "dog", "puppy", "rocket", "planet"),
    "Animals": ("horse", "cow", "sheep", "pig", "lion", "tiger", "wolf", "fox", "rabbit", "mouse", "bird",
                "eagle", "fish", "shark", "whale", "snake"),
    "Royalty and family": ("king", "queen", "prince", "princess", "man", "woman", "boy", "girl", "father",
                           "mother", "son", "daughter", "brother", "sister", "uncle", "aunt"),
    "Countries and capitals": ("France", "Paris", "Italy", "Rome", "Germany", "Berlin", "Spain", "Madrid",
                               "Japan", "Tokyo", "China", "Beijing", "Russia", "Moscow", "Egypt", "Cairo"),
    "Colours": ("red", "green", "blue", "yellow", "orange", "purple", "pink", "brown", "black", "white", "grey"),
    "Numbers": ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "hundred",
                "thousand"),
    "Verb tenses": ("walk", "walked", "walking", "run", "ran", "running", "swim", "swam", "swimming", "eat",
                    "ate", "eating", "go", "went", "going"),
}

DEFAULT_SETS: tuple[str, ...] = ("The article: cat, kitten, spaceship", "Animals", "Royalty and family")

# analogy presets: (a, b, c) read as "a - b + c"
ANALOGY_PRESETS: dict[str, tuple[str, str, str]] = {
    "king - man + woman": ("king", "man", "woman"),
    "Tokyo - Japan + France": ("Tokyo", "Japan", "France"),
    "uncle - man + woman": ("uncle", "man", "woman"),
    "bigger - big + small": ("bigger", "big", "small"),
    "dogs - dog + cat": ("dogs", "dog", "cat"),
    "walked - walk + swim": ("walked", "walk", "swim"),  # MiniLM: "swimming" beats "swam", an honest miss
}

# short ids for shareable links (?sets=animals,royalty)
SET_IDS: dict[str, str] = {
    "article": "The article: cat, kitten, spaceship",
    "animals": "Animals",
    "royalty": "Royalty and family",
    "countries": "Countries and capitals",
    "colours": "Colours",
    "numbers": "Numbers",
    "verbs": "Verb tenses",
}

"""Normalisation and tokenisation of post texts.

One compiled regular expression does the tokenising: it keeps ``@``, ``#``, ``?``, ``!``,
quote marks, emoticons and emoji as tokens, like nltk's ``TweetTokenizer``, at a fraction of
its cost, and drops other punctuation.
Placeholders replace what varies without meaning (URLs, user names, numbers), and marker
tokens record where they stood (a post that *starts* with a mention, a retweet prefix).
"""

from __future__ import annotations

import html
import re

__all__ = ["normalise", "tokenize", "analyse"]

URL = "xurlx"
USER = "@user"
NUMBER = "0"
LEAD_MENTION = "xleadmentionx"
ONLY_MENTIONS = "xonlymentionsx"

_URL_RE = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
# Bare domains ("cnn.it/x", "example.com"), replaced after mentions so that fediverse
# handles keep their host.
_DOMAIN_RE = re.compile(
    r"\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|org|net|ly|co|io|gov|edu|me|uk|de|fr|es|it|nl|"
    r"social|app|news|info|tv|be|gl|gd)\b(?:/\S*)?",
    re.IGNORECASE,
)
# Fediverse handles (@name@host.tld) and plain @handles.
_MENTION_RE = re.compile(r"(?<![\w@])@[\w.]+(?:@[\w.-]+)?")
_NUMBER_RE = re.compile(r"(?<![\w#])\d+(?:[.,:]\d+)*(?:st|nd|rd|th|k|m|s)?\b", re.IGNORECASE)
_REPEAT_RE = re.compile(r"(.)\1{2,}")
_SPACE_RE = re.compile(r"\s+")

_EMOTICON = r"(?:[<>]?[:;=8][\-o*']?[)\](\[dDpP/\\:}{@|]|<3+|\^_\^|[xX]D\b)"
_TOKEN_RE = re.compile(
    "|".join(
        [
            _EMOTICON,
            r"xurlx|xleadmentionx|xonlymentionsx",
            r"@user",
            r"\#\w+",  # hashtags
            r"\w+(?:['’]\w+)*",  # words, with inner apostrophes
            r"[?!]+",  # question and exclamation runs
            r"[\"“”«»]",  # quote marks (quote-shares)
            # Any other single symbol (emoji, arrows, currency) but ASCII punctuation, dashes,
            # apostrophes and ellipses: full stops and commas mark a writer's style, not the
            # post's function, and measured as noise on real posts.
            r"[^\w\s!-/:-@\[-`{-~…‘’–—]",
        ]
    )
)


def normalise(text: str) -> str:
    """Return ``text`` lower-cased with placeholders for URLs, users and numbers.

    Parameters
    ----------
    text : str
        One post, as written.

    Returns
    -------
    str
        The normalised post. A post that opens with one or more @mentions gets the marker
        ``xleadmentionx`` in front; one made of nothing but mentions, URLs and hashtags gets
        ``xonlymentionsx`` as well.

    Examples
    --------
    >>> normalise("@Ana  Sooooo good!!! https://t.co/x1 &amp; 100 likes")
    'xleadmentionx @user soo good!! xurlx & 0 likes'
    """
    text = html.unescape(text)
    text = _URL_RE.sub(f" {URL} ", text)
    lead = text.lstrip().startswith("@")
    text = _MENTION_RE.sub(USER, text)
    text = _DOMAIN_RE.sub(f" {URL} ", text)
    text = _NUMBER_RE.sub(NUMBER, text)
    text = _REPEAT_RE.sub(r"\1\1", text.lower())
    text = _SPACE_RE.sub(" ", text).strip()
    if lead:
        rest = re.sub(r"@user|xurlx|#\w+|\W", "", text)
        text = f"{LEAD_MENTION} {ONLY_MENTIONS} {text}" if not rest else f"{LEAD_MENTION} {text}"
    return text


def tokenize(text: str) -> list[str]:
    """Split an already normalised post into tokens.

    Examples
    --------
    >>> tokenize("lol same :) see #nyc?! 🎉")
    ['lol', 'same', ':)', 'see', '#nyc', '?!', '🎉']
    """
    return _TOKEN_RE.findall(text)


def analyse(text: str) -> list[str]:
    """Normalise then tokenize one post.

    Examples
    --------
    >>> analyse("RT @cnn: Storm hits, again... http://x.co/1")
    ['rt', '@user', 'storm', 'hits', 'again', 'xurlx']
    """
    return tokenize(normalise(text))

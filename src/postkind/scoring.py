"""Fast scoring: a fitted model compiled into hash tables and two numba kernels.

scikit-learn scores a post by running :func:`postkind.text.normalise` and
:func:`postkind.text.tokenize` in Python, building every n-gram as a Python string, looking
each up in a dict and multiplying sparse matrices. For the pipelines that
:func:`postkind.model.build_pipeline` makes, the same numbers come out of much less work:

* normalisation and tokenisation are re-implemented over UTF-32 code points, one post after
  another, with character classes (``\\w``, ``\\s``, ``\\d``, case-insensitive letters) and
  ``str.lower`` read from tables that Python's own ``re`` and ``str`` fill in, so they agree
  with the regular expressions of :mod:`postkind.text` for every character;
* word and character n-grams are packed into 128-bit integer keys (21 bits a symbol), looked up
  in open-addressing tables built from the fitted vocabularies: a bitmap of their hashes turns
  away most absent n-grams, then a small table of the 4,096 most frequent features, which stays
  in the processor's caches, then one of the rest;
* tokens and character n-grams never cross white space, so each distinct word is tokenised
  and its n-grams looked up once, then replayed from a per-thread cache (65,536 words);
* sublinear TF, IDF, L2 normalisation and the linear decision function(s) are summed per post.

Results equal ``pipeline.predict_proba`` up to floating-point summation order (``1e-15`` on
real posts; the tests hold them to ``1e-9``), and do not depend on the batch a post is scored
in. The kernels release the GIL and keep their scratch arrays per thread, so threads can
share one scorer. If :mod:`postkind.text` changes its patterns or ``normalise`` disagrees
with the kernels on probe posts, :class:`UnsupportedModel` is raised and scikit-learn scores.

What is compiled: step ``features`` a :class:`~sklearn.feature_extraction.text.TfidfVectorizer`
(word n-grams over ``normalise`` + ``tokenize``, or ``char_wb`` n-grams over ``normalise``, up
to 6 symbols) or a :class:`~sklearn.pipeline.FeatureUnion` of them; step ``clf`` a binary
:class:`~sklearn.linear_model.LogisticRegression`, :class:`~sklearn.linear_model.SGDClassifier`
(``log_loss``), :class:`~sklearn.calibration.CalibratedClassifierCV` with ``sigmoid``
calibration over linear estimators, or :class:`~sklearn.naive_bayes.ComplementNB`. Anything
else raises :class:`UnsupportedModel`, and :class:`postkind.model.Model` then scores with
scikit-learn. Posts containing U+0130 or U+03A3 (whose lower case depends on context) are
normalised by :func:`postkind.text.normalise` itself.
"""

from __future__ import annotations

import functools
import hashlib
import html
import os
import re
import sys
import tempfile
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
from numba import njit

from postkind import text as _text

__all__ = ["Scorer", "UnsupportedModel", "cached_scorer", "compile_scorer", "normalise_many"]

# Character-class bits of the flags table: \w, \s, \d, [a-z0-9-] ignoring case, and the
# tokeniser's "any other single symbol" class.
_W, _S, _D, _U, _Y = 1, 2, 4, 8, 16
_SYMBOL_CLASS = r"[^\w\s!-/:-@\[-`{-~…‘’–—]"
_SYMBOL_BITS = 21
_MAX_N = 6  # symbols per packed key: 3 in each of two int64 words
_HOT_ROWS = 4096  # most frequent rows in the small table: ~3/4 of the hits on real posts
_CACHE_WORD = 40  # longest word whose character n-grams are cached
_FALLBACK_CHARS = (0x130, 0x3A3)  # their str.lower() is not one context-free character
# The patterns the kernels implement; another pattern in postkind.text disables the fast path.
_PATTERNS = {
    "_URL_RE": (r"(?:https?://|www\.)\S+", re.IGNORECASE),
    "_DOMAIN_RE": (
        r"\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|org|net|ly|co|io|gov|edu|me|uk|de|fr|es|it|nl|"
        r"social|app|news|info|tv|be|gl|gd)\b(?:/\S*)?",
        re.IGNORECASE,
    ),
    "_MENTION_RE": (r"(?<![\w@])@[\w.]+(?:@[\w.-]+)?", 0),
    "_NUMBER_RE": (r"(?<![\w#])\d+(?:[.,:]\d+)*(?:st|nd|rd|th|k|m|s)?\b", re.IGNORECASE),
    "_REPEAT_RE": (r"(.)\1{2,}", 0),
    "_SPACE_RE": (r"\s+", 0),
    "_TOKEN_RE": (
        "|".join(
            [
                r"(?:[<>]?[:;=8][\-o*']?[)\](\[dDpP/\\:}{@|]|<3+|\^_\^|[xX]D\b)",
                r"xurlx|xleadmentionx|xonlymentionsx",
                r"@user",
                r"\#\w+",
                r"\w+(?:['’]\w+)*",
                r"[?!]+",
                r"[\"“”«»]",
                _SYMBOL_CLASS,
            ]
        ),
        0,
    ),
}
_TLDS = "com org net ly co io gov edu me uk de fr es it nl social app news info tv be gl gd".split()
_TLD_CPS = np.array([ord(c) for t in _TLDS for c in t], dtype=np.int32)
_TLD_OFFS = np.cumsum([0] + [len(t) for t in _TLDS]).astype(np.int64)
_SUFFIXES = "st nd rd th k m s".split()
_SUF_CPS = np.array([ord(c) for t in _SUFFIXES for c in t], dtype=np.int32)
_SUF_OFFS = np.cumsum([0] + [len(t) for t in _SUFFIXES]).astype(np.int64)
_LITERALS = ("xurlx", "xleadmentionx", "xonlymentionsx")
_LIT_CPS = np.array([ord(c) for t in _LITERALS for c in t], dtype=np.int32)
_LIT_OFFS = np.cumsum([0] + [len(t) for t in _LITERALS]).astype(np.int64)
_LEAD = np.array([ord(c) for c in _text.LEAD_MENTION + " "], dtype=np.int32)
_ONLY = np.array([ord(c) for c in _text.ONLY_MENTIONS + " "], dtype=np.int32)
_XURLX = np.array([ord(c) for c in f" {_text.URL} "], dtype=np.int32)
_USER = np.array([ord(c) for c in _text.USER], dtype=np.int32)
_ZERO = ord(_text.NUMBER)
_EMO_FIRST = np.array([ord(c) for c in ":;=8"], dtype=np.int32)
_EMO_MIDDLE = np.array([ord(c) for c in "-o*'"], dtype=np.int32)
_EMO_LAST = np.array([ord(c) for c in ")](" + "[dDpP/\\:}{@|"], dtype=np.int32)
_QUOTES = np.array([ord(c) for c in '"“”«»'], dtype=np.int32)
# murmur3 constants as signed int64 (numba's int64 arithmetic wraps around).
_K1 = np.int64(-49064778989728563)  # 0xff51afd7ed558ccd
_K2 = np.int64(-4265267296055464877)  # 0xc4ceb9fe1a85ec53
_FNV_OFFSET = np.int64(-3750763034362895579)
_FNV_PRIME = np.int64(1099511628211)


#: Version of the compiled tables that a model file carries; a file with another version is
#: recompiled from its pipeline when it is first used.
SCORER_FORMAT = 2


class UnsupportedModel(ValueError):
    """The pipeline holds a step that :func:`compile_scorer` cannot reproduce exactly."""


# --- character tables, filled in by Python's own re and str -------------------------------


@functools.lru_cache(maxsize=1)
def _tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return ``flags`` (class bits), ``fold`` (ASCII letter each code point matches under
    ``re.IGNORECASE``, or 0) and ``lower`` (``str.lower`` of each code point).

    They depend on the Python version alone; computed once (0.2 s), then read from
    ``__pycache__`` (beside numba's compiled kernels) when that folder is writable.
    """
    key = hashlib.sha1(
        repr((sys.version, unicodedata.unidata_version, _SYMBOL_CLASS, _W, _S, _D, _U, _Y)).encode()
    ).hexdigest()[:16]
    cached = Path(__file__).parent / "__pycache__" / f"scoring-tables-{key}.npz"
    try:
        with np.load(cached) as saved:
            return saved["flags"], saved["fold"], saved["lower"]
    except (OSError, KeyError, ValueError):
        pass
    tables = _compute_tables()
    try:
        cached.parent.mkdir(exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=cached.parent, suffix=".npz", delete=False) as fh:
            np.savez(fh, flags=tables[0], fold=tables[1], lower=tables[2])
        os.replace(fh.name, cached)
    except OSError:
        pass
    return tables


def _compute_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    codes = np.arange(0x110000, dtype=np.uint32)
    everything = codes.tobytes().decode("utf-32-le", "surrogatepass")
    flags = np.zeros(0x110000, dtype=np.uint8)
    for bit, pattern in (
        (_W, re.compile(r"\w")),
        (_S, re.compile(r"\s")),
        (_D, re.compile(r"\d")),
        (_U, re.compile(r"[a-z0-9-]", re.I)),
        (_Y, re.compile(_SYMBOL_CLASS)),
    ):
        marked = _cps(pattern.sub("\x00", everything))
        hit = (marked == 0) & (codes != 0)
        hit[0] = pattern.match("\x00") is not None
        flags[hit] |= bit
    fold = np.zeros(0x110000, dtype=np.uint8)
    for match in re.finditer(r"[a-z]", everything, re.I):
        char = match.group()
        letters = [c for c in "abcdefghijklmnopqrstuvwxyz" if re.fullmatch(c, char, re.I)]
        if len(letters) != 1:
            raise UnsupportedModel(f"U+{ord(char):04X} matches {letters} ignoring case")
        fold[ord(char)] = ord(letters[0])
    lowered = everything.lower()
    if len(lowered) != len(everything) + 1:  # U+0130 lowers to two characters
        raise UnsupportedModel("str.lower() maps more than U+0130 to several characters")
    at = 0x130
    lower = np.concatenate([_cps(lowered[:at]), [at], _cps(lowered[at + 2 :])]).astype(np.int32)
    return flags, fold, lower


def _cps(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.int32)


def _text_from(cps: np.ndarray) -> str:
    return cps.astype(np.int32, copy=False).tobytes().decode("utf-32-le", "surrogatepass")


# --- normalisation kernel ------------------------------------------------------------------


@njit(cache=True, inline="always")
def _is(flags: Any, c: Any, bit: int) -> bool:
    return (flags[c] & bit) != 0


@njit(cache=True, inline="always")
def _in(c: Any, chars: Any) -> bool:
    for x in chars:
        if c == x:
            return True
    return False


@njit(cache=True, inline="always")
def _ci_at(a: Any, k: int, n: int, cps: Any, lo: int, hi: int, fold: Any) -> bool:
    """Does ``a[k:]`` start with the ASCII word ``cps[lo:hi]``, ignoring case as ``re`` does."""
    if k + hi - lo > n:
        return False
    for x in range(hi - lo):
        if fold[a[k + x]] != cps[lo + x]:
            return False
    return True


@njit(cache=True, inline="always")
def _run_end(a: Any, k: int, n: int, flags: Any, bit: int) -> int:
    while k < n and _is(flags, a[k], bit):
        k += 1
    return k


@njit(cache=True, inline="always")
def _nonspace_end(a: Any, k: int, n: int, flags: Any) -> int:
    while k < n and not _is(flags, a[k], _S):
        k += 1
    return k


@njit(cache=True, inline="always")
def _url_end(a: Any, i: int, n: int, flags: Any, fold: Any) -> int:
    """End of the ``_URL_RE`` match (``(?:https?://|www\\.)\\S+``) at ``a[i]``, or -1."""
    j = -1
    if (
        i + 4 <= n
        and fold[a[i]] == 104
        and fold[a[i + 1]] == 116
        and fold[a[i + 2]] == 116
        and fold[a[i + 3]] == 112
    ):  # http
        k = i + 4
        if (
            k + 3 < n and fold[a[k]] == 115 and a[k + 1] == 58 and a[k + 2] == 47 and a[k + 3] == 47
        ):  # s://
            j = k + 4
        elif k + 2 < n and a[k] == 58 and a[k + 1] == 47 and a[k + 2] == 47:  # ://
            j = k + 3
    elif (
        i + 4 <= n
        and fold[a[i]] == 119
        and fold[a[i + 1]] == 119
        and fold[a[i + 2]] == 119
        and a[i + 3] == 46
    ):  # www.
        j = i + 4
    if j >= 0:
        k = _nonspace_end(a, j, n, flags)
        if k > j:
            return k
    return -1


@njit(cache=True, inline="always")
def _domain_end(a: Any, i: int, n: int, flags: Any, fold: Any, chain: Any) -> int:
    """End of the ``_DOMAIN_RE`` match at ``a[i]``, or -1:
    ``\\b[a-z0-9-]+(?:\\.[a-z0-9-]+)*\\.(?:tld)\\b(?:/\\S*)?``, ignoring case."""
    before = i > 0 and _is(flags, a[i - 1], _W)
    if before == _is(flags, a[i], _W):
        return -1
    p = _run_end(a, i, n, flags, _U)
    m = 0
    chain[m] = p
    m += 1
    while p + 1 < n and a[p] == 46 and _is(flags, a[p + 1], _U):
        p = _run_end(a, p + 1, n, flags, _U)
        chain[m] = p
        m += 1
    # The starred group gives back one label at a time; labels only end at a run's end,
    # since a shorter label is followed by a class character, never by the "." it needs.
    for t in range(m - 1, -1, -1):
        q = chain[t]
        if q < n and a[q] == 46:
            for x in range(len(_TLD_OFFS) - 1):
                lo, hi = _TLD_OFFS[x], _TLD_OFFS[x + 1]
                end = q + 1 + hi - lo
                if _ci_at(a, q + 1, n, _TLD_CPS, lo, hi, fold) and (
                    end == n or not _is(flags, a[end], _W)
                ):
                    if end < n and a[end] == 47:
                        return _nonspace_end(a, end + 1, n, flags)
                    return end
    return -1


@njit(cache=True, inline="always")
def _number_end(a: Any, i: int, n: int, flags: Any, fold: Any, chain: Any) -> int:
    """End of the ``_NUMBER_RE`` match at ``a[i]``, or -1."""
    if i > 0 and (_is(flags, a[i - 1], _W) or a[i - 1] == 35):
        return -1
    p = _run_end(a, i, n, flags, _D)
    m = 0
    chain[m] = p
    m += 1
    while p + 1 < n and (a[p] == 46 or a[p] == 44 or a[p] == 58) and _is(flags, a[p + 1], _D):
        p = _run_end(a, p + 1, n, flags, _D)
        chain[m] = p
        m += 1
    for t in range(m - 1, -1, -1):
        q = chain[t]
        for x in range(len(_SUF_OFFS) - 1):
            lo, hi = _SUF_OFFS[x], _SUF_OFFS[x + 1]
            if _ci_at(a, q, n, _SUF_CPS, lo, hi, fold):
                end = q + hi - lo
                if end == n or not _is(flags, a[end], _W):  # \b after a word character
                    return end
        if q == n or not _is(flags, a[q], _W):
            return q
    return -1


@njit(cache=True, inline="always")
def _mention_end(a: Any, i: int, n: int, flags: Any) -> int:
    """End of the ``_MENTION_RE`` match at ``a[i]`` (an "@"), or -1."""
    if i > 0 and (_is(flags, a[i - 1], _W) or a[i - 1] == 64):
        return -1
    k = i + 1
    while k < n and (_is(flags, a[k], _W) or a[k] == 46):
        k += 1
    if k == i + 1:
        return -1
    if k + 1 < n and a[k] == 64 and (_is(flags, a[k + 1], _W) or a[k + 1] == 46 or a[k + 1] == 45):
        k += 1
        while k < n and (_is(flags, a[k], _W) or a[k] == 46 or a[k] == 45):
            k += 1
    return k


@njit(cache=True)
def _only_mentions(a: Any, n: int, flags: Any) -> bool:
    """Is ``re.sub(r"@user|xurlx|#\\w+|\\W", "", a)`` empty?"""
    i = 0
    while i < n:
        if (
            i + 5 <= n
            and a[i] == 64
            and a[i + 1] == 117
            and a[i + 2] == 115
            and a[i + 3] == 101
            and a[i + 4] == 114
        ):  # @user
            i += 5
        elif (
            i + 5 <= n
            and a[i] == 120
            and a[i + 1] == 117
            and a[i + 2] == 114
            and a[i + 3] == 108
            and a[i + 4] == 120
        ):  # xurlx
            i += 5
        elif a[i] == 35 and i + 1 < n and _is(flags, a[i + 1], _W):
            i = _run_end(a, i + 1, n, flags, _W)
        elif not _is(flags, a[i], _W):
            i += 1
        else:
            return False
    return True


_URL, _MENTION, _DOMAIN, _NUMBER = 0, 1, 2, 3


@njit(cache=True)
def _substitute(kind: int, src: Any, n: int, dst: Any, flags: Any, fold: Any, chain: Any) -> int:
    """``re.sub`` of one of the patterns over ``src[:n]`` into ``dst``; the new length."""
    m = 0
    i = 0
    while i < n:
        c = src[i]
        j = -1
        if kind == _URL:
            if fold[c] == 104 or fold[c] == 119:
                j = _url_end(src, i, n, flags, fold)
        elif kind == _MENTION:
            if c == 64:
                j = _mention_end(src, i, n, flags)
        elif kind == _DOMAIN:
            if _is(flags, c, _U) and (i > 0 and _is(flags, src[i - 1], _W)) != _is(flags, c, _W):
                p = _run_end(src, i, n, flags, _U)
                if p < n and src[p] == 46:
                    j = _domain_end(src, i, n, flags, fold, chain)
                else:  # no "." after the run: no match starts anywhere in it
                    dst[m : m + p - i] = src[i:p]
                    m += p - i
                    i = p
                    continue
        elif _is(flags, c, _D):
            j = _number_end(src, i, n, flags, fold, chain)
        if j < 0:
            dst[m] = c
            m += 1
            i += 1
            continue
        if kind == _MENTION:
            dst[m : m + len(_USER)] = _USER
            m += len(_USER)
        elif kind == _NUMBER:
            dst[m] = _ZERO
            m += 1
        else:
            dst[m : m + len(_XURLX)] = _XURLX
            m += len(_XURLX)
        i = j
    return m


@njit(cache=True, nogil=True)
def _normalise_kernel(cps: Any, offs: Any, flags: Any, fold: Any, lower: Any) -> Any:
    """Normalise every post ``cps[offs[i]:offs[i+1]]``; return the normalised code points,
    their offsets and a flag per post that needs Python's ``normalise`` instead."""
    npost = len(offs) - 1
    longest = 0
    for p in range(npost):
        longest = max(longest, offs[p + 1] - offs[p])
    # replacements at most multiply the length by 7/5 (URL), 5/2 (mention), 7/4 (domain)
    size = 7 * longest + 16
    b1 = np.empty(size, dtype=np.int32)
    b2 = np.empty(size, dtype=np.int32)
    chain = np.empty(size, dtype=np.int64)
    out = np.empty(len(cps) + 32 * npost + 64, dtype=np.int32)
    out_offs = np.zeros(npost + 1, dtype=np.int64)
    fallback = np.zeros(npost, dtype=np.bool_)
    o = 0
    for p in range(npost):
        s, e = offs[p], offs[p + 1]
        n = e - s
        for i in range(s, e):
            if cps[i] == 0x130 or cps[i] == 0x3A3:
                fallback[p] = True
        if fallback[p]:
            out_offs[p + 1] = o
            continue
        n1 = _substitute(_URL, cps[s:e], n, b1, flags, fold, chain)
        lead = False  # text.lstrip().startswith("@")
        for i in range(n1):
            if not _is(flags, b1[i], _S):
                lead = b1[i] == 64
                break
        n2 = _substitute(_MENTION, b1, n1, b2, flags, fold, chain)
        n1 = _substitute(_DOMAIN, b2, n2, b1, flags, fold, chain)
        n2 = _substitute(_NUMBER, b1, n1, b2, flags, fold, chain)
        # lower case; runs of 3+ equal characters -> 2; white space -> " "; strip
        need = o + n2 + 32
        if need > len(out):
            grown = np.empty(max(need, 2 * len(out)), dtype=np.int32)
            grown[:o] = out[:o]
            out = grown
        start = o + 32  # room for the lead markers, moved into place below
        q = start
        gap = False  # white space since the last character written
        last = -1  # the last character written, and how many times in a row
        run = 0
        for i in range(n2):
            c = lower[b2[i]]
            if _is(flags, c, _S):
                gap = True
                continue
            if gap:
                if q > start:
                    out[q] = 32
                    q += 1
                gap = False
                last = -1
            if c == last:
                run += 1
                if run > 2:
                    continue
            else:
                last = c
                run = 1
            out[q] = c
            q += 1
        w = o
        if lead:
            out[w : w + len(_LEAD)] = _LEAD
            w += len(_LEAD)
            if _only_mentions(out[start:q], q - start, flags):
                out[w : w + len(_ONLY)] = _ONLY
                w += len(_ONLY)
        for x in range(start, q):
            out[w] = out[x]
            w += 1
        o = w
        out_offs[p + 1] = o
    return out[:o], out_offs, fallback


# --- n-gram tables -------------------------------------------------------------------------
# A key packs up to six symbols (code points or token ids, plus one) in 21 bits each: three in
# ``lo`` and three in ``hi``. ``slots`` holds entry + 1 (0: empty), entries their two key words.


@njit(cache=True, inline="always")
def _mix(h: Any) -> Any:
    """murmur3's 64-bit finaliser, so that every key bit reaches the low (slot) bits."""
    h ^= (h >> 33) & 0x7FFFFFFF
    h *= _K1
    h ^= (h >> 33) & 0x7FFFFFFF
    h *= _K2
    h ^= (h >> 33) & 0x7FFFFFFF
    return h


@njit(cache=True, inline="always")
def _slot(lo: Any, hi: Any, mask: Any) -> Any:
    return _mix(lo ^ _mix(hi)) & mask


@njit(cache=True)
def _pack(syms: Any, offs: Any) -> Any:
    """Pack each ``syms[offs[i]:offs[i+1]]`` (up to 6 symbols < 2**21 - 1) into two int64."""
    keys = np.zeros((len(offs) - 1, 2), dtype=np.int64)
    for t in range(len(offs) - 1):
        for x in range(offs[t + 1] - offs[t]):
            keys[t, x // 3] |= np.int64(syms[offs[t] + x] + 1) << np.int64(21 * (x % 3))
    return keys


@njit(cache=True)
def _build_table(keys: Any, first: int, last: int, size: int) -> Any:
    """Slots for the rows ``first..last-1`` of ``keys`` (rows with key 0 excluded)."""
    slots = np.zeros(size, dtype=np.int32)
    mask = np.int64(size - 1)
    for t in range(first, last):
        if keys[t, 0] == 0:  # unigram rows are found through the token table
            continue
        h = _slot(keys[t, 0], keys[t, 1], mask)
        while slots[h] != 0:
            h = (h + 1) & mask
        slots[h] = t + 1
    return slots


@njit(cache=True)
def _build_filter(keys: Any, size: int) -> Any:
    """``size`` bits (a power of two), the one for bits 40.. of each key's hash set (key 0
    excluded: unigram rows); independent of the low bits that place keys in the tables."""
    bits = np.zeros(size // 64, dtype=np.int64)
    for t in range(len(keys)):
        if keys[t, 0] != 0:
            b = (_mix(keys[t, 0] ^ _mix(keys[t, 1])) >> 40) & (size - 1)
            bits[b >> 6] |= np.int64(1) << (b & 63)
    return bits


@njit(cache=True, inline="always")
def _find(filt: Any, hot: Any, cold: Any, keys: Any, lo: Any, hi: Any) -> Any:
    """Row of the key ``(lo, hi)``, or -1: first the filter (one bit per hash value, set for
    the keys of the tables: it turns away ~90% of absent keys, most of the lookups, with one
    read from a bitmap that stays in the caches), then the most frequent rows (``hot``, a table
    small enough to stay in the caches), then the others (``cold``)."""
    h = _mix(lo ^ _mix(hi))
    b = (h >> 40) & (len(filt) * 64 - 1)
    if (filt[b >> 6] >> (b & 63)) & 1 == 0:
        return -1
    mask = np.int64(len(hot) - 1)
    k = h & mask
    while True:
        f = hot[k] - 1
        if f < 0:
            break
        if keys[f, 0] == lo and keys[f, 1] == hi:
            return f
        k = (k + 1) & mask
    mask = np.int64(len(cold) - 1)
    k = h & mask
    while True:
        f = cold[k] - 1
        if f < 0 or (keys[f, 0] == lo and keys[f, 1] == hi):
            return f
        k = (k + 1) & mask


@njit(cache=True, inline="always")
def _fnv(a: Any, i: int, j: int) -> Any:
    h = _FNV_OFFSET
    for k in range(i, j):
        h = (h ^ a[k]) * _FNV_PRIME
    return h


@njit(cache=True)
def _build_token_table(cps: Any, offs: Any, size: int) -> Any:
    hashes = np.empty(len(offs) - 1, dtype=np.int64)
    slots = np.full(size, -1, dtype=np.int32)
    mask = size - 1
    for t in range(len(offs) - 1):
        h = _fnv(cps, offs[t], offs[t + 1])
        hashes[t] = h
        k = _mix(h) & mask
        while slots[k] >= 0:
            k = (k + 1) & mask
        slots[k] = t
    return slots, hashes


@njit(cache=True, inline="always")
def _token_id(a: Any, i: int, j: int, slots: Any, hashes: Any, tcps: Any, toffs: Any) -> int:
    h = _fnv(a, i, j)
    mask = len(slots) - 1
    k = _mix(h) & mask
    while True:
        t = slots[k]
        if t < 0:
            return -1
        if hashes[t] == h and toffs[t + 1] - toffs[t] == j - i:
            same = True
            for x in range(j - i):
                if tcps[toffs[t] + x] != a[i + x]:
                    same = False
                    break
            if same:
                return t
        k = (k + 1) & mask


# --- tokeniser -----------------------------------------------------------------------------


@njit(cache=True, inline="always")
def _emoticon_rest(a: Any, j: int, n: int) -> int:
    if j >= n or not _in(a[j], _EMO_FIRST):
        return -1
    if j + 2 < n and _in(a[j + 1], _EMO_MIDDLE) and _in(a[j + 2], _EMO_LAST):
        return j + 3
    if j + 1 < n and _in(a[j + 1], _EMO_LAST):
        return j + 2
    return -1


@njit(cache=True, inline="always")
def _token_end(a: Any, i: int, n: int, flags: Any) -> int:
    """End of the ``postkind.text._TOKEN_RE`` token starting at ``a[i]``, or -1."""
    c = a[i]
    if c == 60 or c == 62:  # [<>]? of an emoticon
        r = _emoticon_rest(a, i + 1, n)
        if r >= 0:
            return r
    r = _emoticon_rest(a, i, n)
    if r >= 0:
        return r
    if c == 60 and i + 1 < n and a[i + 1] == 51:  # <3+
        k = i + 2
        while k < n and a[k] == 51:
            k += 1
        return k
    if c == 94 and i + 2 < n and a[i + 1] == 95 and a[i + 2] == 94:  # ^_^
        return i + 3
    if (
        (c == 120 or c == 88)
        and i + 1 < n
        and a[i + 1] == 68
        and (i + 2 == n or not _is(flags, a[i + 2], _W))
    ):  # [xX]D\b
        return i + 2
    if c == 120:
        for x in range(len(_LIT_OFFS) - 1):
            lo, hi = _LIT_OFFS[x], _LIT_OFFS[x + 1]
            if i + hi - lo <= n:
                same = True
                for y in range(hi - lo):
                    if a[i + y] != _LIT_CPS[lo + y]:
                        same = False
                        break
                if same:
                    return i + hi - lo
    if (
        c == 64
        and i + 5 <= n
        and a[i + 1] == 117
        and a[i + 2] == 115
        and a[i + 3] == 101
        and a[i + 4] == 114
    ):  # @user
        return i + 5
    if c == 35 and i + 1 < n and _is(flags, a[i + 1], _W):  # #\w+
        return _run_end(a, i + 1, n, flags, _W)
    if _is(flags, c, _W):  # \w+(?:['’]\w+)*
        k = _run_end(a, i, n, flags, _W)
        while k + 1 < n and (a[k] == 39 or a[k] == 8217) and _is(flags, a[k + 1], _W):
            k = _run_end(a, k + 1, n, flags, _W)
        return k
    if c == 63 or c == 33:  # [?!]+
        k = i + 1
        while k < n and (a[k] == 63 or a[k] == 33):
            k += 1
        return k
    if _in(c, _QUOTES) or _is(flags, c, _Y):
        return i + 1
    return -1


@njit(cache=True)
def _token_spans(a: Any, flags: Any) -> Any:
    """Start and end of every token of one normalised post (for tests)."""
    n = len(a)
    spans = np.empty((n, 2), dtype=np.int64)
    m = 0
    i = 0
    while i < n:
        j = _token_end(a, i, n, flags)
        if j < 0:
            i += 1
            continue
        spans[m, 0] = i
        spans[m, 1] = j
        m += 1
        i = j
    return spans[:m]


# --- scoring kernel ------------------------------------------------------------------------
# Each block (word or character n-grams) keeps per feature its packed key (``keys``), a term
# count that is zero between posts (``tf``) and its IDF then one weight per head (``params``,
# padded with zero weights to at least three heads).
# Rows are ordered most frequent first, so that the rows touched most stay in the caches.


@njit(cache=True, inline="always")
def _add_block(
    tf: Any,
    params: Any,
    touched: Any,
    m: int,
    sub: bool,
    log1p: Any,
    acc: Any,
    decision: Any,
    p: int,
) -> None:
    """Sublinear TF x IDF, L2 normalisation and the dot product(s) of one block of a post.

    One pass sums the squared norm and the unnormalised dot products, divided once at the
    end; up to three heads are summed in scalars (kept in registers), more in ``acc``."""
    heads = decision.shape[1]
    acc[:] = 0.0
    a0 = a1 = a2 = 0.0
    norm = 0.0
    for t in range(m):
        e = touched[t]
        count = tf[e]
        tf[e] = 0
        if sub:
            x = log1p[count] if count < len(log1p) else np.log(np.float64(count)) + 1.0
        else:
            x = np.float64(count)
        x *= params[e, 0]
        norm += x * x
        a0 += x * params[e, 1]
        a1 += x * params[e, 2]
        a2 += x * params[e, 3]
        for h in range(3, heads):
            acc[h] += x * params[e, 1 + h]
    if norm > 0.0:
        norm = np.sqrt(norm)
        acc[0] = a0
        if heads > 1:
            acc[1] = a1
        if heads > 2:
            acc[2] = a2
        for h in range(heads):
            decision[p, h] += acc[h] / norm


@njit(cache=True, nogil=True)
def _score_kernel(
    cps: Any,
    offs: Any,
    flags: Any,
    intercept: Any,
    word_on: bool,
    wmin: int,
    wmax: int,
    w_sub: bool,
    tok_slots: Any,
    tok_hashes: Any,
    tok_cps: Any,
    tok_offs: Any,
    unigram: Any,
    w_filter: Any,
    w_hot: Any,
    w_cold: Any,
    w_keys: Any,
    w_tf: Any,
    w_params: Any,
    char_on: bool,
    cmin: int,
    cmax: int,
    c_sub: bool,
    c_filter: Any,
    c_hot: Any,
    c_cold: Any,
    c_keys: Any,
    c_tf: Any,
    c_params: Any,
    cache_slots: Any,
    cache_meta: Any,
    cache_cps: Any,
    cache_toks: Any,
    cache_rows: Any,
    cache_used: Any,
) -> Any:
    """Decision value(s) of every normalised post ``cps[offs[i]:offs[i+1]]``.

    Tokens never span white space, and a word's character n-grams depend on the word alone,
    so both are computed once per distinct word (up to the cache's size) and replayed.
    """
    npost = len(offs) - 1
    decision = np.empty((npost, len(intercept)), dtype=np.float64)
    longest = 1
    for p in range(npost):
        longest = max(longest, offs[p + 1] - offs[p])
    w_touched = np.empty(max(wmax, 1) * (longest + 1), dtype=np.int64)
    c_touched = np.empty(max(cmax, 1) * (3 * longest + 8), dtype=np.int64)
    acc = np.zeros(len(intercept), dtype=np.float64)  # a block's dot products
    ids = np.empty(longest + 1, dtype=np.int64)
    log1p = np.empty(64, dtype=np.float64)  # 1 + log(tf), as sklearn computes it
    for k in range(1, 64):
        log1p[k] = np.log(np.float64(k)) + 1.0
    cache_mask = len(cache_slots) - 1
    for p in range(npost):
        s, e = offs[p], offs[p + 1]
        a = cps[s:e]
        n = e - s
        decision[p, :] = intercept
        nt = 0  # tokens of the post
        mc = 0  # distinct character n-grams of the post
        i = 0
        while i < n:
            if _is(flags, a[i], _S):
                i += 1
                continue
            j = _nonspace_end(a, i, n, flags)
            size = j - i
            h = _fnv(a, i, j)
            check = h >> 32  # the hash bits an entry keeps
            k = _mix(h) & cache_mask
            entry = -1
            while True:
                entry = cache_slots[k] - 1
                if entry < 0:
                    break
                off = cache_meta[entry, 1]
                if cache_meta[entry, 0] == check and cache_meta[entry + 1, 1] - off == size:
                    same = True
                    for x in range(size):
                        if cache_cps[off + x] != a[i + x]:
                            same = False
                            break
                    if same:
                        break
                k = (k + 1) & cache_mask
            if entry >= 0:
                for x in range(cache_meta[entry, 3], cache_meta[entry + 1, 3]):
                    ids[nt] = cache_toks[x]
                    nt += 1
                for x in range(cache_meta[entry, 2], cache_meta[entry + 1, 2]):
                    f = cache_rows[x]
                    if c_tf[f] == 0:
                        c_touched[mc] = f
                        mc += 1
                    c_tf[f] += 1
                i = j
                continue
            size_w = size + 2  # char_wb pads the word with one space each side
            last = cache_used[0]  # entries so far; cache_meta[last, 1:] is what they use
            store = (
                size <= _CACHE_WORD
                and 2 * (last + 1) <= len(cache_slots)
                and last + 1 < len(cache_meta)
                and cache_meta[last, 1] + size <= len(cache_cps)
                and cache_meta[last, 2] + size_w * cmax <= len(cache_rows)
                and cache_meta[last, 3] + size <= len(cache_toks)
            )
            first_tok = nt
            if word_on:
                t = i
                while t < j:
                    end = _token_end(a, t, j, flags)
                    if end < 0:
                        t += 1
                        continue
                    ids[nt] = _token_id(a, t, end, tok_slots, tok_hashes, tok_cps, tok_offs)
                    nt += 1
                    t = end
            stored = cache_meta[last, 2]
            if char_on:
                # every window of cmin..cmax symbols, or the whole padded word when shorter
                for start in range(size_w):
                    lo = np.int64(0)
                    hi = np.int64(0)
                    top = min(cmax, size_w - start)
                    if size_w < cmin:
                        top = size_w if start == 0 else 0
                    for x in range(top):
                        pos = start + x
                        c = 32 if pos == 0 or pos == size_w - 1 else a[i + pos - 1]
                        v = np.int64(c + 1) << np.int64(21 * (x % 3))
                        if x < 3:
                            lo |= v
                        else:
                            hi |= v
                        if x + 1 < cmin and x + 1 < size_w:
                            continue
                        f = _find(c_filter, c_hot, c_cold, c_keys, lo, hi)
                        if f >= 0:
                            if c_tf[f] == 0:
                                c_touched[mc] = f
                                mc += 1
                            c_tf[f] += 1
                            if store:
                                cache_rows[stored] = f
                                stored += 1
            if store:
                # entry ``last`` starts where the entries before it end; it ends in row last + 1
                off, tok = cache_meta[last, 1], cache_meta[last, 3]
                cache_cps[off : off + size] = a[i:j]
                cache_toks[tok : tok + nt - first_tok] = ids[first_tok:nt]
                cache_meta[last, 0] = check
                cache_meta[last + 1, 1] = off + size
                cache_meta[last + 1, 2] = stored
                cache_meta[last + 1, 3] = tok + nt - first_tok
                cache_slots[k] = last + 1
                cache_used[0] = last + 1
            i = j
        if word_on:
            mw = 0
            for size in range(wmin, wmax + 1):
                for t in range(nt - size + 1):
                    f = -1
                    if size == 1:
                        if ids[t] >= 0:
                            f = unigram[ids[t]]
                    else:
                        lo = np.int64(0)
                        hi = np.int64(0)
                        for x in range(size):
                            if ids[t + x] < 0:
                                lo = -1
                                break
                            v = (ids[t + x] + 1) << np.int64(21 * (x % 3))
                            if x < 3:
                                lo |= v
                            else:
                                hi |= v
                        if lo >= 0:
                            f = _find(w_filter, w_hot, w_cold, w_keys, lo, hi)
                    if f >= 0:
                        if w_tf[f] == 0:
                            w_touched[mw] = f
                            mw += 1
                        w_tf[f] += 1
            _add_block(w_tf, w_params, w_touched, mw, w_sub, log1p, acc, decision, p)
        if char_on:
            _add_block(c_tf, c_params, c_touched, mc, c_sub, log1p, acc, decision, p)
    return decision


# --- Python side ---------------------------------------------------------------------------

_PROBES = (
    "@Ana  Sooooo good!!! https://t.co/x1 &amp; 100 likes",
    "RT @cnn: Storm hits http://x.co/1 WWW.Foo.COM/path a.community x-y.news.org. 3rd 1.5x",
    "@a @b.c@d.e-f #tag xurlx  ",
    "  \t@jo #only https://x.io  ",
    "HTTPS:// https://  ok.co/ 12abc 1,000,000th 2nd! 7K 8) :-) <3 ^_^ xD",
    "ΑΣ Σ ΣΑ İstanbul ſ K",
    "don't’t 'quoted' “hi” «no» ???!!! ...  email@x.com @@user #8 a#8",
    "",
    "\n\n\n aaa\r\r\r\x1c\x1c",
)


@functools.lru_cache(maxsize=1)
def _self_check() -> None:
    """Refuse to compile when postkind.text no longer matches what the kernels implement: its
    patterns are not those the kernels were written for, or ``normalise`` (whose steps could
    change order without a pattern changing) disagrees on probe posts."""
    for name, (pattern, re_flags) in _PATTERNS.items():
        compiled = getattr(_text, name, None)
        if compiled is None or compiled.pattern != pattern or compiled.flags & re.I != re_flags:
            raise UnsupportedModel(f"postkind.text.{name} changed; update postkind.scoring")
    if normalise_many(list(_PROBES)) != [_text.normalise(t) for t in _PROBES]:
        raise UnsupportedModel("postkind.text.normalise changed; update postkind.scoring")


def _normalised(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Normalise ``texts``: their code points end to end, and offsets (length ``n + 1``)."""
    unescaped = [html.unescape(t) if "&" in t else t for t in texts]
    offs = np.zeros(len(unescaped) + 1, dtype=np.int64)
    np.cumsum(np.fromiter(map(len, unescaped), dtype=np.int64, count=len(unescaped)), out=offs[1:])
    flags, fold, lower = _tables()
    cps, offs, fallback = _normalise_kernel(_cps("".join(unescaped)), offs, flags, fold, lower)
    if fallback.any():  # rare: splice in what Python's normalise says for those posts
        pieces: list[np.ndarray] = []
        lengths, done = np.diff(offs), 0
        for p in np.flatnonzero(fallback).tolist():
            pieces.append(cps[offs[done] : offs[p]])
            redo = _cps(_text.normalise(texts[p]))
            pieces.append(redo)
            lengths[p] = len(redo)
            done = p + 1
        pieces.append(cps[offs[done] :])
        cps = np.concatenate(pieces)
        offs = np.zeros(len(texts) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offs[1:])
    return cps, offs


def normalise_many(texts: Sequence[str]) -> list[str]:
    """:func:`postkind.text.normalise` of every text, computed by the compiled kernel.

    Examples
    --------
    >>> normalise_many(["@Ana  Sooooo good!!! https://t.co/x1 &amp; 100 likes", "Hi"])
    ['xleadmentionx @user soo good!! xurlx & 0 likes', 'hi']
    """
    cps, offs = _normalised(texts)
    joined = _text_from(cps)
    return [joined[offs[i] : offs[i + 1]] for i in range(len(texts))]


def _terms(vocabulary: dict[str, int]) -> list[str]:
    terms = [""] * len(vocabulary)
    for term, index in vocabulary.items():
        terms[index] = term
    return terms


def _table_size(count: int) -> int:
    """A power of two giving a load factor between 1/3 and 2/3."""
    return 1 << max(1, (count + count // 2).bit_length())


def _flat(strings: list[str]) -> tuple[np.ndarray, np.ndarray]:
    offs = np.zeros(len(strings) + 1, dtype=np.int64)
    np.cumsum([len(s) for s in strings], out=offs[1:])
    return _cps("".join(strings)).copy(), offs


@dataclass
class _Words:
    """Word n-grams: a token table, each token's unigram row, a table of longer n-grams."""

    ngrams: tuple[int, int]
    sublinear: bool
    tok_slots: np.ndarray
    tok_hashes: np.ndarray
    tok_cps: np.ndarray
    tok_offs: np.ndarray
    unigram: np.ndarray
    filter: np.ndarray
    hot: np.ndarray
    cold: np.ndarray
    keys: np.ndarray
    params: np.ndarray


@dataclass
class _Chars:
    """Character n-grams inside word boundaries: a table of packed n-grams."""

    ngrams: tuple[int, int]
    sublinear: bool
    filter: np.ndarray
    hot: np.ndarray
    cold: np.ndarray
    keys: np.ndarray
    params: np.ndarray


def _block_args(block: _Words | _Chars, tf: np.ndarray) -> tuple[Any, ...]:
    """The kernel's arguments for one block: on, the n-gram range, ``sublinear``, then the
    block's tables in field order, its term counts ``tf`` and ``params`` last."""
    tables = [getattr(block, f.name) for f in fields(block)[2:-1]]
    return (True, *block.ngrams, block.sublinear, *tables, tf, block.params)


@dataclass
class _Scratch:
    """What the kernel writes, one per thread: term counts (zero between posts) and the cache
    of words already seen, with their tokens and the rows of their character n-grams."""

    w_tf: np.ndarray
    c_tf: np.ndarray
    cache: tuple[np.ndarray, ...]

    @classmethod
    def of(cls, words: _Words | None, chars: _Chars | None) -> _Scratch:
        cached = 1 << 16  # ~2/3 of the word occurrences of real posts; ~9 MB at most
        cache = (
            np.zeros(2 * cached, np.int32),  # slots: entry + 1
            # per entry: 32 bits of its hash, then where its code points, character n-gram
            # rows and tokens start; they end where the next entry's start
            np.zeros((cached + 1, 4), np.int32),
            np.zeros(8 * cached, np.int32),  # the words' code points
            np.zeros(4 * cached, np.int32),  # their token ids
            np.zeros(32 * cached, np.int32),  # their character n-gram rows
            np.zeros(1, np.int64),  # entries
        )
        return cls(
            np.zeros(len(words.keys) if words else 0, np.int32),
            np.zeros(len(chars.keys) if chars else 0, np.int32),
            cache,
        )


_NO_WORDS = (
    False,
    1,
    1,
    False,
    np.full(2, -1, dtype=np.int32),
    np.zeros(0, dtype=np.int64),
    np.zeros(0, dtype=np.int32),
    np.zeros(1, dtype=np.int64),
    np.zeros(0, dtype=np.int64),
    np.zeros(1, dtype=np.int64),
    np.zeros(2, dtype=np.int32),
    np.zeros(2, dtype=np.int32),
    np.zeros((0, 2), dtype=np.int64),
    np.zeros(0, dtype=np.int32),
    np.zeros((0, 2)),
)
_NO_CHARS = (
    False,
    1,
    1,
    False,
    np.zeros(1, dtype=np.int64),
    np.zeros(2, dtype=np.int32),
    np.zeros(2, dtype=np.int32),
    np.zeros((0, 2), dtype=np.int64),
    np.zeros(0, dtype=np.int32),
    np.zeros((0, 2)),
)


def _tables_for(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Filter, hot and cold slot tables of frequency-ordered ``keys``."""
    hot = min(_HOT_ROWS, len(keys))
    return (
        _build_filter(keys, _filter_size(len(keys))),
        _build_table(keys, 0, hot, _table_size(hot)),
        _build_table(keys, hot, len(keys), _table_size(len(keys) - hot)),
    )


def _filter_size(count: int) -> int:
    """Bits of the filter of ``count`` keys: a power of two, 8 to 16 a key (12% to 6% of absent
    keys pass it), at most 2**24 (the hash bits it reads)."""
    return 1 << min(24, max(6, (8 * count).bit_length()))


def _params(idf: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """IDF then the weights of each head, padded to three heads (``_add_block`` reads three)."""
    pad = np.zeros((len(idf), max(0, 3 - weights.shape[1])))
    return np.ascontiguousarray(np.column_stack([idf, weights, pad]), dtype=np.float64)


def _compile_words(terms: list[str], idf: np.ndarray, weights: np.ndarray, vec: Any) -> _Words:
    tokens: dict[str, int] = {}
    unigram_of: dict[int, int] = {}
    ids: list[int] = []
    offs = [0]
    for row, term in enumerate(terms):
        parts = [tokens.setdefault(part, len(tokens)) for part in term.split(" ")]
        if len(parts) == 1:
            unigram_of[parts[0]] = row
            offs.append(len(ids))  # key (0, 0): not in the n-gram table
        else:
            ids.extend(parts)
            offs.append(len(ids))
    if len(tokens) >= (1 << _SYMBOL_BITS) - 1:
        raise UnsupportedModel(f"{len(tokens)} distinct tokens; at most 2,097,150 fit a key")
    unigram = np.full(len(tokens), -1, dtype=np.int64)
    for token, row in unigram_of.items():
        unigram[token] = row
    keys = _pack(np.asarray(ids, dtype=np.int64), np.asarray(offs, dtype=np.int64))
    tok_cps, tok_offs = _flat(list(tokens))
    tok_slots, tok_hashes = _build_token_table(tok_cps, tok_offs, _table_size(len(tokens)))
    return _Words(
        tuple(vec.ngram_range),
        bool(vec.sublinear_tf),
        tok_slots,
        tok_hashes,
        tok_cps,
        tok_offs,
        unigram,
        *_tables_for(keys),
        keys,
        _params(idf, weights),
    )


def _compile_chars(terms: list[str], idf: np.ndarray, weights: np.ndarray, vec: Any) -> _Chars:
    cps, offs = _flat(terms)
    keys = _pack(cps, offs)
    return _Chars(
        tuple(vec.ngram_range),
        bool(vec.sublinear_tf),
        *_tables_for(keys),
        keys,
        _params(idf, weights),
    )


def _vectorizers(features: Any) -> list[Any]:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion

    if isinstance(features, FeatureUnion):
        if features.transformer_weights:
            raise UnsupportedModel("FeatureUnion with transformer_weights")
        parts = [step for _, step in features.transformer_list]
    else:
        parts = [features]
    for vec in parts:
        if type(vec) is not TfidfVectorizer:
            raise UnsupportedModel(f"features step {type(vec).__name__}")
        word = vec.analyzer == "word" and vec.tokenizer is _text.tokenize and vec.stop_words is None
        if (
            not (word or vec.analyzer == "char_wb")
            or vec.input != "content"
            or vec.preprocessor is not _text.normalise
            or vec.strip_accents is not None
            or vec.binary
            or vec.norm != "l2"
            or np.dtype(vec.dtype) != np.float64
            or not 1 <= vec.ngram_range[0] <= vec.ngram_range[1] <= _MAX_N
        ):
            raise UnsupportedModel(f"vectorizer settings {vec.get_params()}")
    if [v.analyzer for v in parts].count("word") > 1 or [v.analyzer for v in parts].count(
        "char_wb"
    ) > 1:
        raise UnsupportedModel("more than one word or one char_wb vectorizer")
    return parts


def _linear(est: Any) -> tuple[np.ndarray, float]:
    from scipy import sparse
    from sklearn.linear_model._base import LinearClassifierMixin

    if not isinstance(est, LinearClassifierMixin) or len(est.classes_) != 2:
        raise UnsupportedModel(f"classifier {type(est).__name__}")
    coef = est.coef_.toarray() if sparse.issparse(est.coef_) else np.asarray(est.coef_)
    return coef[0].astype(np.float64), float(np.ravel(est.intercept_)[0])


def _heads(clf: Any) -> tuple[str, np.ndarray, np.ndarray, np.ndarray]:
    """Weights (features x heads), intercepts, link name and link parameters."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.linear_model import LogisticRegression, SGDClassifier
    from sklearn.naive_bayes import ComplementNB

    if (
        isinstance(clf, LogisticRegression)
        and getattr(clf, "multi_class", "auto") in ("auto", "ovr", "deprecated", "warn")
        or isinstance(clf, SGDClassifier)
        and clf.loss == "log_loss"
    ):
        coef, intercept = _linear(clf)
        return "logistic", coef[:, None], np.array([intercept]), np.zeros((0, 2))
    if isinstance(clf, CalibratedClassifierCV):
        columns, intercepts, sigmoid = [], [], []
        for part in clf.calibrated_classifiers_:
            calibrator: Any = part.calibrators[0] if len(part.calibrators) == 1 else None
            if (
                part.method != "sigmoid"
                or type(calibrator).__name__ != "_SigmoidCalibration"
                or list(part.estimator.classes_) != list(clf.classes_)
            ):
                raise UnsupportedModel("CalibratedClassifierCV other than binary sigmoid")
            coef, intercept = _linear(part.estimator)
            columns.append(coef)
            intercepts.append(intercept)
            sigmoid.append((float(calibrator.a_), float(calibrator.b_)))
        return "sigmoid", np.stack(columns, axis=1), np.array(intercepts), np.array(sigmoid)
    if isinstance(clf, ComplementNB) and len(clf.classes_) == 2:
        weights = np.asarray(clf.feature_log_prob_, dtype=np.float64).T
        return "nb", weights, np.zeros(2), np.zeros((0, 2))
    raise UnsupportedModel(f"classifier {type(clf).__name__}")


class Scorer:
    """A fitted pipeline compiled for fast scoring; see :func:`compile_scorer`.

    Its kernels release the GIL, and each thread has its own scratch arrays, so threads can
    score with one scorer at the same time.

    Features are renumbered most frequent first (lowest IDF), so that the rows the kernel
    touches most stay in the processor's caches.
    """

    def __init__(self, pipeline: Any, positive: str) -> None:
        _self_check()
        features, clf = pipeline.named_steps["features"], pipeline.named_steps["clf"]
        self.link, weights, self.intercept, self.sigmoid = _heads(clf)
        self.column = list(clf.classes_).index(positive)
        vecs = _vectorizers(features)
        self.words: _Words | None = None
        self.chars: _Chars | None = None
        start = 0
        for vec in vecs:
            stop = start + len(vec.vocabulary_)
            if stop > weights.shape[0]:
                raise UnsupportedModel(f"{weights.shape[0]} weights for more features")
            idf = vec.idf_ if vec.use_idf else np.ones(stop - start)
            order = np.argsort(idf, kind="stable")  # most frequent first
            terms = _terms(vec.vocabulary_)
            ordered = [terms[i] for i in order]
            block = (
                ordered,
                np.asarray(idf, dtype=np.float64)[order],
                weights[start:stop][order],
                vec,
            )
            if vec.analyzer == "word":
                self.words = _compile_words(*block)
            else:
                self.chars = _compile_chars(*block)
            start = stop
        if start != weights.shape[0]:
            raise UnsupportedModel(f"{weights.shape[0]} weights for {start} features")
        self._local = threading.local()  # each thread writes its own _Scratch

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "_local"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._local = threading.local()

    def decision(self, texts: Sequence[str]) -> np.ndarray:
        """Linear decision value(s) of each text: an array ``(len(texts), heads)``."""
        cps, offs = _normalised(texts)
        scratch = getattr(self._local, "scratch", None)
        if scratch is None:
            scratch = self._local.scratch = _Scratch.of(self.words, self.chars)
        words = _block_args(self.words, scratch.w_tf) if self.words else _NO_WORDS
        chars = _block_args(self.chars, scratch.c_tf) if self.chars else _NO_CHARS
        return _score_kernel(
            cps, offs, _tables()[0], self.intercept, *words, *chars, *scratch.cache
        )

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Probability of the positive class for each text, as ``pipeline.predict_proba``."""
        decision = self.decision(texts)
        if self.link == "nb":
            shifted = decision - decision.max(axis=1, keepdims=True)
            proba = np.exp(shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True)))
            return np.asarray(proba[:, self.column])
        if self.link == "logistic":
            second = _expit(decision[:, 0])
        else:
            second = np.zeros(len(decision))
            for k, (a, b) in enumerate(self.sigmoid):
                second += _expit(-(a * decision[:, k] + b))
            second /= len(self.sigmoid)
        return second if self.column == 1 else 1.0 - second


def _expit(x: np.ndarray) -> np.ndarray:
    """The logistic function, without overflow (``scipy.special.expit``, which would cost
    0.3 s of imports)."""
    out = np.empty_like(x, dtype=np.float64)
    pos = x >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-x[pos]))
    z = np.exp(x[~pos])
    out[~pos] = z / (1.0 + z)
    return out


def compile_scorer(pipeline: Any, positive: str) -> Scorer:
    """Compile a fitted ``features`` + ``clf`` pipeline into a :class:`Scorer`.

    Parameters
    ----------
    pipeline : sklearn.pipeline.Pipeline
        Fitted, as :func:`postkind.model.build_pipeline` makes it.
    positive : str
        The class whose probability :meth:`Scorer.predict_proba` returns.

    Raises
    ------
    UnsupportedModel
        A step or setting that the fast path does not reproduce; score with scikit-learn.
    """
    return Scorer(pipeline, positive)


def fitted_state(pipeline: Any) -> tuple[int, ...]:
    """Identities of the fitted attributes; refitting the pipeline changes them."""
    steps = [pipeline, *getattr(pipeline, "named_steps", {}).values()]
    features = getattr(pipeline, "named_steps", {}).get("features")
    steps += [step for _, step in getattr(features, "transformer_list", [])]
    names = ("vocabulary_", "idf_", "coef_", "calibrated_classifiers_", "feature_log_prob_")
    return tuple(id(getattr(step, name, None)) for step in steps for name in names)


def cached_scorer(model: Any) -> Scorer | None:
    """The :class:`Scorer` of a :class:`postkind.model.Model`, compiled on first use and kept
    on the model (and saved with it); ``None`` when the pipeline is not supported. A model
    read from a file uses the scorer saved in it until its pipeline is read and changed.

    Examples
    --------
    >>> scorer = cached_scorer(MODEL)
    >>> scorer is cached_scorer(MODEL), type(scorer).__name__
    (True, 'Scorer')
    """
    from postkind.labels import CONVERSATIONAL

    cached = model._scorer
    if cached is not None and cached[0] is None:  # from the model file, pipeline unread
        try:
            _self_check()
            return cached[1]
        except UnsupportedModel:  # postkind.text changed since the file was written
            cached = model._scorer = None
    state = fitted_state(model.pipeline)
    if cached is None or cached[0] != state:
        try:
            scorer: Scorer | None = compile_scorer(model.pipeline, CONVERSATIONAL)
        except UnsupportedModel:
            scorer = None
        cached = model._scorer = (state, scorer)
    return cached[1]

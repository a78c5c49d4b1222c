"""Readers for the data exports of social-media platforms, chosen by file name and content.

Each reader yields pandas DataFrames of *records* with the columns of :data:`RECORD_COLUMNS`:

``id``
    The platform's id of the post (a URL or URN where the platform has no bare id; the
    1-based position in the file where the export has none).
``created_at``
    ISO 8601 time, in UTC with a ``Z`` where the export gives the zone.
``text``
    Plain text: HTML stripped, entities unescaped, Facebook's mojibake repaired, shortened
    links restored to their full URL. Empty for shares that carry no text of their own
    (Mastodon boosts, Bluesky reposts), which are kept so the export stays complete.
``is_reply``, ``is_share``
    ``True``/``False`` from the export's own structure: evidence, not the answer.

followed by the source's own fields (the ones that became ``id`` or ``text`` are not
repeated; a field whose name clashes with a record column is kept as ``source_<name>``;
nested values are written as JSON). ``postkind tag`` keeps every column, so the flags reach
its output beside the model's label, and :func:`evaluate_structure` scores the model
against ``is_reply``.

Excel CSV (``excel-csv``) is not a platform export: its reader yields the file's own
columns, read with the delimiter, byte-order mark and encoding that Excel wrote.
"""

from __future__ import annotations

import codecs
import csv
import html
import io
import json
import os
import re
import sys
import warnings
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime, timezone
from html.parser import HTMLParser
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import unquote

import pandas as pd

from postkind.errors import DataError

if TYPE_CHECKING:
    from postkind.model import Model

__all__ = [
    "EXPORT_FORMATS",
    "RECORD_COLUMNS",
    "detect_export",
    "iter_export",
    "iter_x_archive",
    "iter_mastodon",
    "iter_bluesky_car",
    "iter_facebook",
    "iter_linkedin_shares",
    "iter_linkedin_comments",
    "iter_reddit_posts",
    "iter_reddit_comments",
    "iter_excel_csv",
    "html_to_text",
    "fix_mojibake",
    "evaluate_structure",
    "structural_labels",
]

#: Export formats, beside the generic ``csv``/``tsv``/``jsonl``/``parquet``.
EXPORT_FORMATS = (
    "x-archive",
    "mastodon",
    "bluesky-car",
    "facebook",
    "linkedin-shares",
    "linkedin-comments",
    "reddit-posts",
    "reddit-comments",
    "excel-csv",
)
#: The columns every platform reader yields first.
RECORD_COLUMNS = ("id", "created_at", "text", "is_reply", "is_share")

_SNIFF = 8192
_GENERIC_SUFFIXES = {
    ".tsv",
    ".tab",
    ".jsonl",
    ".ndjson",
    ".parquet",
    ".pq",
    ".gz",
    ".bz2",
    ".xz",
    ".zst",
}
_X_NAME = re.compile(r"^(?:deleted-)?tweets?(?:-part\d+)?\.js$")
_X_MEMBER = re.compile(r"(?:^|/)data/(?:deleted-)?tweets?(?:-part(\d+))?\.js$")
_YTD = re.compile(rb"^\s*window\.YTD\.([A-Za-z_]+)\.part\d+\s*=\s*")
_YTD_TWEETS = {b"tweet", b"tweets", b"deleted_tweet", b"deleted_tweets"}
_FB_NAME = re.compile(r"^(?:your_posts.*|posts_\d+|comments(?:_\d+)?)\.json$")
_FB_MEMBER = re.compile(r"(?:^|/)(?:your_posts[^/]*|content/posts_\d+)\.json$")
_FB_HEAD = re.compile(
    rb'^\[\s*\{\s*"(?:timestamp|media|attachments|data|title)"\s*:|^\{\s*"comments_v2"\s*:'
)
_FB_MARKS = (b'"post"', b'"attachments"', b'"comment"', b'"creation_timestamp"')
_URN = re.compile(r"urn:li:[A-Za-z]+:\d+")
_COMMENT_URN = re.compile(r"commentUrn=([^&#]+)")
_REDDIT_POST_URL = re.compile(r"(?:reddit\.com)?/r/\w+/comments/(\w+)")
_LINKEDIN_POST = re.compile(
    r"linkedin\.com/(?:feed/update|posts)/|urn:li:(?:share|activity|ugcPost)"
)
_FB_SHARED = re.compile(r"\b(?:re)?shared\b", re.IGNORECASE)
_BOMS_UTF16 = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


# --- plain text --------------------------------------------------------------------------------


class _TextOfHTML(HTMLParser):
    _BLOCKS = {
        "p",
        "div",
        "blockquote",
        "li",
        "ul",
        "ol",
        "pre",
        "tr",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
    }

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._hidden += 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag in self._BLOCKS:
            self.parts.append("\n\n" if tag == "p" else "\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._hidden = max(0, self._hidden - 1)
        elif tag in self._BLOCKS:
            self.parts.append("\n\n" if tag == "p" else "\n")

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    """Return the plain text of an HTML fragment: tags stripped, entities unescaped.

    Paragraphs become blank-line breaks and ``<br>`` a newline. The text of every span is
    kept, so the ``<span class="invisible">`` parts Mastodon hides to shorten a link come
    back and the link reads as its full URL.

    Examples
    --------
    >>> html_to_text('<p>Hi <span class="h-card"><a href="https://m.example/@ana">@<span>ana'
    ...              '</span></a></span> &amp; all</p><p>see <a href="https://ex.org/a/long">'
    ...              '<span class="invisible">https://</span><span class="ellipsis">ex.org/a'
    ...              '</span><span class="invisible">/long</span></a></p>')
    'Hi @ana & all\\n\\nsee https://ex.org/a/long'
    """
    if "<" not in markup and "&" not in markup:
        return markup.strip()
    parser = _TextOfHTML()
    parser.feed(markup)
    parser.close()
    text = "".join(parser.parts)
    text = re.sub(r"[ \t]+\n", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def fix_mojibake(text: str) -> str:
    """Repair text whose UTF-8 bytes were written as Latin-1 escapes (Facebook's exports).

    Text that is not of that kind is returned unchanged.

    Examples
    --------
    >>> fix_mojibake("Caf\\u00c3\\u00a9 \\u00f0\\u009f\\u0098\\u0081") == "Café 😁"
    True
    >>> fix_mojibake("Café")
    'Café'
    """
    if text.isascii():
        return text
    try:
        return text.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return text


def _fix_all(value: Any) -> Any:
    if isinstance(value, str):
        return fix_mojibake(value)
    if isinstance(value, list):
        return [_fix_all(v) for v in value]
    if isinstance(value, dict):
        return {k: _fix_all(v) for k, v in value.items()}
    return value


def _iso(value: Any) -> str:
    """ISO 8601 from an epoch number or a platform's date string (UTC ``Z`` when known)."""
    if value is None or value == "" or isinstance(value, bool):
        return ""
    moment: datetime | None
    if isinstance(value, (int, float)):
        moment = datetime.fromtimestamp(value, tz=timezone.utc)
    else:
        moment = _parse_time(str(value).strip())
        if moment is None:
            return str(value).strip()
    if moment.tzinfo is None:
        return moment.strftime("%Y-%m-%dT%H:%M:%S")
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_time(text: str) -> datetime | None:
    try:
        return datetime.strptime(text, "%a %b %d %H:%M:%S %z %Y")  # X
    except ValueError:
        pass
    if text.endswith(" UTC"):  # Reddit
        text = text[:-4] + "+00:00"
    text = re.sub(r"Z$", "+00:00", text)
    text = re.sub(r"(\.\d{6})\d+", r"\1", text)
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return _json_default(value)
    return json.dumps(value, ensure_ascii=False, default=_json_default)


def _json_default(value: Any) -> str:
    if isinstance(value, bytes):
        import libipld

        try:
            return libipld.encode_cid(value)
        except ValueError:
            return libipld.encode_multibase("u", value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


# --- shared plumbing ---------------------------------------------------------------------------


def _read_bytes(path: str | os.PathLike[str]) -> bytes:
    if str(path) == "-":
        return sys.stdin.buffer.read()
    return Path(path).read_bytes()


def _head(path: str | os.PathLike[str]) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(_SNIFF)


def _is_zip(path: str | os.PathLike[str]) -> bool:
    return str(path) != "-" and Path(path).is_file() and _head(path)[:4] == b"PK\x03\x04"


def _load_json(data: bytes, path: Any, what: str) -> Any:
    try:
        return json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise DataError(
            f"is not valid UTF-8 ({exc.reason}); pass the {what} as exported", path=path
        ) from exc
    except json.JSONDecodeError as exc:
        raise DataError(
            f"is not valid JSON ({exc.msg}); pass the {what} as exported",
            path=path,
            line=exc.lineno,
        ) from exc


def _records(
    items: Sequence[Any],
    core: Callable[[Any, int], dict[str, Any]],
    source: Callable[[Any], Mapping[str, Any]],
    chunk_size: int,
) -> Iterator[pd.DataFrame]:
    """Yield record frames for ``items``: the record columns, then the union of the source
    fields (in first-seen order), so that every chunk has the same columns."""
    keys: dict[str, None] = {}
    for item in items:
        keys.update(dict.fromkeys(source(item)))
    names = {k: f"source_{k}" if k.lower() in RECORD_COLUMNS else k for k in keys}
    columns = [*RECORD_COLUMNS, *names.values()]
    if not items:
        yield pd.DataFrame(columns=columns)
        return
    for start in range(0, len(items), max(1, chunk_size)):
        rows = []
        for number, item in enumerate(items[start : start + chunk_size], start=start + 1):
            row = core(item, number)
            fields = source(item)
            row.update({names[k]: _cell(fields.get(k)) for k in keys})
            rows.append(row)
        yield pd.DataFrame(rows, columns=columns)


def _record(id_: Any, created_at: Any, text: str, *, reply: bool, share: bool) -> dict[str, Any]:
    return {
        "id": "" if id_ is None else str(id_),
        "created_at": _iso(created_at),
        "text": text,
        "is_reply": bool(reply),
        "is_share": bool(share),
    }


# --- X / Twitter -------------------------------------------------------------------------------


def _parse_ytd(data: bytes, path: Any) -> list[Any]:
    data = data.removeprefix(codecs.BOM_UTF8)
    match = _YTD.match(data)
    if match is None:
        raise DataError(
            "does not start with 'window.YTD.tweets.part0 = '; pass data/tweets.js "
            "(or the whole .zip) from the X archive",
            path=path,
        )
    items = _load_json(data[match.end() :].rstrip().rstrip(b";"), path, "X archive file")
    if not isinstance(items, list):
        raise DataError("holds no list of tweets after the window.YTD prefix", path=path)
    return items


def _tweet(item: Any) -> dict[str, Any]:
    if not isinstance(item, dict):
        return {}
    inner = item.get("tweet", item)
    return inner if isinstance(inner, dict) else {}


def iter_x_archive(
    path: str | os.PathLike[str], *, chunk_size: int = 50_000
) -> Iterator[pd.DataFrame]:
    """Read the tweets of an X (Twitter) archive: ``data/tweets.js`` or the archive ``.zip``.

    From a ``.zip``, every ``data/tweets.js``, ``tweet.js`` and ``tweets-partN.js`` is read,
    in part order. ``text`` is ``full_text`` unescaped (``&amp;`` becomes ``&``);
    ``is_reply`` is set by ``in_reply_to_status_id_str`` and ``is_share`` by a leading
    ``RT @``. The tweet's other fields follow (``created_at`` as ``source_created_at``).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "tweets.js"
    >>> _ = path.write_text('window.YTD.tweets.part0 = [{"tweet": {"id_str": "1", '
    ...     '"created_at": "Wed Oct 10 20:19:24 +0000 2018", "full_text": "@ana fish &amp; chips?",'
    ...     ' "in_reply_to_status_id_str": "9"}}]')
    >>> next(iter_x_archive(path))[["id", "created_at", "text", "is_reply"]].values.tolist()
    [['1', '2018-10-10T20:19:24Z', '@ana fish & chips?', True]]
    """
    if _is_zip(path):
        items: list[Any] = []
        with zipfile.ZipFile(path) as archive:
            members = [(m, _X_MEMBER.search(m)) for m in archive.namelist()]
            found = sorted((int(m.group(1) or 0), "deleted" in n, n) for n, m in members if m)
            if not found:
                raise DataError("holds no data/tweets.js; is it an X archive?", path=path)
            for _, _, name in found:
                items += _parse_ytd(archive.read(name), f"{path}:{name}")
    else:
        items = _parse_ytd(_read_bytes(path), path)

    def core(item: Any, number: int) -> dict[str, Any]:
        tweet = _tweet(item)
        text = html.unescape(str(tweet.get("full_text") or tweet.get("text") or ""))
        return _record(
            tweet.get("id_str") or tweet.get("id"),
            tweet.get("created_at"),
            text,
            reply=bool(
                tweet.get("in_reply_to_status_id_str") or tweet.get("in_reply_to_status_id")
            ),
            share=text.startswith("RT @"),
        )

    def source(item: Any) -> dict[str, Any]:
        drop = ("id", "id_str", "full_text", "text")
        return {k: v for k, v in _tweet(item).items() if k not in drop}

    yield from _records(items, core, source, chunk_size)


# --- Mastodon ----------------------------------------------------------------------------------


def iter_mastodon(
    path: str | os.PathLike[str], *, chunk_size: int = 50_000
) -> Iterator[pd.DataFrame]:
    """Read the posts of a Mastodon archive: ``outbox.json`` or the archive ``.zip``.

    Each ``Create`` activity gives its ``Note`` (or poll) with ``content`` turned into plain
    text (:func:`html_to_text`), ``is_reply`` from ``inReplyTo``; the object's other fields
    follow (``tag`` holds the mentions and hashtags as JSON), with ``activity`` naming the
    activity type. Each ``Announce`` (boost) is kept as a row with empty text and
    ``is_share`` set, since a boost carries no text of its own; ``tag`` leaves such rows
    without a label.

    Examples
    --------
    >>> import json, pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "outbox.json"
    >>> _ = path.write_text(json.dumps({"type": "OrderedCollection", "orderedItems": [
    ...     {"type": "Create", "object": {"id": "https://m.example/s/1", "type": "Note",
    ...      "published": "2024-05-01T08:00:00Z", "inReplyTo": None,
    ...      "content": "<p>Fish &amp; chips</p>"}},
    ...     {"type": "Announce", "object": "https://other.example/s/7"}]}))
    >>> next(iter_mastodon(path))[["text", "is_share"]].values.tolist()
    [['Fish & chips', False], ['', True]]
    """
    if _is_zip(path):
        with zipfile.ZipFile(path) as archive:
            names = sorted(
                (n for n in archive.namelist() if n.rsplit("/", 1)[-1] == "outbox.json"), key=len
            )
            if not names:
                raise DataError("holds no outbox.json; is it a Mastodon archive?", path=path)
            doc = _load_json(archive.read(names[0]), f"{path}:{names[0]}", "outbox.json")
    else:
        doc = _load_json(_read_bytes(path), path, "outbox.json")
    if not isinstance(doc, dict) or not isinstance(doc.get("orderedItems"), list):
        raise DataError(
            "has no 'orderedItems' list; pass outbox.json from a Mastodon archive", path=path
        )
    items = [
        a
        for a in doc["orderedItems"]
        if isinstance(a, dict) and a.get("type") in ("Create", "Announce")
    ]
    if doc["orderedItems"] and not items:
        raise DataError(
            "holds no Create or Announce activities (likes.json or bookmarks.json?); "
            "pass outbox.json from a Mastodon archive",
            path=path,
        )

    def core(activity: dict[str, Any], number: int) -> dict[str, Any]:
        obj = activity.get("object")
        if activity["type"] == "Announce" or not isinstance(obj, dict):
            return _record(
                activity.get("id"),
                activity.get("published"),
                "",
                reply=False,
                share=activity["type"] == "Announce",
            )
        return _record(
            obj.get("id") or activity.get("id"),
            obj.get("published") or activity.get("published"),
            html_to_text(str(obj.get("content") or "")),
            reply=bool(obj.get("inReplyTo")),
            share=False,
        )

    def source(activity: dict[str, Any]) -> dict[str, Any]:
        obj = activity.get("object")
        if isinstance(obj, dict):
            fields = {k: v for k, v in obj.items() if k not in ("id", "content", "contentMap")}
        else:
            fields = {k: activity.get(k) for k in ("object", "published", "to", "cc")}
        return {"activity": activity["type"], **fields}

    yield from _records(items, core, source, chunk_size)


# --- Bluesky -----------------------------------------------------------------------------------

_POST, _REPOST = "app.bsky.feed.post", "app.bsky.feed.repost"


def _walk_mst(blocks: Mapping[bytes, Any], cid: Any, depth: int = 0) -> Iterator[tuple[str, Any]]:
    """Yield (key, record CID) of an atproto Merkle search tree, in key order."""
    node = blocks.get(cid) if isinstance(cid, bytes) else None
    if not isinstance(node, dict) or depth > 128:
        return
    yield from _walk_mst(blocks, node.get("l"), depth + 1)
    key = b""
    for entry in node.get("e") or []:
        key = key[: int(entry.get("p") or 0)] + bytes(entry.get("k") or b"")
        yield key.decode("utf-8", "replace"), entry.get("v")
        yield from _walk_mst(blocks, entry.get("t"), depth + 1)


def _full_links(record: Mapping[str, Any]) -> str:
    """The post's text with each link facet's shortened text replaced by its full URL."""
    text = str(record.get("text") or "")
    spans = []
    for facet in record.get("facets") or []:
        if not isinstance(facet, dict) or not isinstance(facet.get("index"), dict):
            continue
        index = facet["index"]
        for feature in facet.get("features") or []:
            if isinstance(feature, dict) and str(feature.get("$type", "")).endswith("#link"):
                spans.append((index.get("byteStart"), index.get("byteEnd"), feature.get("uri")))
    if not spans:
        return text
    raw = text.encode("utf-8")
    for start, end, uri in sorted(spans, key=lambda s: -(s[0] or 0)):
        if isinstance(start, int) and isinstance(end, int) and 0 <= start <= end <= len(raw):
            raw = raw[:start] + str(uri).encode("utf-8") + raw[end:]
    return raw.decode("utf-8", "replace")


def iter_bluesky_car(
    path: str | os.PathLike[str], *, chunk_size: int = 50_000
) -> Iterator[pd.DataFrame]:
    """Read the posts and reposts of a Bluesky repository export (a ``.car`` file).

    The CAR file and its DAG-CBOR blocks are decoded with ``libipld``; the repository's
    tree is walked from its commit so that each record gets its ``at://`` URI as ``id``.
    ``app.bsky.feed.post`` records give ``text`` (link facets restored to their full URL),
    ``is_reply`` from ``reply`` and ``created_at`` from ``createdAt``;
    ``app.bsky.feed.repost`` records are kept as rows with empty text and ``is_share`` set.
    The record's ``cid`` and other fields (``reply``, ``embed``, ``facets``, ``langs``,
    ``subject`` ...) follow as JSON.
    """
    import libipld

    try:
        header, blocks = libipld.decode_car(_read_bytes(path))
    except (ValueError, RecursionError) as exc:
        raise DataError(
            f"is not a readable CAR file ({exc}); pass the repo.car that Bluesky exports", path=path
        ) from exc
    roots = header.get("roots") or [] if isinstance(header, dict) else []
    commit = blocks.get(roots[0]) if roots and isinstance(roots[0], bytes) else None
    items: list[tuple[str, Any, dict[str, Any]]] = []
    if isinstance(commit, dict) and "data" in commit:
        did = str(commit.get("did") or "")
        for key, cid in _walk_mst(blocks, commit["data"]):
            record = blocks.get(cid) if isinstance(cid, bytes) else None
            if key.split("/", 1)[0] in (_POST, _REPOST) and isinstance(record, dict):
                items.append((f"at://{did}/{key}", cid, record))
    else:  # no repository commit: take the records as they come
        for cid, record in blocks.items():
            if isinstance(record, dict) and record.get("$type") in (_POST, _REPOST):
                items.append((libipld.encode_cid(cid), cid, record))

    def core(item: tuple[str, Any, dict[str, Any]], number: int) -> dict[str, Any]:
        uri, _, record = item
        if record.get("$type") == _REPOST or "/app.bsky.feed.repost/" in uri:
            return _record(uri, record.get("createdAt"), "", reply=False, share=True)
        return _record(
            uri,
            record.get("createdAt"),
            _full_links(record),
            reply=bool(record.get("reply")),
            share=False,
        )

    def source(item: tuple[str, Any, dict[str, Any]]) -> dict[str, Any]:
        _, cid, record = item
        return {"cid": cid, **{k: v for k, v in record.items() if k != "text"}}

    yield from _records(items, core, source, chunk_size)


# --- Facebook / Instagram ----------------------------------------------------------------------


def _fb_items(doc: Any, path: Any) -> list[dict[str, Any]]:
    if isinstance(doc, dict) and isinstance(doc.get("comments_v2"), list):
        doc = doc["comments_v2"]
    if not isinstance(doc, list) or not all(isinstance(i, dict) for i in doc):
        raise DataError(
            "is not a list of Facebook/Instagram posts; pass your_posts_1.json "
            "(or Instagram's posts_1.json, or comments.json)",
            path=path,
        )
    return doc


def _fb_entries(item: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [d for d in item.get("data") or [] if isinstance(d, dict)]


def _fb_comment(item: Mapping[str, Any]) -> dict[str, Any] | None:
    for entry in _fb_entries(item):
        if isinstance(entry.get("comment"), dict):
            return entry["comment"]
    return None


def iter_facebook(
    path: str | os.PathLike[str], *, chunk_size: int = 50_000
) -> Iterator[pd.DataFrame]:
    """Read Facebook ``your_posts_*.json``, Instagram ``posts_*.json`` or Facebook
    ``comments.json``, or every posts file of a Facebook or Instagram ``.zip``.

    Facebook writes each UTF-8 byte as its own ``\\u00XX`` escape; every string is repaired
    (:func:`fix_mojibake`). A post's ``text`` joins its ``data[].post`` entries (an
    Instagram post's caption is its ``title``); ``is_share`` is set when Facebook's
    ``title`` says the account *shared* something (the title is written in the account's
    language, so this works for English exports only). Comments (``comments_v2``) are
    replies. Posts have no id in these exports: ``id`` is the 1-based position.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "your_posts_1.json"
    >>> _ = path.write_text('[{"timestamp": 1700000000, "title": "Jo updated her status.", '
    ...                     '"data": [{"post": "Sunny \\\\u00f0\\\\u009f\\\\u0098\\\\u0081"}]}]')
    >>> next(iter_facebook(path))[["id", "created_at", "text"]].values.tolist()
    [['1', '2023-11-14T22:13:20Z', 'Sunny 😁']]
    """
    if _is_zip(path):
        items: list[dict[str, Any]] = []
        with zipfile.ZipFile(path) as archive:
            names = sorted(n for n in archive.namelist() if _FB_MEMBER.search(n))
            if not names:
                raise DataError("holds no your_posts_*.json; is it a Facebook export?", path=path)
            for name in names:
                where = f"{path}:{name}"
                items += _fb_items(_fix_all(_load_json(archive.read(name), where, "file")), where)
    else:
        items = _fb_items(_fix_all(_load_json(_read_bytes(path), path, "file")), path)

    def core(item: dict[str, Any], number: int) -> dict[str, Any]:
        comment = _fb_comment(item)
        if comment is not None:
            return _record(
                number,
                comment.get("timestamp") or item.get("timestamp"),
                str(comment.get("comment") or ""),
                reply=True,
                share=False,
            )
        media = [m for m in item.get("media") or [] if isinstance(m, dict)]
        if media:  # Instagram
            text = str(item.get("title") or media[0].get("title") or "")
            when = item.get("creation_timestamp") or media[0].get("creation_timestamp")
            return _record(number, when, text, reply=False, share=False)
        text = "\n\n".join(str(e["post"]) for e in _fb_entries(item) if e.get("post"))
        return _record(
            number,
            item.get("timestamp"),
            text,
            reply=False,
            share=bool(_FB_SHARED.search(str(item.get("title") or ""))),
        )

    def source(item: dict[str, Any]) -> dict[str, Any]:
        caption = "title" if item.get("media") else None  # Instagram's title is the text
        fields = {k: v for k, v in item.items() if k not in ("data", caption)}
        for entry in _fb_entries(item):
            for key, value in entry.items():
                if key == "comment" and isinstance(value, dict):
                    fields.update({k: v for k, v in value.items() if k != "comment"})
                elif key != "post":
                    fields.setdefault(key, value)
        return fields

    yield from _records(items, core, source, chunk_size)


# --- CSV exports: LinkedIn and Reddit ----------------------------------------------------------


def _open(path: str | os.PathLike[str]) -> IO[bytes]:
    if str(path) == "-":
        return io.BytesIO(sys.stdin.buffer.read())
    return open(path, "rb")


def _csv_chunks(
    path: str | os.PathLike[str], chunk_size: int, **options: Any
) -> Iterator[pd.DataFrame]:
    with _open(path) as fh:
        yield from _csv_chunks_from(fh, path, chunk_size, **options)


def _csv_records(
    path: str | os.PathLike[str],
    core: Callable[[dict[str, str], int], dict[str, Any]],
    required: Sequence[str],
    consumed: Sequence[str],
    chunk_size: int,
    what: str,
    **options: Any,
) -> Iterator[pd.DataFrame]:
    number = 0
    for chunk in _csv_chunks(path, chunk_size, encoding="utf-8-sig", **options):
        missing = [c for c in required if c not in chunk.columns]
        if missing:
            raise DataError(
                f"has no {', '.join(map(repr, missing))} column (columns: "
                f"{', '.join(map(str, chunk.columns))}); pass {what} as exported",
                path=path,
            )
        rows = []
        for row in chunk.to_dict("records"):
            number += 1
            rows.append(core({str(k): str(v) for k, v in row.items()}, number))
        extra = chunk.drop(columns=[c for c in consumed if c in chunk.columns])
        extra = extra.rename(
            columns=lambda c: f"source_{c}" if str(c).lower() in RECORD_COLUMNS else c
        )
        records = pd.DataFrame(rows, columns=list(RECORD_COLUMNS))
        yield pd.concat([records, extra.reset_index(drop=True)], axis=1)


def iter_linkedin_shares(
    path: str | os.PathLike[str], *, chunk_size: int = 50_000
) -> Iterator[pd.DataFrame]:
    """Read LinkedIn's ``Shares.csv`` (your posts): ``ShareCommentary`` becomes ``text``.

    Commentary spans lines and doubles its quotes, as CSV allows. ``id`` is the post's URN
    from ``ShareLink``; ``is_share`` is set when ``SharedUrl`` points to another LinkedIn
    post (a repost). ``Date``, ``ShareLink``, ``SharedUrl``, ``MediaUrl`` and ``Visibility``
    follow.
    """

    def core(row: dict[str, str], number: int) -> dict[str, Any]:
        link = row.get("ShareLink", "")
        urn = _URN.search(unquote(link))
        return _record(
            urn.group(0) if urn else link or number,
            row.get("Date"),
            html.unescape(row.get("ShareCommentary", "")).strip(),
            reply=False,
            share=bool(_LINKEDIN_POST.search(row.get("SharedUrl", ""))),
        )

    yield from _csv_records(
        path, core, ("ShareCommentary",), ("ShareCommentary",), chunk_size, "Shares.csv"
    )


def iter_linkedin_comments(
    path: str | os.PathLike[str], *, chunk_size: int = 50_000
) -> Iterator[pd.DataFrame]:
    """Read LinkedIn's ``Comments.csv`` (your comments, all replies): ``Message`` is ``text``.

    LinkedIn escapes quotes inside ``Message`` with a backslash (``\\"``); they are read
    back as plain quotes. ``id`` is the comment's URN when ``Link`` carries one, else the
    1-based row; ``Date`` and ``Link`` follow.
    """

    def core(row: dict[str, str], number: int) -> dict[str, Any]:
        urn = _COMMENT_URN.search(row.get("Link", ""))
        return _record(
            unquote(urn.group(1)) if urn else number,
            row.get("Date"),
            html.unescape(row.get("Message", "")).strip(),
            reply=True,
            share=False,
        )

    yield from _csv_records(
        path, core, ("Message",), ("Message",), chunk_size, "Comments.csv", escapechar="\\"
    )


def iter_reddit_posts(
    path: str | os.PathLike[str], *, chunk_size: int = 50_000
) -> Iterator[pd.DataFrame]:
    """Read ``posts.csv`` from a Reddit data request: ``text`` is the title, a blank line
    and the body (entities unescaped; Markdown kept). ``is_share`` marks a crosspost (a
    ``url`` to another Reddit post). The export's columns follow, ``id`` aside.
    """

    def core(row: dict[str, str], number: int) -> dict[str, Any]:
        title, body = row.get("title", "").strip(), row.get("body", "").strip()
        text = html.unescape(f"{title}\n\n{body}" if title and body else title or body)
        target = _REDDIT_POST_URL.search(row.get("url", ""))
        return _record(
            row.get("id"),
            row.get("date"),
            text,
            reply=False,
            share=bool(target and target.group(1) != row.get("id")),
        )

    yield from _csv_records(path, core, ("id", "title"), ("id",), chunk_size, "posts.csv")


def iter_reddit_comments(
    path: str | os.PathLike[str], *, chunk_size: int = 50_000
) -> Iterator[pd.DataFrame]:
    """Read ``comments.csv`` from a Reddit data request: ``body`` becomes ``text`` (entities
    unescaped) and every comment is a reply. The export's other columns follow.
    """

    def core(row: dict[str, str], number: int) -> dict[str, Any]:
        return _record(
            row.get("id"),
            row.get("date"),
            html.unescape(row.get("body", "")).strip(),
            reply=True,
            share=False,
        )

    yield from _csv_records(path, core, ("id", "body"), ("id", "body"), chunk_size, "comments.csv")


# --- CSV saved by Excel ------------------------------------------------------------------------


def _first_bad_utf8(fh: IO[bytes]) -> int | None:
    """1-based line of the first byte that is not UTF-8, or None when all of it is."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    line = 1
    for block in iter(lambda: fh.read(1 << 20), b""):
        try:
            decoder.decode(block)
        except UnicodeDecodeError as exc:
            return line + block[: exc.start].count(b"\n")
        line += block.count(b"\n")
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return line
    return None


def _sniff_delimiter(sample: str) -> str:
    header = sample.split("\n", 1)[0]
    counts = {d: header.count(d) for d in ";,\t|"}
    if counts[";"] and not counts[","]:
        return ";"
    if counts["\t"] and not counts[","] and not counts[";"]:
        return "\t"
    try:
        return csv.Sniffer().sniff(sample, delimiters=";,\t|").delimiter
    except csv.Error:
        return max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","


def iter_excel_csv(
    path: str | os.PathLike[str], *, chunk_size: int = 50_000
) -> Iterator[pd.DataFrame]:
    """Read a CSV file saved by Excel, with the file's own columns.

    The delimiter (``;`` in locales with a decimal comma, ``,``, tab or ``|``) is sniffed
    from the first lines and an Excel ``sep=;`` first line is honoured. A UTF-8 or UTF-16
    byte-order mark sets the encoding; a file without one that is not UTF-8 is read as
    Windows-1252 (what Excel's "CSV (Comma delimited)" writes), with a ``UnicodeWarning``
    naming the file, since the guess cannot be checked.

    Raises
    ------
    DataError
        A file with a UTF-8 mark whose bytes are not UTF-8, or that is not Windows-1252
        either, or malformed rows.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "book.csv"
    >>> _ = path.write_bytes("\\ufeffid;message\\n1;Gr\\u00fc\\u00dfe, Lee\\n".encode("utf-8"))
    >>> next(iter_excel_csv(path)).values.tolist()
    [['1', 'Grüße, Lee']]
    """
    with _open(path) as data:
        start = data.read(4)
        data.seek(0)
        if start.startswith(_BOMS_UTF16):
            encoding = "utf-16"
        else:
            bad = _first_bad_utf8(data)
            data.seek(0)
            encoding = "utf-8-sig"
            if bad is not None:
                if start.startswith(codecs.BOM_UTF8):
                    raise DataError(
                        "starts with a UTF-8 mark but is not valid UTF-8; re-save "
                        "it as 'CSV UTF-8'",
                        path=path,
                        line=bad,
                    )
                encoding = "cp1252"
                warnings.warn(
                    f"{path}: not valid UTF-8 (line {bad}); reading it as "
                    "Windows-1252, the encoding Excel uses for 'CSV (Comma "
                    "delimited)'. Save as 'CSV UTF-8' to avoid the guess.",
                    UnicodeWarning,
                    stacklevel=2,
                )
        sample = io.TextIOWrapper(data, encoding=encoding, errors="replace", newline="")
        text = sample.read(1 << 16)
        sample.detach()
        data.seek(0)
        text = text.lstrip("\ufeff")
        first = text.split("\n", 1)[0].rstrip("\r")
        skip = 0
        if re.fullmatch(r"sep=.", first, re.IGNORECASE):
            delimiter, skip = first[4], 1
        else:
            delimiter = _sniff_delimiter(text[: text.rfind("\n") + 1] or text)
        try:
            yield from _csv_chunks_from(
                data, path, chunk_size, sep=delimiter, encoding=encoding, skiprows=skip
            )
        except DataError as exc:
            if encoding == "cp1252" and "UTF-8" in exc.message:
                raise DataError(
                    "is neither UTF-8 nor Windows-1252; re-save it as 'CSV UTF-8'", path=path
                ) from exc
            raise


def _csv_chunks_from(
    fh: IO[bytes], path: str | os.PathLike[str], chunk_size: int, **options: Any
) -> Iterator[pd.DataFrame]:
    from postkind.data import _parser_error, _utf8_error

    reader = pd.read_csv(
        fh,
        dtype=str,
        keep_default_na=False,
        na_filter=False,
        index_col=False,  # a row with an extra field must not shift into the index
        chunksize=max(1, chunk_size),
        **options,
    )
    while True:
        try:
            chunk = next(reader)
        except StopIteration:
            return
        except UnicodeError as exc:
            if isinstance(exc, UnicodeDecodeError):
                raise _utf8_error(path, exc) from exc
            raise DataError(f"cannot be decoded ({exc})", path=path) from exc
        except pd.errors.EmptyDataError as exc:
            raise DataError("has no header row", path=path) from exc
        except (pd.errors.ParserError, ValueError) as exc:
            raise _parser_error(path, exc) from exc
        yield chunk


# --- detection ---------------------------------------------------------------------------------


def _by_name(name: str) -> str | None:
    if name.endswith(".car"):
        return "bluesky-car"
    if _X_NAME.match(name):
        return "x-archive"
    if name == "outbox.json":
        return "mastodon"
    if _FB_NAME.match(name):
        return "facebook"
    return None


def _looks_like_car(head: bytes) -> bool:
    length, shift, i = 0, 0, 0
    while i < min(len(head), 5):
        byte = head[i]
        length |= (byte & 0x7F) << shift
        i += 1
        if not byte & 0x80:
            break
        shift += 7
    header = head[i : i + length]  # DAG-CBOR {"roots": [...], "version": 1}
    return 0 < length < 4096 and header[:1] == b"\xa2" and b"roots" in header


def _zip_kind(path: str | os.PathLike[str]) -> str | None:
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError):
        return None
    if any(_X_MEMBER.search(n) for n in names):
        return "x-archive"
    if any(n.rsplit("/", 1)[-1] == "outbox.json" for n in names):
        return "mastodon"
    if any(_FB_MEMBER.search(n) for n in names):
        return "facebook"
    return None


def _csv_kind(head: bytes) -> str | None:
    if head.startswith(_BOMS_UTF16):
        return "excel-csv"
    try:
        text = codecs.getincrementaldecoder("utf-8-sig")().decode(head, final=False)
    except UnicodeDecodeError:
        # Latin-1 and Windows-1252 differ only in 0x80-0x9F (Windows' quotes, dashes, euro):
        # those bytes say Excel wrote it; other non-UTF-8 stays an error, as for any CSV.
        try:
            head.decode("cp1252")
        except UnicodeDecodeError:
            return None
        return (
            "excel-csv"
            if re.search(rb"[\x80-\x9f]", head) or b";" in head.split(b"\n")[0]
            else None
        )
    first = text.split("\n", 1)[0].rstrip("\r")
    if re.fullmatch(r"sep=.", first, re.IGNORECASE):
        return "excel-csv"
    columns = next(csv.reader([first]), [])
    if {"ShareLink", "ShareCommentary"} <= set(columns):
        return "linkedin-shares"
    if columns[:3] == ["Date", "Link", "Message"]:
        return "linkedin-comments"
    if columns[:3] == ["id", "permalink", "date"]:
        if "title" in columns:
            return "reddit-posts"
        if "body" in columns:
            return "reddit-comments"
    if ";" in first and _sniff_delimiter(text[: text.rfind("\n") + 1] or text) == ";":
        return "excel-csv"
    return None


def detect_export(path: str | os.PathLike[str]) -> str | None:
    """Name the export format of ``path`` from its content and name, or None.

    The first bytes decide: ``window.YTD.tweets`` (X archive), a CAR header (Bluesky), an
    ActivityStreams ``orderedItems`` collection (Mastodon), a list of
    ``{"timestamp", "data": [{"post": ...}]}`` (Facebook; Instagram's ``{"media": ...}``),
    a zip holding ``data/tweets.js``, ``outbox.json`` or ``your_posts_*.json``. For
    ``.csv`` files the header decides (LinkedIn ``ShareCommentary`` or ``Date,Link,Message``;
    Reddit ``id,permalink,date,...``), then the marks of Excel: a ``;`` delimiter, a
    ``sep=`` line, a UTF-16 mark, or bytes only Windows-1252 uses. A file that does not
    exist is judged by its name alone (``tweets.js``, ``outbox.json``, ``*.car``,
    ``your_posts_1.json``). TSV, JSON Lines, Parquet and compressed files are never
    exports, and a plain CSV gives None.

    Examples
    --------
    >>> detect_export("archive/data/tweets-part1.js"), detect_export("repo.car")
    ('x-archive', 'bluesky-car')
    >>> print(detect_export("posts.csv"))
    None
    """
    if str(path) == "-":
        return None
    p = Path(path)
    name, suffix = p.name.lower(), p.suffix.lower()
    if suffix in _GENERIC_SUFFIXES:
        return None
    if not p.is_file():
        return None if suffix == ".csv" else _by_name(name)
    try:
        head = _head(p)
    except OSError:
        return None
    if suffix == ".csv":
        return _csv_kind(head)
    if head[:4] == b"PK\x03\x04":
        return _zip_kind(p)
    stripped = head.removeprefix(codecs.BOM_UTF8).lstrip()
    ytd = _YTD.match(stripped)
    if ytd:
        return "x-archive" if ytd.group(1) in _YTD_TWEETS else None
    if _looks_like_car(head):
        return "bluesky-car"
    if stripped[:1] == b"{" and (
        b'"orderedItems"' in head or (b"activitystreams" in head and b"OrderedCollection" in head)
    ):
        return "mastodon"
    if _FB_HEAD.match(stripped) and b"timestamp" in head and any(m in head for m in _FB_MARKS):
        return "facebook"
    return _by_name(name)


_READERS: dict[str, Callable[..., Iterator[pd.DataFrame]]] = {
    "x-archive": iter_x_archive,
    "mastodon": iter_mastodon,
    "bluesky-car": iter_bluesky_car,
    "facebook": iter_facebook,
    "linkedin-shares": iter_linkedin_shares,
    "linkedin-comments": iter_linkedin_comments,
    "reddit-posts": iter_reddit_posts,
    "reddit-comments": iter_reddit_comments,
    "excel-csv": iter_excel_csv,
}


def iter_export(
    path: str | os.PathLike[str], fmt: str | None = None, *, chunk_size: int = 50_000
) -> Iterator[pd.DataFrame]:
    """Yield the records of an export in ``fmt`` (detected when not given), in chunks.

    Raises
    ------
    DataError
        The format is unknown or not recognised, or the file is not of that format.
    """
    fmt = fmt or detect_export(path)
    if fmt not in _READERS:
        raise DataError(
            f"is not a recognised export; use --format with one of {', '.join(EXPORT_FORMATS)}",
            path=path,
        )
    yield from _READERS[fmt](path, chunk_size=chunk_size)


# --- reply structure as evidence ---------------------------------------------------------------


def _flags(values: pd.Series) -> list[bool]:
    if values.dtype == bool:
        return values.tolist()
    truthy = {"true", "1", "yes", "y", "t"}
    return [str(v).strip().lower() in truthy for v in values]


def evaluate_structure(
    frame: pd.DataFrame,
    *,
    model: Model | str | os.PathLike[str] | None = None,
    text_column: str = "text",
    reply_column: str = "is_reply",
) -> dict[str, Any]:
    """Score the model against an export's reply structure, taken as a proxy label.

    A reply counts as ``conversational`` and any other post as ``broadcast``. The proxy is
    rough evidence, not the truth: a reply can broadcast (a thread continuing one's own
    post, a pasted headline) and a post can open a conversation ("anyone know a good
    dentist?"), so read the numbers as agreement with the structure. Rows with empty text
    (boosts, reposts) are left out.

    Parameters
    ----------
    frame : pandas.DataFrame
        Records from an export reader (or ``tag``'s output), with text and reply columns;
        the flags may be booleans or ``"True"``/``"False"`` strings.
    model : Model or path, optional
        See :func:`postkind.prediction.resolve_model`.

    Returns
    -------
    dict
        The metrics of :func:`postkind.evaluation.score`.

    Examples
    --------
    >>> frame = pd.DataFrame({"text": ["@sam thanks, see you tomorrow!", "So tired today.", ""],
    ...                       "is_reply": [True, False, False]})
    >>> metrics = evaluate_structure(frame, model=MODEL)
    >>> metrics["n"], metrics["accuracy"]
    (2, 1.0)
    """
    from postkind.evaluation import score
    from postkind.prediction import resolve_model

    weak = structural_labels(frame, text_column=text_column, reply_column=reply_column)
    fitted = resolve_model(model)
    proba = fitted.predict_proba(weak["text"].tolist())
    return score(weak["label"].tolist(), fitted.labels_for(proba), proba.tolist())


def structural_labels(
    frame: pd.DataFrame, *, text_column: str = "text", reply_column: str = "is_reply"
) -> pd.DataFrame:
    """Weak labels from reply structure: a reply is ``conversational``, any other post
    ``broadcast``. Rows with empty text are left out.

    These labels teach style rather than function (see the README's measurement); use them
    with ``postkind train --weak-labels`` only where no codebook labels exist.

    Examples
    --------
    >>> frame = pd.DataFrame({"text": ["@sam yes", "Storm hits", ""],
    ...                       "is_reply": ["True", "False", "False"]})
    >>> structural_labels(frame)["label"].tolist()
    ['conversational', 'broadcast']
    """
    from postkind.labels import BROADCAST, CONVERSATIONAL

    for column in (text_column, reply_column):
        if column not in frame.columns:
            raise DataError(
                f"the records have no column {column!r} (columns: "
                f"{', '.join(map(str, frame.columns))}); read the file as an export"
            )
    texts = frame[text_column].fillna("").astype(str)
    keep = (texts.str.strip() != "").to_numpy()
    if not keep.any():
        raise DataError("the records have no text to score")
    labels = [CONVERSATIONAL if r else BROADCAST for r in _flags(frame[reply_column][keep])]
    return pd.DataFrame({"text": texts[keep].tolist(), "label": labels})

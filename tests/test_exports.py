"""Readers for platform exports, on small files written here in each export's real shape."""

from __future__ import annotations

import hashlib
import io
import json
import sys
import zipfile
from pathlib import Path

import libipld
import pandas as pd
import pytest

from postkind.cli import main
from postkind.data import detect_format, iter_table, read_table
from postkind.errors import DataError
from postkind.exports import (
    RECORD_COLUMNS,
    detect_export,
    evaluate_structure,
    iter_export,
)

from .conftest import write

# --- export files, as the platforms write them -------------------------------------------------

TWEETS_JS = """window.YTD.tweets.part0 = [
  {
    "tweet" : {
      "edit_info" : { "initial" : { "editTweetIds" : [ "1650000000000000001" ],
        "editableUntil" : "2023-04-23T10:00:00.000Z", "editsRemaining" : "5",
        "isEditEligible" : true } },
      "retweeted" : false,
      "source" : "<a href=\\"https://mobile.twitter.com\\" rel=\\"nofollow\\">Twitter Web App</a>",
      "entities" : { "hashtags" : [ ], "symbols" : [ ], "urls" : [ ],
        "user_mentions" : [ { "name" : "Ana", "screen_name" : "ana", "indices" : [ "0", "4" ],
          "id_str" : "12", "id" : "12" } ] },
      "display_text_range" : [ "0", "31" ],
      "favorite_count" : "0",
      "in_reply_to_status_id_str" : "1649999999999999999",
      "id_str" : "1650000000000000001",
      "in_reply_to_user_id" : "12",
      "truncated" : false,
      "retweet_count" : "0",
      "id" : "1650000000000000001",
      "in_reply_to_status_id" : "1649999999999999999",
      "created_at" : "Sun Apr 23 09:00:00 +0000 2023",
      "favorited" : false,
      "full_text" : "@ana thanks &amp; see you &lt;3",
      "lang" : "en",
      "in_reply_to_screen_name" : "ana",
      "in_reply_to_user_id_str" : "12"
    }
  },
  {
    "tweet" : {
      "retweeted" : false,
      "entities" : { "hashtags" : [ ], "symbols" : [ ], "user_mentions" : [ ],
        "urls" : [ { "url" : "https://t.co/xyz", "expanded_url" : "https://blog.example.com/1",
          "display_url" : "blog.example.com/1", "indices" : [ "39", "62" ] } ] },
      "favorite_count" : "3",
      "id_str" : "1650000000000000002",
      "retweet_count" : "1",
      "id" : "1650000000000000002",
      "created_at" : "Mon Apr 24 08:30:00 +0000 2023",
      "full_text" : "New blog post: 10 tips for spring gardening https://t.co/xyz",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "retweeted" : false,
      "id_str" : "1650000000000000003",
      "id" : "1650000000000000003",
      "created_at" : "Tue Apr 25 07:00:00 +0000 2023",
      "full_text" : "RT @citynews: Bridge closed for repairs until Friday",
      "lang" : "en"
    }
  }
]"""

OUTBOX = {
    "@context": "https://www.w3.org/ns/activitystreams",
    "id": "outbox.json",
    "type": "OrderedCollection",
    "totalItems": 3,
    "orderedItems": [
        {
            "id": "https://mastodon.example/users/jo/statuses/111/activity",
            "type": "Create",
            "actor": "https://mastodon.example/users/jo",
            "published": "2024-05-01T08:00:00Z",
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
            "cc": ["https://mastodon.example/users/jo/followers"],
            "object": {
                "id": "https://mastodon.example/users/jo/statuses/111",
                "type": "Note",
                "summary": None,
                "inReplyTo": None,
                "published": "2024-05-01T08:00:00Z",
                "url": "https://mastodon.example/@jo/111",
                "attributedTo": "https://mastodon.example/users/jo",
                "sensitive": False,
                "content": '<p>Storm closes schools &amp; roads: <a href="https://news.example'
                '.org/2024/05/01/storm-closes-schools" target="_blank" rel="nofollow noopener '
                'noreferrer"><span class="invisible">https://</span><span class="ellipsis">'
                'news.example.org/2024/05/01/st</span><span class="invisible">orm-closes-'
                'schools</span></a></p><p>Stay safe <a href="https://mastodon.example/tags/'
                'weather" class="mention hashtag" rel="tag">#<span>weather</span></a></p>',
                "contentMap": {"en": "<p>Storm closes schools ...</p>"},
                "attachment": [],
                "tag": [
                    {
                        "type": "Hashtag",
                        "href": "https://mastodon.example/tags/weather",
                        "name": "#weather",
                    }
                ],
            },
        },
        {
            "id": "https://mastodon.example/users/jo/statuses/112/activity",
            "type": "Create",
            "actor": "https://mastodon.example/users/jo",
            "published": "2024-05-01T09:00:00Z",
            "object": {
                "id": "https://mastodon.example/users/jo/statuses/112",
                "type": "Note",
                "inReplyTo": "https://other.example/users/sam/statuses/9",
                "published": "2024-05-01T09:00:00Z",
                "content": '<p><span class="h-card" translate="no"><a href="https://other.'
                'example/@sam" class="u-url mention">@<span>sam</span></a></span> thanks, '
                "see you tomorrow!<br />x</p>",
                "tag": [
                    {
                        "type": "Mention",
                        "href": "https://other.example/users/sam",
                        "name": "@sam@other.example",
                    }
                ],
            },
        },
        {
            "id": "https://mastodon.example/users/jo/statuses/113/activity",
            "type": "Announce",
            "actor": "https://mastodon.example/users/jo",
            "published": "2024-05-02T10:00:00Z",
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
            "cc": ["https://other.example/users/sam"],
            "object": "https://other.example/users/sam/statuses/10",
        },
    ],
}

# Facebook writes each UTF-8 byte as its own \u00XX escape: 😁 is \u00f0\u009f\u0098\u0081.
YOUR_POSTS = r"""[
  {
    "timestamp": 1700000000,
    "data": [
      {
        "post": "So happy today \u00f0\u009f\u0098\u0081 caf\u00c3\u00a9 time"
      },
      {
        "update_timestamp": 1700000100
      }
    ],
    "title": "Jo Doe updated her status."
  },
  {
    "timestamp": 1700003600,
    "attachments": [
      {
        "data": [
          {
            "external_context": {
              "url": "https://news.example.org/a"
            }
          }
        ]
      }
    ],
    "data": [
      {
        "post": "Worth a read"
      }
    ],
    "title": "Jo Doe shared a link."
  },
  {
    "timestamp": 1700007200,
    "attachments": [
      {
        "data": [
          {
            "media": {
              "uri": "photos_and_videos/1.jpg",
              "creation_timestamp": 1700007200
            }
          }
        ]
      }
    ],
    "title": "Jo Doe added a new photo."
  }
]"""

FB_COMMENTS = r"""{
  "comments_v2": [
    {
      "timestamp": 1700010000,
      "data": [
        {
          "comment": {
            "timestamp": 1700010000,
            "comment": "Congrats Ana! \u00f0\u009f\u008e\u0089",
            "author": "Jo Doe"
          }
        }
      ],
      "title": "Jo Doe commented on Ana Lee's post."
    }
  ]
}"""

IG_POSTS = r"""[
  {
    "media": [
      {
        "uri": "media/posts/202311/1.jpg",
        "creation_timestamp": 1700000000,
        "title": "Sunset \u00e2\u0080\u0094 no filter"
      }
    ]
  }
]"""

SHARES_CSV = (
    "Date,ShareLink,ShareCommentary,SharedUrl,MediaUrl,Visibility\n"
    "2024-03-01 09:15:00,https://www.linkedin.com/feed/update/urn%3Ali%3Ashare%3A71000001,"
    '"We\'re hiring! Join our ""data"" team.\n\nApply here: https://jobs.example.com/1",'
    "https://jobs.example.com/1,,MEMBER_NETWORK\n"
    "2024-03-02 10:00:00,https://www.linkedin.com/feed/update/urn%3Ali%3Aactivity%3A71000002,,"
    "https://www.linkedin.com/feed/update/urn:li:activity:70000009,,MEMBER_NETWORK\n"
)

COMMENTS_CSV = (
    "Date,Link,Message\n"
    "2024-03-03 11:00:00,https://www.linkedin.com/feed/update/urn:li:activity:71000003?commentUrn"
    '=urn%3Ali%3Acomment%3A%28activity%3A71000003%2C71000004%29,"Thanks \\"Ana\\", great point!"\n'
    '2024-03-04 12:00:00,https://www.linkedin.com/feed/update/urn:li:activity:71000005,"Congrats, '
    'Lee!"\n'
)

REDDIT_POSTS = (
    "id,permalink,date,ip,subreddit,gildings,title,url,body\n"
    "abc1,https://www.reddit.com/r/leeds/comments/abc1/dentist/,2023-02-01 10:00:00 UTC,"
    "0.0.0.0,leeds,0,Anyone know a good dentist in Leeds?,"
    'https://www.reddit.com/r/leeds/comments/abc1/dentist/,"Mine retired &amp; I need one.\n'
    'Thanks!"\n'
    "abc2,https://www.reddit.com/r/news/comments/abc2/bridge/,2023-02-02 10:00:00 UTC,,news,0,"
    "Bridge closed for repairs,https://www.reddit.com/r/local/comments/zzz9/bridge/,\n"
)

REDDIT_COMMENTS = (
    "id,permalink,date,ip,subreddit,gildings,link,parent,body,media\n"
    "c1,https://www.reddit.com/r/leeds/comments/abc1/dentist/c1/,2023-02-01 11:00:00 UTC,,"
    'leeds,0,https://www.reddit.com/r/leeds/comments/abc1/dentist/,t3_abc1,"&gt; any tips?\n\n'
    'lol same, no idea",\n'
)


def _cid(block: bytes) -> bytes:
    """CIDv1, DAG-CBOR codec, sha2-256: the links of an atproto repository."""
    return b"\x01\x71\x12\x20" + hashlib.sha256(block).digest()


def _varint(n: int) -> bytes:
    out = b""
    while True:
        byte, n = n & 0x7F, n >> 7
        out += bytes([byte | (0x80 if n else 0)])
        if not n:
            return out


def bluesky_car() -> bytes:
    """A repository export: CAR v1 header, commit, two MST nodes and the records."""
    did = "did:plc:jo"
    records = {
        "app.bsky.actor.profile/self": {"$type": "app.bsky.actor.profile", "displayName": "Jo"},
        "app.bsky.feed.like/3kaa": {
            "$type": "app.bsky.feed.like",
            "subject": {"uri": "at://did:plc:ana/app.bsky.feed.post/1", "cid": "bafyx"},
            "createdAt": "2024-05-01T07:00:00.000Z",
        },
        "app.bsky.feed.post/3kab": {
            "$type": "app.bsky.feed.post",
            "text": "New on the blog: example.com/2024/spri...",
            "createdAt": "2024-05-01T08:00:00.000Z",
            "langs": ["en"],
            "facets": [
                {
                    "index": {"byteStart": 17, "byteEnd": 41},
                    "features": [
                        {
                            "$type": "app.bsky.richtext.facet#link",
                            "uri": "https://example.com/2024/spring-garden",
                        }
                    ],
                }
            ],
        },
        "app.bsky.feed.post/3kac": {
            "$type": "app.bsky.feed.post",
            "text": "@ana.bsky.social thanks, see you tomorrow! 🎉",
            "createdAt": "2024-05-01T09:00:00.000Z",
            "reply": {
                "root": {"uri": "at://did:plc:ana/app.bsky.feed.post/1", "cid": "bafyroot"},
                "parent": {"uri": "at://did:plc:ana/app.bsky.feed.post/1", "cid": "bafyroot"},
            },
        },
        "app.bsky.feed.repost/3kad": {
            "$type": "app.bsky.feed.repost",
            "subject": {"uri": "at://did:plc:ana/app.bsky.feed.post/2", "cid": "bafyy"},
            "createdAt": "2024-05-02T10:00:00.000Z",
        },
    }
    blocks = []
    links = {}
    for key, record in records.items():
        data = libipld.encode_dag_cbor(record)
        links[key] = _cid(data)
        blocks.append((links[key], data))
    keys = list(records)

    def entries(names: list[str]) -> list[dict]:
        out, previous = [], b""
        for name in names:
            key = name.encode()
            shared = 0
            while shared < min(len(key), len(previous)) and key[shared] == previous[shared]:
                shared += 1
            out.append({"k": key[shared:], "p": shared, "t": None, "v": links[name]})
            previous = key
        return out

    left = libipld.encode_dag_cbor({"e": entries(keys[:1]), "l": None})
    root = libipld.encode_dag_cbor({"e": entries(keys[1:]), "l": _cid(left)})
    commit = libipld.encode_dag_cbor(
        {
            "did": did,
            "version": 3,
            "data": _cid(root),
            "rev": "3kaz",
            "prev": None,
            "sig": b"\xaa" * 64,
        }
    )
    blocks = [(_cid(commit), commit), (_cid(root), root), (_cid(left), left), *blocks]
    header = libipld.encode_dag_cbor({"version": 1, "roots": [_cid(commit)]})
    body = b"".join(_varint(len(c) + len(d)) + c + d for c, d in blocks)
    return _varint(len(header)) + header + body


def x_zip(path: Path) -> Path:
    part1 = TWEETS_JS.replace("part0", "part1").split("[", 1)[0] + json.dumps(
        [
            {
                "tweet": {
                    "id_str": "9",
                    "created_at": "Wed Apr 26 07:00:00 +0000 2023",
                    "full_text": "who's coming tonight?",
                }
            }
        ]
    )
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("Your archive.html", "<html></html>")
        archive.writestr("data/account.js", 'window.YTD.account.part0 = [{"account": {}}]')
        archive.writestr("data/tweets-part1.js", part1)
        archive.writestr("data/tweets.js", TWEETS_JS)
    return path


@pytest.fixture
def exports(tmp_path: Path) -> dict[str, Path]:
    """One file of each export, under the name the platform gives it."""
    (tmp_path / "data").mkdir()
    mastodon_zip = tmp_path / "archive-20240502.zip"
    with zipfile.ZipFile(mastodon_zip, "w") as archive:
        archive.writestr("actor.json", "{}")
        archive.writestr("outbox.json", json.dumps(OUTBOX))
    return {
        "x-archive": write(tmp_path / "data" / "tweets.js", TWEETS_JS),
        "mastodon": write(tmp_path / "outbox.json", json.dumps(OUTBOX, indent=2)),
        "bluesky-car": write(tmp_path / "repo.car", bluesky_car()),
        "facebook": write(tmp_path / "your_posts_1.json", YOUR_POSTS),
        "linkedin-shares": write(tmp_path / "Shares.csv", SHARES_CSV),
        "linkedin-comments": write(tmp_path / "Comments.csv", COMMENTS_CSV),
        "reddit-posts": write(tmp_path / "posts.csv", REDDIT_POSTS),
        "reddit-comments": write(tmp_path / "comments.csv", REDDIT_COMMENTS),
        "excel-csv": write(tmp_path / "book.csv", "\ufeffid;message\n1;So tired today.\n"),
        "x-zip": x_zip(tmp_path / "twitter-2023-04-30-abc.zip"),
        "mastodon-zip": mastodon_zip,
    }


def records(path: Path, fmt: str | None = None) -> pd.DataFrame:
    return read_table(path, fmt=fmt)


# --- detection ---------------------------------------------------------------------------------


def test_each_export_is_detected_by_content_and_name(exports):
    zips = {"x-zip": "x-archive", "mastodon-zip": "mastodon"}
    for key, path in exports.items():
        assert detect_format(path) == zips.get(key, key), path.name


def test_content_decides_whatever_the_name(exports, tmp_path):
    renamed = {
        "x-archive": "export.js",
        "mastodon": "mine.json",
        "bluesky-car": "repo-backup.bin",
        "facebook": "fb.json",
        "x-zip": "backup.zip",
    }
    for fmt, name in renamed.items():
        path = write(tmp_path / name, exports[fmt].read_bytes())
        assert detect_export(path) == fmt.replace("x-zip", "x-archive")
    # Instagram posts and Facebook comments are Facebook's shapes too.
    assert detect_export(write(tmp_path / "ig.json", IG_POSTS)) == "facebook"
    assert detect_export(write(tmp_path / "c.json", FB_COMMENTS)) == "facebook"


def test_names_alone_decide_only_for_files_not_yet_there(tmp_path):
    assert detect_export(tmp_path / "tweets-part2.js") == "x-archive"
    assert detect_export(tmp_path / "outbox.json") == "mastodon"
    assert detect_export(tmp_path / "your_posts__check_ins__photos_and_videos_1.json") == (
        "facebook"
    )
    assert detect_export(tmp_path / "Shares.csv") is None  # a CSV's header decides


def test_plain_tables_stay_plain(tmp_path, exports):
    posts = write(
        tmp_path / "posts.csv", "id,platform,lang,text,label\npk1,chat,en,hi,conversational\n"
    )
    assert detect_format(posts) == "csv"
    assert detect_format(write(tmp_path / "bom.csv", "\ufefftext,label\nhi,broadcast\n")) == "csv"
    for name in ("tweets.jsonl", "outbox.tsv", "comments.parquet"):
        assert detect_export(tmp_path / name) is None
    other_ytd = write(tmp_path / "like.js", 'window.YTD.like.part0 = [{"like": {}}]')
    assert detect_export(other_ytd) is None
    # --format overrides detection: Shares.csv read as a plain CSV keeps its own columns.
    frame = records(exports["linkedin-shares"], fmt="csv")
    assert "ShareCommentary" in frame.columns and "is_reply" not in frame.columns


def test_tagged_output_of_an_export_is_a_plain_csv(exports, model_path, tmp_path):
    for fmt in ("reddit-posts", "linkedin-comments"):
        out = tmp_path / f"{fmt}.tagged.csv"
        assert (
            main(
                [
                    "tag",
                    str(exports[fmt]),
                    "-o",
                    str(out),
                    "--model",
                    str(model_path),
                    "--jobs",
                    "1",
                ]
            )
            == 0
        )
        assert detect_format(out) == "csv"


# --- text and flags ----------------------------------------------------------------------------


def test_x_archive_text_flags_and_fields(exports):
    frame = records(exports["x-archive"])
    assert list(frame.columns[:5]) == list(RECORD_COLUMNS)
    assert frame["text"].tolist()[0] == "@ana thanks & see you <3"
    assert frame["is_reply"].tolist() == [True, False, False]
    assert frame["is_share"].tolist() == [False, False, True]
    assert frame["id"].tolist()[0] == "1650000000000000001"
    assert frame["created_at"].tolist()[0] == "2023-04-23T09:00:00Z"
    assert frame["source_created_at"].tolist()[0] == "Sun Apr 23 09:00:00 +0000 2023"
    assert json.loads(frame.loc[0, "entities"])["user_mentions"][0]["screen_name"] == "ana"
    assert frame.loc[2, "entities"] == ""  # a field the tweet lacks is empty
    assert "full_text" not in frame.columns and "id_str" not in frame.columns


def test_x_archive_zip_reads_every_part_in_order(exports):
    frame = records(exports["x-zip"])
    assert frame["id"].tolist()[-1] == "9" and len(frame) == 4


def test_mastodon_html_invisible_spans_and_boosts(exports):
    for path in (exports["mastodon"], exports["mastodon-zip"]):
        frame = records(path)
        assert frame["text"].tolist() == [
            "Storm closes schools & roads: "
            "https://news.example.org/2024/05/01/storm-closes-schools\n\nStay safe #weather",
            "@sam thanks, see you tomorrow!\nx",
            "",  # a boost carries no text: kept, flagged, left unlabelled by tag
        ]
        assert frame["is_reply"].tolist() == [False, True, False]
        assert frame["is_share"].tolist() == [False, False, True]
        assert frame["activity"].tolist() == ["Create", "Create", "Announce"]
        assert frame["id"].tolist()[0] == "https://mastodon.example/users/jo/statuses/111"
        assert frame.loc[2, "object"] == "https://other.example/users/sam/statuses/10"
        assert "content" not in frame.columns and "contentMap" not in frame.columns


def test_bluesky_posts_replies_reposts_and_full_links(exports):
    frame = records(exports["bluesky-car"])
    assert frame["id"].tolist() == [
        "at://did:plc:jo/app.bsky.feed.post/3kab",
        "at://did:plc:jo/app.bsky.feed.post/3kac",
        "at://did:plc:jo/app.bsky.feed.repost/3kad",
    ]
    assert frame["text"].tolist() == [
        "New on the blog: https://example.com/2024/spring-garden",
        "@ana.bsky.social thanks, see you tomorrow! 🎉",
        "",
    ]
    assert frame["is_reply"].tolist() == [False, True, False]
    assert frame["is_share"].tolist() == [False, False, True]
    assert frame["created_at"].tolist()[0] == "2024-05-01T08:00:00Z"
    assert frame["cid"].str.startswith("bafy").all()
    assert json.loads(frame.loc[1, "reply"])["parent"]["uri"].endswith("post/1")


def test_bluesky_rejects_a_file_that_is_not_a_car(tmp_path):
    with pytest.raises(DataError, match="not a readable CAR file"):
        records(write(tmp_path / "repo.car", b"\x05hello world"))


def test_facebook_mojibake_shares_and_posts_without_text(exports):
    frame = records(exports["facebook"])
    assert frame["text"].tolist() == ["So happy today 😁 café time", "Worth a read", ""]
    assert frame["is_share"].tolist() == [False, True, False]
    assert frame["id"].tolist() == ["1", "2", "3"]
    assert frame["created_at"].tolist()[0] == "2023-11-14T22:13:20Z"
    assert frame["update_timestamp"].tolist()[0] == "1700000100"
    assert json.loads(frame.loc[1, "attachments"])[0]["data"][0]["external_context"]["url"]


def test_facebook_comments_and_instagram_posts(tmp_path):
    comments = records(write(tmp_path / "comments.json", FB_COMMENTS))
    assert comments["text"].tolist() == ["Congrats Ana! 🎉"]
    assert comments["is_reply"].tolist() == [True]
    assert comments["author"].tolist() == ["Jo Doe"]
    posts = records(write(tmp_path / "posts_1.json", IG_POSTS))
    assert posts["text"].tolist() == ["Sunset — no filter"]
    assert posts["created_at"].tolist() == ["2023-11-14T22:13:20Z"]


def test_linkedin_shares_and_comments(exports):
    shares = records(exports["linkedin-shares"])
    assert shares["text"].tolist()[0] == (
        'We\'re hiring! Join our "data" team.\n\nApply here: https://jobs.example.com/1'
    )
    assert shares["id"].tolist() == ["urn:li:share:71000001", "urn:li:activity:71000002"]
    assert shares["is_share"].tolist() == [False, True]
    assert shares["created_at"].tolist()[0] == "2024-03-01T09:15:00"
    assert "ShareCommentary" not in shares.columns and "Visibility" in shares.columns
    comments = records(exports["linkedin-comments"])
    assert comments["text"].tolist() == ['Thanks "Ana", great point!', "Congrats, Lee!"]
    assert comments["id"].tolist() == ["urn:li:comment:(activity:71000003,71000004)", "2"]
    assert comments["is_reply"].all()


def test_reddit_posts_and_comments(exports):
    posts = records(exports["reddit-posts"])
    assert posts["text"].tolist() == [
        "Anyone know a good dentist in Leeds?\n\nMine retired & I need one.\nThanks!",
        "Bridge closed for repairs",
    ]
    assert posts["is_share"].tolist() == [False, True]  # a crosspost
    assert posts["created_at"].tolist()[0] == "2023-02-01T10:00:00Z"
    assert "source_id" not in posts.columns and "subreddit" in posts.columns
    comments = records(exports["reddit-comments"])
    assert comments["text"].tolist() == ["> any tips?\n\nlol same, no idea"]
    assert comments["is_reply"].tolist() == [True]
    assert comments["parent"].tolist() == ["t3_abc1"]


def test_chunks_keep_the_same_columns_and_count_rows_across_the_file(exports):
    for fmt in ("x-archive", "reddit-posts", "bluesky-car"):
        chunks = list(iter_table(exports[fmt], chunk_size=1))
        assert len({tuple(c.columns) for c in chunks}) == 1
        assert [c.index[0] for c in chunks] == list(range(len(chunks)))


def test_broken_exports_name_the_file_and_the_fix(tmp_path):
    with pytest.raises(DataError, match="tweets.js: does not start with 'window.YTD"):
        records(write(tmp_path / "tweets.js", "[]"))
    with pytest.raises(DataError, match=r"outbox.json, line 2: is not valid JSON"):
        records(write(tmp_path / "outbox.json", '{"orderedItems": [\n,]}'))
    with pytest.raises(DataError, match="no 'orderedItems'"):
        records(write(tmp_path / "x.json", "{}"), fmt="mastodon")
    likes = {"type": "OrderedCollection", "orderedItems": ["https://other.example/s/1"]}
    with pytest.raises(DataError, match="likes.json or bookmarks.json"):
        records(write(tmp_path / "likes.json", json.dumps(likes)))
    with pytest.raises(DataError, match="no 'Message' column"):
        records(write(tmp_path / "c.csv", "Date,Link\n1,2\n"), fmt="linkedin-comments")
    with pytest.raises(DataError, match="not a recognised export"):
        list(iter_export(write(tmp_path / "p.csv", "text\nhi\n")))


# --- CSV saved by Excel ------------------------------------------------------------------------


def test_excel_semicolons_bom_and_sep_line(tmp_path):
    path = write(tmp_path / "book.csv", '\ufeffid;message\n1;"Grüße, Lee; bis bald"\n')
    assert records(path).values.tolist() == [["1", "Grüße, Lee; bis bald"]]
    path = write(tmp_path / "sep.csv", 'sep=;\nid;message\n2;"so ""tired"" today"\n')
    assert detect_export(path) == "excel-csv"
    assert records(path).values.tolist() == [["2", 'so "tired" today']]


def test_excel_cp1252_falls_back_with_a_warning_naming_the_file(tmp_path):
    data = "id;message\n1;\u201cSee you\u201d \u2013 5\u20ac\n".encode("cp1252")
    path = write(tmp_path / "book.csv", data)
    assert detect_export(path) == "excel-csv"
    with pytest.warns(UnicodeWarning, match="book.csv.*Windows-1252"):
        frame = records(path)
    assert frame["message"].tolist() == ["\u201cSee you\u201d \u2013 5\u20ac"]
    # A comma CSV with Windows-only bytes (curly quotes) looks like Excel's too.
    path = write(tmp_path / "comma.csv", "text\n\u201chi\u201d\n".encode("cp1252"))
    with pytest.warns(UnicodeWarning):
        assert records(path)["text"].tolist() == ["\u201chi\u201d"]


def test_excel_utf16_and_undecodable_files(tmp_path):
    path = write(tmp_path / "u16.csv", "id\tmessage\n1\thello 🎉\n".encode("utf-16"))
    assert records(path).values.tolist() == [["1", "hello 🎉"]]
    bad = write(tmp_path / "bad.csv", b"\xef\xbb\xbfid;message\n1;caf\xe9\n")
    with pytest.raises(DataError, match="UTF-8 mark but is not valid UTF-8"):
        records(bad)


def test_latin1_comma_csv_stays_an_error_with_a_hint(tmp_path):
    path = write(tmp_path / "p.csv", "text,label\ncaf\xe9 ok,broadcast\n".encode("latin-1"))
    assert detect_format(path) == "csv"
    with pytest.raises(DataError, match="not valid UTF-8.*--format excel-csv"):
        records(path)


# --- reply structure as evidence and the command line ------------------------------------------


def test_evaluate_structure_scores_the_model_against_replies(exports, tiny_model):
    frame = pd.concat([records(exports[f]) for f in ("x-archive", "mastodon", "bluesky-car")])
    metrics = evaluate_structure(frame, model=tiny_model)
    assert metrics["n"] == 7  # boosts and reposts have no text
    assert metrics["per_label"]["conversational"]["support"] == 3
    assert 0 <= metrics["macro_f1"] <= 1 and "confusion_matrix" in metrics
    as_strings = frame.astype(str)  # as read back from tag's CSV output
    assert evaluate_structure(as_strings, model=tiny_model)["n"] == 7
    with pytest.raises(DataError, match="is_reply"):
        evaluate_structure(frame.drop(columns="is_reply"), model=tiny_model)


@pytest.mark.parametrize(
    ("fmt", "rows", "tagged"),
    [
        ("x-archive", 3, 3),
        ("x-zip", 4, 4),
        ("mastodon", 3, 2),
        ("mastodon-zip", 3, 2),
        ("bluesky-car", 3, 2),
        ("facebook", 3, 2),
        ("linkedin-shares", 2, 1),
        ("linkedin-comments", 2, 2),
        ("reddit-posts", 2, 2),
        ("reddit-comments", 1, 1),
        ("excel-csv", 1, 1),
    ],
)
def test_tag_runs_end_to_end_on_each_export(
    exports, model_path, tmp_path, capsys, fmt, rows, tagged
):
    out = tmp_path / "out.csv"
    code = main(
        ["tag", str(exports[fmt]), "-o", str(out), "--model", str(model_path), "--jobs", "1"]
    )
    assert code == 0, capsys.readouterr().err
    assert f"tagged {tagged} of {rows} rows" in capsys.readouterr().err
    frame = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert len(frame) == rows
    assert {"postkind_label", "postkind_confidence"} <= set(frame.columns)
    if fmt != "excel-csv":
        assert list(frame.columns[:5]) == list(RECORD_COLUMNS)
        assert set(frame["is_reply"]) <= {"True", "False"}
        empty = frame["text"] == ""
        assert (frame.loc[empty, "postkind_label"] == "").all()
        assert set(frame.loc[~empty, "postkind_label"]) <= {"broadcast", "conversational"}


def test_tag_reads_an_export_from_stdin_with_input_format(model_path, monkeypatch, tmp_path):
    stdin = io.TextIOWrapper(io.BytesIO(TWEETS_JS.encode()))
    monkeypatch.setattr(sys, "stdin", stdin)
    out = tmp_path / "out.jsonl"
    args = ["tag", "-", "--input-format", "x-archive", "-o", str(out), "--model", str(model_path)]
    assert main([*args, "--jobs", "1"]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["is_share"] for r in rows] == [False, False, True]

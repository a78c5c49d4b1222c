from hypothesis import given
from hypothesis import strategies as st

from postkind.text import LEAD_MENTION, ONLY_MENTIONS, URL, analyse, normalise, tokenize


def test_placeholders_replace_urls_users_and_numbers():
    assert normalise("see https://t.co/abc and www.example.com") == f"see {URL} and {URL}"
    assert normalise("thanks @Ana_B and @bob@mastodon.social") == "thanks @user and @user"
    assert normalise("up 25% to 1,200 on the 3rd") == "up 0% to 0 on the 0"


def test_leading_mention_is_marked_but_inner_mention_is_not():
    assert normalise("@sam yes").startswith(LEAD_MENTION)
    assert LEAD_MENTION not in normalise("yes @sam")
    assert normalise("@a @b https://x.co #tag").startswith(f"{LEAD_MENTION} {ONLY_MENTIONS}")


def test_case_entities_and_repeated_letters_are_folded():
    assert normalise("SOOOOO Good &amp; fun!!!!") == "soo good & fun!!"


def test_tokenizer_keeps_markers_emoji_and_emoticons():
    assert tokenize("@user #nyc ?! :-) 🎉 don't") == ["@user", "#nyc", "?!", ":-)", "🎉", "don't"]


def test_quote_marks_are_tokens_but_other_punctuation_is_dropped():
    assert analyse('"@afp: storm hits." wow, ok...') == [
        '"',
        "@user",
        "storm",
        "hits",
        '"',
        "wow",
        "ok",
    ]


@given(st.text())
def test_any_text_normalises_and_tokenises_without_error(text):
    tokens = analyse(text)
    assert all(isinstance(t, str) and t and not t.isspace() for t in tokens)

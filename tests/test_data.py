import pytest

from postkind.data import detect_format, find_text_column, read_posts, read_table
from postkind.errors import DataError

from .conftest import write

ROWS = "".join(
    f"post {i} about things,broadcast\n@p{i} thanks!,conversational\n" for i in range(12)
)


def good_csv(tmp_path, name="posts.csv"):
    return write(tmp_path / name, "text,label\n" + ROWS)


def test_reads_csv_with_bom_quoted_newlines_and_emoji(tmp_path):
    path = write(tmp_path / "p.csv", '\ufefftext,label\n"line one\nline two 🎉",broadcast\n')
    frame = read_table(path)
    assert list(frame.columns) == ["text", "label"]
    assert frame.loc[0, "text"] == "line one\nline two 🎉"


def test_read_posts_normalises_labels_and_records_rows(tmp_path):
    path = write(tmp_path / "p.csv", "text,label\nhello all, Broadcast \n@a hi,CONVERSATIONAL\n")
    posts = read_posts(path)
    assert posts["label"].tolist() == ["broadcast", "conversational"]
    assert posts["source_row"].tolist() == [1, 2]


def test_tsv_jsonl_and_parquet_give_the_same_posts(tmp_path):
    frame = read_table(good_csv(tmp_path))
    frame.to_csv(tmp_path / "p.tsv", sep="\t", index=False)
    frame.to_json(tmp_path / "p.jsonl", orient="records", lines=True)
    frame.to_parquet(tmp_path / "p.parquet")
    for ext in ("tsv", "jsonl", "parquet"):
        assert read_posts(tmp_path / f"p.{ext}")["text"].tolist() == frame["text"].tolist()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "file not found"),
        ("", "file is empty"),
        ("text,label\n", "header but no rows"),
        (b"text,label\n\x00\x01\x02binary", "binary file"),
    ],
)
def test_unusable_files_are_named_with_the_fix(tmp_path, content, message):
    path = tmp_path / "posts.csv"
    if content is not None:
        write(path, content)
    with pytest.raises(DataError, match=message) as info:
        read_posts(path)
    assert str(path) in str(info.value)


def test_non_utf8_bytes_name_the_line(tmp_path):
    path = write(
        tmp_path / "p.csv", "text,label\nfine,broadcast\ncaf\xe9 ok,broadcast\n".encode("latin-1")
    )
    with pytest.raises(DataError, match="line 3.*not valid UTF-8"):
        read_posts(path)


def test_malformed_row_names_the_line(tmp_path):
    path = write(tmp_path / "p.csv", "text,label\nok,broadcast\na,b,c,d\n")
    with pytest.raises(DataError, match="line 3.*malformed"):
        read_posts(path)


def test_missing_columns_list_the_columns_and_the_flag(tmp_path):
    path = write(tmp_path / "p.csv", "body,label\nhi,broadcast\n")
    with pytest.raises(DataError, match=r"no text column 'text'.*body, label.*--text-column"):
        read_posts(path)
    path = write(tmp_path / "q.csv", "text,kind\nhi,broadcast\n")
    with pytest.raises(DataError, match="--label-column"):
        read_posts(path)


def test_unknown_labels_list_every_row(tmp_path):
    path = write(tmp_path / "p.csv", "text,label\na,broadcast\nb,spam\nc,conversational\nd,ham\n")
    with pytest.raises(DataError, match=r"row 2, column 'label'.*\['ham', 'spam'\].*rows 2, 4"):
        read_posts(path)


def test_empty_texts_are_an_error_naming_the_rows(tmp_path):
    path = write(tmp_path / "p.csv", "text,label\na,broadcast\n  ,conversational\n")
    with pytest.raises(DataError, match="row 2, column 'text'.*empty post text"):
        read_posts(path)


def test_too_few_posts_of_a_label(tmp_path):
    path = write(
        tmp_path / "p.csv",
        "text,label\n" + "".join(f"n{i},broadcast\n" for i in range(20)) + "hi,conversational\n",
    )
    with pytest.raises(DataError, match="1 posts labelled 'conversational'.*at least 10"):
        read_posts(path, min_per_label=10)


def test_several_files_are_concatenated(tmp_path):
    posts = read_posts([good_csv(tmp_path, "a.csv"), good_csv(tmp_path, "b.csv")])
    assert len(posts) == 48
    assert posts["source_file"].nunique() == 2


def test_format_detection_and_text_column_detection():
    assert detect_format("x.TSV") == "tsv"
    assert detect_format("x.csv.gz") == "csv"
    with pytest.raises(DataError, match="--format"):
        detect_format("x.xlsx")
    assert find_text_column(["id", "ShareCommentary"]) == "ShareCommentary"
    assert find_text_column(["id", "full_text", "user"]) == "full_text"
    with pytest.raises(DataError, match="--text-column"):
        find_text_column(["id", "user"])


def _pandas_rows(path):
    import pandas as pd

    frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False)
    return frame.values.tolist()


@pytest.mark.parametrize(
    "late_line",
    [
        "",  # pyarrow reads the whole file
        "7,short\n",  # a row with too few fields: pandas fills it, after pyarrow's rows
        "   \n",  # a white-space-only line, which pandas skips
        "8,a\r9,b\n",  # a lone carriage return ends a row for both readers
    ],
)
def test_chunks_equal_pandas_rows_whichever_reader_ends_the_file(tmp_path, late_line):
    from postkind.data import iter_table

    lines = [f'{i},"post {i}, with ""quotes""\nand a newline",x\n' for i in range(2_000)]
    lines.insert(1_500, late_line)
    path = write(tmp_path / "posts.csv", "id,text,extra\n" + "".join(lines))
    chunks = list(iter_table(path, chunk_size=300))
    rows = [row for chunk in chunks for row in chunk.values.tolist()]
    assert rows == _pandas_rows(path)
    starts = [chunk.index[0] for chunk in chunks]
    assert starts == sorted(starts) and chunks[-1].index[-1] == len(rows) - 1


def test_malformed_row_after_many_good_rows_names_its_line(tmp_path):
    from postkind.data import iter_table

    body = "".join(f"{i},post {i}\n" for i in range(5_000)) + "5000,one,too many\n"
    path = write(tmp_path / "posts.csv", "id,text\n" + body)
    with pytest.raises(DataError, match=r"line 5002"):
        list(iter_table(path, chunk_size=1_000))


def test_jsonl_records_with_different_keys_line_up_in_every_chunk(tmp_path):
    import json

    from postkind.data import iter_table

    records = [{"id": str(i), "text": f"post {i}"} for i in range(5)]
    records += [{"id": "5", "text": "a reddit post", "subreddit": "news"}]
    records += [{"text": "no id", "id": "6"}]
    path = write(tmp_path / "posts.jsonl", "".join(json.dumps(r) + "\n" for r in records))
    chunks = list(iter_table(path, chunk_size=2))
    assert {tuple(chunk.columns) for chunk in chunks} == {("id", "text", "subreddit")}
    rows = [row for chunk in chunks for row in chunk.values.tolist()]
    assert rows[5] == ["5", "a reddit post", "news"] and rows[6] == ["6", "no id", ""]


def test_malformed_jsonl_record_after_the_first_chunk_names_its_line(tmp_path):
    from postkind.data import iter_table

    body = "".join(f'{{"id": {i}, "text": "post {i}"}}\n' for i in range(10)) + "{oops\n"
    path = write(tmp_path / "posts.jsonl", body)
    with pytest.raises(DataError, match="line 11"):
        list(iter_table(path, chunk_size=3))

"""read_table: formats, sniffing, cleaning and one-line errors."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from distill2rules.data import read_table
from distill2rules.errors import DataError


def _write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)
    return path


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("comma.csv", "age,job,income\n30,clerk,1.5\n41,chef,2.5\n"),
        ("semi.csv", "age;job;income\n30;clerk;1.5\n41;chef;2.5\n"),
        ("tab.tsv", "age\tjob\tincome\n30\tclerk\t1.5\n41\tchef\t2.5\n"),
        ("pipe.txt", "age|job|income\n30|clerk|1.5\n41|chef|2.5\n"),
        ("space.txt", "age job  income\n30 clerk  1.5\n41   chef 2.5\n"),
        ("spaced.csv", " age , job , income \n 30 , clerk , 1.5 \n41,  chef,2.5\n"),
        ("quoted.csv", '"age";"job";"income"\n30;"clerk";1.5\n41;"chef";2.5\n'),
        ("crlf.csv", "age,job,income\r\n30,clerk,1.5\r\n41,chef,2.5\r\n"),
    ],
)
def test_sniffs_delimiter_and_strips(tmp_path: Path, name: str, text: str) -> None:
    df = read_table(_write(tmp_path, name, text))
    assert list(df.columns) == ["age", "job", "income"]
    assert df["age"].tolist() == [30, 41]
    assert df["job"].tolist() == ["clerk", "chef"]
    assert df["income"].tolist() == [1.5, 2.5]


def test_explicit_sep_and_gzip(tmp_path: Path) -> None:
    path = tmp_path / "data.csv.gz"
    path.write_bytes(gzip.compress(b"a;b\n1;x\n2;y\n"))
    df = read_table(path, sep=";")
    assert df.shape == (2, 2)
    assert df["b"].tolist() == ["x", "y"]


def test_quoted_field_with_delimiter_inside(tmp_path: Path) -> None:
    df = read_table(_write(tmp_path, "q.csv", 'name,city\n"Smith, J",Rome\n"Doe, A",Oslo\n'))
    assert df["name"].tolist() == ["Smith, J", "Doe, A"]


@pytest.mark.parametrize("marker", ["?", "NA", "N/A", "", "null", "NaN", " ? "])
def test_missing_markers(tmp_path: Path, marker: str) -> None:
    df = read_table(_write(tmp_path, "m.csv", f"x,c\n1,a\n{marker},{marker}\n3,b\n"))
    assert df["x"].dtype == np.float64
    assert df["x"].isna().tolist() == [False, True, False]
    assert df["c"].isna().tolist() == [False, True, False]


def test_utf8_bom_and_decimal_comma(tmp_path: Path) -> None:
    path = _write(tmp_path, "eu.csv", "\ufeffprice;label\n1,5;x\n-2,25;y\n")
    df = read_table(path)
    assert list(df.columns) == ["price", "label"]
    assert df["price"].tolist() == [1.5, -2.25]


def test_single_column_without_delimiters_is_fine(tmp_path: Path) -> None:
    df = read_table(_write(tmp_path, "one.csv", "city\nNew York\nLos Angeles\n"))
    assert df["city"].tolist() == ["New York", "Los Angeles"]


def test_parquet_round_trip(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {"x": [1.0, np.nan, 3.0], "c": ["a", None, "b"], "flag": [True, False, True]}
    )
    path = tmp_path / "data.parquet"
    frame.to_parquet(path)
    back = read_table(path)
    assert list(back.columns) == ["x", "c", "flag"]
    assert back["x"].isna().tolist() == [False, True, False]
    assert back["c"].tolist()[::2] == ["a", "b"] and pd.isna(back["c"].iloc[1])
    assert back["flag"].tolist() == [True, False, True]


def test_dataframe_is_copied_and_cleaned() -> None:
    original = pd.DataFrame({" a ": [" x ", "?"], "b": [1, 2]})
    out = read_table(original)
    assert list(out.columns) == ["a", "b"]
    assert out["a"].iloc[0] == "x" and pd.isna(out["a"].iloc[1])
    assert original.iloc[0, 0] == " x "  # untouched


# --------------------------------------------------------------------------- errors


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"nope\.csv: not found"):
        read_table(tmp_path / "nope.csv")


def test_empty_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="is empty"):
        read_table(_write(tmp_path, "empty.csv", ""))


def test_header_without_rows(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="has no data rows"):
        read_table(_write(tmp_path, "hdr.csv", "a,b,c\n"))


def test_headerless_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"has no header row: its first line \(1 2.5 -3\)"):
        read_table(_write(tmp_path, "raw.txt", "1 2.5 -3\n4 5 6\n"))


def test_wrong_delimiter(tmp_path: Path) -> None:
    path = _write(tmp_path, "semi.csv", "a;b;c\n1;2;3\n4;5;6\n")
    with pytest.raises(DataError, match=r"single column.*wrong delimiter\? Pass --sep ';'"):
        read_table(path, sep=",")


def test_ragged_file_is_reported(tmp_path: Path) -> None:
    path = _write(tmp_path, "rag.csv", "a,b\n1,2\n3,4,5,6\n")
    with pytest.raises(DataError, match=r"cannot parse .*--sep"):
        read_table(path)


def test_non_utf8_names_offset_and_fix(tmp_path: Path) -> None:
    path = _write(tmp_path, "latin.csv", b"name,city\nJos\xe9,Paris\n")
    with pytest.raises(DataError, match=r"not valid UTF-8: byte 0xe9 at offset 13 \(line 2\)"):
        read_table(path)
    with pytest.raises(DataError, match="--encoding latin-1"):
        read_table(path)
    assert read_table(path, encoding="latin-1")["name"].tolist() == ["José"]


def test_duplicated_columns(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="duplicated column names.*'a'"):
        read_table(_write(tmp_path, "dup.csv", "a,b, a\n1,2,3\n"))
    with pytest.raises(DataError, match="duplicated column names"):
        read_table(pd.DataFrame([[1, 2]], columns=["x", "x"]))


def test_unreadable_parquet(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="cannot read Parquet file"):
        read_table(_write(tmp_path, "bad.parquet", "this is not parquet\n"))

"""The dataset registry on the real UCI files (numbers from /work/shared/datasets/README.md)."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from distill2rules.data import DATASETS, Schema, download_dataset, load_dataset
from distill2rules.data._german import GERMAN_CODES
from distill2rules.data._registry import DATA_ENV_VAR, RemoteFile, _data_home
from distill2rules.errors import DataError

EXPECTED = {
    "breast_cancer": (569, 30, {"benign": 357, "malignant": 212}),
    "adult": (48_842, 14, {"<=50K": 24_720 + 12_435, ">50K": 7_841 + 3_846}),
    "german_credit": (1_000, 20, {"good": 700, "bad": 300}),
    "wine_quality": (
        6_497,
        11,
        {3: 10 + 20, 4: 53 + 163, 5: 681 + 1_457, 6: 638 + 2_198, 7: 199 + 880, 8: 18 + 175, 9: 5},
    ),
    "bank_marketing": (41_188, 20, {"no": 36_548, "yes": 4_640}),
}


def test_registry_has_exactly_the_documented_datasets() -> None:
    assert set(DATASETS) == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_load_shapes_and_class_counts(name: str, with_shared_data: Path) -> None:
    rows, n_features, counts = EXPECTED[name]
    ds = load_dataset(name)
    assert ds.name == name
    assert ds.X.shape == (rows, n_features)
    assert ds.y.value_counts().to_dict() == counts
    assert list(ds.frame.columns) == ds.schema.names + [ds.target]
    assert ds.schema.target == ds.target
    for column in ds.schema.numeric_columns:
        assert ds.frame[column].dtype == np.float64
    for column in ds.schema.categorical_columns:
        assert ds.frame[column].dtype == object
    if ds.positive_class is not None:
        assert ds.positive_class in counts


def test_adult_details(with_shared_data: Path) -> None:
    ds = load_dataset("adult")  # load time is measured in benchmarks, not asserted here
    assert list(ds.X.columns) == [
        "age", "workclass", "fnlwgt", "education", "education-num", "marital-status",
        "occupation", "relationship", "race", "sex", "capital-gain", "capital-loss",
        "hours-per-week", "native-country",
    ]  # fmt: skip
    assert ds.schema.categorical_columns == [
        "workclass", "education", "marital-status", "occupation", "relationship", "race",
        "sex", "native-country",
    ]  # fmt: skip
    missing = ds.X.isna().sum()
    assert missing[missing > 0].to_dict() == {
        "workclass": 1_836 + 963,
        "occupation": 1_843 + 966,
        "native-country": 583 + 274,
    }
    assert ds.X["workclass"].iloc[0] == "State-gov"  # no leading space
    assert ds.positive_class == ">50K"


def test_german_credit_is_decoded(with_shared_data: Path) -> None:
    ds = load_dataset("german_credit")
    assert set(ds.X["checking_status"]) == {
        "< 0 DM", "0 <= ... < 200 DM", ">= 200 DM / salary assignments >= 1 year",
        "no checking account",
    }  # fmt: skip
    assert ds.X["purpose"].value_counts()["radio/television"] == 280
    for column in ds.schema.categorical_columns:
        assert not ds.X[column].str.fullmatch(r"A\d+").any(), column
    assert ds.schema.numeric_columns == [
        "duration_months", "credit_amount", "installment_rate", "residence_since", "age",
        "existing_credits", "num_dependents",
    ]  # fmt: skip
    first = ds.frame.iloc[0]
    assert (first["checking_status"], first["age"], first["credit_risk"]) == (
        "< 0 DM",
        67.0,
        "good",
    )


def test_german_codebook_matches_german_doc(shared_data_dir: Path) -> None:
    doc = gzip.decompress((shared_data_dir / "german_credit/german.doc.gz").read_bytes())
    codes_in_doc = set(re.findall(r"\b(A\d+)\s*:", doc.decode("ascii")))
    codes_in_table = {code for codes in GERMAN_CODES.values() for code in codes}
    assert codes_in_table == codes_in_doc


def test_wine_and_bank_details(with_shared_data: Path) -> None:
    wine = load_dataset("wine_quality")
    assert wine.X.columns[0] == "fixed acidity" and wine.X.columns[-1] == "alcohol"
    assert wine.y.dtype.kind == "i"
    assert wine.positive_class is None
    bank = load_dataset("bank_marketing")
    assert "duration" in bank.X.columns
    assert "leak" in bank.description
    assert (bank.X["default"] == "unknown").sum() == 8_597


def test_registry_checksums_match_shared_files(shared_data_dir: Path) -> None:
    for info in DATASETS.values():
        for remote in info.files:
            raw = gzip.decompress((shared_data_dir / f"{remote.path}.gz").read_bytes())
            assert hashlib.sha256(raw).hexdigest() == remote.sha256, remote.path
            assert remote.url.startswith("https://archive.ics.uci.edu/")


# --------------------------------------------------------------------------- data dir


def test_missing_file_error_names_path_env_and_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(DATA_ENV_VAR, str(tmp_path))
    expected = re.escape(str(tmp_path / "adult" / "adult.data.gz"))
    with pytest.raises(DataError, match=expected):
        load_dataset("adult")
    with pytest.raises(DataError, match="DISTILL2RULES_DATA.*distill2rules data download adult"):
        load_dataset("adult")


def test_default_data_dir_is_user_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    import platformdirs

    monkeypatch.delenv(DATA_ENV_VAR, raising=False)
    assert _data_home(None) == Path(platformdirs.user_cache_dir("distill2rules"))
    monkeypatch.setenv(DATA_ENV_VAR, "/somewhere")
    assert _data_home(None) == Path("/somewhere")
    assert _data_home("/explicit") == Path("/explicit")


def test_argument_beats_env_and_plain_files_work(
    tmp_path: Path, shared_data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(DATA_ENV_VAR, str(tmp_path / "empty"))
    from_arg = load_dataset("german_credit", data_dir=shared_data_dir)
    plain = tmp_path / "plain" / "german_credit"
    plain.mkdir(parents=True)
    raw = gzip.decompress((shared_data_dir / "german_credit/german.data.gz").read_bytes())
    (plain / "german.data").write_bytes(raw)
    from_plain = load_dataset("german_credit", data_dir=tmp_path / "plain")
    pd.testing.assert_frame_equal(from_arg.frame, from_plain.frame)


def test_unknown_name_and_wrong_target(with_shared_data: Path) -> None:
    with pytest.raises(DataError, match="unknown dataset 'adlt'.*breast_cancer, adult"):
        load_dataset("adlt")
    with pytest.raises(DataError, match="has target 'credit_risk', not 'age'"):
        load_dataset("german_credit", target="age")


def test_schema_subset_drops_columns(with_shared_data: Path, tmp_path: Path) -> None:
    full = load_dataset("german_credit").schema
    keep = Schema([f for f in full.features if f.name != "telephone"], target=None)
    keep.save(tmp_path / "schema.json")
    ds = load_dataset("german_credit", schema=tmp_path / "schema.json")
    assert "telephone" not in ds.X.columns and ds.X.shape == (1_000, 19)
    assert ds.schema.target == "credit_risk"


# --------------------------------------------------------------------------- files


def test_load_from_path(tmp_path: Path) -> None:
    path = tmp_path / "loans.csv.gz"
    path.write_bytes(
        gzip.compress(b"income;region;default\n10;north;no\n?;south;yes\n30;south;no\n")
    )
    ds = load_dataset(path, target="default")
    assert ds.name == "loans" and ds.source == str(path)
    assert ds.schema.numeric_columns == ["income"] and ds.schema.categorical_columns == ["region"]
    assert np.isnan(ds.X["income"].iloc[1])
    assert ds.y.tolist() == ["no", "yes", "no"]
    with pytest.raises(DataError, match="needs a target column; available columns: 'income'"):
        load_dataset(path)
    with pytest.raises(DataError, match="has no column 'label'.*'region'"):
        load_dataset(path, target="label")


def test_load_from_path_bad_target(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("x,y\n1,a\n2,\n3,b\n")
    with pytest.raises(DataError, match="target 'y' has 1 missing values"):
        load_dataset(path, target="y")


# --------------------------------------------------------------------------- download (offline)


def _local_copy(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, raw: bytes, sha: str, member: str | None
) -> None:
    """Serve german.data from a file:// URL (as a zip member if ``member``)."""
    source = tmp_path / "server" / ("bundle.zip" if member else "german.data")
    source.parent.mkdir()
    if member:
        with zipfile.ZipFile(source, "w") as archive:
            archive.writestr(member, raw)
    else:
        source.write_bytes(raw)
    remote = RemoteFile("german_credit/german.data", source.as_uri(), sha, member=member)
    info = dataclasses.replace(DATASETS["german_credit"], files=(remote,))
    monkeypatch.setitem(DATASETS, "german_credit", info)


@pytest.mark.parametrize("member", [None, "statlog/german.data"])
def test_download_verifies_and_writes_gzip(
    member: str | None, tmp_path: Path, shared_data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = gzip.decompress((shared_data_dir / "german_credit/german.data.gz").read_bytes())
    _local_copy(monkeypatch, tmp_path, raw, hashlib.sha256(raw).hexdigest(), member)
    cache = tmp_path / "cache"
    monkeypatch.setenv(DATA_ENV_VAR, str(cache))
    ds = load_dataset("german_credit", download=True)
    assert ds.X.shape == (1_000, 20)
    assert gzip.decompress((cache / "german_credit/german.data.gz").read_bytes()) == raw
    assert download_dataset("german_credit") == cache  # second call: nothing to fetch


def test_download_refuses_checksum_mismatch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _local_copy(monkeypatch, tmp_path, b"tampered\n", "0" * 64, None)
    with pytest.raises(DataError, match="has sha256 .* expected 0000"):
        download_dataset("german_credit", data_dir=tmp_path / "cache")
    assert not list((tmp_path / "cache").rglob("*german*"))

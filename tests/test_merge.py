"""`tradeoff-tui merge OUT IN...`: the union without duplicates, the newer of two, idempotent; a foreign,
newer or old input is only read, and a refused one leaves every file as it was."""

from __future__ import annotations

import dataclasses
import hashlib
import sqlite3
from pathlib import Path

import pytest

from engine.store import SCHEMA_VERSION, Store
from tests.test_store import make_record
from tui.cli import main


def _db(path: Path, records) -> Path:
    with Store(path, create=True) as store:
        for r in records:
            store.put(r)
    return path


def _rows(path: Path) -> dict[tuple[str, str], dict]:
    with Store(path) as store:
        return {(r.config.key(), r.env["fingerprint"]): r.to_dict() for r in store.records()}


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def two(tmp_path):
    """A and B overlap on seed 2 (B's newer, with other figures) and hold seed 1 on two fingerprints."""
    newer = dataclasses.replace(
        make_record(2), metrics={"rouge_geo": 0.9}, created="2026-02-01T00:00:00+00:00"
    )
    a = _db(tmp_path / "a.sqlite", [make_record(0), make_record(1), make_record(2)])
    b = _db(tmp_path / "b.sqlite", [newer, make_record(3), make_record(1, fp="other-machine")])
    return a, b, newer


def test_merge_is_the_union_keeps_the_newer_and_changes_nothing_when_repeated(tmp_path, two, capsys):
    a, b, newer = two
    out = tmp_path / "out.sqlite"
    assert main(["merge", str(out), str(a), str(b)]) == 0
    merged = _rows(out)
    assert len(merged) == 5  # seeds 0..3 on one fingerprint, seed 1 on the other: no duplicates
    assert merged.keys() == _rows(a).keys() | _rows(b).keys()
    assert merged[(newer.config.key(), newer.env["fingerprint"])]["metrics"] == {"rouge_geo": 0.9}
    assert "5 records added" in capsys.readouterr().out
    assert main(["merge", str(out), str(a), str(b)]) == 0
    assert _rows(out) == merged
    assert "0 records added, 0 replaced" in capsys.readouterr().out
    other = tmp_path / "other-order.sqlite"  # the newer wins whatever the order
    assert main(["merge", str(other), str(b), str(a)]) == 0
    assert _rows(other) == merged


def test_merge_into_an_existing_database_keeps_its_newer_records(tmp_path, two):
    a, b, newer = two
    assert main(["merge", str(b), str(a)]) == 0
    assert _rows(b)[(newer.config.key(), newer.env["fingerprint"])]["metrics"] == {"rouge_geo": 0.9}
    assert len(_rows(b)) == 5


def _foreign(tmp_path: Path) -> Path:
    path = tmp_path / "foreign.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE records (x)")
    return path


def _newer(tmp_path: Path) -> Path:
    path = _db(tmp_path / "newer.sqlite", [make_record(7)])
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    return path


def _text(tmp_path: Path) -> Path:
    path = tmp_path / "notes.txt"
    path.write_text("not a database\n" * 100)
    return path


@pytest.mark.parametrize("bad", [_foreign, _newer, _text], ids=["foreign", "newer-schema", "not-sqlite"])
def test_a_refused_input_gets_one_line_exit_2_and_every_file_stays_as_it_was(tmp_path, two, bad, capsys):
    a, b, _ = two
    refused = bad(tmp_path)
    out = _db(tmp_path / "out.sqlite", [make_record(9)])
    files = [a, b, refused, out]
    before = {p: _digest(p) for p in files}
    assert main(["merge", str(out), str(a), str(refused), str(b)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(refused) in err
    assert {p: _digest(p) for p in files} == before
    assert len(_rows(out)) == 1


def test_a_schema_1_input_is_read_without_migrating_it(tmp_path, two):
    a, _, _ = two
    with sqlite3.connect(a) as db:  # as schema 1 left it
        db.execute("DROP TABLE claims")
        db.execute("PRAGMA user_version = 1")
    before = _digest(a)
    out = tmp_path / "out.sqlite"
    assert main(["merge", str(out), str(a)]) == 0
    assert _digest(a) == before
    assert len(_rows(out)) == 3


def test_merge_refuses_a_missing_input_and_creates_nothing(tmp_path):
    out = tmp_path / "out.sqlite"
    assert main(["merge", str(out), str(tmp_path / "absent.sqlite")]) == 2
    assert not out.exists()

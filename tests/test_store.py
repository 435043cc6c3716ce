"""The results store: round trips, upserts, resume semantics, foreign files and concurrent writers."""

from __future__ import annotations

import multiprocessing
import os
import signal
import sqlite3
import threading
from pathlib import Path

import pytest

from engine import store as store_module
from engine.config import Budget, RunConfig
from engine.record import Energy, Failure, PhaseResult, Record, Timing
from engine.store import APPLICATION_ID, SCHEMA_VERSION, Store, StoreError, default_db_path, fingerprint

ENV = {"hardware": "test-cpu", "device": "cpu", "torch": "2.9.0", "transformers": "5.24.0"}
FP = fingerprint(ENV)


def make_record(seed: int = 0, *, fp: str = FP, failed: bool = False, created: str = "") -> Record:
    """A complete record built from the dataclasses: every phase, timings, energy, metrics, env."""
    config = RunConfig(
        "led", "tiny", 256 + 64 * (seed % 4), batch_size=4, budget=Budget("steps", 10), seed=seed
    )
    timing = Timing(median_s=0.01, p10_s=0.009, p90_s=0.012, std_s=0.001, repetitions=7, window_s=0.5)
    energy = Energy(
        joules=1.5, above_idle_j=0.5, source="estimate", avg_power_w=30.0, idle_power_w=20.0, seconds=0.05
    )
    phases = (
        PhaseResult("train", 1.25, timing, energy, 120.0, "sliding", {"steps": 10.0, "loss": 4.5}),
        PhaseResult("infer", 0.5, timing, energy, 80.0, "sliding", {"tokens_per_s": 900.0}),
        PhaseResult("eval", 0.75, None, None, 70.0, "sliding", {"samples": 4.0}),
    )
    return Record(
        config=config,
        dims={"d_model": 64, "encoder_layers": 2, "n_params": 123456},
        padded_len=config.input_len,
        batch_size=4,
        phases=phases,
        metrics={"rouge_geo": 0.1 + seed / 1000, "f1": 0.2},
        env={**ENV, "fingerprint": fp},
        failure=Failure("train", "oom", "CUDA out of memory") if failed else None,
        created=created or f"2026-01-01T00:00:{seed % 60:02d}+00:00",
    )


def row_count(path: Path) -> int:
    with sqlite3.connect(path) as db:
        return db.execute("SELECT count(*) FROM records").fetchone()[0]


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "results" / "results.sqlite"


def test_round_trip_and_reopen(db_path: Path) -> None:
    records = [make_record(i) for i in range(3)]
    with Store(db_path, create=True) as store:
        for r in reversed(records):
            store.put(r)
        assert store.records() == records  # oldest first
        assert store.records(fingerprint=FP) == records
        assert store.records(fingerprint="other") == []
        assert store.records(keys=[records[1].config.key()]) == [records[1]]
        assert store.records(keys=[]) == []
    with Store(db_path) as store:
        assert store.records() == records
        assert all(store.has(r.config.key(), FP) for r in records)


def test_upsert_replaces_and_failures_are_retried(db_path: Path) -> None:
    failed, ok = make_record(1, failed=True), make_record(1)
    key = ok.config.key()
    with Store(db_path, create=True) as store:
        store.put(failed)
        assert store.records() == [failed]
        assert not store.has(key, FP)  # a failed record does not count as measured
        store.put(ok)
        assert store.records() == [ok]
        assert store.has(key, FP)
        assert not store.has(key, "another-fingerprint")
    assert row_count(db_path) == 1


def test_same_config_on_two_fingerprints_is_two_rows(db_path: Path) -> None:
    a, b = make_record(2, fp="fp-a"), make_record(2, fp="fp-b")
    with Store(db_path, create=True) as store:
        store.put(a)
        store.put(b)
        assert store.records(fingerprint="fp-b") == [b]
        assert len(store.records()) == 2


def test_filters_and_delete_across_chunks(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_module, "_CHUNK", 3)
    records = [make_record(i) for i in range(10)]
    other = make_record(0, fp="fp-other")
    with Store(db_path, create=True) as store:
        for r in [*records, other]:
            store.put(r)
        keys = [r.config.key() for r in records[:7]]
        assert store.records(fingerprint=FP, keys=keys + keys[:2]) == records[:7]
        assert store.delete(keys, FP) == 7
        assert store.records(fingerprint=FP) == records[7:]
        assert store.records(fingerprint="fp-other") == [other]


def test_put_requires_a_fingerprint(db_path: Path) -> None:
    record = make_record(0)
    bare = Record(record.config, record.dims, record.padded_len, record.batch_size, env=dict(ENV))
    with Store(db_path, create=True) as store, pytest.raises(ValueError, match="fingerprint"):
        store.put(bare)


def test_fingerprint() -> None:
    assert fingerprint(ENV) == fingerprint({**ENV, "python": "3.11.7", "git_commit": "abc"})
    for k in ("hardware", "device", "torch", "transformers"):
        assert fingerprint({**ENV, k: "changed"}) != fingerprint(ENV)


def test_schema_identity(db_path: Path) -> None:
    Store(db_path, create=True).close()
    with sqlite3.connect(db_path) as db:
        assert db.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        meta = dict(db.execute("SELECT name, value FROM meta"))
    assert meta["schema_version"] == str(SCHEMA_VERSION)


def test_opening_without_create_never_creates(tmp_path: Path) -> None:
    path = tmp_path / "missing" / "results.sqlite"
    with pytest.raises(StoreError, match="no results database"):
        Store(path)
    assert not path.parent.exists()


def test_default_path_is_lazy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    path = default_db_path()
    assert path == tmp_path / "tradeoff-tui" / "results.sqlite"
    assert not path.parent.exists()


def test_an_empty_file_is_created_only_when_asked(tmp_path: Path) -> None:
    path = tmp_path / "empty.sqlite"
    path.touch()
    with pytest.raises(StoreError):
        Store(path)
    assert path.read_bytes() == b""
    with Store(path, create=True) as store:
        store.put(make_record(0))
        assert len(store.records()) == 1


def _sqlite_with_tables(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
        db.execute("INSERT INTO users (name) VALUES ('ada')")
    db.close()


def _sqlite_with_other_application_id(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA application_id = 1234")
        db.execute("CREATE TABLE records (key TEXT)")
    db.close()


def _ours_but_newer(path: Path) -> None:
    Store(path, create=True).close()
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()


FOREIGN = {
    "text": lambda p: p.write_text("key,value\nnot,a database\n"),
    "short-text": lambda p: p.write_text("hi"),
    "binary": lambda p: p.write_bytes(bytes(range(256)) * 20),
    "sqlite-other-tables": _sqlite_with_tables,
    "sqlite-other-application": _sqlite_with_other_application_id,
    "ours-newer-schema": _ours_but_newer,
}


@pytest.mark.parametrize("create", [False, True], ids=["read", "create"])
@pytest.mark.parametrize("kind", FOREIGN)
def test_foreign_files_are_refused_and_left_untouched(tmp_path: Path, kind: str, create: bool) -> None:
    path = tmp_path / "foreign.sqlite"
    FOREIGN[kind](path)
    before = path.read_bytes()
    listing = sorted(os.listdir(tmp_path))
    with pytest.raises(StoreError) as err:
        Store(path, create=create)
    message = str(err.value)
    assert "\n" not in message and str(path) in message
    if kind == "ours-newer-schema":
        assert "newer" in message
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == listing


def test_a_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="folder"):
        Store(tmp_path, create=True)


def test_threads_can_share_a_store(db_path: Path) -> None:
    with Store(db_path, create=True) as store:
        threads = [
            threading.Thread(target=lambda i=i: [store.put(make_record(10 * i + j)) for j in range(10)])
            for i in range(4)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(store.records()) == 40


def _put_then_die(path: str) -> None:
    with Store(path, create=True) as store:
        store.put(make_record(7))
    store = Store(path)
    store.put(make_record(8))
    os.kill(os.getpid(), signal.SIGKILL)  # no close, no checkpoint


def test_a_put_survives_a_kill(db_path: Path) -> None:
    child = multiprocessing.get_context("spawn").Process(target=_put_then_die, args=(str(db_path),))
    child.start()
    child.join(60)
    assert child.exitcode == -signal.SIGKILL
    with Store(db_path) as store:
        assert store.records() == [make_record(7), make_record(8)]


def _writer(path: str, first: int, start: multiprocessing.synchronize.Event) -> None:
    start.wait(30)
    with Store(path, create=True) as store:
        for i in range(first, first + 50):
            store.put(make_record(i))
        for i in range(1000, 1010):  # both writers put these: upserts of the same rows
            store.put(make_record(i))


def test_two_writer_processes_lose_nothing(db_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Event()
    writers = [ctx.Process(target=_writer, args=(str(db_path), first, start)) for first in (0, 100)]
    for w in writers:
        w.start()
    start.set()
    for w in writers:
        w.join(120)
    assert [w.exitcode for w in writers] == [0, 0]
    expected = [*range(50), *range(100, 150), *range(1000, 1010)]
    with Store(db_path) as store:
        got = store.records()
        keys = [r.config.key() for r in got]
        assert len(keys) == len(set(keys)) == len(expected)
        assert sorted(keys) == sorted(make_record(i).config.key() for i in expected)
        assert all(store.has(k, FP) for k in keys)
    assert row_count(db_path) == len(expected)
    with sqlite3.connect(db_path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.close()


def test_a_schema_1_database_is_migrated_and_keeps_its_records(db_path: Path) -> None:
    """A database written before claims existed: opened, it gains the claims table and schema 2."""
    with Store(db_path, create=True) as store:
        store.put(make_record(1))
    with sqlite3.connect(db_path) as db:  # as schema 1 left it
        db.execute("DROP TABLE claims")
        db.execute("PRAGMA user_version = 1")
        db.execute("UPDATE meta SET value = '1' WHERE name = 'schema_version'")
    with Store(db_path) as store:
        assert [r.config.seed for r in store.records()] == [1]
    with sqlite3.connect(db_path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 2
        assert dict(db.execute("SELECT name, value FROM meta"))["schema_version"] == "2"
        assert db.execute("SELECT count(*) FROM claims").fetchone()[0] == 0


def test_claims_are_exclusive_until_released_stored_or_their_owner_is_gone(db_path: Path) -> None:
    from engine.claims import Claimant

    since = "2026-01-01T00:00:00+00:00"
    a, b = Claimant(), Claimant()
    with Store(db_path, create=True) as store:
        assert store.claim("k", FP, a, since) == "mine"
        assert store.claim("k", FP, a, since) == "mine"  # already ours
        assert store.claim("k", FP, b, since) == "busy"
        assert store.claim("k", "other-fp", b, since) == "mine"  # one claim per fingerprint
        store.release(a, "k")
        assert store.claim("k", FP, b, since) == "mine"
        # a claim of a process of this host that is gone stands no more, whatever its lease says
        proc = multiprocessing.get_context("spawn").Process(target=int)
        proc.start()
        proc.join()
        dead = Claimant(pid=proc.pid, started=0.0)
        assert store.claim("j", FP, dead, since) == "mine"
        assert store.claim("j", FP, a, since) == "mine"
        # stored ok: done; stored failed before the sweep began: retried; after: done
        record = make_record(2)
        store.put(record)
        assert store.claim(record.config.key(), FP, a, since) == "done"
        failed = make_record(3, failed=True, created="2026-01-01T00:00:03+00:00")
        store.put(failed)
        assert store.claim(failed.config.key(), FP, a, "2026-01-01T00:00:04+00:00") == "mine"
        assert store.claim(failed.config.key(), FP, b, "2026-01-01T00:00:02+00:00") == "done"


def test_a_new_version_of_the_synthetic_task_is_another_configuration(monkeypatch):
    """Records of an earlier synthetic task are not resumed as measurements of today's."""
    from engine.tasks import synthetic

    ours, scrolls = RunConfig("led", "tiny", 128), RunConfig("led", "tiny", 128, task="qasper")
    before = ours.key(), scrolls.key()
    monkeypatch.setattr(synthetic, "VERSION", synthetic.VERSION + 1)
    assert ours.key() != before[0] and scrolls.key() == before[1]

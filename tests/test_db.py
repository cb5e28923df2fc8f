"""callscope.db: SQLite engines queue their writers in-process (SqliteWriteLock)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import event, text

from callscope.db import make_engine


def _table(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, writer INTEGER, n INTEGER)"))
    engine.dispose()


def test_a_second_writer_waits_for_the_first_to_commit_before_reaching_sqlite(tmp_path: Path) -> None:
    """While one connection's write transaction is open, another thread's write waits on the
    process's lock (it never reaches SQLite, whose busy handler would poll in growing sleeps)
    and goes through as soon as the first commits."""
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    _table(url)
    engine = make_engine(url)
    reached: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda conn, cur, statement, *a: reached.append(statement))
    first_wrote, commit = threading.Event(), threading.Event()

    def first() -> None:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO t (writer, n) VALUES (1, 1)"))
            first_wrote.set()
            commit.wait(10)

    def second() -> None:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO t (writer, n) VALUES (2, 2)"))

    a = threading.Thread(target=first)
    a.start()
    assert first_wrote.wait(10)
    b = threading.Thread(target=second)
    b.start()
    b.join(0.3)
    assert b.is_alive() and not any("(2, 2)" in s for s in reached)
    commit.set()
    a.join(10)
    b.join(10)
    assert [s for s in reached if s.startswith("INSERT")][-1].endswith("(2, 2)")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT writer FROM t ORDER BY writer")).scalars().all() == [1, 2]


def test_concurrent_writers_all_commit(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    _table(url)
    engine = make_engine(url)
    errors: list[BaseException] = []

    def writer(k: int) -> None:
        try:
            for n in range(10):
                with engine.begin() as conn:
                    conn.execute(text("INSERT INTO t (writer, n) VALUES (:k, :n)"), {"k": k, "n": n})
                    conn.execute(text("UPDATE t SET n = n + 100 WHERE writer = :k AND n = :n"), {"k": k, "n": n})
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT writer, n FROM t ORDER BY writer, n")).all()
    assert rows == [(k, n + 100) for k in range(8) for n in range(10)]


def test_rolled_back_and_read_only_transactions_release_the_lock(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    _table(url)
    engine = make_engine(url, busy_timeout_s=0.5)
    with pytest.raises(RuntimeError), engine.begin() as conn:
        conn.execute(text("INSERT INTO t (writer, n) VALUES (1, 1)"))
        raise RuntimeError("the handler failed")
    with engine.connect() as conn:  # a read, then the connection goes back to the pool
        assert conn.execute(text("SELECT count(*) FROM t")).scalar() == 0
    conn = engine.connect()  # a write left uncommitted: closing the connection gives the lock back
    conn.execute(text("INSERT INTO t (writer, n) VALUES (2, 2)"))
    conn.close()
    done = threading.Event()

    def write() -> None:
        with engine.begin() as other:
            other.execute(text("INSERT INTO t (writer, n) VALUES (3, 3)"))
        done.set()

    thread = threading.Thread(target=write)
    thread.start()
    assert done.wait(5), "the write lock was not released"
    thread.join()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT writer FROM t")).scalars().all() == [3]

"""core.memos: a session's memos are forgotten on every change it could see, and `wrote` says whether its
transaction has written, until the transaction (not a savepoint) ends."""
from __future__ import annotations

from sqlalchemy import insert, select, text, update

from minqing.core import memos
from minqing.core.models import Account


def test_a_memo_is_forgotten_on_a_flush_a_write_and_the_end_of_a_transaction(session):
    def remembered() -> bool:
        return memos.of(session, "test").get("key") is not None

    memos.of(session, "test")["key"] = 1
    session.execute(select(Account.id)).all()
    assert remembered()                                         # a query changes nothing
    session.add(Account(username="memo_a", display_name="memo_a"))
    session.flush()
    assert not remembered()
    memos.of(session, "test")["key"] = 1
    session.execute(update(Account).where(Account.username == "memo_a").values(display_name="甲"))
    assert not remembered()
    memos.of(session, "test")["key"] = 1
    session.rollback()
    assert not remembered()


def test_wrote_holds_from_the_first_write_until_the_transaction_ends(session):
    assert not memos.wrote(session)
    session.execute(select(Account.id)).all()
    session.execute(text("SELECT 1")).all()
    session.execute(text("  with t as (select 1 as x) select x from t")).all()
    assert not memos.wrote(session)                             # reading is not writing
    session.add(Account(username="memo_b", display_name="memo_b"))
    assert not memos.wrote(session)                             # pending, not yet written
    session.flush()
    assert memos.wrote(session)
    session.commit()
    assert not memos.wrote(session)
    session.execute(insert(Account), [{"username": "memo_c", "display_name": "memo_c"}])
    assert memos.wrote(session)
    session.rollback()
    assert not memos.wrote(session)
    session.execute(text("UPDATE accounts SET display_name = '乙' WHERE username = 'memo_b'"))
    assert memos.wrote(session)
    session.rollback()


def test_the_end_of_a_savepoint_leaves_the_outer_transactions_writes_marked(session):
    session.add(Account(username="memo_d", display_name="memo_d"))
    session.flush()
    with session.begin_nested():
        session.execute(select(Account.id)).all()
    assert memos.wrote(session)
    session.rollback()
    assert not memos.wrote(session)
    with session.begin_nested():
        session.add(Account(username="memo_e", display_name="memo_e"))
    assert memos.wrote(session)                                 # the savepoint's write is the transaction's
    session.rollback()

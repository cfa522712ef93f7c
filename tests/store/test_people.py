"""Store: who signed in (migration 14), for an admin's Usage page, on SQLite and PostgreSQL."""

from __future__ import annotations

from lib.people.access import Person
from lib.store import people
from lib.store.database import MIGRATIONS, Store
from tests.store_versions import store_at_version

pytest_plugins = ("tests.store_fixtures",)

ALICE = Person(owner="https://id.example alice", email="alice@example.com", name="Alice Liddell")


def test_a_sign_in_is_noted_and_a_later_one_updates_address_and_name_but_not_the_first_time(store: Store) -> None:
    people.remember(store, ALICE, now=100.0)
    people.remember(store, Person(ALICE.owner, "alice@new.example", "Alice L."), now=200.0)
    with store._transaction(write=False) as conn:
        row = conn.execute(people.people.select()).mappings().one()
    assert (row["email"], row["name"], row["first_seen"], row["last_seen"]) == ("alice@new.example", "Alice L.", 100.0, 200.0)


def test_people_are_named_by_address_else_name_else_their_owner_id(store: Store) -> None:
    people.remember(store, ALICE)
    people.remember(store, Person("https://id.example bob", "", "Bob Builder"))
    people.remember(store, Person("https://id.example 42", "", ""))
    assert people.names(store) == {
        ALICE.owner: "alice@example.com", "https://id.example bob": "Bob Builder",
        "https://id.example 42": "https://id.example 42",
    }


def test_noting_is_the_same_for_every_owner_view_of_the_store(store: Store) -> None:
    # The table is the deployment's, not a person's: an admin's page reads it whole.
    people.remember(store.for_owner(ALICE.owner), ALICE)
    assert ALICE.owner in people.names(store.for_owner("someone else"))


def test_migration_14_adds_the_table_to_an_older_database(store_url: str) -> None:
    old = store_at_version(store_url, 13)
    assert old.schema_version() == 13
    old.close()
    new = Store(store_url)
    assert new.schema_version() == MIGRATIONS[-1].number >= 14
    people.remember(new, ALICE)
    assert people.names(new) == {ALICE.owner: "alice@example.com"}
    new.close()

"""Read-only share links (#14 item 4) in the store, on SQLite and (with CHAT_TEST_PG_URL) on PostgreSQL."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import update

import lib.store.database as store_module
from lib.chat.conversation import Conversation
from lib.chat.usage import format_time
from lib.errors import ShareNotFoundError, StoreError
from lib.store.database import MIGRATIONS, Store
from lib.store.shares import (
    DAY,
    EXPIRY_CHOICES,
    expiry_text,
    is_expired,
    open_share,
    share_address,
    share_comparison,
    share_conversation,
)
from tests.comparison_samples import BIG, SMALL, make_comparison
from tests.image_samples import photo
from tests.store.test_database import write_as_version

pytest_plugins = ("tests.store_fixtures",)


def chat_with_a_photo() -> Conversation:
    chat = Conversation(system_prompt="Be brief.", model="google/gemma-3-27b-it", title="Trip photos")
    chat.add_user("What is in this photo?", images=(photo("holiday.jpg"),))
    chat.add_reply("A gradient with some noise.")
    return chat


def test_a_shared_conversation_opens_as_it_was_with_its_images(store: Store) -> None:
    chat = chat_with_a_photo()
    store.save(chat)
    share = share_conversation(store, chat)
    # Going on, renaming and deleting the chat leaves the snapshot as it was.
    chat.add_user("and later?")
    store.save(chat)
    store.rename(chat.id, "Renamed")
    store.delete(chat.id)

    shown = open_share(store, share.token)
    assert shown.comparison is None and shown.conversation is not None
    assert [m.content for m in shown.conversation.path()] == ["What is in this photo?", "A gradient with some noise."]
    assert shown.conversation.path()[0].images == (photo("holiday.jpg"),)  # byte for byte
    assert shown.share.title == "Trip photos" and shown.share.kind == "conversation"
    assert shown.share.source_id == chat.id and shown.share.expires is None
    assert chat.system_prompt and shown.conversation.system_prompt == ""


def test_a_shared_comparison_opens_with_every_column_and_vote(store: Store) -> None:
    comparison = make_comparison(1, setups=(BIG, SMALL), images=(photo(),))
    comparison.title = "Fruit, two ways"
    store.save_comparison(comparison)
    share = share_comparison(store, comparison, EXPIRY_CHOICES["7 days"])
    shown = open_share(store, share.token)
    assert shown.conversation is None and shown.comparison is not None
    # Every column and vote as it was, but the owner's system prompts are not the viewer's to read.
    assert [s.system_prompt for s in comparison.setups] == ["Be brief.", "Be brief."]
    assert [s.system_prompt for s in shown.comparison.setups] == ["", ""]
    assert all(t.system_prompt == "" for t in shown.comparison.threads)
    assert [t.path() for t in shown.comparison.threads] == [t.path() for t in comparison.threads]
    assert shown.comparison.votes == comparison.votes
    assert shown.comparison.threads[0].path()[0].images == (photo(),)
    assert shown.share.title == "Fruit, two ways" and shown.share.kind == "comparison"
    assert 7 * DAY - 60 < shown.share.expires - shown.share.created <= 7 * DAY


def test_tokens_are_long_random_and_never_the_same(store: Store) -> None:
    chat = chat_with_a_photo()
    tokens = {share_conversation(store, chat).token for _ in range(20)}
    assert len(tokens) == 20
    for token in tokens:
        assert len(token) >= 43  # 256 bits of secrets.token_urlsafe
        assert chat.id not in token
    with pytest.raises(ShareNotFoundError):
        open_share(store, next(iter(tokens))[:-1])


def test_unknown_revoked_and_expired_links_read_the_same(store: Store) -> None:
    chat = chat_with_a_photo()
    revoked = share_conversation(store, chat)
    assert store.revoke_share(revoked.token)
    assert not store.revoke_share(revoked.token)  # once
    expired = share_conversation(store, chat, EXPIRY_CHOICES["1 day"])
    assert open_share(store, expired.token).conversation is not None
    with pytest.raises(ShareNotFoundError):
        store.shared_snapshot(expired.token, now=time.time() + DAY + 1)
    messages = []
    for token in ("no-such-token", "", revoked.token):
        with pytest.raises(ShareNotFoundError) as caught:
            open_share(store, token)
        messages.append(str(caught.value))
    assert len(set(messages)) == 1
    # A revoked link keeps no copy of what it showed.
    with store._transaction(write=False) as conn:
        kept = conn.execute(store_module.select(store_module.shares.c.snapshot)
                            .where(store_module.shares.c.token == revoked.token)).scalar_one()
    assert kept == ""


def test_an_expired_link_is_not_found_when_its_time_has_passed(store: Store) -> None:
    share = share_conversation(store, chat_with_a_photo(), EXPIRY_CHOICES["30 days"])
    with store._transaction(write=True) as conn:
        conn.execute(update(store_module.shares).values(expires=time.time() - 1))
    with pytest.raises(ShareNotFoundError):
        open_share(store, share.token)
    assert [s.token for s in store.list_shares()] == [share.token]  # listed, as expired
    [listed] = store.list_shares()
    assert is_expired(listed) and expiry_text(listed).startswith("Expired ")
    assert expiry_text(listed) == f"Expired {format_time(listed.expires)}"


def test_the_owner_lists_their_links_newest_first_without_the_revoked(store: Store) -> None:
    chat = chat_with_a_photo()
    first = share_conversation(store, chat)
    second = share_comparison(store, make_comparison(1, setups=(BIG, SMALL)))
    third = share_conversation(store, chat, EXPIRY_CHOICES["1 day"])
    store.revoke_share(second.token)
    listed = store.list_shares()
    assert [s.token for s in listed] == [third.token, first.token]
    assert [expiry_text(s) for s in listed][1] == "Never expires"
    assert expiry_text(listed[0]).startswith("Expires ") and not is_expired(listed[0])


def test_another_owner_can_neither_list_nor_revoke_a_link(store: Store) -> None:
    share = share_conversation(store, chat_with_a_photo())
    bob = store.for_owner("https://issuer.example bob")
    assert bob.list_shares() == []
    assert not bob.revoke_share(share.token)
    assert share_conversation(bob, chat_with_a_photo()).owner == "https://issuer.example bob"
    assert [s.token for s in store.list_shares()] == [share.token]
    # Anyone holding the token sees the snapshot: that is what a link is for.
    assert open_share(bob, share.token).conversation is not None
    assert store.list_shares()[0].owner == store.owner


def test_a_damaged_snapshot_says_so(store: Store) -> None:
    share = share_conversation(store, chat_with_a_photo())
    with store._transaction(write=True) as conn:
        conn.execute(update(store_module.shares).values(snapshot='{"format": "gemma-chat", "version": 1}'))
    with pytest.raises(StoreError, match="damaged"):
        open_share(store, share.token)


@pytest.mark.parametrize(("page_url", "page_path", "expected"), [
    ("http://localhost:8501/", "", "http://localhost:8501/Shared?token=abc"),
    ("http://localhost:8501/History", "History", "http://localhost:8501/Shared?token=abc"),
    ("https://chat.example.com/gemma/History/", "History", "https://chat.example.com/gemma/Shared?token=abc"),
    ("https://chat.example.com/gemma", "", "https://chat.example.com/gemma/Shared?token=abc"),
])
def test_the_link_is_made_from_the_owners_own_address(page_url: str, page_path: str, expected: str) -> None:
    assert share_address(page_url, page_path, "abc") == expected


def test_a_token_with_any_character_survives_the_address() -> None:
    link = share_address("http://h/", "", "a-b_c")
    assert parse_qs(urlsplit(link).query) == {"token": ["a-b_c"]}


def test_migration_11_adds_share_links_to_a_version_8_database(store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    kept = Conversation(system_prompt="", model="google/gemma-3-27b-it", title="Kept")  # without images:
    kept.add_user("hello")  # write_as_version writes no image rows
    kept.add_reply("hi")
    write_as_version(store_url, 8, monkeypatch, kept)
    new = Store(store_url)
    try:
        assert new.schema_version() == MIGRATIONS[-1].number >= 11
        share = share_conversation(new, new.load(kept.id))
        assert open_share(new, share.token).conversation.to_dict() == new.load(kept.id).to_dict()
        assert new.list_shares()[0].owner == "local"
    finally:
        new.close()

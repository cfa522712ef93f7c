"""Share links (#14 item 4) on the pages, driven by Streamlit's AppTest: the read-only page a link
opens, and History's Share buttons and Shared links list."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from lib.chat.conversation import Conversation
from lib.chat.usage import Cost
from lib.experiments.compare import Setup
from lib.store.database import Store
from lib.store.shares import DAY, share_comparison, share_conversation
from tests.comparison_samples import BIG, SMALL, make_comparison
from tests.conftest import isolate_env
from tests.image_samples import photo
from tests.samples import stats

ROOT = Path(__file__).resolve().parent
PAGE = str(ROOT.parent / "pages" / "9_Shared.py")
APP = str(ROOT.parent / "app.py")


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    isolate_env(monkeypatch, tmp_path, CHAT_HISTORY="on")
    monkeypatch.delenv("CHAT_DB_URL", raising=False)
    store = Store(f"sqlite:///{tmp_path / 'chats.sqlite3'}")
    yield store
    store.close()


def chat() -> Conversation:
    conversation = Conversation(system_prompt="The secret plan.", model="google/gemma-3-27b-it", title="Trip photos")
    conversation.add_user("What is in this photo?", images=(photo("holiday.jpg"),))
    conversation.add_reply("A gradient with **some** noise.", stats=stats(12, 34, Cost(0.0042, "reported")))
    return conversation


def open_link(token: str | None) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=30)
    if token is not None:
        at.query_params["token"] = token
    at.run()
    assert not at.exception, at.exception
    return at


def html_of(at: AppTest) -> str:
    return "\n".join(e.proto.body for e in at.get("html"))


def test_a_link_shows_the_transcript_read_only_with_its_images_and_when_it_was_taken(db: Store) -> None:
    conversation = chat()
    db.save(conversation)
    share = share_conversation(db, conversation)
    at = open_link(share.token)
    assert at.title[0].value == "Trip photos"
    assert "A read-only snapshot, taken" in at.info[0].value and "UTC" in at.info[0].value
    body = html_of(at)
    assert "What is in this photo?" in body and "<strong>some</strong>" in body
    assert 'class="gc-image" src="data:image/' in body  # the photo, inside the page
    assert 'class="gc-figures"' in body and "$0.0042" in body  # the reply's figures
    # Nothing to change anything with, nothing of the owner's beyond the chat: no sidebar at all.
    assert not at.chat_input and not at.button and not at.text_input and not at.selectbox
    assert not at.sidebar.children
    assert "The secret plan." not in body


def test_a_shared_comparison_shows_its_columns_without_controls(db: Store) -> None:
    comparison = make_comparison(1, setups=(BIG, SMALL), images=(photo(),))
    comparison.title = "Fruit, two ways"
    db.save_comparison(comparison)
    at = open_link(share_comparison(db, comparison, DAY).token)
    assert at.title[0].value == "Fruit, two ways"
    shown = "\n".join(m.value for m in at.markdown)
    first_row = comparison.rows()[0]
    assert all(cell.reply.content.split()[0] in shown for cell in first_row if cell and cell.reply)
    assert at.get("image")  # the question's photo
    captions = "\n".join(c.value for c in at.caption)
    assert "Voted: A" in captions and "You voted" not in captions  # the viewer did not vote
    assert not at.chat_input and not at.button and not at.sidebar.children


def test_a_shared_comparison_shows_no_system_prompt_not_even_in_its_column_names(db: Store) -> None:
    secret = Setup("google/gemma-3-27b-it", "You are a helpful assistant with our secret launch plan.")
    comparison = make_comparison(1, setups=(secret, SMALL))
    db.save_comparison(comparison)
    at = open_link(share_comparison(db, comparison).token)
    shown = "\n".join(e.value for e in [*at.markdown, *at.caption, *at.title, *at.info])
    assert "A · Gemma 3 27B" in shown  # the column still names its model
    assert "You are a helpful" not in shown and "Be brief" not in shown


@pytest.mark.parametrize("case", ["unknown", "revoked", "expired", "missing"])
def test_unknown_revoked_expired_and_missing_tokens_show_the_same_plain_not_found(db: Store, case: str) -> None:
    conversation = chat()
    share = share_conversation(db, conversation, -1.0 if case == "expired" else None)
    if case == "revoked":
        db.revoke_share(share.token)
    token = {"unknown": "x" * 43, "missing": None}.get(case, share.token)
    at = open_link(token)
    assert [t.value for t in at.title] == ["Not found"]
    assert [m.value for m in at.markdown] == ["Nothing is shared at this address."]
    assert not at.info and not at.get("html") and not at.button and not at.sidebar.children


def test_history_shares_a_conversation_lists_the_link_and_revokes_it(db: Store) -> None:
    conversation = chat()
    db.save(conversation)
    at = AppTest.from_file(APP, default_timeout=30).run()
    at.switch_page("pages/1_History.py").run()
    assert "No shared links." in "\n".join(c.value for c in at.caption)
    at.session_state["history_share_open"] = True  # the Share popover, opened
    at.run()
    assert at.selectbox(key="history_share_expiry").value == "30 days"  # a forgotten link ends on its own
    assert "Never" in at.selectbox(key="history_share_expiry").options
    at.selectbox(key="history_share_expiry").set_value("7 days")
    at.button(key="history_share_make").click().run()
    assert not at.exception, at.exception
    [share] = db.list_shares()
    assert share.title == "Trip photos" and share.expires is not None
    links = [c.value for c in at.code if share.token in c.value]
    assert links and all(link.endswith(f"/Shared?token={share.token}") for link in links)
    assert any(m.value.startswith("**Trip photos**") for m in at.markdown)

    at.button(key=f"revoke-{share.token}").click().run()
    assert not at.exception, at.exception
    assert [s.token for s in db.list_shares()] == [share.token]  # asked first: not revoked yet
    at.button(key=f"revoke-keep-{share.token}").click().run()
    assert [s.token for s in db.list_shares()] == [share.token]
    assert f"revoke-sure-{share.token}" not in [b.key for b in at.button]
    at.button(key=f"revoke-{share.token}").click().run()
    at.button(key=f"revoke-sure-{share.token}").click().run()
    assert not at.exception, at.exception
    assert db.list_shares() == []
    assert "it shows not-found now" in at.success[0].value
    assert open_link(share.token).title[0].value == "Not found"


def test_an_expired_link_is_listed_as_expired_without_its_address_and_can_be_removed(db: Store) -> None:
    share = share_conversation(db, chat(), -DAY)
    at = AppTest.from_file(APP, default_timeout=30).run()
    at.switch_page("pages/1_History.py").run()
    captions = "\n".join(c.value for c in at.caption)
    assert "Expired " in captions and "expires expired" not in captions
    assert not [c for c in at.code if share.token in c.value]  # nothing to copy: the link shows not-found
    at.button(key=f"revoke-{share.token}").click().run()
    at.button(key=f"revoke-sure-{share.token}").click().run()
    assert db.list_shares() == [] and "No shared links." in "\n".join(c.value for c in at.caption)


def test_the_share_popover_shows_the_link_it_made_first(db: Store) -> None:
    conversation = chat()
    db.save(conversation)
    at = AppTest.from_file(APP, default_timeout=30).run()
    at.switch_page("pages/1_History.py").run()
    at.session_state["history_share_open"] = True
    at.run()
    at.button(key="history_share_make").click().run()
    [share] = db.list_shares()
    link = next(i for i, c in enumerate(at.main) if c.type == "code" and share.token in c.value)
    form = next(i for i, c in enumerate(at.main) if c.type == "selectbox" and c.key == "history_share_expiry")
    assert link < form  # the link is on top, where a short popover still shows it

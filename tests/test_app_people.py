"""Pages without sign-in (#14): one local person, who is the admin; a server open to the network says so."""

from __future__ import annotations

import pytest
import streamlit as st
from streamlit import config
from streamlit.testing.v1 import AppTest

from lib.api.fake_api import FakeAPI
from tests.apptest_helpers import ROOT

PAGES = ("app.py", "pages/1_History.py", "pages/2_Compare.py", "pages/3_Leaderboard.py", "pages/4_Lab.py", "pages/5_Usage.py")
SHARED = "Anyone who can reach this server can read, change and delete every saved chat."


def run_page(page: str) -> AppTest:
    st.cache_resource.clear()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30).run()
    if page != "app.py":
        at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def warnings(at: AppTest) -> list[str]:
    return [w.value for w in at.warning]


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("address", ["", "0.0.0.0", "192.168.1.20"])  # noqa: S104 - what the page is told, not bound
def test_every_page_warns_when_the_server_listens_beyond_loopback_without_sign_in(
    app_env: FakeAPI, page: str, address: str
) -> None:
    config.set_option("server.address", address)
    at = run_page(page)
    assert sum(SHARED in w for w in warnings(at)) == 1
    assert "--server.address 127.0.0.1" in next(w for w in warnings(at) if SHARED in w)


@pytest.mark.parametrize("page", PAGES)
def test_no_warning_on_loopback_or_with_history_off(app_env: FakeAPI, page: str, monkeypatch: pytest.MonkeyPatch) -> None:
    config.set_option("server.address", "localhost")
    assert not any(SHARED in w for w in warnings(run_page(page)))
    config.set_option("server.address", "")
    monkeypatch.setenv("CHAT_HISTORY", "off")  # nothing saved: nothing to read
    assert not any(SHARED in w for w in warnings(run_page(page)))


def test_the_local_person_is_the_admin_and_sees_where_the_database_lives(app_env: FakeAPI) -> None:
    at = run_page("pages/1_History.py")
    assert any(c.value.startswith("Saved in `") for c in at.caption)
    # Nobody signs in here: there is no sign-in button and no Sign out.
    assert not [b for b in at.button if b.label in ("Sign in", "Sign out")]

"""lib/memory.py: the heap that exists at start is left out of the collector's routine passes (#16)."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from lib import memory
from lib.api.fake_api import FakeAPI
from tests.apptest_helpers import new_app


@pytest.fixture
def unfrozen(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(memory, "_frozen", False)
    gc.unfreeze()
    yield
    gc.unfreeze()


class _Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: only the collector frees it


def test_the_first_page_run_freezes_what_the_imports_made(app_env: FakeAPI, unfrozen: None) -> None:
    import streamlit

    streamlit.cache_resource.clear()  # a fresh process: the settings are read for the first time
    new_app()
    assert gc.get_freeze_count() > 0, "a full collection during a run would walk every imported object"


def test_a_session_gone_frees_cycles_made_before_the_freeze(unfrozen: None) -> None:
    node = _Node()
    gone = weakref.ref(node)
    memory.freeze_long_lived()
    del node
    gc.collect()
    assert gone() is not None, "frozen: the routine collection leaves it"
    memory.give_back()
    assert gone() is None, "give_back looks at the frozen objects too"
    assert gc.get_freeze_count() > 0, "and freezes again what is left"

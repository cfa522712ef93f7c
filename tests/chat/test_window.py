"""The window of a long conversation: its latest messages drawn, earlier ones on request."""

from __future__ import annotations

from lib.chat.transcript import BLOCK_SIZE
from lib.chat.window import STEP, Window


def test_a_short_conversation_is_drawn_whole() -> None:
    path = list(range(STEP))
    assert Window("c").split(path) == (0, path)
    assert Window("c").split([]) == (0, [])


def test_a_long_one_draws_its_latest_messages_from_a_block_boundary() -> None:
    path = list(range(10_000))
    hidden, shown = Window("c").split(path)
    assert shown == path[hidden:]
    assert STEP <= len(shown) < STEP + BLOCK_SIZE
    assert hidden % BLOCK_SIZE == 0 and hidden % 2 == 0  # a question first, blocks that stay put
    assert (hidden, len(shown)) == (9_800, 200)


def test_the_window_stays_put_as_the_conversation_grows_until_a_block_fills() -> None:
    window = Window("c")
    starts = {window.split(list(range(n)))[0] for n in range(1_000, 1_000 + BLOCK_SIZE, 2)}
    assert starts == {800}
    assert window.split(list(range(1_000 + BLOCK_SIZE)))[0] == 850


def test_each_click_shows_a_step_more_until_none_is_left() -> None:
    path = list(range(650))
    window = Window("c")
    seen = []
    while True:
        hidden, shown = window.split(path)
        seen.append((hidden, Window.more(hidden)))
        if not hidden:
            break
        window = window.wider()
    assert seen == [(450, 200), (250, 200), (50, 50), (0, 0)]
    assert window.size == STEP * 4


def test_another_conversation_starts_with_its_latest_part_again() -> None:
    wide = Window("a").wider().wider()
    assert wide.of("a") is wide
    assert wide.of("b") == Window("b")

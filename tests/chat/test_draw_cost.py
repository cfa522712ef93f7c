"""The cost check of drawing a message: pathological Markdown is shown as plain text, whole; chat text is not."""

from __future__ import annotations

import html
import time

import pytest

from lib.chat.conversation import Message
from lib.chat.draw_cost import MAX_BLOCKS, MAX_CHARS, MAX_NESTING, MAX_TABLE_CELLS, measure, plain_text_reason
from lib.chat.markdown_html import render_markdown
from lib.chat.transcript import message_html
from tests.chat.test_markdown_html import audit


def table(rows: int, columns: int = 3) -> str:
    head = "| " + " | ".join(f"col {c}" for c in range(columns)) + " |\n|" + "---|" * columns + "\n"
    return head + "\n".join("| " + " | ".join(f"r{r}c{c}" for c in range(columns)) + " |" for r in range(rows))


def nested_list(depth: int) -> str:
    return "\n".join("  " * level + f"- level {level}" for level in range(depth))


REPLY = (
    "Here is what I found about **item 7**:\n\n"
    "1. The first point, with a little `inline code`.\n2. A second point.\n3. A third point, *emphasised*.\n\n"
    "```python\nprint('example')\n```\n\n| name | value |\n|:--|--:|\n| a | 1 |\n| b | 2 |\n\nIn short: yes."
)

#: what chat replies look like, at their most elaborate: none of it is plain text
CHAT_MARKDOWN = [
    REPLY,
    REPLY * 100,
    "# Title\n\n> A quote\n> > with a quote in it\n\n- a\n  - b\n    - c\n      1. d\n         - e\n\n---\n\n***bold***",
    table(200, 8),  # 1,608 cells
    nested_list(MAX_NESTING),
    "> " * (MAX_NESTING - 1) + "- deep but not too deep",
    "\n".join(f"- item {n}" for n in range(MAX_BLOCKS)),
    "```text\n" + table(1_500) + "\n" + nested_list(100) + "\n```\nafter the code",  # code is not Markdown
    "a | b\n---|---\n" + "\n".join("1 | 2" for _ in range(600)),  # 1,202 cells
    "x" * MAX_CHARS,
    "Costs: $5 | $6 | $7\n\nNo table without a delimiter row | here | either\n" * 500,
    "",
]


@pytest.mark.parametrize("text", CHAT_MARKDOWN, ids=range(len(CHAT_MARKDOWN)))
def test_chat_markdown_is_drawn_as_markdown(text: str) -> None:
    assert plain_text_reason(text) is None, measure(text)
    assert not render_markdown(text).startswith('<pre class="plain-text">')


def test_five_thousand_nested_quotes_are_plain_text() -> None:
    text = ">" * 5_000 + " deep"
    assert measure(text).nesting == 5_000
    assert plain_text_reason(text) == (
        "Shown as plain text: block quotes or lists nested 5,000 deep are more than the page can draw."
    )


@pytest.mark.parametrize("text", [
    nested_list(MAX_NESTING + 1),
    "\n".join("   " * level + f"{level}. ordered" for level in range(MAX_NESTING + 1)),
    "- " * (MAX_NESTING + 1) + "on one line",
    "> - " * 11 + "quotes and lists",
    "\n".join(">" * (n + 1) + " x" for n in range(MAX_NESTING + 1)),
])
def test_deep_lists_and_quotes_are_plain_text(text: str) -> None:
    assert measure(text).nesting > MAX_NESTING
    assert "nested" in (plain_text_reason(text) or "")


def test_a_two_thousand_row_table_is_plain_text_and_counted_as_drawn() -> None:
    text = "Here it is:\n\n" + table(2_000) + "\n\nThat was all."
    cost = measure(text)
    assert (cost.table_rows, cost.table_cells) == (2_001, 6_003)
    assert plain_text_reason(text) == (
        "Shown as plain text: 2,001 table rows (6,003 cells) are more than the page can draw quickly."
    )
    # A row is as wide as its header, whatever it holds; the rows end at a blank line.
    ragged = "| a | b | c | d |\n|---|---|---|---|\n" + "\n".join(["x", "| 1 |"] * 300) + "\n\nnot a row | here"
    assert measure(ragged).table_cells == 4 * 601


def test_the_cells_of_all_tables_add_up() -> None:
    one = table(MAX_TABLE_CELLS // 6 - 1)  # under half the cells
    assert plain_text_reason(one) is None
    assert plain_text_reason(f"{one}\n\n{one}") is None
    assert plain_text_reason(f"{one}\n\n{one}\n\n{one}") is not None
    quoted = "\n".join(f"> {line}" for line in table(MAX_TABLE_CELLS).split("\n"))
    assert measure(quoted).table_cells > MAX_TABLE_CELLS


def test_many_quotes_and_list_items_are_plain_text() -> None:
    quotes = "\n\n".join(">" * 10 + f" quote {n}" for n in range(MAX_BLOCKS // 10 + 1))
    assert measure(quotes).blocks == 10 * (MAX_BLOCKS // 10 + 1)
    assert "block quotes and list items" in (plain_text_reason(quotes) or "")
    items = "\n".join(f"- item {n}" for n in range(MAX_BLOCKS + 1))
    assert plain_text_reason(items) is not None
    # One quote of many lines is one block quote.
    assert measure("\n".join(f"> line {n}" for n in range(MAX_BLOCKS + 1))).blocks == 1


def test_very_long_text_is_plain_text() -> None:
    assert plain_text_reason("word " * (MAX_CHARS // 5 + 1)) == (
        f"Shown as plain text: {MAX_CHARS + 5:,} characters are more than the page can draw quickly as Markdown."
    )


@pytest.mark.parametrize("text", [
    ">" * 99_999,
    " " * 99_998 + "x",
    "|" * 99_999,
    "| a |\n" + "|" + " " * 99_000 + "-" * 900 + "x|",
    "- " * 49_999,
    "1. " * 33_333,
    "\n" * 99_999,
    ("| a | b |\n|---|---|\n" + "| 1 | 2 |\n" * 10_000)[:MAX_CHARS],
    ("  " * 30 + "- x\n") * 1_500,
])
def test_the_check_is_quick_on_any_text(text: str) -> None:
    """Linear in the text: a few ms per 100,000 characters (a pattern that backtracked would take minutes)."""
    started = time.perf_counter()
    measure(text)
    assert time.perf_counter() - started < 0.5


def test_the_html_path_keeps_the_whole_text_escaped_in_a_pre_with_its_reason() -> None:
    text = "<script>alert(1)</script>\n" + ">" * 5_000 + " the end"
    rendered = render_markdown(text)
    assert rendered.startswith('<pre class="plain-text">')
    assert html.escape(text) in rendered
    assert "nested 5,000 deep" in rendered
    assert audit(rendered) == []
    reply = message_html(Message("assistant", table(2_000)))
    assert reply.count("r1999c2") == 2  # in the <pre> and in the Copy box
    assert '<p class="plain-note">Shown as plain text: 2,001 table rows' in reply


def test_the_html_path_draws_every_level_up_to_the_limit() -> None:
    # markdown-it-py's own maxNesting (20) dropped the text of a list 10 levels deep.
    rendered = render_markdown(nested_list(MAX_NESTING))
    assert all(f"level {n}" in rendered for n in range(MAX_NESTING))
    assert rendered.count("<ul>") == MAX_NESTING

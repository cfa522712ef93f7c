"""lib.api.sse: the data payloads of server-sent events, as the HTML spec defines them, from
lines or from reads of a body cut anywhere."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from lib.api.sse import iter_lines, iter_sse_data, iter_sse_events


def events(text: str) -> list[str]:
    """Feed ``text`` line by line, keeping the line endings, as ``requests`` may."""
    return list(iter_sse_data(text.splitlines(keepends=True)))


def test_one_data_line_per_event() -> None:
    assert events('data: {"a": 1}\n\ndata: {"b": 2}\n\n') == ['{"a": 1}', '{"b": 2}']


def test_lines_without_line_endings_as_requests_iter_lines_gives_them() -> None:
    assert list(iter_sse_data(["data: one", "", "data: two", ""])) == ["one", "two"]


def test_bytes_are_decoded_as_utf8() -> None:
    lines = ["data: héllo ✓".encode(), b""]
    assert list(iter_sse_data(lines)) == ["héllo ✓"]


def test_invalid_utf8_is_replaced_not_raised() -> None:
    assert list(iter_sse_data([b"data: a\xffb", b""])) == ["a\ufffdb"]


def test_multi_line_data_is_joined_with_newlines() -> None:
    assert events("data: first\ndata: second\ndata: third\n\n") == ["first\nsecond\nthird"]


def test_only_one_leading_space_is_removed() -> None:
    assert events("data:  indented\n\n") == [" indented"]


def test_no_space_after_colon() -> None:
    assert events("data:tight\n\n") == ["tight"]


def test_colons_inside_the_value_are_kept() -> None:
    assert events('data: {"url": "http://x:1/y"}\n\n') == ['{"url": "http://x:1/y"}']


def test_comment_lines_are_skipped() -> None:
    text = ": keep-alive\n\n: OPENROUTER PROCESSING\n\ndata: real\n\n: keep-alive\n\n"
    assert events(text) == ["real"]


def test_comment_between_data_lines_does_not_split_the_event() -> None:
    assert events("data: a\n: ping\ndata: b\n\n") == ["a\nb"]


def test_event_id_and_retry_fields_are_ignored() -> None:
    text = "event: message\nid: 42\nretry: 1000\ndata: payload\n\nevent: ping\n\n"
    assert events(text) == ["payload"]


def test_crlf_line_endings() -> None:
    assert events("data: one\r\ndata: two\r\n\r\ndata: three\r\n\r\n") == ["one\ntwo", "three"]


def test_crlf_on_bytes() -> None:
    assert list(iter_sse_data([b"data: x\r\n", b"\r\n", b"data: y\r\n", b"\r\n"])) == ["x", "y"]


def test_trailing_event_without_blank_line_is_still_yielded() -> None:
    assert events("data: first\n\ndata: last") == ["first", "last"]
    assert list(iter_sse_data(["data: a", "data: b"])) == ["a\nb"]


def test_done_marker_is_passed_through_as_data() -> None:
    assert events("data: {}\n\ndata: [DONE]\n\n") == ["{}", "[DONE]"]


def test_blank_lines_alone_yield_nothing() -> None:
    assert events("\n\n\n") == []
    assert list(iter_sse_data([])) == []


def test_is_lazy_generator() -> None:
    """Events come out as soon as their blank line is read, not at the end of the body."""
    seen: list[str] = []

    def lines() -> Iterator[str]:
        yield "data: early"
        yield ""
        seen.append("read past the first event")
        yield "data: late"
        yield ""

    iterator = iter_sse_data(lines())
    assert next(iterator) == "early"
    assert seen == []
    assert next(iterator) == "late"
    assert seen == ["read past the first event"]


# -- reads of any size ---------------------------------------------------------------

BODY = (
    'data: {"content": "héllo ✓ 日本語 🎉"}\n\n'
    ": keep-alive\r\n\r\n"
    "data: first\r\ndata: second\r\n\r\n"
    "data: lone\rdata: cr\r\r"
    "data: [DONE]\n\n"
).encode()
EXPECTED = ['{"content": "héllo ✓ 日本語 🎉"}', "first\nsecond", "lone\ncr", "[DONE]"]


def cut(data: bytes, *at: int) -> list[bytes]:
    edges = [0, *at, len(data)]
    return [data[a:b] for a, b in zip(edges, edges[1:], strict=False)]


def test_whole_body_in_one_read() -> None:
    assert list(iter_sse_events([BODY])) == EXPECTED


@pytest.mark.parametrize("at", range(1, len(BODY)))
def test_a_body_cut_in_two_anywhere_gives_the_same_events(at: int) -> None:
    """Inside a line, a ``\r\n``, or a multi-byte character: the events come out whole."""
    assert list(iter_sse_events(cut(BODY, at))) == EXPECTED


def test_a_body_read_byte_by_byte() -> None:
    assert list(iter_sse_events(BODY[i : i + 1] for i in range(len(BODY)))) == EXPECTED


def test_a_character_split_across_reads_is_not_garbled() -> None:
    emoji = "🎉".encode()
    reads = [b"data: a" + emoji[:1], emoji[1:3], emoji[3:] + b"b\n", b"\n"]
    assert list(iter_sse_events(reads)) == ["a🎉b"]


def test_crlf_split_across_reads_is_one_line_ending() -> None:
    reads = [b"data: a\r", b"\ndata: b\r", b"\n\r", b"\n"]
    assert list(iter_lines(reads)) == ["data: a", "data: b", ""]
    assert list(iter_sse_events(reads)) == ["a\nb"]


def test_empty_reads_change_nothing() -> None:
    assert list(iter_lines([b"data: a\r", b"", b"\n", b"", b"\n"])) == ["data: a", ""]


def test_a_last_line_without_an_ending_is_still_a_line() -> None:
    assert list(iter_lines([b"one\ntw", b"o"])) == ["one", "two"]


def test_invalid_utf8_in_reads_is_replaced() -> None:
    assert list(iter_sse_events([b"data: a\xff", b"b\n\n"])) == ["a\ufffdb"]


def test_lines_come_out_as_soon_as_their_ending_is_read() -> None:
    """No waiting for the next read: not even after a trailing \r that might begin a \r\n."""
    seen: list[str] = []

    def reads() -> Iterator[bytes]:
        yield b"data: early\r\n\r"
        seen.append("read again")
        yield b"\ndata: late\n\n"

    events = iter_sse_events(reads())
    assert next(events) == "early"
    assert seen == []
    assert next(events) == "late"

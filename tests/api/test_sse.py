"""lib.api.sse: the data payloads of server-sent events, as the HTML spec defines them."""

from __future__ import annotations

from collections.abc import Iterator

from lib.api.sse import iter_sse_data


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

"""Comparisons (#12) as files: a JSON export that imports back as a new comparison, and one HTML page."""

from __future__ import annotations

import base64
import json

import pytest

import lib.store.importing as importing
from lib.chat.usage import figures
from lib.errors import ImportFormatError
from lib.experiments.compare import Setup, Vote
from lib.store.database import Store
from lib.store.exporting import (
    COMPARISON_EXPORT_FORMATS,
    CSP,
    comparison_filename,
    comparison_to_html,
    comparison_to_json,
    to_json,
)
from lib.store.importing import Imported, ImportedComparison, import_comparison_into, import_file, parse
from tests.comparison_samples import BIG, MIDDLE, SMALL, make_comparison
from tests.image_samples import photo, small
from tests.samples import make_conversation
from tests.store.test_exporting import ALLOWED_ATTRIBUTES, ALLOWED_TAGS, HOSTILE, Sources, parsed

pytest_plugins = ("tests.store_fixtures",)

LIMITS = {"max_bytes": 20_000_000, "max_messages": 10_000}


def document(**changes: object) -> dict:
    """A comparison export as a dict, with ``changes`` made to its comparison."""
    data = json.loads(comparison_to_json(make_comparison(1)))
    data["comparison"].update(changes)
    return data


def import_json(store: Store, data: dict | str) -> ImportedComparison:
    return import_comparison_into(store, data if isinstance(data, str) else json.dumps(data), **LIMITS)


# -- JSON --------------------------------------------------------------------------------


def test_json_export_has_a_versioned_header_and_holds_everything() -> None:
    comparison = make_comparison(1, images=(photo(),))
    data = json.loads(comparison_to_json(comparison))
    assert (data["format"], data["version"]) == ("gemma-chat-comparison", 1)
    held = data["comparison"]
    assert [Setup.from_dict(s) for s in held["setups"]] == comparison.setups
    assert [t["id"] for t in held["threads"]] == ["k0001-col0", "k0001-col1"]
    assert [Vote.from_dict(v) for v in held["votes"]] == comparison.votes
    assert base64.b64decode(held["threads"][1]["messages"][0]["images"][0]["data"]) == photo().data


def test_an_export_imports_back_identical_with_its_images(store: Store) -> None:
    original = make_comparison(2, setups=(BIG, SMALL, MIDDLE), images=(photo(), small()))
    original.title, original.blind, original.order = "Three", True, [1, 2, 0]
    imported = import_json(store, comparison_to_json(original))
    assert imported.notes == []
    assert imported.comparison == original
    loaded = store.load_comparison(original.id)
    assert loaded == original
    assert loaded.threads[2].path()[0].images == (photo(), small())


def test_an_export_of_a_comparison_still_saved_imports_as_a_new_one_whose_votes_count_once(store: Store) -> None:
    original = make_comparison(3)
    store.save_comparison(original)
    imported = import_json(store, comparison_to_json(original)).comparison
    assert imported.id != original.id
    assert not {t.id for t in imported.threads} & {t.id for t in original.threads}
    assert {s.id for s in store.list_comparisons()} == {original.id, imported.id}
    assert store.load_comparison(imported.id).votes == original.votes
    assert len(store.votes()) == 1
    assert store.list() == [], "its columns are not chats"


def test_import_file_takes_comparisons_and_conversations(store: Store) -> None:
    assert isinstance(import_file(store, comparison_to_json(make_comparison(4)), default_model="m", **LIMITS),
                      ImportedComparison)
    assert isinstance(import_file(store, to_json(make_conversation(4)), default_model="m", **LIMITS), Imported)
    assert len(store.list_comparisons()) == len(store.list()) == 1
    # The conversation import says what a comparison export is not.
    with pytest.raises(ImportFormatError, match="gemma-chat-comparison"):
        parse(comparison_to_json(make_comparison(4)), max_bytes=10**7, default_model="m")


def test_times_and_parameters_no_comparison_could_have_are_made_sane(store: Store) -> None:
    data = document(created=1e308, setups=[{"model": "google/gemma-3-27b-it", "params": {"temperature": 99}},
                                           {"model": "google/gemma-3-4b-it"}])
    data["comparison"]["threads"][0]["messages"][0]["created"] = -5
    data["comparison"]["votes"][0]["created"] = 1e300
    imported = import_json(store, data)
    assert any(note.startswith("Column A: 1 time") for note in imported.notes)
    assert any("temperature" in note for note in imported.notes)
    stored = store.load_comparison(imported.comparison.id)
    assert stored.setups[0].params == {}
    assert stored.created < 2e9 and stored.votes[0].created < 2e9


@pytest.mark.parametrize(
    ("changes", "said"),
    [
        ({"setups": [BIG.to_dict()]}, "at comparison.setups"),
        ({"setups": [BIG.to_dict(), SMALL.to_dict(), MIDDLE.to_dict()]}, "3 set-ups but 2 columns"),
        ({"votes": [{"id": "v", "turn": 1, "outcome": "win", "winner": 2, "setups": [BIG.to_dict()] * 2, "created": 1}]},
         "names a winner"),
        ({"votes": [{"id": "v", "turn": 1, "outcome": "tie", "winner": 0, "setups": [BIG.to_dict()] * 2, "created": 1}]},
         "names a winner"),
        ({"votes": [{"id": f"v{i}", "turn": 1, "outcome": "tie", "setups": [BIG.to_dict()] * 2, "created": 1}
                    for i in range(2)]}, "two votes are on turn 1"),
        ({"votes": [{"id": "v", "turn": 3, "outcome": "tie", "setups": [BIG.to_dict()] * 2, "created": 1}]},
         "after the last of its 2"),
        ({"votes": [{"id": "v", "turn": 1, "outcome": "tie", "setups": [BIG.to_dict()] * 3, "created": 1}]},
         "on 3 set-ups"),
        ({"votes": [{"id": "v", "turn": 1, "outcome": "great", "setups": [BIG.to_dict()] * 2, "created": 1}]},
         "at comparison.votes[0].outcome"),
    ],
)
def test_a_damaged_export_is_refused_and_nothing_imported(store: Store, changes: dict, said: str) -> None:
    with pytest.raises(ImportFormatError, match="Nothing was imported") as refused:
        import_json(store, document(**changes))
    assert said in str(refused.value)
    assert store.list_comparisons() == [] and store.votes() == []


def test_a_column_that_is_not_a_tree_is_refused(store: Store) -> None:
    data = document()
    data["comparison"]["threads"][1]["messages"][1]["parent"] = "nowhere"
    with pytest.raises(ImportFormatError, match="not in the file"):
        import_json(store, data)
    data = document()
    data["comparison"]["threads"][1]["id"] = data["comparison"]["threads"][0]["id"]
    with pytest.raises(ImportFormatError, match="same id"):
        import_json(store, data)


def test_limits_count_every_column(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    text = comparison_to_json(make_comparison(5, turns=3))  # 2 columns of 6 messages
    with pytest.raises(ImportFormatError, match="12 messages"):
        import_comparison_into(store, text, max_bytes=10**7, max_messages=11)
    with pytest.raises(ImportFormatError, match="the limit is 100 bytes"):
        import_comparison_into(store, text, max_bytes=100, max_messages=100)
    # One image in each column: two different images, against a budget of one for the file.
    two = make_comparison(6)
    two.threads[0].path()[0].images = (small((1, 2, 3)),)
    two.threads[1].path()[0].images = (small((4, 5, 6)),)
    monkeypatch.setattr(importing, "MAX_IMAGES_PER_IMPORT", 1)
    with pytest.raises(ImportFormatError, match="more images than one import takes"):
        import_comparison_into(store, comparison_to_json(two), **LIMITS)
    assert store.list_comparisons() == []


def test_a_newer_version_is_refused(store: Store) -> None:
    data = document()
    data["version"] = 2
    with pytest.raises(ImportFormatError, match="newer version"):
        import_json(store, data)


# -- HTML --------------------------------------------------------------------------------


def hostile_comparison():  # type: ignore[no-untyped-def]
    evil = Setup('evil"><script>alert("model")</script>', "<script>alert('system')</script>",
                 params={"<b>": "<i>x</i>"})
    comparison = make_comparison(7, setups=(evil, SMALL))
    comparison.title = "<script>alert('title')</script> & friends"
    for thread in comparison.threads:
        for text in HOSTILE:
            thread.add_user(text)
            thread.add_reply(text, model="<img src=x onerror=alert(7)>")
    comparison.threads[1].add_user("<script>failed</script>")
    comparison.threads[1].fail("<script>alert('error')</script>", "<b>title</b>")
    return comparison


def test_html_is_inert_whatever_the_comparison_holds() -> None:
    page = comparison_to_html(hostile_comparison())
    lowered = page.lower()
    assert "<script" not in lowered and "<img" not in lowered and "<a " not in lowered and "<iframe" not in lowered
    collector = parsed(page)
    for tag, attributes in collector.tags:
        assert tag in ALLOWED_TAGS | {"div", "article", "h2"}, tag
        for name, value in attributes:
            assert name in ALLOWED_ATTRIBUTES, (tag, name)
            assert "javascript:" not in (value or "").lower()
    assert [t for t, _ in collector.tags].count("style") == 1
    assert [t for t, _ in collector.tags].count("meta") == 4
    text = "".join(collector.text)
    assert "<script>alert('x')</script>" in text and '<img src=x onerror="alert(1)">' in text
    assert "<script>alert('title')</script> & friends" in text
    assert "<script>alert('error')</script>" in text


def test_html_loads_nothing_from_outside_and_shows_images_inline() -> None:
    comparison = make_comparison(8, images=(photo(),))
    page = comparison_to_html(comparison)
    assert f'<meta http-equiv="Content-Security-Policy" content="{CSP}">' in page
    assert "http://" not in page and "https://" not in page and "<link" not in page
    sources = Sources()
    sources.feed(page)
    # The question is shown once, not once per column: one image.
    assert sources.urls == [("img", "src", photo().data_uri())]


def test_html_shows_the_columns_side_by_side_with_labels_figures_and_votes() -> None:
    comparison = make_comparison(9, setups=(BIG, SMALL, MIDDLE))
    comparison.blind = True
    comparison.threads[2].add_user("third")
    comparison.threads[2].fail("The API had a server error (500).", "Server error")
    for thread in comparison.threads[:2]:
        thread.add_user("third")
        thread.add_reply("third answer")
    comparison.vote("win", 1)
    page = comparison_to_html(comparison)
    assert page.count('<div class="columns n3">') == 3
    assert page.count("What is a banana?") == 3, "the title, the heading, and the question once (not per column)"
    assert "grid-template-columns: repeat(3, minmax(0, 1fr))" in page and "@media (max-width: 700px)" in page
    for name, setup in zip("ABC", (BIG, SMALL, MIDDLE), strict=True):
        assert f"{name} · {setup.label()}" in page, "labels shown, though it was blind"
    reply = comparison.threads[0].path()[1]
    for label, value in figures(reply.stats):
        assert f"{label}: {value}" in page
    # Column A's first token came soonest on both turns with figures; the third turn has none to mark.
    assert page.count('<span class="best">first token: 200 ms ★</span>') == 2
    assert "Vote: A better (" in page and f"Vote: B better ({SMALL.label()})" in page
    assert "Server error: The API had a server error (500)." in page and "No reply." in page


def test_comparison_export_formats_and_file_names() -> None:
    comparison = make_comparison(10)
    assert [(f.label, f.extension) for f in COMPARISON_EXPORT_FORMATS] == [("JSON", "json"), ("HTML", "html")]
    assert comparison_filename(comparison, "html") == "what-is-a-banana.html"
    comparison.title = "Ünïcode & more"
    assert comparison_filename(comparison, "json") == "unicode-more.json"

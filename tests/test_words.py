from lib.words import count


def test_a_count_is_singular_only_for_one() -> None:
    assert [count(n, "turn") for n in (0, 1, 2, 1000)] == ["0 turns", "1 turn", "2 turns", "1,000 turns"]
    assert count(1, "match", "matches") == "1 match" and count(3, "match", "matches") == "3 matches"

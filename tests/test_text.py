from hypothesis import given, settings, strategies as st

from annotator.core.text import TITLE_MAX, Tokens, Utf16Map, normalize_plain, pack_tokens, title_of

HARD = "a\U0001F600b中文e\u0301 \u05e9\u05dc\u05d5\u05dd \U0001F469\u200d\U0001F4BB\tz"


def utf16_len(s: str) -> int:
    return len(s.encode("utf-16-le")) // 2


@given(st.text(alphabet=st.sampled_from(list(HARD) + ["x", "\U0001F44D", "\n"]), max_size=60))
def test_text_utf16_map_matches_encoding(text):
    m = Utf16Map(text)
    for cp in range(len(text) + 1):
        u16 = m.to_utf16(cp)
        assert u16 == utf16_len(text[:cp])
        assert m.to_cp(u16) == cp


def test_text_utf16_inside_surrogate_pair_rounds_down():
    m = Utf16Map("a\U0001F600b")
    assert m.to_cp(2) == 1  # between the halves of the emoji
    assert m.to_cp(3) == 2


def test_text_normalize_plain_strips_bom_and_crlf():
    assert normalize_plain("\ufeffa\r\nb\rc\n") == "a\nb\nc\n"


def test_text_title_is_first_non_empty_line():
    assert title_of("\n  \n  Title here \nbody") == "Title here"
    assert title_of(" \n\t\n") == "" and title_of("") == ""


def test_text_title_of_a_long_line_is_cut_after_a_word():
    line = "Officials in Seoul said on Tuesday that talks " * 10
    title = title_of(line + "\nbody")
    assert title == line[:len(title) - 1] + "…" and line[len(title) - 1] == " " and len(title) <= TITLE_MAX
    assert title_of("x" * 500) == "x" * (TITLE_MAX - 1) + "…"  # no word to cut after
    assert title_of("a" * TITLE_MAX) == "a" * TITLE_MAX


@settings(max_examples=300, deadline=None)
@given(st.text(st.sampled_from("ab \n\t서🇰"), max_size=400))
def test_text_title_is_short_and_the_start_of_the_first_line(text):
    title = title_of(text)
    first = next((line.strip() for line in text.split("\n") if line.strip()), "")
    assert len(title) <= TITLE_MAX
    assert title == first if len(first) <= TITLE_MAX else (title.endswith("…") and first.startswith(title[:-1]))


def test_text_tokens_snap_and_step():
    #        0123456789012345
    text = "Kim Kwan-jin went"
    tokens = Tokens(pack_tokens([(0, 3), (4, 12), (13, 17)]))
    assert tokens.snap(1, 6) == (0, 12)  # widened to whole tokens
    assert tokens.snap(3, 4) == (3, 4)  # only a space: unchanged
    assert tokens.snap(3, 9) == (4, 12)  # leading space trimmed
    assert tokens.next_boundary(12, edge="end", direction=1) == 17
    assert tokens.next_boundary(12, edge="end", direction=-1) == 3
    assert tokens.next_boundary(0, edge="start", direction=-1) == 0
    assert text[slice(*tokens.snap(5, 7))] == "Kwan-jin"

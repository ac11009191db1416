"""Counts in words: what the merge, import and export summaries print instead of "entit(y/ies)"."""

from annotator.core.words import plural


def test_words_plural_of_the_nouns_the_summaries_count():
    assert [plural(n, "entity") for n in (0, 1, 2)] == ["0 entities", "1 entity", "2 entities"]
    assert [plural(n, "alias") for n in (1, 3)] == ["1 alias", "3 aliases"]
    assert plural(2, "layer document") == "2 layer documents" and plural(1, "history event") == "1 history event"
    assert plural(2, "key") == "2 keys" and plural(2, "match") == "2 matches"
    assert plural(2, "person", "people") == "2 people"

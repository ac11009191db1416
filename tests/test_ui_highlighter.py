"""Highlighting: UTF-16 positions for awkward text, CRLF, only changed blocks, laziness, overlaps."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QTextCharFormat
from PySide6.QtWidgets import QPlainTextEdit

from annotator.core.records import DocRecord, SpanRecord
from annotator.io.importing import import_paths, import_records
from annotator.ui import qt_highlighter
from annotator.ui.spans import block_starts, display_text

Key = Qt.Key
USER = "tester"

# Emoji (astral: two UTF-16 units), a ZWJ family, CJK, a combining accent, RTL scripts, CRLF line ends.
AWKWARD = ("😀 Kim Kwan-jin met 👨\u200d👩\u200d👧 in 東京 and at the cafe\u0301 with שלום from عربي.\r\n"
           "Second line 🇰🇷: Seoul talks.\r\n"
           "Third line: Tokyo.")
AWKWARD_SPANS = [("Kim Kwan-jin", "PERSON"), ("👨\u200d👩\u200d👧", "NORP"), ("東京", "GPE"),
                 ("cafe\u0301", "FAC"), ("שלום", "PERSON"), ("عربي", "NORP"), ("Seoul", "GPE"),
                 ("Tokyo", "GPE")]


def open_jsonl(window, tmp_path, text, spans, name="awkward"):
    task = {"text": text, "meta": {"name": name},
            "spans": [{"start": text.index(s), "end": text.index(s) + len(s), "label": label, "text": s}
                      for s, label in spans]}
    path = tmp_path / f"{name}.jsonl"
    path.write_text(json.dumps(task, ensure_ascii=False) + "\n", encoding="utf-8")
    import_paths(window.project.store, [path], use_model=False, as_layer=USER)
    window.model.reload_labels()
    window.refresh_documents()
    window.open_document_named(name)
    window.view.highlighter.flush()


def test_ui_unicode_text_highlights_at_utf16_positions(window, ui, tmp_path):
    open_jsonl(window, tmp_path, AWKWARD, AWKWARD_SPANS)
    view, text = window.view, window.model.text
    assert "\r\n" in text  # JSONL keeps the text byte for byte
    for surface, label in AWKWARD_SPANS:
        start = text.index(surface)
        got = ui.format_at(view, start)
        assert got is not None, surface
        line_start = max(text.rfind("\n", 0, start) + 1, 0)
        expected = ui.utf16_len(text[line_start:start])  # independent of the app's Utf16Map
        assert got[:2] == (expected, ui.utf16_len(surface)), surface
        assert got[2].background().color() == QColor(window.model.labels[label].colour)
        cursor = view.textCursor()
        cursor.setPosition(view.document().findBlock(view.to_qt(start)).position() + got[0])
        cursor.setPosition(cursor.position() + got[1], cursor.MoveMode.KeepAnchor)
        assert cursor.selectedText() == surface  # the highlight covers exactly the span's text


def test_ui_crlf_text_keeps_offsets_for_mouse_labels(window, ui, tmp_path):
    text = "First line here.\r\nTwo Words again on line two.\r\nThe third line.\r\n"
    open_jsonl(window, tmp_path, text, [("third", "ORDINAL")], name="crlf")
    view = window.view
    assert view.document().blockCount() == 4
    start = text.index("Words again")
    ui.drag(view, start + 1, start + 9)
    assert view.selection() == (start, start + len("Words again"))
    ui.key(view, Key.Key_2)
    stored = [(s.start, s.end, s.label) for s in window.project.spans(window.model.doc_id)]
    assert (start, start + len("Words again"), "ORG") in stored
    assert text[start:start + len("Words again")] == "Words again"
    third = text.index("third")
    assert ui.format_at(view, third)[:2] == (len("The "), len("third"))


@pytest.mark.parametrize("text", ["a\r\nb\rc\u2029d\u2028e\ufdd0f\ufdd1g\nh", "\r\n\r\nx\r\n", "😀\r\n😀\n"])
def test_ui_block_starts_match_qt_blocks(qtbot, text):
    edit = QPlainTextEdit()
    qtbot.addWidget(edit)
    display = display_text(text)
    edit.setPlainText(display)
    doc = edit.document()
    assert doc.characterCount() - 1 == ui_len(text)  # one Qt position per UTF-16 unit of the text
    qt_starts = [doc.findBlockByNumber(i).position() for i in range(doc.blockCount())]
    astral_before = [sum(1 for ch in text[:cp] if ord(ch) > 0xFFFF) for cp in block_starts(display)]
    assert qt_starts == [cp + k for cp, k in zip(block_starts(display), astral_before)]


def ui_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def test_ui_edit_rehighlights_only_the_changed_block(window, ui, monkeypatch):
    view, text, hl = window.view, window.model.text, window.view.highlighter
    blocks = []
    original = hl._apply
    monkeypatch.setattr(hl, "_apply", lambda block: (blocks.append(block.blockNumber()), original(block)))
    monkeypatch.setattr(hl, "rehighlight", lambda: pytest.fail("whole document re-highlighted"))
    start = text.index("military intelligence")
    ui.drag(view, start, start + len("military intelligence"))
    ui.key(view, Key.Key_2)
    block = view.document().findBlock(view.to_qt(start)).blockNumber()
    assert blocks and set(blocks) == {block}


def test_ui_long_document_is_highlighted_lazily(window, qtbot, monkeypatch):
    paragraphs = [f"Paragraph {i} mentions Seoul and Tokyo again." for i in range(600)]
    text = "\n\n".join(paragraphs)
    spans, pos = [], 0
    for p in paragraphs:
        i = text.index("Seoul", pos)
        spans.append(SpanRecord(i, i + 5, "GPE", status="suggested"))
        pos = i + 5
    import_records(window.project.store, [DocRecord("long", text, spans=spans)], use_model=False, as_layer=USER)
    window.refresh_documents()
    monkeypatch.setattr(qt_highlighter, "IDLE_BLOCKS", 0)  # idle work does nothing: scrolling must
    window.open_document_named("long")
    view, hl = window.view, window.view.highlighter
    doc = view.document()

    def formatted(block_number):
        return bool(doc.findBlockByNumber(block_number).layout().formats())

    assert formatted(0)
    last = doc.blockCount() - 1
    assert window.model.unread and not formatted(last)  # the rest of the spans comes after the first paint
    view.verticalScrollBar().setValue(view.verticalScrollBar().maximum())
    assert formatted(last)  # scrolled into view first: read and highlighted at once
    assert hl.pending() and not formatted(last // 2)  # the rest waits for idle time
    hl.flush()
    assert not hl.pending()
    assert all(formatted(b) for b in range(0, doc.blockCount(), 2))


def test_ui_nested_spans_show_both(window, ui):
    view, text = window.view, window.model.text
    start = text.index("South Korea and Japan")
    outer = (start, start + len("South Korea and Japan"))
    window.project.add_span(window.model.doc_id, *outer, "LAW")
    inner = ui.format_at(view, start)[2]  # "South Korea" (GPE, suggested) inside the LAW span
    middle = ui.format_at(view, start + len("South Korea "))[2]
    assert middle.background().color() == QColor(window.model.labels["LAW"].colour)
    assert inner.background().color() != middle.background().color()
    assert inner.underlineStyle() == QTextCharFormat.UnderlineStyle.DotLine
    block = view.document().findBlock(view.to_qt(start))
    ranges = sorted((r.start, r.start + r.length) for r in block.layout().formats())
    assert all(a[1] <= b[0] for a, b in zip(ranges, ranges[1:]))  # no range drawn over another

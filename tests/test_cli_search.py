"""`annotator search`: exact output, plain (a KWIC table) and --json, and its coded errors."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from annotator.cli import main
from annotator.core.records import NIL, DocRecord, SpanRecord
from annotator.io.importing import import_records

A = "Seoul said 🇰🇷 Seoul 서울 talks.\nThe two sides met in Seoul."
B = "서울 (Seoul) is the capital. Samsung Electronics and the Seoul Metropolitan Government agreed."


def at(part: str) -> tuple[int, int]:
    return B.index(part), B.index(part) + len(part)


@pytest.fixture
def db(store):
    import_records(store, [
        DocRecord("a", A, title="Alpha", spans=[SpanRecord(0, 5, "GPE", kb_id="Q8684"),
                                                SpanRecord(14, 19, "GPE", status="suggested")]),
        DocRecord("b", B, title="Beta", spans=[SpanRecord(*at("Samsung Electronics"), "ORG"),
                                               SpanRecord(*at("Seoul Metropolitan Government"), "ORG", kb_id=NIL)]),
    ], use_model=False, as_layer="ana")
    import_records(store, [DocRecord("b", B, spans=[SpanRecord(*at("Samsung"), "ORG")])], use_model=False, as_layer="bob")
    return store.path


def run(db, *args, user="ana"):
    return CliRunner().invoke(main, ["--db", str(db), "--user", user, "search", *args])


def test_cli_search_prints_a_kwic_table(db):
    result = run(db, "seoul")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "a 0-5                                   [Seoul]  said 🇰🇷 Seoul 서울 talks. The t  GPE Q8684 accepted",
        "a 14-19                  Seoul said 🇰🇷  [Seoul]  서울 talks. The two sides met i  GPE - suggested",
        "a 51-56  울 talks. The two sides met in  [Seoul] .",
        "b 4-9                              서울 ( [Seoul] ) is the capital. Samsung Elec",
        "b 55-60  . Samsung Electronics and the  [Seoul]  Metropolitan Government agree  ORG NIL accepted",
    ]


def test_cli_search_filters_and_the_limit(db):
    result = run(db, "Seoul", "--unlinked", "--limit", "2")
    assert result.output == (
        "a 14-19                  Seoul said 🇰🇷  [Seoul]  서울 talks. The two sides met i  GPE - suggested\n"
        "a 51-56  울 talks. The two sides met in  [Seoul] .\n"
        "(the first 2 hits: --limit for more)\n")
    assert run(db, "--nil").output == ("b 55-84  . Samsung Electronics and the  [Seoul Metropolitan Government]  "
                                       "agreed.                        ORG NIL accepted\n")
    assert run(db, "nothing here").output == "No hits.\n"


def test_cli_search_json(db):
    result = run(db, "--label", "ORG", "--unlinked", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == [{
        "document": "b", "title": "Beta", "start": 27, "end": 46, "left": "서울 (Seoul) is the capital. ",
        "match": "Samsung Electronics", "right": " and the Seoul Metropolitan Government a", "label": "ORG",
        "kb_id": None, "status": "accepted", "nil": False}]
    plain = json.loads(run(db, "two sides", "--json").output)
    assert plain == [{"document": "a", "title": "Alpha", "start": 34, "end": 43, "left": "Seoul said 🇰🇷 Seoul 서울 talks.\nThe ",
                      "match": "two sides", "right": " met in Seoul."}]  # no span there: no label, no kb_id


@pytest.mark.parametrize("args, user, code", [
    ((), "ana", "E500"), (("(", "--regex"), "ana", "E501"), (("--entity", "Q1"), "ana", "E502"),
    (("x", "--limit", "0"), "ana", "E503"), (("Seoul", "--layer", "ana"), "bob", "E163")])
def test_cli_search_errors_are_one_coded_line(db, args, user, code):
    result = run(db, *args, user=user)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: [{code}] ") and result.stderr.count("\n") == 1

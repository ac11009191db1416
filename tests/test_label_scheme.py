"""The label scheme: `annotator labels` with its exact output, rename and remove --into across layers
(undoable), who may change the scheme, and the default colours (distinct, readable)."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from annotator.cli import main
from annotator.core.db.models import Label, Span
from annotator.core.editing.labels import DIGITS, defaults, label_counts
from annotator.core.project import Project

from conftest import USER
from plans import plan_of, statements


@pytest.fixture
def cli(project):
    def invoke(*args, user=USER):
        return CliRunner().invoke(main, ["--db", str(project.store.path), "--user", user, "labels", *args])
    return invoke


def _labels(store) -> dict[str, int]:
    with store.Session() as s:
        rows = s.execute(select(Span.label, Span.id)).all()
    counts: dict[str, int] = {}
    for label, _ in rows:
        counts[label] = counts.get(label, 0) + 1
    return counts


def test_labels_list_shows_key_colour_spans_and_description(cli):
    lines = cli().output.splitlines()
    assert lines[0] == "     1  PERSON       #77AADD       2 spans  People, including fictional"
    assert lines[2] == "     3  GPE          #44BB99       2 spans  Countries, cities, states"
    colour = defaults()["CARDINAL"]["colour"]
    assert lines[-1] == f"     -  CARDINAL     {colour}       0 spans  Numerals that do not fall under another type"
    assert cli("list").output == cli().output


def test_labels_rename_moves_every_span_and_undo_brings_it_back(cli, project):
    assert cli("rename", "GPE", "COUNTRY").output == "Rename label GPE to COUNTRY (undo: Ctrl+Z in the window).\n"
    assert _labels(project.store) == {"PERSON": 2, "COUNTRY": 2}
    again = Project(project.store, USER)  # the edit is on the user's stack, across processes
    assert again.stack.undo_text == "rename label GPE to COUNTRY"
    again.stack.undo()
    assert _labels(project.store) == {"PERSON": 2, "GPE": 2}
    result = cli("rename", "GPE", "PERSON")
    assert result.exit_code == 1 and result.output.startswith("Error: [E521] A label 'PERSON' already exists")


def test_labels_remove_refuses_while_spans_use_it_then_into_moves_them(cli, project):
    result = cli("remove", "GPE")
    assert result.exit_code == 1
    assert result.output.startswith("Error: [E526] 2 spans in tester's layer still use the label GPE")
    assert _labels(project.store) == {"PERSON": 2, "GPE": 2}
    assert cli("remove", "GPE", "--into", "LOC").output == "Remove label GPE into LOC (undo: Ctrl+Z in the window).\n"
    assert _labels(project.store) == {"PERSON": 2, "LOC": 2}
    with project.store.Session() as s:
        assert s.scalar(select(Label.id).where(Label.name == "GPE")) is None
    Project(project.store, USER).stack.undo()
    assert _labels(project.store) == {"PERSON": 2, "GPE": 2}
    assert cli("remove", "LAW").exit_code == 0  # no span uses it


def test_labels_hide_gives_its_digit_to_the_next_label_and_show_takes_a_free_one(cli, project):
    assert cli("hide", "PERSON").exit_code == 0
    out = cli().output.splitlines()
    assert out[0].startswith("hidden  PERSON") and out[10].startswith("     1  WORK_OF_ART")
    assert cli("key", "LANGUAGE", "1").output.startswith("Error: [E525] The key 1 already belongs to WORK_OF_ART.")
    assert cli("key", "LANGUAGE", "x").output.startswith("Error: [E524]")
    assert cli("show", "PERSON").exit_code == 0
    assert cli().output.splitlines()[0].startswith("     -  PERSON")  # every digit is taken: the picker
    assert cli("add", "PRODUCT_LINE", "--colour", "#123456").output.startswith("Add label PRODUCT_LINE")
    assert cli("add", "bad name").output.startswith("Error: [E522]")
    assert cli("recolour", "ORG", "red").output.startswith("Error: [E523]")


def test_labels_key_taken_with_no_free_digit_says_what_to_do(cli):
    """Every digit taken: E525 ended "or choose a free digit: none." and the advice before it (give the
    other label another key first) could not be followed."""
    assert cli("key", "CARDINAL", "5").output == (
        "Error: [E525] The key 5 already belongs to NORP. Every digit is taken, so NORP has none to move to: "
        "CARDINAL can be given without a digit through the quick label picker (Ctrl+L), or hide a label you no "
        "longer use (`annotator labels hide LABEL`, its spans keep it) and its digit goes to the first shown "
        "label without one.\n")
    assert cli("hide", "NORP").exit_code == 0  # as it says: 5 goes to the first shown label without a digit
    assert any(line.startswith("     5  WORK_OF_ART ") for line in cli().output.splitlines())


def test_on_a_shared_project_only_a_reviewer_or_the_owner_changes_the_scheme(cli, project):
    Project(project.store, "bob")  # a second person: the project is shared now
    result = cli("rename", "GPE", "COUNTRY", user="bob")
    assert result.exit_code == 1 and result.output.startswith("Error: [E520] 'bob' cannot change the label scheme")
    assert cli("rename", "GPE", "COUNTRY").exit_code == 0  # tester is the first person: the owner


def test_labels_unknown_label_is_e031(cli):
    assert cli("hide", "NOPE").output.startswith("Error: [E031] Unknown label 'NOPE'.")


# --- colours: CIEDE2000 between every pair of defaults, WCAG contrast of the text on each
def lin(c):
    c/=255; return c/12.92 if c<=0.04045 else ((c+0.055)/1.055)**2.4
def rgb(h): return [int(h[i:i+2],16) for i in (1,3,5)]
def lum(h): r,g,b=map(lin,rgb(h)); return 0.2126*r+0.7152*g+0.0722*b
def contrast(a,b):
    la,lb=sorted([lum(a),lum(b)],reverse=True); return (la+0.05)/(lb+0.05)
def lab(h):
    r,g,b=map(lin,rgb(h))
    x=(0.4124*r+0.3576*g+0.1805*b)/0.95047; y=0.2126*r+0.7152*g+0.0722*b; z=(0.0193*r+0.1192*g+0.9505*b)/1.08883
    f=lambda t: t**(1/3) if t>0.008856 else 7.787*t+16/116
    return 116*f(y)-16, 500*(f(x)-f(y)), 200*(f(y)-f(z))
def de2000(h1,h2):
    L1,a1,b1=lab(h1);L2,a2,b2=lab(h2)
    C1=math.hypot(a1,b1);C2=math.hypot(a2,b2);Cb=(C1+C2)/2
    G=0.5*(1-math.sqrt(Cb**7/(Cb**7+25**7)))
    a1p,a2p=(1+G)*a1,(1+G)*a2
    C1p,C2p=math.hypot(a1p,b1),math.hypot(a2p,b2)
    h1p=math.degrees(math.atan2(b1,a1p))%360;h2p=math.degrees(math.atan2(b2,a2p))%360
    dL=L2-L1;dC=C2p-C1p
    dh=0 if C1p*C2p==0 else (h2p-h1p if abs(h2p-h1p)<=180 else h2p-h1p-360 if h2p>h1p else h2p-h1p+360)
    dH=2*math.sqrt(C1p*C2p)*math.sin(math.radians(dh/2))
    Lb=(L1+L2)/2;Cbp=(C1p+C2p)/2
    hb=(h1p+h2p)/2 if C1p*C2p==0 or abs(h1p-h2p)<=180 else ((h1p+h2p+360)/2 if h1p+h2p<360 else (h1p+h2p-360)/2)
    T=1-0.17*math.cos(math.radians(hb-30))+0.24*math.cos(math.radians(2*hb))+0.32*math.cos(math.radians(3*hb+6))-0.2*math.cos(math.radians(4*hb-63))
    SL=1+0.015*(Lb-50)**2/math.sqrt(20+(Lb-50)**2);SC=1+0.045*Cbp;SH=1+0.015*Cbp*T
    RT=-2*math.sqrt(Cbp**7/(Cbp**7+25**7))*math.sin(math.radians(60*math.exp(-((hb-275)/25)**2)))
    return math.sqrt((dL/SL)**2+(dC/SC)**2+(dH/SH)**2+RT*(dC/SC)*(dH/SH))


TEXT = "#111111"  # ui/qt_highlighter.TEXT_COLOUR


def test_default_colours_are_distinct_and_readable():
    shipped = Path(__file__).parent.parent / "resources" / "labels.json"  # this checkout's, not an installed copy
    labels = json.loads(shipped.read_text(encoding="utf-8"))["labels"]
    closest = min(de2000(a["colour"], b["colour"]) for a, b in itertools.combinations(labels, 2))
    assert closest >= 9.0, closest  # measured 9.3 (LOC/FAC); ORDINAL/CARDINAL were 0.9 apart
    assert min(contrast(TEXT, item["colour"]) for item in labels) >= 4.5  # measured 7.5 (ORG)
    assert len({item["colour"] for item in labels}) == len(labels)
    assert de2000("#E8E8E8", "#E4E4E4") < 1  # the measure itself: the old greys were indistinguishable
    assert len(DIGITS) == 10


@pytest.mark.single_backend
def test_labels_list_counts_every_layer_without_sorting_the_spans(cli, project):
    """A label's count is its spans in every layer, summed per layer in the order of
    ix_spans_layer_label: grouped by label alone, all spans were sorted first (0.71 s at 3M spans)."""
    other = Project(project.store, "bob")
    with project.store.Session() as s:
        spans = s.scalars(select(Span).where(Span.label == "GPE")).all()
        s.add_all([Span(document_id=x.document_id, annotator_id=other.annotator_id, start=x.start, end=x.end,
                        label="GPE", status="accepted") for x in spans])
        s.commit()
    lines = cli().output.splitlines()
    assert lines[2] == "     3  GPE          #44BB99       4 spans  Countries, cities, states"
    with statements(project.store) as seen, project.store.Session() as s:
        assert label_counts(s)["GPE"] == 4
    found = plan_of(project.store, seen, "GROUP BY")
    assert "ix_spans_layer_label" in found and "TEMP B-TREE" not in found

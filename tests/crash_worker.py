"""Run by test_crash.py: edits through the core and prints each edit's id once it is acknowledged."""

import random
import sys

from annotator.core.db.store import Store
from annotator.core.project import Project
from annotator.errors import AnnotatorError


def main(db: str, seed: int) -> None:
    project = Project(Store(db), user="crash")
    rng = random.Random(seed)
    text_len = len(project.document(1).text)
    mine: list[int] = []
    print("ready", flush=True)
    while True:
        roll = rng.random()
        if mine and roll < 0.2:
            span_id = mine.pop(rng.randrange(len(mine)))
            print(f"deleting {span_id}", flush=True)  # in flight: may or may not land if killed now
            project.delete_span(span_id)
            print(f"deleted {span_id}", flush=True)
        elif mine and roll < 0.4:
            span_id = rng.choice(mine)
            label = rng.choice(["ORG", "GPE", "PERSON"])
            print(f"relabelling {span_id} {label}", flush=True)
            project.relabel(span_id, label)
            print(f"relabelled {span_id} {label}", flush=True)
        else:
            start = rng.randrange(text_len - 10)
            print("adding 0", flush=True)  # in flight: its id is known only once acknowledged
            try:
                span_id = project.add_span(1, start, start + rng.randint(1, 9), rng.choice(["ORG", "GPE"]))
            except AnnotatorError:  # the same span again: refused, nothing to acknowledge
                continue
            mine.append(span_id)
            print(f"added {span_id}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))

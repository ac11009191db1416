"""Review: agreement (`agreement`, `arrays`, read from the project by `inputs`), disagreements across
documents (`triage`), adjudication into gold (`adjudication`, its commands in `decisions`) and how
analysts changed the model's suggestions (`provenance`).

May import `core.editing` and `core.db`; never `kb` or anything above."""

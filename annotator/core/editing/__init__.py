"""Editing one layer: the command base and registry (`command`), the undo stack (`stack`), the span
and status commands (`spans`), who may see and edit what (`permissions`), layers (`layers`), the label
scheme (`labels`) and the open document's rules: current span, Tab order, boundary moves (`document`).

May import `core.db` and the core's plain helpers; never `kb`, `review` or anything above."""

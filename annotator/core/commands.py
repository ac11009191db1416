"""Every command the project knows, by name: what the undo stack is rebuilt from after a restart.

Listed explicitly, so restoring a reviewer's or an analyst's history never depends on which modules
happened to be imported before (commands used to register themselves on import).
"""

from __future__ import annotations

from annotator.core.editing import label_commands, spans
from annotator.core.editing.command import registry
from annotator.core.kb import linking
from annotator.core.review import decisions

COMMANDS = registry([*spans.COMMANDS, *label_commands.COMMANDS, *linking.COMMANDS, *decisions.COMMANDS])

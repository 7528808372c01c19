"""The Gradio the demo was checked against: the version range, and the Gradio internals demo/app.py and
demo/guard.py change, checked before the demo starts.

The demo replaces a few of Gradio's internals (demo/app.py: lazy component configs over
`state_holder.SessionState`, optional inputs through `Blocks.validate_inputs`; demo/guard.py: its refusals
through `Blocks.preprocess_data` and `exceptions.InvalidPathError`). A Gradio that moved one of them would break
every request with nothing to say why, so `python -m demo` and the Space's app.py refuse to start instead, and
say which Gradio is installed, what moved and the command that installs a checked one.
"""

from __future__ import annotations

import inspect

# The range pyproject.toml and requirements.txt declare. Every internal below has the same name and signature
# in Gradio 6.0.0's and 6.31.0's source; the test suite runs on 6.31. A new major version may move any of them.
GRADIO_MIN = (6, 0)
GRADIO_BELOW = (7, 0)
GRADIO_RANGE = f">={GRADIO_MIN[0]}.{GRADIO_MIN[1]},<{GRADIO_BELOW[0]}"
INSTALL = f'pip install "gradio{GRADIO_RANGE}"'


class GradioMismatch(RuntimeError):
    """The installed Gradio is outside the checked range, or an internal the demo changes has moved."""


def _version(text: str) -> tuple[int, ...]:
    from packaging.version import InvalidVersion, Version  # a dependency of Gradio

    try:
        return Version(text).release[:2]
    except InvalidVersion:
        return ()


def _params(function) -> list[str]:
    return list(inspect.signature(function).parameters)


def moved_internals(gr=None) -> list[str]:
    """Each internal the demo relies on that this Gradio lacks or has changed, one phrase each ([] if none)."""
    if gr is None:
        import gradio as gr
    moved = []

    def need(what: str, check) -> None:
        try:
            ok = check()
        except Exception:  # an import or an attribute that is gone
            ok = False
        if not ok:
            moved.append(what)

    def state_holder():
        from gradio import state_holder

        return state_holder

    need("gradio.state_holder.SessionState.__init__(self, blocks)",
         lambda: _params(state_holder().SessionState.__init__) == ["self", "blocks"])  # fmt: skip
    need("gradio.state_holder.SessionState._update_value_in_config(self, key, value)",
         lambda: _params(state_holder().SessionState._update_value_in_config) == ["self", "key", "value"])  # fmt: skip
    need("gradio.blocks.BlocksConfig.config_for_block(_id, rendered_ids, block, ...)",
         lambda: _params(gr.blocks.BlocksConfig.config_for_block)[:3] == ["_id", "rendered_ids", "block"])  # fmt: skip
    need("gradio.Blocks.validate_inputs(self, block_fn, inputs)",
         lambda: _params(gr.Blocks.validate_inputs) == ["self", "block_fn", "inputs"])  # fmt: skip
    need("gradio.Blocks.preprocess_data(self, block_fn, inputs, state, explicit_call)",
         lambda: inspect.iscoroutinefunction(gr.Blocks.preprocess_data)
         and _params(gr.Blocks.preprocess_data)[:5] == ["self", "block_fn", "inputs", "state", "explicit_call"])  # fmt: skip
    need("gradio.exceptions.InvalidPathError", lambda: issubclass(gr.exceptions.InvalidPathError, Exception))
    need("launch(js=, state_session_capacity=, app_kwargs=)",
         lambda: {"js", "state_session_capacity", "app_kwargs"} <= set(_params(gr.Blocks.launch)))  # fmt: skip
    if not moved:  # what SessionState makes of a Blocks, as demo/app.py's LazyConfigs replaces it
        need(
            "SessionState(blocks).config_values (a dict) and .blocks_config (with .blocks)", lambda: _session_shape(gr)
        )
    return moved


def _session_shape(gr) -> bool:
    from gradio import state_holder

    with gr.Blocks() as blocks:
        gr.Textbox()
    session = state_holder.SessionState(blocks)
    return isinstance(session.config_values, dict) and hasattr(session.blocks_config, "blocks")


def gradio_problem(version: str | None = None, gr=None) -> str | None:
    """Why the demo must not start on this Gradio (a sentence with the fix), or None when it may."""
    if gr is None:
        import gradio as gr
    version = gr.__version__ if version is None else version
    found = _version(version)
    if not GRADIO_MIN <= found < GRADIO_BELOW:
        return (f"Gradio {version} is installed; the demo changes some of Gradio's internals and was checked with "
                f"Gradio {GRADIO_RANGE}. Install one: {INSTALL} (or pip install -r requirements.txt).")  # fmt: skip
    moved = moved_internals(gr)
    if moved:
        return (f"Gradio {version} has moved internals the demo changes: {'; '.join(moved)}. Install a Gradio the "
                f"demo was checked with: {INSTALL}.")  # fmt: skip
    return None


def check_gradio() -> None:
    """Raise GradioMismatch (its message: what is wrong and the command that fixes it) unless the demo may start."""
    problem = gradio_problem()
    if problem:
        raise GradioMismatch(problem)

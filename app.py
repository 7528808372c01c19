"""Hugging Face Spaces entry point (`app_file: app.py`): the demo on the committed models, and the browser
page at /web/, exactly as `python -m demo` serves them."""

from demo.compat import gradio_problem

if problem := gradio_problem():  # before demo.app changes any of Gradio's internals: say why, and stop
    raise SystemExit(f"error: {problem}")

from demo.app import build_app, launch_options  # noqa: E402

demo = build_app("models")

if __name__ == "__main__":
    demo.launch(**launch_options("models"))

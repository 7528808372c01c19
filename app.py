"""Hugging Face Spaces entry point (`app_file: app.py`): the demo on the committed models, and the browser
page at /web/, exactly as `python -m demo` serves them."""

from demo.app import build_app, launch_options

demo = build_app("models")

if __name__ == "__main__":
    demo.launch(**launch_options("models"))

"""Hugging Face Spaces entry point (`app_file: app.py`): the demo on the committed models."""

from demo.app import MAX_UPLOAD, build_app

demo = build_app("models")

if __name__ == "__main__":
    demo.launch(max_file_size=MAX_UPLOAD)

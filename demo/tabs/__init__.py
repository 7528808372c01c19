"""One module per tab of the Gradio demo, each with one builder: digits_tab, text_tab, points_tab."""

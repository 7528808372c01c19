"""`python -m demo [--host 127.0.0.1] [--port 7860] [--models models/] [--queue-max N]`: serve the app locally."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m demo", description="Serve the digits / text / points demo.")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: this machine only)")
    parser.add_argument("--port", type=int, default=7860)
    parser.add_argument("--models", default="models", help="folder with manifest.json and the ONNX files")
    parser.add_argument("--queue-max", type=int, default=None,
                        help="requests that may wait; the next is answered busy (default: demo.app.QUEUE_MAX)")  # fmt: skip
    args = parser.parse_args(argv)

    from demo.compat import gradio_problem

    problem = gradio_problem()  # before demo.app changes any of Gradio's internals
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    from demo.app import QUEUE_MAX, build_app, launch_options
    from demo.runtime import ManifestError, Zoo

    try:
        zoo = Zoo(args.models)
    except ManifestError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    import onnxruntime

    print(f"ONNX Runtime {onnxruntime.__version__}, execution provider: {zoo.provider}; "
          f"{len(zoo.models)} models from {args.models}/manifest.json (sha256 checked)")  # fmt: skip
    app = build_app(zoo=zoo, queue_max=args.queue_max or QUEUE_MAX)
    # the browser page at /web/ comes with the options (demo/web.py), as on a Space (app.py)
    app.launch(server_name=args.host, server_port=args.port, share=False, **launch_options(args.models))
    return 0


if __name__ == "__main__":
    sys.exit(main())

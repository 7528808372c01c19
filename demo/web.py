"""The browser page (web/): served at /web/ by `python -m demo`, or written as a self-contained static folder.

    python -m demo.web [--out site] [--models models]

One table, `site_files()`, says what the page needs (URL path -> file): the page itself (web/*.html, *.js,
*.css), the three onnxruntime-web files it loads (from node_modules/, `npm ci`), and the models folder as the
manifest lists it (manifest.json, the ONNX files, their test_data). The demo serves that table under /web/
with the cross-origin isolation headers that let onnxruntime-web use threads; the command copies it into a
folder that any static host serves as it is (a static Hugging Face Space, GitHub Pages, `python -m
http.server`). No CDN: every request the page makes stays on its own origin.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from functools import lru_cache
from pathlib import Path

from zoo import manifest

ROOT = Path(__file__).resolve().parents[1]
WEB_DIR = ROOT / "web"
ORT_DIST = ROOT / "node_modules" / "onnxruntime-web" / "dist"
# What `import "./ort/ort.wasm.min.mjs"` loads: the ES module (wasm backend only), its Emscripten glue, and the
# SIMD + threads WebAssembly binary (one binary for 1 or more threads).
ORT_FILES = ("ort.wasm.min.mjs", "ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm")
PAGE_SUFFIXES = (".html", ".js", ".css")
# Cross-origin isolation: SharedArrayBuffer, hence onnxruntime-web's wasm threads. Every resource is same-origin.
ISOLATION_HEADERS = {
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Embedder-Policy": "require-corp",
    "Cross-Origin-Resource-Policy": "same-origin",
}
MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".wasm": "application/wasm",  # instantiateStreaming insists on it
}
COMPRESSED_SUFFIXES = (".wasm", ".mjs")  # Gradio's own compression skips these; the wasm is 14 MB, 2.8 MB as brotli
SPACE_README = """---
title: lecture-zoo (browser)
emoji: ✍️
colorFrom: blue
colorTo: indigo
sdk: static
app_file: index.html
pinned: false
short_description: MNIST CNNs and char RNNs running in the browser (onnxruntime-web)
custom_headers:
  cross-origin-embedder-policy: require-corp
  cross-origin-opener-policy: same-origin
  cross-origin-resource-policy: cross-origin
---

The lecture-zoo models in the browser: written by `python -m demo.web --out DIR` from the lecture-zoo
repository. Every file the page loads is in this folder; nothing runs on a server.
"""


class SiteError(RuntimeError):
    """The page cannot be put together: a missing file (onnxruntime-web not installed, a model absent) or an altered model."""


def site_files(models_dir: str | Path = "models") -> dict[str, Path]:
    """URL path under the page's root -> file: the page, onnxruntime-web, the models the manifest lists."""
    models_dir = Path(models_dir)
    files = {p.name: p for p in sorted(WEB_DIR.iterdir()) if p.suffix in PAGE_SUFFIXES}
    files.update({f"ort/{name}": ORT_DIST / name for name in ORT_FILES})
    files["models/manifest.json"] = models_dir / manifest.FILE
    if (models_dir / manifest.FILE).is_file():
        for entry in manifest.load(models_dir):
            for listed in manifest.files_of(entry):  # the ONNX file, a probe's weights, training and replay files
                files[f"models/{listed['file']}"] = models_dir / listed["file"]
            if entry.get("test_data"):
                for pb in sorted((models_dir / entry["test_data"]).glob("*.pb")):
                    files[f"models/{pb.relative_to(models_dir).as_posix()}"] = pb
    return files


def missing(files: dict[str, Path]) -> list[str]:
    return [f"{url} ({path})" for url, path in files.items() if not path.is_file()]


# ---------------------------------------------------------------------- serving at /web/ (python -m demo)


def routes(models_dir: str | Path = "models", prefix: str = "/web") -> list:
    """Starlette routes serving the page under `prefix`/ (same host and port as the demo)."""
    from starlette.requests import Request
    from starlette.responses import FileResponse, PlainTextResponse, RedirectResponse, Response
    from starlette.routing import Route

    files = site_files(models_dir)
    absent = missing(files)
    if absent:
        print(f"warning: {prefix}/ lacks {', '.join(absent)}"
              + ("; run `npm ci` for onnxruntime-web" if not ORT_DIST.is_dir() else ""), file=sys.stderr)  # fmt: skip

    async def serve(request: Request) -> Response:
        path = request.path_params["path"] or "index.html"
        file = files.get(path)
        if file is None or not file.is_file():
            return PlainTextResponse(
                f"{prefix}/{path}: not part of the page", status_code=404, headers=ISOLATION_HEADERS
            )
        stat = file.stat()
        etag = f'"{stat.st_mtime_ns:x}-{stat.st_size:x}"'
        headers = {**ISOLATION_HEADERS, "Cache-Control": "no-cache", "ETag": etag}  # revalidate, then 304
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers=headers)
        media_type = MEDIA_TYPES.get(file.suffix, "application/octet-stream")
        if file.suffix in COMPRESSED_SUFFIXES and "br" in request.headers.get("accept-encoding", ""):
            body = _brotli(file, stat.st_mtime_ns)
            return Response(
                body, media_type=media_type, headers={**headers, "Content-Encoding": "br", "Vary": "Accept-Encoding"}
            )
        return FileResponse(file, media_type=media_type, headers=headers)

    async def redirect(request: Request) -> Response:
        return RedirectResponse(f"{prefix}/")

    return [Route(prefix, redirect), Route(prefix + "/{path:path}", serve, methods=["GET", "HEAD"])]


@lru_cache(maxsize=8)
def _brotli(file: Path, mtime_ns: int) -> bytes:
    import brotli  # Gradio depends on it

    return brotli.compress(file.read_bytes(), quality=5)  # 0.6 s once for the 14 MB wasm


# ---------------------------------------------------------------------- the static folder


def build(out: str | Path = "site", models_dir: str | Path = "models") -> dict[str, Path]:
    """Write the page, onnxruntime-web and the models into `out` (replaced), for any static host."""
    out, models_dir = Path(out), Path(models_dir)
    files = site_files(models_dir)
    absent = missing(files)
    if absent:
        hint = "; run `npm ci` (onnxruntime-web)" if not ORT_DIST.is_dir() else ""
        raise SiteError(f"cannot build the page: missing {', '.join(absent)}{hint}")
    for entry in manifest.load(models_dir):
        try:
            for listed in manifest.files_of(entry):
                manifest.checked_file(listed, models_dir)
        except manifest.ManifestError as error:
            raise SiteError(str(error)) from None
    if out.exists():
        if not (out / "index.html").is_file() or not (out / "zoo.js").is_file():
            raise SiteError(f"{out} exists and is not a folder this command wrote: refusing to replace it")
        shutil.rmtree(out)
    for url, path in files.items():
        (out / url).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, out / url)
    (out / "README.md").write_text(SPACE_README)  # a static Hugging Face Space, as it stands
    (out / ".nojekyll").write_text("")  # GitHub Pages: serve the files as they are
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m demo.web", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--out", default="site", help="folder to write (replaced if this command wrote it before)")
    parser.add_argument("--models", default="models", help="folder with manifest.json and the ONNX files")
    args = parser.parse_args(argv)
    try:
        files = build(args.out, args.models)
    except SiteError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    total = sum(p.stat().st_size for p in files.values())
    print(f"wrote {len(files) + 2} files ({total / 1e6:.1f} MB) to {args.out}/: serve it with any static host, e.g.\n"
          f"  python -m http.server -d {args.out} 8000   # then open http://127.0.0.1:8000/\n"
          f"  or push {args.out}/ as a static Hugging Face Space (its README.md is the Space's config)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())

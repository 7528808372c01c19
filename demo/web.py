"""The browser page (web/): served at /web/ by `python -m demo`, or written as a self-contained static folder.

    python -m demo.web [--out site] [--models models]

One table, `site_files()`, says what the page needs (URL path -> file): the page itself (web/*.html, *.js,
*.css), the three onnxruntime-web files it loads (committed in web/ort/ with their sha256, the wasm stored as
brotli), and the models folder as the manifest lists it (manifest.json, the ONNX files, their test_data). The demo serves that table under /web/
with the cross-origin isolation headers that let onnxruntime-web use threads; the command copies it into a
folder that any static host serves as it is (a static Hugging Face Space, GitHub Pages, `python -m
http.server`). No CDN: every request the page makes stays on its own origin.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
from functools import lru_cache
from pathlib import Path

from zoo import manifest

ROOT = Path(__file__).resolve().parents[1]
WEB_DIR = ROOT / "web"
# onnxruntime-web, vendored: what `import "./ort/ort.wasm.min.mjs"` loads (the ES module of the wasm backend
# alone, its Emscripten glue, and the SIMD + threads WebAssembly binary, one binary for 1 or more threads), so
# that a plain clone or a Space built from requirements.txt serves a working page without npm. SHA256SUMS holds
# each file's sha256 as npm ships it; the 14 MB wasm is committed brotli-compressed (2.4 MB, under the 10 MB
# past which the Hub wants Git LFS) and sent as it is to browsers that accept br (all current ones).
ORT_DIR = WEB_DIR / "ort"
ORT_SUMS = ORT_DIR / "SHA256SUMS"
ORT_FILES = ("ort.wasm.min.mjs", "ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm")
ORT_STORED_BROTLI = ("ort-wasm-simd-threaded.wasm",)
ORT_RESTORE = "git checkout -- web/ort"  # the files are part of the repository
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
    """The page cannot be put together: a missing file (onnxruntime-web's, a model's) or an altered one."""


# ---------------------------------------------------------------------- onnxruntime-web (web/ort/)


def ort_source(name: str, ort_dir: Path | None = None) -> Path:
    """The committed file behind ort/`name` (the wasm's is its brotli copy)."""
    ort_dir = ort_dir or ORT_DIR
    return ort_dir / (f"{name}.br" if name in ORT_STORED_BROTLI else name)


def ort_sums(ort_dir: Path | None = None) -> dict[str, str]:
    """name -> sha256 of the file as served, from SHA256SUMS (the `sha256sum` format); {} if it is missing."""
    sums_file = (ort_dir or ORT_DIR) / ORT_SUMS.name
    if not sums_file.is_file():
        return {}
    pairs = (line.split(maxsplit=1) for line in sums_file.read_text().splitlines() if line.strip())
    return {name.strip().lstrip("*"): digest for digest, name in pairs}


def ort_bytes(name: str, ort_dir: Path | None = None) -> bytes:
    """ort/`name` as the browser must receive it, after checking it against SHA256SUMS; SiteError says what is
    wrong and how to restore it."""
    source, where = ort_source(name, ort_dir), f"web/ort/{ort_source(name, ort_dir).name}"
    expected = ort_sums(ort_dir).get(name)
    if not source.is_file():
        raise SiteError(
            f"{where} (onnxruntime-web) is missing from this copy of lecture-zoo: restore it with `{ORT_RESTORE}`"
        )
    if expected is None:
        raise SiteError(f"web/ort/SHA256SUMS lacks {name}: restore the folder with `{ORT_RESTORE}`")
    return _checked_ort_bytes(source, source.stat().st_mtime_ns, expected, where)


@lru_cache(maxsize=8)
def _checked_ort_bytes(source: Path, mtime_ns: int, expected: str, where: str) -> bytes:
    raw = source.read_bytes()
    if source.suffix == ".br":
        import brotli  # Gradio depends on it

        try:
            raw = brotli.decompress(raw)
        except brotli.error:
            raw = b""  # a Git LFS pointer or a truncated file: reported as a mismatch below
    if hashlib.sha256(raw).hexdigest() != expected:
        raise SiteError(f"{where} (onnxruntime-web) does not match web/ort/SHA256SUMS: altered, truncated or a Git "
                        f"LFS pointer; restore it with `{ORT_RESTORE}`")  # fmt: skip
    return raw


def ort_problems(ort_dir: Path | None = None) -> list[str]:
    """What is wrong with the committed onnxruntime-web files, one sentence each ([] when all three check out)."""
    problems = []
    for name in ORT_FILES:
        try:
            ort_bytes(name, ort_dir)
        except SiteError as error:
            problems.append(str(error))
    return problems


def vendor_ort(dist: str | Path, ort_dir: Path | None = None) -> dict[str, str]:
    """Copy the three files from an onnxruntime-web `dist/` folder (after `npm install onnxruntime-web@X`) into
    web/ort/, the wasm as brotli, and write SHA256SUMS and README.md. Returns name -> sha256."""
    import brotli

    dist, ort_dir = Path(dist), ort_dir or ORT_DIR
    version = json.loads((dist.parent / "package.json").read_text())["version"]
    ort_dir.mkdir(parents=True, exist_ok=True)
    sums = {}
    for name in ORT_FILES:
        raw = (dist / name).read_bytes()
        sums[name] = hashlib.sha256(raw).hexdigest()
        body = brotli.compress(raw, quality=11) if name in ORT_STORED_BROTLI else raw
        ort_source(name, ort_dir).write_bytes(body)
    (ort_dir / ORT_SUMS.name).write_text("".join(f"{digest}  {name}\n" for name, digest in sums.items()))
    (ort_dir / "README.md").write_text(ORT_README.format(version=version))
    return sums


ORT_README = """# onnxruntime-web {version}, the three files the page loads

From the npm package `onnxruntime-web@{version}` (`dist/`), MIT licence (LICENSE). ThirdPartyNotices.txt is the
onnxruntime project's list of the libraries it compiles in (the npm package ships none; this one comes from the
onnxruntime Python wheel). `SHA256SUMS` holds each file's sha256 as npm ships it; the wasm is kept
brotli-compressed (`ort-wasm-simd-threaded.wasm.br`; `brotli -d` gives the npm file back). The demo checks every
file against `SHA256SUMS` before serving it. To move to another version:

    npm install onnxruntime-web@VERSION && python -m demo.web --vendor node_modules/onnxruntime-web/dist
"""


def site_files(models_dir: str | Path = "models") -> dict[str, Path]:
    """URL path under the page's root -> file: the page, onnxruntime-web, the models the manifest lists."""
    models_dir = Path(models_dir)
    files = {p.name: p for p in sorted(WEB_DIR.iterdir()) if p.suffix in PAGE_SUFFIXES}
    files.update({f"ort/{name}": ort_source(name) for name in ORT_FILES})
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
    ort_urls = {f"ort/{name}": name for name in ORT_FILES}
    # Said once at start-up; the page itself says it too (it asks for the file, reads this 404 or 500's text)
    problems = ort_problems() + missing({u: p for u, p in files.items() if u not in ort_urls})
    for problem in problems:
        print(f"warning: {prefix}/ will not work: {problem}", file=sys.stderr)

    async def serve(request: Request) -> Response:
        path = request.path_params["path"] or "index.html"
        file = files.get(path)
        if file is None or not file.is_file():
            text = f"{prefix}/{path}: not part of the page"
            if path in ort_urls:
                text = f"{prefix}/{path}: web/ort/{file.name} (onnxruntime-web) is missing from this copy of lecture-zoo: restore it with `{ORT_RESTORE}`"  # fmt: skip
            return PlainTextResponse(text, status_code=404, headers=ISOLATION_HEADERS)
        stat = file.stat()
        etag = f'"{stat.st_mtime_ns:x}-{stat.st_size:x}"'
        headers = {**ISOLATION_HEADERS, "Cache-Control": "no-cache", "ETag": etag}  # revalidate, then 304
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers=headers)
        media_type = MEDIA_TYPES.get(Path(path).suffix, "application/octet-stream")
        brotli_ok = "br" in request.headers.get("accept-encoding", "")
        if path in ort_urls:  # checked against SHA256SUMS (once per change of the file) before it is sent
            try:
                raw = ort_bytes(ort_urls[path])
            except SiteError as error:
                return PlainTextResponse(f"{prefix}/{path}: {error}", status_code=500, headers=ISOLATION_HEADERS)
            headers["Vary"] = "Accept-Encoding"
            if not brotli_ok:
                return Response(raw, media_type=media_type, headers=headers)
            body = file.read_bytes() if file.suffix == ".br" else _brotli(file, stat.st_mtime_ns)
            return Response(body, media_type=media_type, headers={**headers, "Content-Encoding": "br"})
        if file.suffix in COMPRESSED_SUFFIXES and brotli_ok:
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
    ort_urls = {f"ort/{name}": name for name in ORT_FILES}
    absent = missing({url: path for url, path in files.items() if url not in ort_urls})
    if absent:
        raise SiteError(f"cannot build the page: missing {', '.join(absent)}")
    try:
        runtime = {url: ort_bytes(name) for url, name in ort_urls.items()}  # as served: the wasm decompressed
    except SiteError as error:
        raise SiteError(f"cannot build the page: {error}") from None
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
        if url in runtime:
            (out / url).write_bytes(runtime[url])
        else:
            shutil.copyfile(path, out / url)
    (out / "README.md").write_text(SPACE_README)  # a static Hugging Face Space, as it stands
    (out / ".nojekyll").write_text("")  # GitHub Pages: serve the files as they are
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m demo.web", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--out", default="site", help="folder to write (replaced if this command wrote it before)")
    parser.add_argument("--models", default="models", help="folder with manifest.json and the ONNX files")
    parser.add_argument("--vendor", metavar="DIST", help="instead: copy onnxruntime-web's files from DIST (its npm "
                        "package's dist/ folder) into web/ort/, with their sha256")  # fmt: skip
    args = parser.parse_args(argv)
    if args.vendor:
        for name, digest in vendor_ort(args.vendor).items():
            print(f"{digest}  {name} (web/ort/{ort_source(name).name})")
        return 0
    try:
        files = build(args.out, args.models)
    except SiteError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    total = sum((Path(args.out) / url).stat().st_size for url in files)
    print(f"wrote {len(files) + 2} files ({total / 1e6:.1f} MB) to {args.out}/: serve it with any static host, e.g.\n"
          f"  python -m http.server -d {args.out} 8000   # then open http://127.0.0.1:8000/\n"
          f"  or push {args.out}/ as a static Hugging Face Space (its README.md is the Space's config)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())

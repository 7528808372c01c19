"""Write web/hangul.css: the page's Hangul as a font it ships, so that the Korean page looks the same on every
machine (not only on one that happens to have a Korean font).

    python web/make_hangul_font.py [--font /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc]

The font is a subset of Noto Sans CJK KR Regular (SIL Open Font License 1.1, whose text the CSS carries): only
the Hangul the page writes (web/i18n-ko.js and web/index.html), renamed "lecture-zoo Hangul" as the licence asks
of a modified font, as WOFF2 inside the CSS (a data: URL, so every host that serves the page's .css serves it).
tests/test_i18n_web.py fails, naming this command, when a Korean string uses a syllable the subset lacks.
"""

from __future__ import annotations

import argparse
import base64
import io
from pathlib import Path

WEB = Path(__file__).resolve().parent
FAMILY = "lecture-zoo Hangul"
UNICODE_RANGE = "U+1100-11FF, U+3130-318F, U+AC00-D7A3"
DEFAULT_FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
LICENCE = "/usr/share/doc/fonts-noto-cjk/copyright"


def is_hangul(c: str) -> bool:
    return "\u1100" <= c <= "\u11ff" or "\u3130" <= c <= "\u318f" or "\uac00" <= c <= "\ud7a3"


def page_hangul() -> str:
    """Every Hangul character the page can write, sorted."""
    text = (WEB / "i18n-ko.js").read_text(encoding="utf-8") + (WEB / "index.html").read_text(encoding="utf-8")
    return "".join(sorted({c for c in text if is_hangul(c)}))


def subset_woff2(font_path: str, characters: str) -> bytes:
    from fontTools import subset
    from fontTools.ttLib import TTCollection, TTFont

    if font_path.endswith((".ttc", ".otc")):
        fonts = TTCollection(font_path).fonts
        font = next(f for f in fonts if f["name"].getDebugName(1) == "Noto Sans CJK KR")
    else:
        font = TTFont(font_path)
    options = subset.Options()
    options.flavor = "woff2"
    options.layout_features = []
    options.hinting = False
    options.name_IDs = [0, 1, 2, 3, 4, 5, 6, 13, 14]
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=characters)
    subsetter.subset(font)
    for record in font["name"].names:  # a modified font goes by another name (OFL 1.1, condition 3)
        if record.nameID in (1, 4, 16):
            record.string = FAMILY
        elif record.nameID == 6:
            record.string = FAMILY.replace(" ", "-")
    out = io.BytesIO()
    font.recalcTimestamp = False  # the same bytes from the same characters
    font.flavor = "woff2"
    font.save(out)
    return out.getvalue()


def licence_text() -> str:
    """The SIL Open Font License 1.1, as the Debian package of the font carries it."""
    lines = Path(LICENCE).read_text(encoding="utf-8").splitlines()
    start = next(
        i
        for i, line in enumerate(lines)
        if line.startswith("License: SIL-1.1") and i > 0 and not lines[i - 1].startswith("Copyright")
    )
    body = [line[1:] if line.startswith(" ") else line for line in lines[start + 1 :]]
    body = [("" if line == "." else line) for line in body]
    end = next((i for i, line in enumerate(body) if line.startswith("License: ")), len(body))
    return "\n".join(body[:end]).strip().replace("*/", "* /")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--font", default=DEFAULT_FONT, help="Noto Sans CJK (a .ttc collection or NotoSansCJKkr-Regular.otf)"
    )
    args = parser.parse_args(argv)
    characters = page_hangul()
    woff2 = subset_woff2(args.font, characters)
    css = (
        f"/* {FAMILY}: the Hangul of the page's Korean strings ({len(characters)} characters), a subset of Noto Sans CJK KR\n"
        "   Regular (Copyright 2014-2021 Adobe, with Reserved Font Name 'Source'; Noto is a trademark of Google), renamed as\n"
        "   a modified font. Made by `python web/make_hangul_font.py`; licensed under the SIL Open Font License 1.1:\n\n"
        f"{licence_text()}\n*/\n"
        f'@font-face {{ font-family: "{FAMILY}"; font-style: normal; font-weight: 100 900; font-display: swap;\n'
        f"  unicode-range: {UNICODE_RANGE};\n"
        f'  src: url(data:font/woff2;base64,{base64.b64encode(woff2).decode()}) format("woff2"); }}\n'
    )
    (WEB / "hangul.css").write_text(css, encoding="utf-8")
    print(
        f"web/hangul.css: {len(characters)} Hangul characters, {len(woff2):,} bytes of WOFF2, {len(css):,} bytes of CSS"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

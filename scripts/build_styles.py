"""Build the shared look from npm packages into web/static/: nothing is loaded from outside the app.

    .venv/bin/python scripts/build_styles.py          # write the files below
    .venv/bin/python scripts/build_styles.py --check  # exit 1 if a committed file is stale (make test)

- web/static/workcred.css: the KRDS design tokens the pages use (krds-uiux, values read from
  resources/css/token/krds_tokens.css, rem converted at KRDS's 1rem = 10px), the @font-face rules,
  then the component rules written for our markup (web/styles/workcred.css: masthead, header,
  buttons, forms, alerts, tables, footer, after the KRDS components of the same names).
- web/static/krds-flag.svg: the national flag icon of the KRDS official-website banner (masthead).
- web/static/fonts/pretendard-gov-{400,700}-{latin,hangul,common}.woff2: Pretendard GOV (pretendard-gov,
  SIL OFL 1.1, its licence copied beside it) cut to what the pages write: in the `common` files the
  syllables of web/styles/hangul-common.txt (the apps' own words, common surnames), Hangul compatibility
  jamo and CJK punctuation; in the `hangul` files the other syllables of KS X 1001; Basic Latin,
  Latin-1, general punctuation, arrows and the won sign in the `latin` files. `unicode-range` lets a
  browser fetch a file only when the page has such characters, so an English page takes no Hangul.
  fonts.json records the source and output digests; --check compares them and each file's character
  map, so a different fontTools build (its byte output may differ) does not make the check fail.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KRDS = ROOT / "node_modules" / "krds-uiux"
KRDS_TOKENS = KRDS / "resources" / "css" / "token" / "krds_tokens.css"
KRDS_FLAG = KRDS / "resources" / "img" / "component" / "icon" / "ico_flag.svg"
PRETENDARD = ROOT / "node_modules" / "pretendard-gov"
FONT_SOURCE = PRETENDARD / "dist" / "web" / "static" / "woff2" / "PretendardGOV-{weight}.woff2"
FONT_LICENSE = PRETENDARD / "dist" / "LICENSE.txt"
RULES = ROOT / "web" / "styles" / "workcred.css"
COMMON_HANGUL = ROOT / "web" / "styles" / "hangul-common.txt"
STATIC = ROOT / "web" / "static"
CSS_OUT = STATIC / "workcred.css"
FLAG_OUT = STATIC / "krds-flag.svg"
FONTS_OUT = STATIC / "fonts"
MANIFEST = FONTS_OUT / "fonts.json"

#: our custom property -> the KRDS token it takes its value from (names keep KRDS's meaning)
TOKENS: tuple[tuple[str, str], ...] = (
    # colour primitives
    *((f"primary-{n}", f"color-light-primary-{n}") for n in (5, 10, 20, 50, 60, 70)),
    *((f"secondary-{n}", f"color-light-secondary-{n}") for n in (5, 10, 50, 70, 80)),
    *((f"gray-{n}", f"color-light-gray-{n}") for n in (0, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95)),
    *((f"danger-{n}", f"color-light-danger-{n}") for n in (5, 10, 50, 60)),
    *((f"warning-{n}", f"color-light-warning-{n}") for n in (5, 10, 50, 60)),
    *((f"success-{n}", f"color-light-success-{n}") for n in (5, 10, 50, 60)),
    *((f"info-{n}", f"color-light-information-{n}") for n in (5, 10, 50, 60)),
    # semantic roles
    ("link-visited", "light-color-link-visited"),
    ("text", "light-color-text-basic"),
    ("text-bolder", "light-color-text-bolder"),
    ("text-subtle", "light-color-text-subtle"),
    ("text-primary", "light-color-text-primary"),
    ("text-inverse", "light-color-text-basic-inverse"),
    ("border", "light-color-border-gray"),
    ("border-light", "light-color-border-gray-light"),
    ("border-dark", "light-color-border-gray-dark"),
    ("input-border", "light-color-input-border"),
    ("surface", "light-color-surface-white"),
    ("surface-subtle", "light-color-surface-gray-subtler"),
    ("surface-secondary", "light-color-surface-secondary-subtler"),
    ("surface-inverse", "light-color-surface-inverse"),
    ("focus", "light-color-border-primary"),
    # type scale (mobile first; the PC sizes take over from 1024 px in the rules)
    ("h1", "mobile-font-size-heading-xlarge"),
    ("h2", "mobile-font-size-heading-medium"),
    ("h3", "mobile-font-size-heading-small"),
    ("h1-pc", "pc-font-size-heading-xlarge"),
    ("h2-pc", "pc-font-size-heading-medium"),
    ("h3-pc", "pc-font-size-heading-small"),
    ("body-large", "pc-font-size-body-large"),
    ("body", "pc-font-size-body-medium"),
    ("label-small", "pc-font-size-label-small"),
    # spacing (KRDS number scale) and shape
    ("space-1", "number-3"),
    ("space-2", "number-5"),
    ("space-3", "number-7"),
    ("space-4", "number-8"),
    ("space-5", "number-9"),
    ("space-6", "number-10"),
    ("space-8", "number-12"),
    ("space-10", "number-14"),
    ("space-12", "number-16"),
    ("radius", "radius-medium2"),
    ("radius-large", "radius-large1"),
    ("control-height", "size-height-8"),
    ("masthead-height", "size-height-5"),
)

#: the font's two weights (KRDS uses regular text and bold headings/labels)
WEIGHTS = {400: "Regular", 700: "Bold"}
LATIN_RANGES = ((0x20, 0x7E), (0xA0, 0xFF), (0x2010, 0x2027), (0x2030, 0x203B), (0x20A9, 0x20A9), (0x2190, 0x2193))
HANGUL_EXTRA = ((0x3000, 0x3018), (0x3131, 0x318E))
FONT_FAMILY = "Pretendard GOV"


def ks_x_1001_hangul() -> list[int]:
    """The 2,350 precomposed Hangul syllables of KS X 1001 (EUC-KR rows 0xB0-0xC8)."""
    return [ord(bytes((hi, lo)).decode("euc_kr")) for hi in range(0xB0, 0xC9) for lo in range(0xA1, 0xFF)]


def _expand(ranges: tuple[tuple[int, int], ...]) -> set[int]:
    return {cp for lo, hi in ranges for cp in range(lo, hi + 1)}


def common_hangul() -> set[int]:
    """The syllables of web/styles/hangul-common.txt that are in KS X 1001 (the apps' own words, surnames)."""
    text = "".join(line for line in COMMON_HANGUL.read_text(encoding="utf-8").splitlines() if not line.startswith("#"))
    return {ord(c) for c in text} & set(ks_x_1001_hangul())


def subsets() -> dict[str, set[int]]:
    """latin, hangul (KS X 1001 minus the common syllables), common (the common ones, jamo, CJK punctuation).

    A page in Korean that writes only the apps' own words fetches the small `common` files; a name or
    a project with another syllable also fetches `hangul` (the wallet's first load stays under 300 KB).
    """
    common = common_hangul()
    return {"latin": _expand(LATIN_RANGES), "hangul": set(ks_x_1001_hangul()) - common, "common": common | _expand(HANGUL_EXTRA)}


def _unicode_range(cps: set[int]) -> str:
    """CSS unicode-range of a set, as runs (U+AC00-AC01, U+AC04, ...)."""
    out: list[str] = []
    ordered = sorted(cps)
    start = prev = ordered[0]
    for cp in [*ordered[1:], -1]:
        if cp != prev + 1:
            out.append(f"U+{start:X}" if start == prev else f"U+{start:X}-{prev:X}")
            start = cp
        prev = cp
    return ", ".join(out)


# --- tokens ----------------------------------------------------------------------------------------


def krds_tokens() -> dict[str, str]:
    """`--krds-*` values of the light theme (the first :root block), var() chains resolved, rem as px."""
    text = KRDS_TOKENS.read_text(encoding="utf-8")
    block = text[text.index(":root") : text.index("}", text.index(":root"))]
    raw = dict(re.findall(r"--krds-([\w-]+):\s*([^;]+);", block))

    def resolve(name: str, depth: int = 0) -> str:
        value = raw[name].strip()
        m = re.fullmatch(r"var\(--krds-([\w-]+)\)", value)
        if m and depth < 10:
            return resolve(m.group(1), depth + 1)
        rem = re.fullmatch(r"([\d.]+)rem", value)
        if rem:  # KRDS sets html { font-size: 62.5% }: 1rem = 10px; we keep the browser's 16px
            px = float(rem.group(1)) * 10
            return f"{px:g}px"
        return value

    return {name: resolve(name) for name in raw}


def token_block() -> str:
    values = krds_tokens()
    lines = [f"  --wc-{ours}: {values[krds]}; /* krds-{krds} */" for ours, krds in TOKENS]
    return ":root {\n" + "\n".join(lines) + "\n}\n"


#: what each file's @font-face claims: the whole syllable block for Hangul (a syllable outside KS X 1001,
# e.g. 똠, then comes from the next font of the stack, glyph by glyph), so the CSS stays short
# `common` comes last: for a character both claim, a browser tries the later rule first (CSS Fonts 4
# §4.5), so the big `hangul` file is fetched only for a syllable outside the common list
UNICODE_RANGES = {
    "latin": _unicode_range(_expand(LATIN_RANGES)),
    "hangul": "U+AC00-D7A3",
    "common": _unicode_range(subsets()["common"]),
}


def font_faces() -> str:
    rules = []
    for weight in WEIGHTS:
        for name in subsets():
            rules.append(
                "@font-face {\n"
                f'  font-family: "{FONT_FAMILY}";\n  font-style: normal;\n  font-weight: {weight};\n'
                "  font-display: swap; /* text shows at once in the system font, then swaps */\n"
                f'  src: url("fonts/{_font_name(weight, name)}?v={_font_version(weight, name)}") format("woff2");\n'
                f"  unicode-range: {UNICODE_RANGES[name]};\n}}\n"
            )
    return "".join(rules)


def build_css() -> bytes:
    krds = json.loads((KRDS / "package.json").read_text(encoding="utf-8"))
    pretendard = json.loads((PRETENDARD / "package.json").read_text(encoding="utf-8"))
    header = (
        "/* workcred.css: built by scripts/build_styles.py, do not edit (edit web/styles/workcred.css).\n"
        f"   Tokens: KRDS (krds-uiux {krds['version']}, the Korean government design system), values from\n"
        "   resources/css/token/krds_tokens.css at 1rem = 10px. Font: Pretendard GOV "
        f"(pretendard-gov {pretendard['version']}, SIL OFL 1.1), subset. */\n\n"
    )
    return (header + token_block() + "\n" + font_faces() + "\n" + RULES.read_text(encoding="utf-8")).encode("utf-8")


# --- fonts -----------------------------------------------------------------------------------------


def _font_name(weight: int, subset: str) -> str:
    return f"pretendard-gov-{weight}-{subset}.woff2"


def _font_version(weight: int, subset: str) -> str:
    """The file's digest in its URL: the app lets browsers keep a versioned asset for a year."""
    path = FONTS_OUT / _font_name(weight, subset)
    return _sha256(path.read_bytes())[:12] if path.is_file() else "missing"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def build_fonts() -> dict[str, bytes]:
    """Cut each weight to each subset (hinting dropped: Korean screens render unhinted outlines well)."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    out: dict[str, bytes] = {}
    for weight, style in WEIGHTS.items():
        source = FONT_SOURCE.with_name(FONT_SOURCE.name.format(weight=style)).read_bytes()
        for name, cps in subsets().items():
            font = TTFont(io.BytesIO(source))
            options = subset.Options()
            options.flavor = "woff2"
            options.hinting = False
            options.desubroutinize = True
            options.layout_features = ["kern", "liga", "calt", "ccmp", "locl", "mark", "mkmk"]
            options.name_IDs = [0, 1, 2, 3, 4, 5, 6, 13, 14]  # keep the copyright and licence names
            cutter = subset.Subsetter(options)
            cutter.populate(unicodes=cps)
            cutter.subset(font)
            buf = io.BytesIO()
            font.flavor = "woff2"
            font.save(buf)
            out[_font_name(weight, name)] = buf.getvalue()
    return out


def _cmap(data: bytes) -> set[int]:
    from fontTools.ttLib import TTFont

    return set(TTFont(io.BytesIO(data)).getBestCmap())


def font_manifest(files: dict[str, bytes]) -> dict[str, object]:
    sources = {style: _sha256(FONT_SOURCE.with_name(FONT_SOURCE.name.format(weight=style)).read_bytes()) for style in WEIGHTS.values()}
    return {
        "package": "pretendard-gov",
        "version": json.loads((PRETENDARD / "package.json").read_text(encoding="utf-8"))["version"],
        "sources": sources,
        "files": {name: {"bytes": len(data), "sha256": _sha256(data), "characters": len(_cmap(data))} for name, data in sorted(files.items())},
    }


def check_fonts() -> list[str]:
    """What is stale: the sources changed, a file differs from the manifest, or a file's characters are wrong."""
    problems: list[str] = []
    if not MANIFEST.is_file():
        return [f"{MANIFEST.relative_to(ROOT)} is missing"]
    manifest = json.loads(MANIFEST.read_text(encoding="utf-8"))
    for style, digest in manifest["sources"].items():
        path = FONT_SOURCE.with_name(FONT_SOURCE.name.format(weight=style))
        if _sha256(path.read_bytes()) != digest:
            problems.append(f"{path.relative_to(ROOT)} changed since the fonts were cut")
    wanted = subsets()
    source_cmaps = {w: _cmap(FONT_SOURCE.with_name(FONT_SOURCE.name.format(weight=style)).read_bytes()) for w, style in WEIGHTS.items()}
    for name, info in manifest["files"].items():
        path = FONTS_OUT / name
        data = path.read_bytes() if path.is_file() else b""
        if _sha256(data) != info["sha256"]:
            problems.append(f"{path.relative_to(ROOT)} differs from fonts.json")
            continue
        m = re.fullmatch(r"pretendard-gov-(\d+)-(\w+)\.woff2", name)
        if m is None or int(m.group(1)) not in WEIGHTS or m.group(2) not in wanted:
            problems.append(f"{path.relative_to(ROOT)} is not one of the expected files")
        elif not wanted[m.group(2)] & source_cmaps[int(m.group(1))] <= _cmap(data) <= source_cmaps[int(m.group(1))]:
            # the subsetter may add a few characters its layout rules reach (e.g. a bracket's pair)
            problems.append(f"{path.relative_to(ROOT)} does not hold its characters")
    expected = {_font_name(w, s) for w in WEIGHTS for s in wanted}
    if set(manifest["files"]) != expected:
        problems.append("fonts.json does not list the expected files")
    if (FONTS_OUT / "OFL.txt").read_bytes() != FONT_LICENSE.read_bytes():
        problems.append("web/static/fonts/OFL.txt differs from the font's licence")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare the committed files with node_modules")
    parser.add_argument("--css-only", action="store_true", help="rebuild the CSS, leave the fonts (fast, for editing the rules)")
    args = parser.parse_args(argv)
    for needed in (KRDS_TOKENS, KRDS_FLAG, FONT_LICENSE):
        if not needed.is_file():
            print(f"{needed} is missing: run `npm ci` first", file=sys.stderr)
            return 2
    flag = KRDS_FLAG.read_bytes()
    if args.check:
        css = build_css()
        problems = []
        for path, wanted in ((CSS_OUT, css), (FLAG_OUT, flag)):
            if not path.is_file() or path.read_bytes() != wanted:
                problems.append(f"{path.relative_to(ROOT)} is stale")
        problems += check_fonts()
        for problem in problems:
            print(f"{problem}: run scripts/build_styles.py", file=sys.stderr)
        return 1 if problems else 0
    if not args.css_only:
        # fonts first: the CSS names each font file's digest
        FONTS_OUT.mkdir(parents=True, exist_ok=True)
        files = build_fonts()
        for name, data in files.items():
            (FONTS_OUT / name).write_bytes(data)
            print(f"wrote web/static/fonts/{name} ({len(data):,} bytes)")
        (FONTS_OUT / "OFL.txt").write_bytes(FONT_LICENSE.read_bytes())
        MANIFEST.write_text(json.dumps(font_manifest(files), indent=2) + "\n", encoding="utf-8")
    css = build_css()
    CSS_OUT.write_bytes(css)
    FLAG_OUT.write_bytes(flag)
    print(f"wrote {CSS_OUT.relative_to(ROOT)} ({len(css):,} bytes), {FLAG_OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Self-contained HTML building blocks: inline CSS, images as base64 ``data:`` URIs, no external assets."""

from __future__ import annotations

import base64
import html
import math
import re
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = ["CSS", "esc", "fmt", "image", "page", "section", "table", "embed_body"]

CSS = """
body{font-family:-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;max-width:72rem;margin:1.5rem auto;
padding:0 1rem;color:#1b1f23;line-height:1.45}
h1{font-size:1.7rem;border-bottom:2px solid #444;padding-bottom:.3rem;margin-bottom:.4rem}
h2{font-size:1.3rem;margin-top:2.2rem;border-bottom:1px solid #ccc;padding-bottom:.2rem}
h3{font-size:1.05rem;margin:1.2rem 0 .3rem 0}
p.lead{color:#444;margin-top:0}
table{border-collapse:collapse;margin:.4rem 0 1rem 0;font-size:.88rem}
th,td{border:1px solid #d0d7de;padding:.25rem .55rem;text-align:left;vertical-align:top}
th{background:#f3f4f6}td.num{text-align:right;font-variant-numeric:tabular-nums}
figure{margin:.6rem 0 1.2rem 0}figure img{max-width:100%;height:auto;border:1px solid #e5e7eb}
figcaption{color:#555;font-size:.85rem;margin-top:.2rem;max-width:60rem}
nav ul{columns:2;font-size:.9rem}.note{background:#fff8e1;border-left:4px solid #f0b400;padding:.4rem .7rem;
margin:.6rem 0;font-size:.9rem}.good{background:#eaf7ea;border-left-color:#3a9a3a}
.rulecard{border:1px solid #d0d7de;padding:.2rem 1rem;background:#fcfcfd}.rulecard h1{font-size:1.3rem}
code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.88em;background:#f3f4f6;padding:0 .2em}
ol.rules li{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.86rem;margin:.15rem 0}
footer{margin-top:2rem;color:#666;font-size:.8rem;border-top:1px solid #ccc;padding-top:.5rem}
@media print{body{margin:0}h2{page-break-after:avoid}figure{page-break-inside:avoid}}
"""


def esc(text: Any) -> str:
    """HTML-escape any value's text."""
    return html.escape(str(text), quote=True)


def fmt(v: Any, digits: int = 4) -> str:
    """A number for a table cell: ``–`` for missing/NaN, fixed digits for floats."""
    if v is None:
        return "–"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        if not math.isfinite(v):
            return "–"
        if v != 0 and (abs(v) < 10 ** -(digits - 1) or abs(v) >= 1e6):
            return f"{v:.{digits - 1}e}"
        return f"{v:.{digits}f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]], *, digits: int = 4, cls: str = "") -> str:
    """An HTML table; numeric cells are formatted and right-aligned, strings are escaped."""
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = []
    for row in rows:
        cells = "".join(f'<td class="num">{esc(fmt(c, digits))}</td>' if _is_num(c) or c is None else f"<td>{esc(c)}</td>"
                        for c in row)
        body.append(f"<tr>{cells}</tr>")
    c = f' class="{esc(cls)}"' if cls else ""
    return f"<table{c}><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def image(png: bytes, alt: str, caption: str = "") -> str:
    """A ``<figure>`` with the PNG inlined as a base64 data URI."""
    b64 = base64.b64encode(png).decode("ascii")
    cap = f"<figcaption>{caption}</figcaption>" if caption else ""
    return f'<figure><img alt="{esc(alt)}" src="data:image/png;base64,{b64}">{cap}</figure>'


def section(anchor: str, title: str, body: str, lead: str = "") -> str:
    """An ``<h2>`` section with an anchor (linked from the table of contents)."""
    lead_html = f'<p class="lead">{lead}</p>' if lead else ""
    return f'<section id="{esc(anchor)}"><h2>{esc(title)}</h2>{lead_html}{body}</section>'


_BODY = re.compile(r"<body[^>]*>(.*)</body>", re.S | re.I)
_UNSAFE = re.compile(r"<(script|link|iframe|object|embed)\b.*?(</\1>|>)", re.S | re.I)


def embed_body(document: str) -> str:
    """The ``<body>`` content of an HTML document (e.g. ``rulecard.html``), scripts and links removed."""
    m = _BODY.search(document)
    inner = m.group(1) if m else document
    inner = re.sub(r"<footer.*?</footer>", "", inner, flags=re.S | re.I)
    return _UNSAFE.sub("", inner)


def page(title: str, sections: Sequence[tuple[str, str, str]], *, subtitle: str = "", footer: str = "") -> str:
    """The whole document: title, table of contents and ``(anchor, title, html)`` sections."""
    toc = "".join(f'<li><a href="#{esc(a)}">{esc(t)}</a></li>' for a, t, _ in sections)
    body = "".join(h for _, _, h in sections)
    sub = f'<p class="lead">{subtitle}</p>' if subtitle else ""
    foot = f"<footer>{footer}</footer>" if footer else ""
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{esc(title)}</title>\n"
        f"<style>{CSS}</style>\n</head>\n<body>\n<h1>{esc(title)}</h1>{sub}\n"
        f"<nav><ul>{toc}</ul></nav>\n{body}\n{foot}\n</body>\n</html>\n"
    )

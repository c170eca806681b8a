"""Self-contained HTML building blocks rendered by jinja2 templates with autoescaping.

Every value from data (feature names, categories, labels, metric names) reaches the page
through an autoescaped template variable; only HTML our own templates produced is passed on as
:class:`markupsafe.Markup`. The page carries a strict Content-Security-Policy (no scripts, no
external loads, images only as ``data:`` URIs, inline styles only). Images are base64 ``data:``
URIs: the report has no external assets.
"""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any

__all__ = ["CSP", "CSS", "esc", "fmt", "image", "page", "render", "section", "table"]

#: No scripts, frames, forms, plug-ins or network loads; images only as data: URIs; inline CSS.
CSP = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'none'; object-src 'none'; "
    "frame-src 'none'; base-uri 'none'; form-action 'none'"
)

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


_TEMPLATES = {
    "table.html": (
        '<table{% if cls %} class="{{ cls }}"{% endif %}><thead><tr>{% for h in headers %}<th>{{ h }}</th>{% endfor %}'
        "</tr></thead><tbody>{% for row in rows %}<tr>{% for num, text in row %}"
        '{% if num %}<td class="num">{{ text }}</td>{% else %}<td>{{ text }}</td>{% endif %}'
        "{% endfor %}</tr>{% endfor %}</tbody></table>"
    ),
    "figure.html": (
        '<figure><img alt="{{ alt }}" src="data:image/png;base64,{{ b64 }}">'
        "{% if caption %}<figcaption>{{ caption }}</figcaption>{% endif %}</figure>"
    ),
    "section.html": (
        '<section id="{{ anchor }}"><h2>{{ title }}</h2>{% if lead %}<p class="lead">{{ lead }}</p>{% endif %}'
        "{{ body }}</section>"
    ),
    "page.html": (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta http-equiv="Content-Security-Policy" content="{{ csp }}">\n'
        '<meta name="referrer" content="no-referrer">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n<title>{{ title }}</title>\n'
        "<style>{{ css }}</style>\n</head>\n<body>\n<h1>{{ title }}</h1>"
        '{% if subtitle %}<p class="lead">{{ subtitle }}</p>{% endif %}\n'
        '<nav><ul>{% for anchor, text in toc %}<li><a href="#{{ anchor }}">{{ text }}</a></li>{% endfor %}</ul></nav>\n'
        "{% for body in sections %}{{ body }}{% endfor %}\n"
        "{% if footer %}<footer>{{ footer }}</footer>{% endif %}\n</body>\n</html>\n"
    ),
    # the report's rule card: one template per block kind (rulecard_section), joined in a <div>
    "rulecard.html": '<div class="rulecard">{% for b in blocks %}{{ b }}{% endfor %}</div>',
    "card/heading.html": "<{{ kind }}>{{ text }}</{{ kind }}>",
    "card/p.html": "<p>{{ text }}</p>",
    "card/kv.html": (
        '<table class="kv">{% for k, v in entries %}<tr><th>{{ k }}</th><td>{{ v }}</td></tr>'
        "{% endfor %}</table>"
    ),
    "card/table.html": (
        "<table><thead><tr>{% for h in head %}<th>{{ h }}</th>{% endfor %}</tr></thead>"
        "<tbody>{% for r in rows %}<tr>{% for c in r %}<td>{{ c }}</td>{% endfor %}</tr>{% endfor %}</tbody></table>"
    ),
    "card/ul.html": "<ul>{% for x in entries %}<li>{{ x }}</li>{% endfor %}</ul>",
    "card/ol.html": '<ol class="rules">{% for x in entries %}<li>{{ x }}</li>{% endfor %}</ol>',
}
_ENV: Any = None


def _env() -> Any:
    global _ENV
    if _ENV is None:
        import jinja2

        _ENV = jinja2.Environment(
            loader=jinja2.DictLoader(_TEMPLATES),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True,
        )
    return _ENV


def render(name: str, **context: Any) -> str:
    """Render one of the report's templates (autoescaped: pass our own HTML as ``markupsafe.Markup``)."""
    return _env().get_template(name).render(**context)


def _trusted(fragment: Any) -> Any:
    """HTML that our builders produced (every data value in it went through a template or ``esc``)."""
    from markupsafe import Markup

    return Markup(fragment) if isinstance(fragment, str) else fragment


def table(
    headers: Sequence[str], rows: Iterable[Sequence[Any]], *, digits: int = 4, cls: str = ""
) -> str:
    """An HTML table; numeric cells are formatted and right-aligned; every cell is escaped."""
    cells = [
        [(True, fmt(c, digits)) if _is_num(c) or c is None else (False, str(c)) for c in row]
        for row in rows
    ]
    return render("table.html", headers=[str(h) for h in headers], rows=cells, cls=cls)


def image(png: bytes, alt: str, caption: Any = "") -> str:
    """A ``<figure>`` with the PNG inlined as a base64 data URI; ``caption`` is escaped unless it is ``Markup``."""
    return render(
        "figure.html", alt=alt, b64=base64.b64encode(png).decode("ascii"), caption=caption
    )


def section(anchor: str, title: str, body: str, lead: Any = "") -> str:
    """An ``<h2>`` section with an anchor; ``body`` is HTML our builders produced, ``lead`` is text."""
    return render("section.html", anchor=anchor, title=title, body=_trusted(body), lead=lead)


def _card_text(b: tuple) -> dict[str, Any]:
    return {"kind": b[0], "text": str(b[1])}


def _card_entries(b: tuple) -> dict[str, Any]:
    return {"entries": [str(x) for x in b[1]]}


def _card_kv(b: tuple) -> dict[str, Any]:
    return {"entries": [(str(k), str(v)) for k, v in b[1]]}


def _card_table(b: tuple) -> dict[str, Any]:
    return {"head": [str(h) for h in b[1]], "rows": [[str(c) for c in r] for r in b[2]]}


#: Rule card block kind -> (its template, the block's data as text for it). Kinds not here
#: (the card's footer) are left out of the report.
_CARD_BLOCKS: dict[str, tuple[str, Callable[[tuple], dict[str, Any]]]] = {
    **dict.fromkeys(("h1", "h2", "h3", "h4"), ("card/heading.html", _card_text)),
    "p": ("card/p.html", _card_text),
    "kv": ("card/kv.html", _card_kv),
    "table": ("card/table.html", _card_table),
    "ul": ("card/ul.html", _card_entries),
    "ol": ("card/ol.html", _card_entries),
}


def rulecard_section(blocks: Sequence[tuple]) -> str:
    """The rule card rendered from its layout blocks (``exporters.rulecard._blocks``): data only, escaped."""
    items = []
    for b in blocks:
        if b[0] in _CARD_BLOCKS:
            template, context = _CARD_BLOCKS[b[0]]
            items.append(_trusted(render(template, **context(b))))
    return render("rulecard.html", blocks=items)


def page(
    title: str, sections: Sequence[tuple[str, str, str]], *, subtitle: Any = "", footer: Any = ""
) -> str:
    """The whole document: title, table of contents and ``(anchor, title, html)`` sections.

    ``subtitle`` and ``footer`` are escaped unless passed as ``Markup``.
    """
    return render(
        "page.html",
        title=title,
        subtitle=subtitle,
        footer=footer,
        css=_trusted(CSS),
        csp=CSP,
        toc=[(a, t) for a, t, _ in sections],
        sections=[_trusted(h) for _, _, h in sections],
    )

"""Stored XSS: hostile feature names, categories and class labels never become markup.

Attack class: data that reaches `report.html` and the rule cards. The report is rendered from
data through autoescaped templates (the rule card section from the spec, never pasted from
`rulecard.html`) under a strict Content-Security-Policy; Markdown rule cards escape tags,
links and ANSI escapes.
"""

from __future__ import annotations

from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest
from security_helpers import rehash

P_IMG = "<img src=x onerror=alert(1)>"
P_SVG = "<svg onload=alert(2)>"
P_LINK = "[click](javascript:alert(3))"
P_A = '<a href="javascript:alert(3)">x</a>'
P_META = '<meta http-equiv="refresh" content="0;url=https://evil.example">'
P_NESTED = "<scr<script>ipt>alert(4)</scr</script>ipt>"
P_ANSI = "\x1b[31mred\x1b[0m"
CLASSES = ["<b onmouseover=alert(5)>bad</b>", "javascript:alert(6)"]


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, {k: v or "" for k, v in attrs}))


def _assert_inert(html: str, *, csp: bool = True) -> None:
    p = _Tags()
    p.feed(html)
    names = {t for t, _ in p.tags}
    assert not names & {
        "script",
        "svg",
        "iframe",
        "object",
        "embed",
        "base",
        "form",
        "applet",
        "frame",
    }, names
    for tag, attrs in p.tags:
        assert not [a for a in attrs if a.startswith("on")], (tag, attrs)
        if tag == "meta":
            assert set(attrs) <= {"charset", "http-equiv", "content", "name"}, attrs
            assert (
                attrs.get("http-equiv", "content-security-policy").lower()
                == "content-security-policy"
            ), attrs
        if tag == "a":
            assert attrs.get("href", "").startswith("#"), attrs
        if tag == "img":
            assert attrs.get("src", "").startswith("data:image/png;base64,"), attrs
        if tag == "b":
            raise AssertionError("a <b> tag came from data")
    if csp:
        metas = [
            a
            for t, a in p.tags
            if t == "meta" and a.get("http-equiv", "").lower() == "content-security-policy"
        ]
        assert metas, "no Content-Security-Policy"
        policy = metas[0]["content"]
        assert "default-src 'none'" in policy and "script-src 'none'" in policy


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """An artifact of a logreg student fitted on columns, categories and labels that are XSS payloads."""
    from distill2rules import spec as spec_mod
    from distill2rules.artifact import _dump, write_artifact
    from distill2rules.exporters.rulecard import render_html, render_markdown, rulecard
    from distill2rules.kd import one_hot
    from distill2rules.students import make_student

    rng = np.random.default_rng(0)
    n = 400
    cats = np.array([P_NESTED, P_META, P_A, P_ANSI, P_LINK], dtype=object)
    X = pd.DataFrame({P_IMG: rng.normal(size=n), P_SVG: cats[rng.integers(0, len(cats), n)]})
    y_idx = ((X[P_IMG] + (X[P_SVG] == P_NESTED)) > 0.3).astype(int).to_numpy()
    y = pd.Series(np.array(CLASSES, dtype=object)[y_idx])
    spec = (
        make_student("logreg", random_state=0, min_category_count=1)
        .fit(X, y, soft_targets=one_hot(y_idx, 2))
        .to_spec()
    )
    spec["meta"] = {
        **spec.get("meta", {}),
        "target": P_SVG + "_target",
        "dataset": P_META,
        "adverse_class": CLASSES[0],
    }
    metrics = {
        "student": "logreg",
        "classes": CLASSES,
        "temperature": 1.0,
        "alpha": 0.0,
        "seed": 0,
        "test": {"n_rows": 80, "student": {"accuracy": 0.9}, "teacher": {"accuracy": 0.91}},
    }
    card = rulecard(
        spec, metrics=metrics, provenance={"dataset": P_META, "teacher": {"kind": P_SVG}}
    )
    out = tmp_path_factory.mktemp("xss") / "art"
    write_artifact(
        out,
        {
            "student.json": spec_mod.to_json(spec),
            "metrics.json": _dump(metrics),
            "rulecard.md": render_markdown(card),
            "rulecard.html": render_html(card),
            "rulecard.json": _dump(card),
        },
        {
            "data": {"name": P_META, "target": P_SVG + "_target"},
            "teacher": {"kind": P_SVG},
            "config": {"seed": 0},
        },
    )
    return out


def test_report_renders_payloads_as_text(hostile):
    from distill2rules.report import render_report

    html = render_report(hostile, progress=False)
    _assert_inert(html)
    # the data is there, as text: the escaped payloads are in the page
    assert "&lt;svg onload=alert(2)&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "&lt;scr&lt;script&gt;ipt&gt;" in html
    assert '<section id="rulecard">' in html


def test_report_never_pastes_rulecard_html(hostile, tmp_path):
    """A rulecard.html with live markup (manifest re-hashed) does not reach the report."""
    import shutil

    from distill2rules.report import render_report

    art = tmp_path / "art"
    shutil.copytree(hostile, art)
    evil = (
        "<html><body><h1>card</h1><img src=x onerror=alert(7)><svg onload=alert(8)></svg>"
        "<a href='javascript:alert(9)'>go</a><meta http-equiv='refresh' content='0;url=https://evil.example'>"
        "<scr<script>ipt>alert(10)</scr</script>ipt></body></html>"
    )
    (art / "rulecard.html").write_text(evil)
    rehash(art)
    html = render_report(art, progress=False)
    _assert_inert(html)
    assert "alert(7)" not in html and "alert(10)" not in html


def test_rulecard_html_is_escaped_and_has_a_csp(hostile):
    html = (hostile / "rulecard.html").read_text()
    _assert_inert(html)


def test_markdown_rulecard_escapes_tags_links_and_ansi(hostile):
    md = (hostile / "rulecard.md").read_text()
    for raw in ("<img", "<svg", "<meta", "<scr", "<a ", "<b "):
        assert raw not in md, raw
    assert "\x1b" not in md
    assert "](javascript:" not in md
    assert "&lt;svg onload=alert(2)>" in md  # still readable as text


def test_cli_report_writes_an_inert_file(cli, hostile, tmp_path):
    r = cli("report", hostile, "--out", tmp_path / "r.html", "-q")
    assert r.code == 0, r.err
    _assert_inert((tmp_path / "r.html").read_text())

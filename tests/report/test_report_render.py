"""The report renders in headless Chromium with every figure decoded (Debian package `chromium`)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [
    pytest.mark.chromium,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs /usr/bin/chromium (apt-get install chromium)"
    ),
]

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
    "--virtual-time-budget=5000",
]
# marks every <img> with whether it decoded; --dump-dom serialises the DOM after scripts ran
PROBE = (
    "<script>addEventListener('load',()=>{for(const i of document.images)"
    "i.setAttribute('data-decoded',i.complete&&i.naturalWidth>0?'yes':'no')});</script>"
)


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(CHROMIUM), *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", *args],
        capture_output=True,
        timeout=120,
        check=False,
    )


def test_report_renders_with_every_image(artifact, sweep_dir, tmp_path):
    from distill2rules.report import build_report

    report = build_report(artifact, sweep=sweep_dir, out=tmp_path / "report.html", progress=False)
    html = report.read_text(encoding="utf-8")
    n_img = html.count("<img ")
    assert n_img >= 7

    probe = tmp_path / "probe.html"
    # the shipped page forbids every script; the probe copy lets only its own inline probe run,
    # while images stay under the report's real policy (img-src data: only)
    no_script = "script-src &#39;none&#39;"  # the policy sits in an attribute, HTML-escaped
    assert no_script in html
    probe_html = html.replace(no_script, "script-src &#39;unsafe-inline&#39;").replace(
        "</body>", PROBE + "</body>"
    )
    probe.write_text(probe_html, encoding="utf-8")
    dom = chromium(tmp_path, "--dump-dom", probe.as_uri()).stdout.decode("utf-8", "replace")
    decoded = re.findall(r'data-decoded="(yes|no)"', dom)
    assert len(decoded) == n_img, dom[-500:]
    assert decoded.count("no") == 0

    shot = tmp_path / "shot.png"
    chromium(tmp_path, f"--screenshot={shot}", "--window-size=1280,4000", report.as_uri())
    assert shot.is_file()
    import matplotlib.image as mpimg
    import numpy as np

    px = mpimg.imread(shot)[..., :3]
    assert px.shape[:2] == (4000, 1280)
    # not blank: plenty of non-white pixels and many distinct colours (text, tables, plots)
    assert (px.mean(axis=2) < 0.9).mean() > 0.02
    assert len(np.unique((px[::4, ::4] * 255).astype(np.uint8).reshape(-1, 3), axis=0)) > 50

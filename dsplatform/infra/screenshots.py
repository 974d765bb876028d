"""Screenshots of the plan diagrams for the docs (`make -C infra docs-images`).

Why a real browser: the docs show what a reader sees when opening the SVG that
`dsplatform plan --diagram` writes, so the picture is taken by headless Chromium
(Debian's `chromium` package) from that very SVG, not re-rasterised by Graphviz.
Chromium's flags: https://developer.chrome.com/docs/chromium/headless

    python -m dsplatform.infra.screenshots projects/example.yaml ../docs/images --env dev prod
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

# The picture's natural width (a point is 4/3 CSS pixels), scaled down to at most this:
# wide enough that 12-point labels stay legible (about 11 px) in the largest plan.
MAX_WIDTH = 2800
# Docs images stay small enough for a repository and a pull-request diff.
MAX_BYTES = 300_000


def svg_size(svg: Path) -> tuple[float, float]:
    match = re.search(r'viewBox="[-\d.]+ [-\d.]+ ([\d.]+) ([\d.]+)"', svg.read_text(encoding="utf-8")[:4000])
    if not match:
        raise ValueError(f"{svg}: no viewBox")
    return float(match.group(1)), float(match.group(2))


def browser() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return name
    raise SystemExit("error: no Chromium found: apt-get install chromium")


def screenshot(svg: Path, png: Path, max_width: int = MAX_WIDTH) -> Path:
    """`svg` at its natural size or scaled to `max_width` pixels, as Chromium shows it, saved as `png`."""
    svg_width, svg_height = svg_size(svg)
    width = min(round(svg_width * 4 / 3), max_width)
    height = round(width * svg_height / svg_width)
    with tempfile.TemporaryDirectory() as scratch:
        page = Path(scratch) / "page.html"
        page.write_text(
            f'<!doctype html><html><body style="margin:0;background:#fff">'
            f'<img src="{svg.resolve().as_uri()}" style="display:block;width:{width}px;height:{height}px"></body></html>',
            encoding="utf-8",
        )
        command = [
            browser(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--allow-file-access-from-files",
            f"--user-data-dir={scratch}/profile", f"--window-size={width},{height}", f"--screenshot={png.resolve()}",
            page.as_uri(),
        ]  # fmt: skip
        subprocess.run(command, check=True, capture_output=True, timeout=120)
    if png.stat().st_size > MAX_BYTES:
        # A diagram has few colours: a 256-colour palette (pngquant, Debian's `pngquant`
        # package, https://pngquant.org) keeps it sharp at a fraction of the size.
        if not shutil.which("pngquant"):
            raise SystemExit(f"error: {png} is {png.stat().st_size // 1000} KB; apt-get install pngquant to shrink it")
        subprocess.run(["pngquant", "--force", "--skip-if-larger", "--output", str(png), "256", str(png)], check=False, timeout=120)
    return png


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("project_file")
    parser.add_argument("output_dir")
    parser.add_argument("--env", nargs="+", default=["dev", "prod"])
    arguments = parser.parse_args(argv)
    from dsplatform.infra.config.load import load_stack_settings
    from dsplatform.infra.diagram import render
    from dsplatform.infra.plan import run_plan

    output = Path(arguments.output_dir)
    # The SVGs (icons inlined, up to 700 KB) are drawn on demand by `plan --diagram`; only the
    # screenshots are kept.
    with tempfile.TemporaryDirectory() as scratch:
        for environment in arguments.env:
            plan = run_plan(load_stack_settings(arguments.project_file, environment))
            svg = render(plan, Path(scratch) / f"plan-{environment}.svg")
            png = screenshot(svg, output / f"plan-{environment}.png")
            print(f"wrote {png} ({png.stat().st_size // 1000} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

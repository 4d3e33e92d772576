"""`python -m convcalc.web build SITE`: write the static site into SITE (docs/web.md)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from convcalc.errors import ConvcalcError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Build convcalc's page: the Pyodide runtime, the wheels, the page (docs/web.md)."""


@main.command()
@click.argument("site", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--cache",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the runtime's tarball is kept (default: $CONVCALC_WEB_CACHE or ~/.cache/convcalc/web).",
)
def build(site: Path, cache: Path | None) -> None:
    """Write the static site into SITE: serve that folder with any static web server."""
    from convcalc.web.build import build as build_site  # noqa: PLC0415

    try:
        manifest = build_site(site, cache)
    except ConvcalcError as error:
        click.echo(f"error: {error.message}", err=True)
        sys.exit(2)
    wheels = manifest["wheels"]
    count = len(wheels) if isinstance(wheels, list) else 0
    click.echo(
        f"wrote {site}: pyodide {manifest['pyodide']}, {count} wheels; serve it, e.g. python -m http.server -d {site}"
    )


@main.command()
@click.option("--cache", type=click.Path(file_okay=False, path_type=Path), help="As for build.")
def fetch(cache: Path | None) -> None:
    """Fetch the pinned runtime into the cache (npm pack) and check it; build then needs no network."""
    from convcalc.web.build import cache_dir, fetch_runtime  # noqa: PLC0415

    try:
        path = fetch_runtime(cache or cache_dir())
    except ConvcalcError as error:
        click.echo(f"error: {error.message}", err=True)
        sys.exit(2)
    click.echo(f"{path}: checked")


if __name__ == "__main__":  # pragma: no cover - python -m convcalc.web
    main()

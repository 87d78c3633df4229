"""Commands this package adds to the wzmon CLI."""
from __future__ import annotations

import json

import click

from crawler.exceptions import UnreadableFileError

COMMANDS: list[click.Command] = []


@click.command("parse")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=str))
@click.option("--kind", is_flag=True, help="Also print each file's detected shape to stderr.")
def parse_cmd(files: tuple[str, ...], kind: bool) -> None:
    """Print the posts (and comments) found in saved Weibo responses as JSON lines; no database.

    Reads getIndex / hotflow / buildComments / statuses/extend / statuses/show / repostTimeline JSON,
    s.weibo.com search HTML and weibo.cn comment HTML.

    \b
    Example:
      wzmon parse saved/getIndex.json
    """
    from crawler.importer import item_json, parse_file

    failures = []
    for path in files:
        try:
            parsed = parse_file(path)
        except UnreadableFileError as exc:
            failures.append(str(exc))
            click.echo(f"error: {exc}", err=True)
            continue
        if kind:
            click.echo(f"{path}: {parsed.kind}, {len(parsed.items)} records", err=True)
        if parsed.long_text is not None:
            click.echo(json.dumps({"file": path, "long_text": parsed.long_text}, ensure_ascii=False))
        for item in parsed.items:
            click.echo(json.dumps(item_json(item), ensure_ascii=False))
        for warning in parsed.warnings:  # an item that could not be read; the others were printed
            click.echo(f"warning: {warning}", err=True)
    if failures:
        raise click.ClickException(f"{len(failures)} of {len(files)} files could not be read: " + "; ".join(failures))


COMMANDS.append(parse_cmd)


from crawler.fake_weibo.cli import fake_weibo_cmd  # noqa: E402 - the fake server's command

COMMANDS.append(fake_weibo_cmd)

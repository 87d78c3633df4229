"""Commands this package adds to the wzmon CLI: `wzmon sentiment train|eval` and `wzmon score`."""
from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

import click

from . import MODEL_NAMES, get_model
from .types import SentimentError

_MODEL_OPTION = click.option("--model", "model_name", type=click.Choice(MODEL_NAMES), default="default",
                             show_default=True, help="default = ours; snownlp = the shopping-review baseline")


@click.group("sentiment")
def sentiment_group() -> None:
    """Train and evaluate the sentiment/kind model."""


@sentiment_group.command("train")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="where to write the model (default: the shipped sentiment/data/model.json.gz)")
@click.option("--shared-data", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="directory holding sentiment_dev.csv and weibo_senti_train.csv (default: ../shared/data next to "
                   "the repository)")
def train_cmd(out: Path | None, shared_data: Path | None) -> None:
    """Rebuild the model from sentiment/data/gov_train.csv and shared sentiment_dev.csv and weibo_senti_train.csv
    (deterministic).

    \b
    Example:
      wzmon sentiment train --shared-data ../shared/data
    """
    from .datasets import MODEL_FILE, sentiment_dev_path, weibo_train_path
    from .train import train

    dev = (shared_data / "sentiment_dev.csv") if shared_data else sentiment_dev_path()
    extra = (shared_data / "weibo_senti_train.csv") if shared_data else weibo_train_path()
    for need in (dev, extra):
        if not need.exists():
            raise click.ClickException(f"{need} not found: pass --shared-data DIR holding sentiment_dev.csv and "
                                       "weibo_senti_train.csv")
    try:
        path, model = train(out or MODEL_FILE, dev_path=dev, extra_path=extra)
    except SentimentError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"wrote {path} ({path.stat().st_size} bytes, {model.meta['n_features']} features, "
               f"{model.meta['n_examples']} training texts)")


@sentiment_group.command("eval")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@_MODEL_OPTION
@click.option("--column", default="text", show_default=True, help="text column")
@click.option("--label-column", default="label", show_default=True)
@click.option("--strip-emoticons", is_flag=True, help="remove [表情] tokens before scoring")
def eval_cmd(file: Path, model_name: str, column: str, label_column: str, strip_emoticons: bool) -> None:
    """Accuracy, macro-F1 and confusion matrix on FILE (labels negative/neutral/positive, or 0/1).

    A file with only two label values is scored 2-way: predicted positive when score > 0.

    \b
    Example:
      wzmon sentiment eval labelled.csv --strip-emoticons
    """
    from .datasets import read_labelled_csv
    from .metrics import evaluate
    from .text import strip_emoticons as strip

    try:
        rows = read_labelled_csv(file, column, label_column)
    except SentimentError as exc:
        raise click.ClickException(str(exc)) from None
    if not rows:
        raise click.ClickException(f"{file}: no rows to evaluate")
    texts = [strip(r.text) if strip_emoticons else r.text for r in rows]
    preds = get_model(model_name).score_many(texts)
    gold = [r.label for r in rows]
    if "neutral" not in gold:
        labels = ["negative", "positive"]
        pred = ["positive" if p.score > 0 else "negative" for p in preds]
        click.echo(f"{file}: 2-way (no neutral rows), model {model_name}")
    else:
        labels = ["negative", "neutral", "positive"]
        pred = [p.label for p in preds]
        click.echo(f"{file}: 3-way, model {model_name}")
    click.echo(evaluate(gold, pred, labels).format())


def _read_texts(source: str, column: str | None) -> list[str]:
    if source == "-":
        data = sys.stdin.read()
        name = "stdin"
    else:
        path = Path(source)
        if not path.exists():
            raise click.ClickException(f"{path}: file not found")
        data = path.read_text(encoding="utf-8-sig")
        name = str(path)
    is_csv = column is not None or name.lower().endswith(".csv")
    if not is_csv:
        return [line for line in data.splitlines() if line.strip()]
    column = column or "text"
    reader = csv.DictReader(io.StringIO(data))
    if column not in (reader.fieldnames or []):
        raise click.ClickException(f"{name}: no column {column!r} (columns are: {', '.join(reader.fieldnames or []) or 'none'})")
    return [row[column] or "" for row in reader]


@click.command("score")
@click.argument("source", default="-")
@click.option("--column", default=None, help="read this CSV column (default for *.csv: text); otherwise one text per line")
@_MODEL_OPTION
def score_cmd(source: str, column: str | None, model_name: str) -> None:
    """Score texts from SOURCE (a file or - for stdin); write CSV label,score,kind,confidence,text.

    \b
    Example:
      wzmon score posts.txt
    """
    texts = _read_texts(source, column)
    model = get_model(model_name)
    if hasattr(model, "analyse_many"):
        pairs = model.analyse_many(texts)
    else:
        pairs = list(zip(model.score_many(texts), model.kinds(texts)))
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(["label", "score", "kind", "confidence", "text"])
    for t, (s, k) in zip(texts, pairs):
        out.writerow([s.label, f"{s.score:.4f}", k, f"{s.confidence:.4f}", t])


COMMANDS: list[click.Command] = [sentiment_group, score_cmd]

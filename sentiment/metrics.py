"""Accuracy, per-class and macro F1 and a confusion matrix, written out so the figures can be checked by hand."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Report:
    labels: list[str]
    accuracy: float
    macro_f1: float
    f1: dict[str, float]
    confusion: list[list[int]]  # rows = true label, columns = predicted label
    n: int

    def format(self) -> str:
        width = max(10, *(len(l) + 2 for l in self.labels))
        lines = [f"n={self.n}  accuracy={self.accuracy:.4f}  macro-F1={self.macro_f1:.4f}",
                 "per-class F1: " + "  ".join(f"{l}={self.f1[l]:.4f}" for l in self.labels),
                 "confusion (rows true, columns predicted):",
                 " " * width + "".join(l.rjust(width) for l in self.labels)]
        for l, row in zip(self.labels, self.confusion):
            lines.append(l.ljust(width) + "".join(str(v).rjust(width) for v in row))
        return "\n".join(lines)


def evaluate(gold: list[str], pred: list[str], labels: list[str] | None = None) -> Report:
    """Macro-F1 averages F1 over `labels` (default: every label seen in gold or pred); F1 of a class with
    no gold and no predicted rows is 0 only if it was asked for explicitly."""
    if len(gold) != len(pred):
        raise ValueError(f"gold has {len(gold)} labels but pred has {len(pred)}")
    if labels is None:
        labels = sorted(set(gold) | set(pred))
    pos = {l: i for i, l in enumerate(labels)}
    conf = [[0] * len(labels) for _ in labels]
    for g, p in zip(gold, pred):
        if g in pos and p in pos:
            conf[pos[g]][pos[p]] += 1
    f1: dict[str, float] = {}
    for l, i in pos.items():
        tp = conf[i][i]
        fp = sum(conf[r][i] for r in range(len(labels))) - tp
        fn = sum(conf[i]) - tp
        f1[l] = 0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn)
    n = len(gold)
    acc = sum(g == p for g, p in zip(gold, pred)) / n if n else 0.0
    macro = sum(f1.values()) / len(labels) if labels else 0.0
    return Report(list(labels), acc, macro, f1, conf, n)

"""Measuring extraction against gold: token precision/recall/F1, shared by tests and bench/."""
from __future__ import annotations

import re
from collections import Counter

_TOKEN = re.compile(r"\w+")


def token_prf(predicted: str, gold: str) -> tuple[float, float, float]:
    """Precision, recall and F1 of the \\w+ tokens of ``predicted`` against ``gold`` (bags of tokens)."""
    p, g = Counter(_TOKEN.findall(predicted)), Counter(_TOKEN.findall(gold))
    overlap = sum((p & g).values())
    if not overlap:
        return 0.0, 0.0, 0.0
    precision, recall = overlap / sum(p.values()), overlap / sum(g.values())
    return precision, recall, 2 * precision * recall / (precision + recall)


def without_video_player(gold: str) -> str:
    """Gold text minus an embedded video player's UI (from «Error loading media» to «advertisement»):
    magic-html's Youm7 gold keeps those lines, and they are boilerplate."""
    out, inside = [], False
    for line in gold.split("\n"):
        if line.strip() == "Error loading media":
            inside = True
        elif inside and line.strip() == "advertisement":
            inside = False
        elif not inside:
            out.append(line)
    return "\n".join(out)

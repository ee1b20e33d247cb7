"""argparse types with errors that name the value and the bound, for `oran-gym` and the benchmark
scripts (here, in the benchmarks layer, so that both can import them: the command line sits above
the benchmarks, which may not import it)."""

from __future__ import annotations

import argparse

__all__ = ["int_at_least", "positive_float"]


def int_at_least(lo: int):
    """An argparse type: an integer >= lo, with the value and the bound in the error."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if value < lo:
            raise argparse.ArgumentTypeError(f"{value} is below the minimum {lo}")
        return value

    parse.__name__ = f"integer >= {lo}"
    return parse


def positive_float(text: str) -> float:
    """An argparse type: a finite number > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not (value > 0 and value < float("inf")):
        raise argparse.ArgumentTypeError(f"{text} is not a finite number > 0")
    return value

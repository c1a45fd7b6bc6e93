"""Statistics over numbers and CSV text: a plain Corral component in Python.

The world is `corral:python-stats/python-stats` (wit/stats.wit): ordinary
typed functions, no Corral types. Corral serves each exported function as
a tool, derives its schemas from the WIT types and its description from
the WIT doc comments.

How the bindings map (componentize-py 0.25.1):
  - the exported interface `stats` is the class `Stats` below, subclassing
    `wit_world.exports.Stats`; `linear-fit` is the method `linear_fit`;
  - records are dataclasses and enums are `Enum`s in
    `wit_world.exports.stats`; `option<T>` is `None` or the value; a tuple
    is a Python tuple; a `char` is a one-character `str`;
  - `result<T, string>`: return the `T`; raise `Err("message")` for the
    error. Any other uncaught exception traps the instance.
"""

# componentize-py snapshots the interpreter once this module is imported,
# and a module first imported during a call is not in the component
# (`ModuleNotFoundError` at run time). So everything a call needs is
# imported here, at the top, and nothing is imported inside a function.
import csv
import io
import math

from componentize_py_types import Err
from wit_world import exports
from wit_world.exports.stats import Column, ColumnKind, Fit, Summary

# Delimiters `csv-columns` guesses among when none is given.
GUESSED_DELIMITERS = ",;\t|"

# The largest bound `primes` takes: its sieve holds a byte per number.
MAX_SIEVE = 1_000_000_000


def finite(values, what):
    """`values` as a list, or `Err` naming `what` if one is NaN or infinite."""
    for i, v in enumerate(values):
        if not math.isfinite(v):
            raise Err(f"{what}[{i}] is {v}: every value must be a finite number")
    return values


def summarize(values):
    """The `summary` of a non-empty list of finite numbers."""
    n = len(values)
    ordered = sorted(values)
    mid = n // 2
    median = ordered[mid] if n % 2 else (ordered[mid - 1] + ordered[mid]) / 2
    try:
        # fsum is exact; a plain sum loses the small values beside big ones.
        mean = math.fsum(values) / n
        # Two passes (mean, then squared deviations) keep the variance from
        # cancelling to a negative number as the one-pass formula can.
        # `d * d`, not `d ** 2`: float `**` raises OverflowError where `*`
        # gives infinity.
        var = math.fsum((v - mean) * (v - mean) for v in values) / (n - 1) if n > 1 else 0.0
    except OverflowError:
        raise Err("the values are too large: their sum overflows a 64-bit float")
    return Summary(
        count=n,
        mean=mean,
        median=median,
        stdev=math.sqrt(var),
        min=ordered[0],
        max=ordered[-1],
    )


def number(cell):
    """The finite number a CSV cell holds, or None."""
    try:
        v = float(cell)
    except ValueError:
        return None
    return v if math.isfinite(v) else None


class Stats(exports.Stats):
    """The exported interface `stats`."""

    def describe(self, values):
        if not values:
            raise Err("values is empty: give at least one number")
        return summarize(finite(values, "values"))

    def percentiles(self, values, points):
        if not values:
            raise Err("values is empty: give at least one number")
        ordered = sorted(finite(values, "values"))
        last = len(ordered) - 1
        out = []
        for i, p in enumerate(points):
            if not 0 <= p <= 100:
                raise Err(f"points[{i}] is {p}: a percentile is from 0 to 100")
            rank = p / 100 * last
            lo = math.floor(rank)
            hi = min(lo + 1, last)
            out.append(ordered[lo] + (ordered[hi] - ordered[lo]) * (rank - lo))
        return out

    def linear_fit(self, points):
        if len(points) < 2:
            raise Err(f"{len(points)} point(s): a line needs at least two")
        xs = finite([x for x, _ in points], "x")
        ys = finite([y for _, y in points], "y")
        n = len(points)
        try:
            mx, my = math.fsum(xs) / n, math.fsum(ys) / n
            sxx = math.fsum((x - mx) * (x - mx) for x in xs)
            syy = math.fsum((y - my) * (y - my) for y in ys)
            sxy = math.fsum((x - mx) * (y - my) for x, y in zip(xs, ys))
        except OverflowError:
            raise Err("the points are too large: their sums overflow a 64-bit float")
        if sxx == 0:
            raise Err("every x is equal: the line would be vertical")
        slope = sxy / sxx
        r = None
        if syy > 0:
            # Rounding can put |r| a hair above 1.
            r = max(-1.0, min(1.0, sxy / math.sqrt(sxx * syy)))
        return Fit(slope=slope, intercept=my - slope * mx, r=r)

    def csv_columns(self, text, delimiter):
        if delimiter is None:
            try:
                delimiter = csv.Sniffer().sniff(text[:8192], GUESSED_DELIMITERS).delimiter
            except csv.Error:
                delimiter = ","  # one column, or nothing to tell by
        try:
            rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
        except (csv.Error, TypeError, ValueError) as e:
            # TypeError, ValueError: a delimiter csv cannot use (a newline,
            # or the quote character in newer Pythons).
            raise Err(f"not CSV with delimiter {delimiter!r}: {e}")
        if not rows:
            raise Err("the text is empty: the first row must name the columns")
        header, body = rows[0], rows[1:]
        cells = [[] for _ in header]  # numeric cells, per column
        blanks = [0] * len(header)
        texts = [0] * len(header)
        for line, row in enumerate(body, start=2):
            if len(row) > len(header):
                raise Err(f"row {line} has {len(row)} cells, the header {len(header)}")
            for col in range(len(header)):
                cell = row[col].strip() if col < len(row) else ""
                if not cell:
                    blanks[col] += 1
                elif (v := number(cell)) is not None:
                    cells[col].append(v)
                else:
                    texts[col] += 1
        columns = []
        for name, nums, blank, txt in zip(header, cells, blanks, texts):
            if nums and txt:
                kind = ColumnKind.MIXED
            elif nums:
                kind = ColumnKind.NUMERIC
            elif txt:
                kind = ColumnKind.TEXT
            else:
                kind = ColumnKind.EMPTY
            columns.append(
                Column(
                    name=name,
                    kind=kind,
                    numeric_count=len(nums),
                    blank_count=blank,
                    summary=summarize(nums) if nums else None,
                )
            )
        return columns

    def primes(self, below):
        if below > MAX_SIEVE:
            # A bytearray this large fails at once, without asking for the
            # memory, so the limit would not be named: say it here.
            raise Err(f"below is {below}: at most {MAX_SIEVE:,} (a byte of memory per number)")
        if below < 3:
            return []
        # One byte per number: 1 while it may be prime.
        sieve = bytearray([1]) * below
        sieve[0] = sieve[1] = 0
        for p in range(2, math.isqrt(below - 1) + 1):
            if sieve[p]:
                # Strike out p*p, p*p + p, ...: one slice assignment each.
                sieve[p * p :: p] = bytes(len(range(p * p, below, p)))
        # A Python loop over every number below the bound: the call's fuel
        # grows with `below` as its memory does.
        return [n for n in range(below) if sieve[n]]

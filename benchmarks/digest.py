"""Throughput of context_digest against a bare hashlib pass over the same bytes.

    python benchmarks/digest.py [--mb 1024] [--repeat 3]

Generates a context of mixed file sizes in a temporary directory (warm in the page cache once
written, so this measures hashing and Python overhead, not the disk), then prints MB/s for
`context_digest` and for one sha256 fed the same files in 1 MiB reads, and their ratio.
Not part of the test suite: timings belong on a quiet machine.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from envsync.content.context import context_digest, context_files

MB = 1 << 20
# (share of the bytes, smallest, largest file): many small files, some medium, a few large.
MIX = ((0.10, 1 << 10, 64 << 10), (0.40, 1 * MB, 8 * MB), (0.50, 32 * MB, 128 * MB))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=1024, help="context size in MB (default 1024)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs; the best is reported")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="envsync-bench-") as tmp:
        root = Path(tmp) / "ctx"
        count = generate(root, args.mb * MB, random.Random(0))  # noqa: S311 (a layout, not a secret)
        total = sum(f.size for f in context_files(root))
        print(f"context: {count} files, {total / MB:.0f} MB in {root}")
        ours = best(lambda: context_digest(root), args.repeat)
        raw = best(lambda: raw_sha256(root), args.repeat)
        print(f"context_digest : {total / MB / ours:8.0f} MB/s  ({ours:.2f} s)")
        print(f"raw sha256     : {total / MB / raw:8.0f} MB/s  ({raw:.2f} s)")
        print(f"ratio          : {raw / ours:8.2f}  (context_digest / raw throughput; 1.00 = no overhead)")


def generate(root: Path, size: int, rng: random.Random) -> int:
    block = os.urandom(128 * MB)  # sliced at random offsets: cheap, and no two files alike
    count = 0
    for share, low, high in MIX:
        left = int(size * share)
        while left > 0:
            n = min(rng.randint(low, high), left)
            path = root / f"d{count % 7}" / f"s{count % 13}" / f"f{count}.bin"
            path.parent.mkdir(parents=True, exist_ok=True)
            start = rng.randrange(len(block) - n + 1)
            path.write_bytes(block[start : start + n])
            left -= n
            count += 1
    return count


def raw_sha256(root: Path) -> str:
    """The floor: one sha256 over every file's bytes, 1 MiB reads, no listing rules."""
    digest = hashlib.sha256()
    for dirpath, _, names in os.walk(root):
        for name in names:
            with open(os.path.join(dirpath, name), "rb") as fh:
                while chunk := fh.read(MB):
                    digest.update(chunk)
    return digest.hexdigest()


def best(run: Callable[[], object], repeat: int) -> float:
    run()  # warm-up: page cache and imports
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


if __name__ == "__main__":
    main()

"""Build-context transfers at size: a 1 GB context uploaded and downloaded through
azure-storage-blob against Azurite, with the client's peak RSS.

    python benchmarks/upload.py [--mb 1024] [--auth Sas,AccountKey,None]

Azurite (HTTPS, `--oauth basic`, blobs on disk; from .ci/azurite like the tests) holds the blobs;
`envsync emulator --blob-endpoint` hands it out as the workspace's datastore, with an account
key, a SAS, or identity-based (`None`: listSecrets refused, a bearer token). The client runs in
a child process per row, so its peak RSS (wait4) is its own: the digest of the context, the
upload, the content-addressed skip of a second upload, then a download of it all. The target:
peak RSS under 150 MB whatever the context's size. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests import azurite as azurite_launcher  # noqa: E402 - the tests' Azurite launcher

MB = 1 << 20
RSS_TARGET_MB = 150
WORKSPACE = (
    "/subscriptions/0/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/bench-{}"
)

UPLOAD = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    from envsync.content.context import context_digest
    from envsync.http.session import HttpOptions, StaticTokenCredential
    from envsync.workspace.azure.workspace import AzureMLWorkspace

    url, context = sys.argv[1], Path(sys.argv[2])
    ws = AzureMLWorkspace(url, StaticTokenCredential("bench"), http=HttpOptions(concurrency=8))
    t0 = time.perf_counter(); digest = context_digest(context)
    t1 = time.perf_counter(); uri = ws.upload_context(context, digest)
    t2 = time.perf_counter(); ws.upload_context(context, digest)
    t3 = time.perf_counter()
    print(json.dumps({"digest": t1 - t0, "upload": t2 - t1, "skip": t3 - t2, "uri": uri,
                      "auth": ws._blob_store().auth}))
    """
)
DOWNLOAD = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    from envsync.http.session import HttpOptions, StaticTokenCredential
    from envsync.workspace.azure.workspace import AzureMLWorkspace

    url, uri, back = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    ws = AzureMLWorkspace(url, StaticTokenCredential("bench"), http=HttpOptions(concurrency=8))
    t0 = time.perf_counter(); ws.download_context(uri, back)
    print(json.dumps({"download": time.perf_counter() - t0}))
    """
)


@contextmanager
def emulator(blob_endpoint: str, ca: Path, secrets_type: str) -> Iterator[str]:
    command = [
        sys.executable, "-m", "envsync", "emulator",
        "--blob-endpoint", blob_endpoint, "--secrets-type", secrets_type, "--isolate",
    ]  # fmt: skip
    env = {**os.environ, "REQUESTS_CA_BUNDLE": str(ca), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None
        yield proc.stdout.readline().strip().rsplit(" ", 1)[1]
    finally:
        proc.terminate()
        proc.wait(10)


def child(code: str, args: list[str], ca: Path) -> tuple[dict[str, Any], float]:
    """Run `code` in a child process; its JSON output and its own peak RSS in MB (wait4)."""
    env = {**os.environ, "REQUESTS_CA_BUNDLE": str(ca)}
    proc = subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE, env=env)
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        raise SystemExit(f"client failed (status {status})")
    return json.loads(out), usage.ru_maxrss / 1024


def generated(context: Path, mb: int) -> int:
    """The digest benchmark's mix of file sizes, written by a child process: this one stays
    small, so the clients it starts do not inherit its pages (wait4's peak RSS counts them)."""
    code = (
        "import pathlib, random, sys, digest\n"
        "print(digest.generate(pathlib.Path(sys.argv[1]), int(sys.argv[2]), random.Random(0)))"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent)}
    command = [sys.executable, "-c", code, str(context), str(mb * MB)]
    return int(subprocess.run(command, capture_output=True, text=True, env=env, check=True).stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=1024, help="context size in MB (default 1024)")
    parser.add_argument("--auth", default="Sas,AccountKey,None", help="datastore credentials to measure")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="envsync-upload-bench-"))
    try:
        context = work / "ctx"
        count = generated(context, args.mb)
        size = sum(f.stat().st_size for f in context.rglob("*") if f.is_file()) / MB
        print(f"context: {count} files, {size:.0f} MB; Azurite over HTTPS, blobs on disk; concurrency 8\n")
        worst = 0.0
        heads = (("digest", 6), ("upload", 16), ("RSS", 6), ("skip", 5), ("download", 16), ("RSS", 6))
        print(f"{'datastore':30} | " + " | ".join(f"{name:>{width}}" for name, width in heads))
        print("-" * 104)
        (work / "azurite").mkdir()
        with azurite_launcher.running(work / "azurite") as azurite:
            for kind in args.auth.split(","):
                with emulator(azurite.account_url, azurite.ca_bundle, kind) as url:
                    workspace = url + WORKSPACE.format(f"bench-{kind.lower()}")  # a container each
                    up, up_rss = child(UPLOAD, [workspace, str(context)], azurite.ca_bundle)
                    back = work / f"back-{kind}"
                    back.mkdir()
                    down, down_rss = child(DOWNLOAD, [workspace, up["uri"], str(back)], azurite.ca_bundle)
                    shutil.rmtree(back)
                label = f"{kind} ({str(up['auth']).split(' (')[0]})"
                upload = f"{size / up['upload']:5.0f} MB/s {up['upload']:5.1f} s"
                download = f"{size / down['download']:5.0f} MB/s {down['download']:5.1f} s"
                print(
                    f"{label:30} | {up['digest']:4.1f} s | {upload} | {up_rss:3.0f} MB | {up['skip']:3.2f} |"
                    f" {download} | {down_rss:3.0f} MB"
                )
                worst = max(worst, up_rss, down_rss)
        verdict = "PASS" if worst < RSS_TARGET_MB else "MISS"
        print(f"\npeak RSS {worst:.0f} MB, target under {RSS_TARGET_MB} MB: {verdict}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    start = time.monotonic()
    main()
    print(f"\n{time.monotonic() - start:.0f} s")

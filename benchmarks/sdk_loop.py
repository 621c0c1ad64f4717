"""What Azure ML users run today, as the benchmark's peer: azure-ai-ml in a loop over the YAMLs.

    benchmarks/.sdk-venv/bin/python benchmarks/sdk_loop.py URL SUB RG WS {apply,get} THREADS YAML...

Runs inside its own virtualenv (`run.py` makes it on demand: azure-ai-ml 1.35.2), pointed at
`envsync emulator` through the SDK's own cloud override (`cloud` + `cloud_metadata`: its ARM
endpoint) with a placeholder credential, and azure-core's https-only check for bearer tokens
off (the emulator is http on 127.0.0.1). For
each YAML, `load_environment` then `create_or_update` (apply) or `get(label="latest")` (what a
dry run can ask), one thread or THREADS at a time. Prints one JSON line: done, failed (by
error), seconds.
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from azure.ai.ml import MLClient, load_environment
from azure.ai.ml.exceptions import ValidationException
from azure.core.credentials import AccessToken, AccessTokenInfo
from azure.core.exceptions import ResourceNotFoundError
from azure.core.pipeline.policies import _authentication


def _no_https_check(request: Any) -> None:
    # MLClient turns azure-core's https check off for an http endpoint, but `get(label="latest")`
    # builds its own request options without that: the emulator speaks http on 127.0.0.1. The
    # option is still taken off the request, as the real check does, so no transport sees it.
    request.context.options.pop("enforce_https", None)


_authentication._enforce_https = _no_https_check


class Placeholder:
    """A TokenCredential the emulator accepts (it checks only that a bearer token is there)."""

    def get_token(self, *scopes: str, **kwargs: object) -> AccessToken:
        return AccessToken("benchmark-principal", int(time.time()) + 3600)

    def get_token_info(self, *scopes: str, options: object = None) -> AccessTokenInfo:
        return AccessTokenInfo("benchmark-principal", int(time.time()) + 3600)


def client(url: str, sub: str, rg: str, ws: str) -> MLClient:
    metadata = {
        "azure_portal": "https://portal.azure.com/",
        "resource_manager": url.rstrip("/") + "/",
        "active_directory": "https://login.microsoftonline.com/",
        "aml_resource_id": "https://ml.azure.com/",
        "storage_endpoint": "core.windows.net",
        "registry_discovery_endpoint": "https://eastus.api.azureml.ms/",
    }
    return MLClient(
        Placeholder(), sub, rg, ws, cloud="envsync-emulator", cloud_metadata=metadata, enable_telemetry=False
    )


def main() -> None:
    url, sub, rg, ws, mode, threads, *paths = sys.argv[1:]
    ml = client(url, sub, rg, ws)
    failed: Counter[str] = Counter()

    def one(path: str) -> None:
        env = load_environment(source=path)
        try:
            if mode == "apply":
                ml.environments.create_or_update(env)
            else:
                ml.environments.get(name=env.name, label="latest")
        except ResourceNotFoundError:
            pass  # a dry run's answer: not there yet
        except ValidationException as e:
            if "does not exist" not in str(e):  # get(label="latest") of a name not there yet
                failed[f"ValidationException: {str(e)[:120]}"] += 1
        except Exception as e:  # noqa: BLE001 - counted and reported, as a user's loop would see it
            failed[f"{type(e).__name__}: {str(e).splitlines()[0][:120]}"] += 1

    start = time.perf_counter()
    if int(threads) <= 1:
        for path in paths:
            one(path)
    else:
        with ThreadPoolExecutor(max_workers=int(threads)) as pool:
            list(pool.map(one, paths))
    seconds = time.perf_counter() - start
    print(json.dumps({"done": len(paths) - sum(failed.values()), "failed": dict(failed), "seconds": seconds}))


if __name__ == "__main__":
    main()

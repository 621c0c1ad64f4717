"""The curated `AzureML-*` environments a new local workspace starts with.

Real workspaces show Microsoft's curated catalog next to user environments (azureml-api.md §3):
read-only, `environmentType: Curated`, names that user PUTs could not use (they carry dots and a
reserved prefix). A few of them, a few versions each, are enough for the planner's "never touch
curated" rules and for job references like `azureml:AzureML-sklearn-1.5:14` to resolve locally.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

CURATED_SEED = 1  # bump when the catalog below changes, so existing databases get the additions
_MCR = "mcr.microsoft.com/azureml/curated"
_INFERENCE = {
    "livenessRoute": {"path": "/", "port": 5001},
    "readinessRoute": {"path": "/", "port": 5001},
    "scoringRoute": {"path": "/score", "port": 5001},
}


@dataclass(frozen=True)
class CuratedEnvironment:
    name: str
    description: str
    image: str  # repository; each version's tag is its version number, as in the catalog
    versions: tuple[tuple[str, str], ...]  # (version, created), oldest first
    tags: Mapping[str, str] = field(default_factory=dict)
    inference_config: Mapping[str, Any] | None = None

    def image_of(self, version: str) -> str:
        return f"{self.image}:{version}"


CATALOG: tuple[CuratedEnvironment, ...] = (
    CuratedEnvironment(
        name="AzureML-sklearn-1.5",
        description="An environment for tasks such as regression, clustering, and classification "
        "with Scikit-learn. Contains the Azure ML SDK and other packages.",
        image=f"{_MCR}/sklearn-1.5",
        versions=(
            ("12", "2024-11-01T00:00:00.000000Z"),
            ("13", "2025-01-14T09:30:00.000000Z"),
            ("14", "2025-03-20T16:05:00.000000Z"),
        ),
        tags={"OS": "Ubuntu22.04", "Python": "3.10", "Scikit-learn": "1.5"},
    ),
    CuratedEnvironment(
        name="AzureML-ACPT-pytorch-2.2-cuda12.1",
        description="Recommended environment for Deep Learning in public preview with PyTorch "
        "on Azure containing the Azure ML SDK with the latest compatible versions of Ubuntu, "
        "Python, PyTorch, CUDA\\RocM, NebulaML libraries, and more.",
        image=f"{_MCR}/acpt-pytorch-2.2-cuda12.1",
        versions=(
            ("30", "2024-10-02T11:00:00.000000Z"),
            ("31", "2024-12-09T08:45:00.000000Z"),
            ("32", "2025-02-27T13:20:00.000000Z"),
        ),
        tags={"OS": "Ubuntu20.04", "Python": "3.10", "PyTorch": "2.2", "GPU": "Cuda12"},
    ),
    CuratedEnvironment(
        name="AzureML-tensorflow-2.16-cuda12",
        description="An environment for deep learning with Tensorflow containing the Azure ML "
        "SDK and additional python packages.",
        image=f"{_MCR}/tensorflow-2.16-cuda12",
        versions=(("7", "2024-09-18T10:10:00.000000Z"), ("8", "2025-01-30T17:00:00.000000Z")),
        tags={"OS": "Ubuntu22.04", "Python": "3.10", "Tensorflow": "2.16", "GPU": "Cuda12"},
    ),
    CuratedEnvironment(
        name="AzureML-minimal-ubuntu22.04-py39-cpu-inference",
        description="AzureML minimal/Ubuntu 22.04/Python 3.9 cpu environment for inference.",
        image=f"{_MCR}/minimal-ubuntu22.04-py39-cpu-inference",
        versions=(
            ("18", "2024-08-21T07:00:00.000000Z"),
            ("19", "2024-11-12T07:00:00.000000Z"),
            ("20", "2025-02-11T07:00:00.000000Z"),
        ),
        tags={"OS": "Ubuntu22.04", "Python": "3.9", "Inferencing": ""},
        inference_config=_INFERENCE,
    ),
)

"""The engine: targets that share a policy share its evaluation, and targets that share a rule
family's parameters share that family's run, with the same findings as evaluating each alone."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from envsync.spec.load import load_spec
from envsync.spec.policy import engine
from envsync.spec.policy.engine import FAMILIES, evaluate, evaluate_all
from envsync.spec.policy.settings import DEFAULT_POLICY, Policy
from envsync.spec.policy.subject import Subject
from envsync.spec.yamlio import load_yaml

POLICY = Path(engine.__file__).parent
READERS = {"on", "any_on", "level", "enabled"}


@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.check.__module__.rsplit(".", 1)[-1])
def test_a_family_declares_every_policy_field_it_reads(family: engine.Family) -> None:
    source = (POLICY / (family.check.__module__.rsplit(".", 1)[-1] + ".py")).read_text()
    read = set(re.findall(r"(?<![.\w])policy\.([a-z_]+)", source)) - READERS
    assert read == set(family.parameters)


def test_shared_families_find_what_separate_runs_find(tmp_path: Path) -> None:
    path = tmp_path / "environments" / "e.yml"
    path.parent.mkdir()
    path.write_text("name: e\nimage: docker.io/python:latest\nconda_file:\n  dependencies:\n    - numpy\n")
    spec, problems = load_spec(path, root=tmp_path)
    assert spec is not None and problems == []
    subject = Subject(spec, load_yaml(path, display="environments/e.yml"), tmp_path)
    strict = Policy(allowed_registries=("mcr.microsoft.com",))
    together = evaluate_all(subject, {"": DEFAULT_POLICY, "prod": strict, "dev": DEFAULT_POLICY})
    assert together[""] == evaluate(subject, DEFAULT_POLICY)
    assert together["prod"] == evaluate(subject, strict)
    assert together["dev"] is together[""]
    rules = {p.rule for p in together["prod"].problems} - {p.rule for p in together[""].problems}
    assert rules == {"image-registry-allowed"}

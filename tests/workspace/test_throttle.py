"""ARM's token buckets: the pure bucket on a fake clock, the emulator enforcing them over HTTP,
and the client pacing itself under them."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from envsync.errors import EnvsyncError
from envsync.http.throttle import (
    ArmThrottle,
    Limits,
    PacerState,
    TokenBucket,
    operation_of,
    principal_of,
)

WS = "/subscriptions/{}/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws-throttle"
API = {"api-version": "2025-12-01"}
READS = "x-ms-ratelimit-remaining-subscription-reads"
WRITES = "x-ms-ratelimit-remaining-subscription-writes"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# -- pure -----------------------------------------------------------------------------------------


def test_bucket_drains_then_refills_at_its_rate() -> None:
    bucket = TokenBucket(capacity=3, refill=2.0, tokens=3, stamp=0.0)
    assert [bucket.take(0.0) for _ in range(4)] == [True, True, True, False]
    assert bucket.wait(0.0) == 0.5
    assert not bucket.take(0.4)
    assert bucket.take(0.5)
    assert bucket.level(100.0) == 3  # never above capacity


def test_bucket_sync_can_leave_a_debt_or_refill() -> None:
    bucket = TokenBucket(capacity=10, refill=1.0, tokens=10, stamp=0.0)
    bucket.sync(-2, 0.0)
    assert bucket.wait(0.0) == 3.0  # two to repay, one to spend
    bucket.sync(7, 1.0)
    assert bucket.level(1.0) == 7
    bucket.sync(50, 1.0)
    assert bucket.level(1.0) == 10  # never above capacity


def test_operation_types() -> None:
    assert [operation_of(m) for m in ("GET", "head", "PUT", "POST", "PATCH", "DELETE")] == [
        "reads",
        "reads",
        "writes",
        "writes",
        "writes",
        "deletes",
    ]


def test_limits_refuse_empty_buckets() -> None:
    with pytest.raises(ValueError, match="at least 1 token"):
        Limits(read_bucket=0)
    with pytest.raises(ValueError, match="positive rate"):
        Limits(write_refill=0)


def test_arm_throttle_defaults_are_azures() -> None:
    clock = FakeClock()
    throttle = ArmThrottle(Limits(), clock)
    reads = [throttle.admit("s", "p", "GET") for _ in range(251)]
    assert [d.remaining for d in reads[:2]] == [249, 248] and reads[249].remaining == 0
    refused = reads[250]
    assert not refused.allowed and refused.retry_after == 1  # 1/25 s, rounded up
    assert refused.headers() == {READS: "0", "Retry-After": "1"}
    clock.now += 1.0
    assert sum(throttle.admit("s", "p", "GET").allowed for _ in range(30)) == 25
    writes = [throttle.admit("s", "p", "PUT").allowed for _ in range(201)]
    assert writes.count(False) == 1  # writes have their own bucket of 200


def test_arm_throttle_is_per_subscription_principal_and_operation() -> None:
    clock = FakeClock()
    throttle = ArmThrottle(Limits(read_bucket=1, read_refill=0.25, write_bucket=1, write_refill=0.5), clock)
    assert throttle.admit("s1", "alice", "GET").allowed
    late = throttle.admit("S1", "alice", "GET")  # subscription ids are case-insensitive
    assert not late.allowed and late.retry_after == 4
    assert throttle.admit("s2", "alice", "GET").allowed
    assert throttle.admit("s1", "bob", "GET").allowed
    assert throttle.admit("s1", "alice", "PUT").allowed
    assert throttle.admit("s1", "alice", "DELETE").allowed
    assert not throttle.admit("s1", "alice", "POST").allowed
    clock.now += 3.9
    assert not throttle.admit("s1", "alice", "GET").allowed
    clock.now += 0.1
    assert throttle.admit("s1", "alice", "GET").allowed


def test_principal_is_a_hash_not_the_token() -> None:
    assert principal_of("Bearer secret-token") != principal_of("Bearer other")
    assert "secret" not in principal_of("Bearer secret-token")


def test_pacer_probes_alone_then_syncs_down_to_arm() -> None:
    state = PacerState(TokenBucket(capacity=250, refill=25.0, tokens=250, stamp=0.0))
    assert state.delay(0.0) == 0.0
    assert state.delay(0.0) > 0  # ARM has not said yet how much is left
    state.settle(3, 0.0)  # someone else drained ARM's bucket: 3 left
    assert [state.delay(0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert state.delay(0.0) == pytest.approx(1 / 25)
    state.settle(0, 0.0)  # ARM counted the first of the three; two are still in flight
    assert state.bucket.wait(0.0) == pytest.approx(3 / 25)


def test_pacer_adopts_a_larger_budget_and_survives_missing_headers() -> None:
    state = PacerState(TokenBucket(capacity=5, refill=1.0, tokens=5, stamp=0.0))
    state.delay(0.0)
    state.settle(11_999, 0.0)  # an hourly budget: far more than the bucket modelled
    assert all(state.delay(0.0) == 0.0 for _ in range(100))
    for _ in range(20_000):  # a server that keeps saying so is never waited on
        assert state.delay(0.0) == 0.0
        state.settle(11_999, 0.0)
    fresh = PacerState(TokenBucket(capacity=5, refill=1.0, tokens=5, stamp=0.0))
    fresh.delay(0.0)
    fresh.settle(None, 0.0)
    assert [fresh.delay(0.0) for _ in range(5)] == [0.0, 0.0, 0.0, 0.0, 1.0]


# -- the emulator over HTTP -----------------------------------------------------------------------

pytest.importorskip("envsync.workspace.local.workspace")  # the emulator's store
from envsync.emulator.server import start_emulator  # noqa: E402
from envsync.http.session import HttpOptions, StaticTokenCredential  # noqa: E402
from envsync.workspace.azure.workspace import AzureMLWorkspace  # noqa: E402


def _get(session: requests.Session, url: str, token: str = "t") -> requests.Response:  # noqa: S107
    return session.get(url, params=API, headers={"Authorization": f"Bearer {token}"}, timeout=5)


def test_a_burst_past_the_bucket_gets_exactly_the_excess_refused() -> None:
    # A refill this slow adds no token during the burst: the count is exact.
    with start_emulator(arm_throttle=True, read_refill=0.01) as emulator, requests.Session() as http:
        url = emulator.url + WS.format("s1") + "/environments"
        answers = [_get(http, url) for _ in range(260)]
        codes = [a.status_code for a in answers]
        assert codes.count(200) == 250 and codes.count(429) == 10 and 429 not in codes[:250]
        assert [a.headers[READS] for a in answers[:3]] == ["249", "248", "247"]
        refused = answers[-1]
        assert refused.headers[READS] == "0" and int(refused.headers["Retry-After"]) >= 1
        assert refused.json()["error"]["code"] == "TooManyRequests"
        assert emulator.stats().throttled == 10
        assert _get(http, emulator.url + WS.format("s2") + "/environments").status_code == 200
        assert _get(http, url, token="another-principal").status_code == 200


def test_small_buckets_writes_and_blobs() -> None:
    options = {"read_bucket": 5, "read_refill": 1.0, "write_bucket": 2, "write_refill": 0.01}
    with start_emulator(arm_throttle=True, **options) as emulator, requests.Session() as http:
        url = emulator.url + WS.format("s1")
        codes = [_get(http, url + "/environments").status_code for _ in range(15)]
        assert codes.count(429) == 10 and codes[:5] == [200] * 5
        auth = {"Authorization": "Bearer t"}
        posts = [
            http.post(f"{url}/datastores/workspaceblobstore/listSecrets", params=API, headers=auth, timeout=5)
            for _ in range(3)
        ]
        assert [p.status_code for p in posts] == [200, 200, 429]
        assert posts[0].headers[WRITES] == "1" and posts[2].headers["Retry-After"] == "100"
        # Blob storage is not ARM: never throttled, whatever the ARM buckets hold.
        blob = f"{emulator.url}/_blob/emuaccount/container/x.txt"
        assert all(http.get(blob, timeout=5).status_code != 429 for _ in range(10))


def test_throttle_options_are_checked() -> None:
    with pytest.raises(EnvsyncError, match="at least 1 token"):
        start_emulator(arm_throttle=True, read_bucket=0)


def _client(url: str, **http: object) -> AzureMLWorkspace:
    options = HttpOptions(concurrency=8, retries=4, backoff=0.001, jitter=0.0, **http)  # type: ignore[arg-type]
    return AzureMLWorkspace(url + WS.format("s1"), StaticTokenCredential("pacer"), http=options)


def test_the_client_paces_a_burst_under_the_limit() -> None:
    limits = {"read_bucket": 5, "read_refill": 40.0, "write_bucket": 3, "write_refill": 20.0}
    with start_emulator(arm_throttle=True, **limits) as emulator:
        ws = _client(emulator.url, **limits)
        with ThreadPoolExecutor(8) as pool:
            found = list(pool.map(ws.get_environment, [f"e{i}" for i in range(60)]))
            secrets = list(
                pool.map(lambda _: ws.session.post("datastores/workspaceblobstore/listSecrets"), range(20))
            )
        stats = emulator.stats()
    assert found == [None] * 60 and all(s["secretsType"] == "Sas" for s in secrets)
    # Unpaced, this burst exhausts its retries on 429s (each request sees several). Paced, a few may
    # still slip through when the machine stalls a thread between taking a token and sending: a
    # bound of 10% keeps the test about pacing, not about the scheduler.
    assert stats.throttled <= 8 and stats.total == 80 + stats.throttled  # each 429 is retried

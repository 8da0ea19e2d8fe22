"""`briefing serve` under load (issue 28, item 2): the real command in a child process over a slow fake
model (tests/support/serve_child.py), 100 concurrent clients on 127.0.0.1, a third of them streaming.
The bounds below are correctness timeouts, not performance targets; the figures go to bench/serve_load.md
(evals/bench_serve.py)."""

from __future__ import annotations

import pytest

from ..support.live_app import free_port
from ..support.serve_load import run

pytestmark = pytest.mark.integration


@pytest.mark.timeout(240)
def test_100_concurrent_clients_get_an_answer_or_a_429_and_the_server_stays_responsive(tmp_path):
    result = run(tmp_path / "data", free_port(), clients=100, timeout_s=30)
    figures = result.summary()

    assert not result.failed, [o.problem or o.status for o in result.failed][:5]
    assert result.answered and result.rejected, figures  # the queue bound was reached, and answers still came
    assert all(o.retry_after and int(o.retry_after) >= 1 for o in result.rejected)
    assert max(o.seconds for o in result.rejected) < 5, figures  # told at once, not after waiting in line
    assert any(o.stream for o in result.answered) and any(not o.stream for o in result.answered)
    assert result.models_s and max(result.models_s) < 1.0, figures
    assert result.stop_s is not None and result.stop_s < 5.0, figures

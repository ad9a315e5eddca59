"""A tiny run of the Notify benchmark (seed 000 at scale; issue 8: phases with two processes)."""

import io
import re

import pytest
from django.core.management import call_command


@pytest.mark.django_db(transaction=True)
def test_the_benchmark_reports_phases_of_every_process_the_one_process_figure_and_the_naive_ratio(
    settings, monkeypatch
):
    """Issue 8: the time by phase is reported with two processes and with one, and the naive loop's ratio."""
    settings.NOTIFY_PROCESSES = 2
    monkeypatch.setattr("notifications.notify.engine.CHUNK_SIZE", 150)  # several chunks for each process

    out = io.StringIO()
    call_command("bench_notify", "--learners", "400", "--naive-learners", "20", stdout=out)

    text = out.getvalue()
    assert "processes sharing the run: 2" in text
    assert "processes sharing the run: 1" in text
    assert text.count("300 queued") == 2 and text.count("100 omitted") == 2
    assert re.search(r"Set-based, 2 processes: 400 learners decided and enqueued in \d+\.\d\d s", text)
    assert re.search(r"Set-based, 1 process: 400 learners decided and enqueued in \d+\.\d\d s", text)
    assert re.search(r"2 processes take \d+\.\d\d of the one-process time", text)
    for line in re.findall(r"phases \(seconds summed over the processes\): (.*)", text):
        phases = dict(re.findall(r"(lock and read|decide|render and enqueue|commit) (\d+\.\d+) s", line))
        assert set(phases) == {"lock and read", "decide", "render and enqueue", "commit"}
        assert float(phases["render and enqueue"]) > 0
    assert len(re.findall(r"phases \(seconds summed over the processes\)", text)) == 2
    assert re.search(r"Set-based is \d+\.\dx faster per learner", text)

"""The layout helper process (``viz/helper.py``): its answer or its exception comes back, it
ignores Ctrl-C (its parent decides) and never outlives ``close``."""

import os
import signal
import time

import pytest

from gnnviz.viz.helper import Helper


def _slow_square(x, seconds):
    time.sleep(seconds)
    return x * x


def _fails():
    raise ValueError("bad edges")


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_answers_come_back_in_order_and_the_process_is_reaped():
    with Helper() as helper:
        first, second = helper.submit(_slow_square, 7, 0.0), helper.submit(_slow_square, 3, 0.0)
        assert helper.result(second) == 9 and helper.result(first) == 49 and helper.result(first) == 49
        pid = helper._process.pid
    assert _gone(pid)


def test_an_exception_in_the_helper_is_raised_here_and_the_helper_goes_on():
    with Helper() as helper:
        failed, then = helper.submit(_fails), helper.submit(_slow_square, 2, 0.0)
        with pytest.raises(ValueError, match="bad edges"):
            helper.result(failed)
        assert helper.result(then) == 4


def test_ctrl_c_reaches_the_parent_only():
    with Helper() as helper:
        ticket = helper.submit(_slow_square, 3, 1.0)
        time.sleep(0.3)  # the helper has set its handlers
        os.kill(helper._process.pid, signal.SIGINT)
        assert helper.result(ticket) == 9


def test_close_kills_a_helper_still_computing():
    helper = Helper()
    helper.submit(_slow_square, 2, 60.0)
    pid = helper._process.pid
    start = time.monotonic()
    helper.close()
    assert time.monotonic() - start < 10 and _gone(pid)

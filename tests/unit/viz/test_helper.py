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


def test_the_answer_comes_back_and_the_process_is_reaped():
    with Helper(_slow_square, 7, 0.0) as helper:
        assert helper.result() == 49 and helper.result() == 49
        pid = helper._process.pid
    assert _gone(pid)


def test_an_exception_in_the_helper_is_raised_here():
    with Helper(_fails) as helper, pytest.raises(ValueError, match="bad edges"):
        helper.result()


def test_ctrl_c_reaches_the_parent_only():
    with Helper(_slow_square, 3, 1.0) as helper:
        time.sleep(0.3)  # the helper has set its handlers
        os.kill(helper._process.pid, signal.SIGINT)
        assert helper.result() == 9


def test_close_kills_a_helper_still_computing():
    helper = Helper(_slow_square, 2, 60.0)
    pid = helper._process.pid
    start = time.monotonic()
    helper.close()
    assert time.monotonic() - start < 10 and _gone(pid)

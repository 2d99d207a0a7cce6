"""Environment switches: one reading, and 0/false/no/off mean off."""

import pytest

from gnnviz import env


@pytest.mark.parametrize("value", ["", "0", "false", "FALSE", "no", "off", " Off "])
def test_off_values_are_off(monkeypatch, value):
    monkeypatch.setenv("GNNVIZ_X", value)
    assert env.flag("GNNVIZ_X") is False


@pytest.mark.parametrize("value", ["1", "true", "yes", "on", "anything"])
def test_other_values_are_on(monkeypatch, value):
    monkeypatch.setenv("GNNVIZ_X", value)
    assert env.flag("GNNVIZ_X") is True


def test_unset_is_off(monkeypatch):
    monkeypatch.delenv("GNNVIZ_X", raising=False)
    assert env.flag("GNNVIZ_X") is False

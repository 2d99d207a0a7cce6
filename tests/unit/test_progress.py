import io
import re

from gnnviz.progress import Progress

ROW = {"epoch": 5, "train_loss": 0.5, "val_metric": 0.75}


class Tty(io.StringIO):
    def isatty(self):
        return True


def test_off_when_not_a_terminal():
    stream = io.StringIO()
    bar = Progress(10, "train", "accuracy", stream=stream)
    bar.update(ROW)
    bar.close()
    assert stream.getvalue() == ""


def test_on_a_terminal_shows_epoch_loss_metric_and_eta():
    stream = Tty()
    bar = Progress(10, "train", "accuracy", stream=stream)
    bar.update(ROW)
    text = stream.getvalue()
    assert text.startswith("\r") and "epoch 5/10" in text and "loss 0.5000" in text and "val accuracy 0.7500" in text
    assert "ETA" in text
    bar.close()
    assert stream.getvalue().endswith("\r")


def test_quiet_forces_it_off():
    stream = Tty()
    Progress(10, "train", "accuracy", enabled=False, stream=stream).update(ROW)
    assert stream.getvalue() == ""


def test_stages_say_each_stage_and_draw_a_bar_only_on_a_terminal():
    from gnnviz.progress import Stages

    for stream, shown in ((io.StringIO(), False), (Tty(), True)):
        stages = Stages("visualize", stream=stream)
        stages.start("drawing 3 figures")
        for i in range(1, 4):
            stages.step(i, 3, f"fig{i}")
        stages.end_bar()
        stages.start("pages")
        stages.close()
        text = stream.getvalue()
        if not shown:
            assert text == ""
            continue
        assert text.startswith("visualize: drawing 3 figures ...\n") and "visualize: pages ...\n" in text
        assert "[####################] 3/3 fig3" in text  # the last step is always drawn
        assert re.search(r"3/3 fig3\r +\rvisualize: pages", text)  # the bar is cleared before the next line

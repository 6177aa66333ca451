"""cnn.quiet: lines written straight to file descriptor 2 (as libpng and TensorFlow's C++ logging do)
are kept from the terminal while a call runs; the others reach it afterwards, in order."""
import os

from cnn.quiet import stderr_filtered


def test_only_the_lines_kept_reach_descriptor_2(capfd):
    with stderr_filtered(lambda line: not line.startswith(b"libpng ")):
        os.write(2, b"libpng error: Read Error\nsomething else\n")
        os.write(2, b"libpng warning: x\nlast\n")
    os.write(2, b"after\n")
    assert capfd.readouterr().err == "something else\nlast\nafter\n"


def test_by_default_every_line_is_dropped_and_descriptor_2_is_back(capfd):
    with stderr_filtered():
        os.write(2, b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n")
    os.write(2, b"ours\n")
    assert capfd.readouterr().err == "ours\n"

"""The one JSON reader: deep nesting, huge integers, FIFOs and oversize files each give one message
naming the file (before it, json raised RecursionError or Python's raw digit-limit ValueError, and
a FIFO blocked the reader for ever)."""
import os

import pytest

from cnn import jsonfile
from cnn.arch import ArchitectureError, read_spec
from cnn.runs.runfile import RunFileError, read_info


class Bad(ValueError):
    pass


@pytest.mark.parametrize("text, problem", [
    ("[" * 100_000, "x.json is nested more than 100 levels deep"),
    ('{"a": ' + "[" * 101 + "]" * 101 + "}", "x.json is nested more than 100 levels deep"),
    ('{"units": ' + "9" * 5000 + "}", r"x.json is not valid JSON \(an integer of more than 4,300 digits\)$"),
    ("[1, 2", "x.json is not valid JSON"),
    (b"\xff\xfe", "x.json is not UTF-8 text"),
])
def test_bad_json_is_one_message_naming_the_file(text, problem):
    with pytest.raises(Bad, match=f"^{problem}"):
        jsonfile.parse(text, "x.json", Bad)


def test_brackets_inside_strings_do_not_count_as_nesting():
    text = '{"name": "' + "[" * 500 + '\\"' + "{" * 500 + '"}'
    assert jsonfile.parse(text, "x.json", Bad) == {"name": "[" * 500 + '"' + "{" * 500}
    assert jsonfile.parse("[" * 100 + "]" * 100, "x.json", Bad) is not None


def test_a_fifo_or_an_oversize_file_is_refused_without_reading(tmp_path):
    os.mkfifo(tmp_path / "a.json")
    with pytest.raises(Bad, match=r"a.json is a FIFO \(named pipe\), not a file$"):
        jsonfile.read(tmp_path / "a.json", Bad, 1 << 20)
    (tmp_path / "big.json").write_text("[" + "0," * 600 + "0]")
    with pytest.raises(Bad, match=r"big.json is larger than 1 kB"):
        jsonfile.read(tmp_path / "big.json", Bad, 1 << 10)


def test_every_json_file_of_the_project_goes_through_it(tmp_path):
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000)
    with pytest.raises(ArchitectureError, match=f"^{deep} is nested more than"):
        read_spec(str(deep))
    (tmp_path / "run.json").write_text("[" * 100_000)
    with pytest.raises(RunFileError, match="^run.json is nested more than"):
        read_info(tmp_path)
    os.mkfifo(tmp_path / "fifo.json")
    with pytest.raises(ArchitectureError, match="fifo.json is a FIFO"):
        read_spec(str(tmp_path / "fifo.json"))

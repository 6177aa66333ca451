"""What every command of the project takes and does alike: --version, and logging.

The library logs through logging.getLogger("cnn…") (and the studio through "app…") and never configures
it; each command calls `configure(args)` once its options are parsed: warnings by default, -v for what
is being done (INFO), -vv or --log-level DEBUG for everything, each line '<command>: LEVEL: message'
on stderr."""
from __future__ import annotations

import argparse
import logging
import sys

from . import __version__

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
LOGGERS = ("cnn", "app")
_HANDLER_NAME = "cnn-studio command line"


class _Stderr(logging.StreamHandler):
    """A handler writing to whatever sys.stderr is when a line is logged (a test's capture, a redirect)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value):
        pass


def add_common_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="say what is being done (-vv: everything); the same as --log-level INFO (DEBUG)")
    parser.add_argument("--log-level", type=str.upper, choices=LEVELS, metavar="LEVEL",
                        help=f"the least important log lines shown: {', '.join(LEVELS)} (default WARNING)")


def level_of(args: argparse.Namespace) -> int:
    if getattr(args, "log_level", None):
        return getattr(logging, args.log_level)
    return (logging.WARNING, logging.INFO, logging.DEBUG)[min(getattr(args, "verbose", 0) or 0, 2)]


def configure(args: argparse.Namespace, prog: str) -> int:
    """Lines of the project's loggers at the level the options ask for go to stderr; returns the level."""
    level = level_of(args)
    handler = _Stderr()
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(logging.Formatter(f"{prog}: %(levelname)s: %(message)s"))
    for name in LOGGERS:
        logger = logging.getLogger(name)
        for old in [h for h in logger.handlers if h.get_name() == _HANDLER_NAME]:
            logger.removeHandler(old)
        logger.addHandler(handler)
        logger.setLevel(level)
        logger.propagate = False
    return level

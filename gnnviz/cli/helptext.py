"""What ``--help`` shows after each option: a word a user reads, once for every command.

Typer prints the Python type of each value (``<str>``, ``<list[str]>``) and ``<bool>`` after
every flag, which takes no value at all. ``tidy`` gives each option a plain word instead:
nothing after a flag, ``<text>``, ``<number>``, ``<integer>``, ``<path>`` (``...`` where it takes
several); an option that names its own (``metavar=``) keeps it. Arguments keep their names (RUN).
"""

from __future__ import annotations

import re

import typer

WORDS = {"bool": "", "str": "<text>", "float": "<number>", "int": "<integer>", "path": "<path>"}


def tidy(group: typer.core.TyperGroup) -> None:
    """Set the shown value word of every option of ``group`` and its commands, the help flag included."""
    names = (group.context_settings or {}).get("help_option_names", ["--help"])
    for command in [group, *getattr(group, "commands", {}).values()]:
        ctx = typer.Context(command, info_name=command.name, help_option_names=names)
        helper = command.get_help_option(ctx)  # made once and kept by the command: the one --help shows
        for param in [*command.params, *([helper] if helper is not None else [])]:
            if isinstance(param, typer.core.TyperOption) and param.metavar is not None:
                continue  # its own word
            # Typer reads the word from this method, for options and arguments alike; Click's own
            # metavar stays as it was (an argument's name, the usage line, error messages).
            param.display_type_rich = lambda ctx, shown=word(param, ctx): shown


def word(param: typer.core.TyperOption | typer.core.TyperArgument, ctx: typer.Context) -> str:
    """``<text>`` for ``<str>``, nothing for a flag; a list's element word (an option's help says
    "repeatable"; an argument that takes several gets ``...``)."""
    if getattr(param, "is_flag", False) or getattr(param, "count", False):
        return ""
    shown = param.display_type(ctx)
    inner = re.fullmatch(r"<(?:list\[)?([^\]>]+)\]?>", shown)
    plain = WORDS.get(inner.group(1).lower(), shown) if inner else shown
    return plain + ("..." if isinstance(param, typer.core.TyperArgument) and param.nargs != 1 else "")

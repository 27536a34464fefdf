"""Jina YAML as this project reads it: a file or a YAML string, variables in values, the line of each key.

Variables are replaced in values only, never in keys or comments (the YAML is parsed first, as
Jina does):

* `${{ ENV.NAME }}`, `${NAME}` and `$NAME`: the environment variable; an unset one is an error
  naming it and its line (Jina leaves it in place, silently);
* `${{ CONTEXT.NAME }}`: from the context the caller gives (`Executor.load_config(context=...)`),
  and `${{ NAME }}` from the context, else the environment; without a context they are left as
  they are, as are Jina's other `${{ ... }}` references;
* `$$`: a literal `$`; a `${` that starts none of these is an error.

An unquoted value is typed as YAML types the same text (`port: $PORT` → a number); a quoted or
block value stays a string.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from jina.excepts import BadConfig

_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_VARIABLE = re.compile(
    r"\$(?:(?P<dollar>\$)"
    rf"|\{{\{{\s*(?:ENV|env)\.(?P<env>{_NAME})\s*\}}\}}"
    rf"|\{{\{{\s*(?:CONTEXT|context)\.(?P<context>{_NAME})\s*\}}\}}"
    rf"|\{{\{{\s*(?P<either>{_NAME})\s*\}}\}}"
    rf"|\{{(?P<braced>{_NAME})\}}"
    rf"|(?P<bare>{_NAME})"
    r"|(?P<bad>\{(?!\{)))"
)


def expand(text: str, where: str, context: Mapping[str, Any] | None = None) -> str:
    """`text` with its variables replaced; `where` ("file:line: ") prefixes the errors."""

    def replace(match: re.Match[str]) -> str:
        if match.group("dollar"):
            return "$"
        if match.group("bad"):
            raise BadConfig(
                f"{where}{text!r}: `${{` starts a variable: write ${{NAME}}, $NAME or ${{{{ ENV.NAME }}}}, "
                "or $$ for a literal $"
            )
        name = match.group("context")
        if name is not None:
            if context is None:
                return match.group(0)  # resolved by whoever has a context (Jina's own references)
            if name not in context:
                raise BadConfig(f"{where}{match.group(0)} is used but {name} is not in the context")
            return str(context[name])
        name = match.group("either")
        if name is not None:  # the context's, else the environment's
            if context is not None and name in context:
                return str(context[name])
            if name in os.environ:
                return os.environ[name]
            if context is None:
                return match.group(0)
            raise BadConfig(f"{where}{match.group(0)} is used but {name} is neither in the context nor set")
        name = match.group("env") or match.group("braced") or match.group("bare")
        if name not in os.environ:
            raise BadConfig(f"{where}{match.group(0)} is used but {name} is not set")
        return os.environ[name]

    return _VARIABLE.sub(replace, text)


_RESOLVER = yaml.SafeLoader("")


def typed(text: str) -> Any:
    """An unquoted scalar's value, as YAML would read the same text (`8` → 8, `[a, b]` → a list)."""
    if text.startswith("[") and text.endswith("]"):
        try:
            items = yaml.safe_load(text)
        except yaml.YAMLError:
            items = None
        if isinstance(items, list):
            return items
    tag = _RESOLVER.resolve(yaml.ScalarNode, text, (True, False))
    return _RESOLVER.construct_object(yaml.ScalarNode(tag, text), deep=True)


def expand_values(value: Any, where: str, context: Mapping[str, Any] | None = None) -> Any:
    """Variables replaced in every string of already parsed data (a value that changed is typed)."""
    if isinstance(value, dict):
        return {k: expand_values(v, where, context) for k, v in value.items()}
    if isinstance(value, list):
        return [expand_values(v, where, context) for v in value]
    if isinstance(value, str) and "$" in value:
        expanded = expand(value, where, context)
        return typed(expanded) if expanded != value else value
    return value


class LocatedYaml:
    """Parsed YAML with the line of each mapping key and list item (for messages), variables replaced."""

    def __init__(self, origin: str, context: Mapping[str, Any] | None = None):
        self.origin = origin
        self.context = context
        self.lines: dict[tuple, int] = {}
        #: the root node's tag when it has its own (Jina's older `!Flow` / `!MyExecutor` form)
        self.root_tag: str | None = None

    def build(self, node: yaml.Node, path: tuple = (), substitute: bool = True) -> Any:
        if not path and node.tag.startswith("!") and not node.tag.startswith("!!"):
            self.root_tag = node.tag
        if isinstance(node, yaml.MappingNode):
            out = {}
            for key_node, value_node in node.value:
                key = self.build(key_node, path, substitute=False)
                self.lines[(*path, key)] = key_node.start_mark.line + 1
                out[key] = self.build(value_node, (*path, key), substitute)
            return out
        if isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                self.lines[(*path, index)] = item.start_mark.line + 1
            return [self.build(item, (*path, index), substitute) for index, item in enumerate(node.value)]
        if node.tag.startswith("!") and not node.tag.startswith("!!"):
            return node.value  # a tagged scalar (Jina's own tags): its text
        if substitute and "$" in node.value:
            line = node.start_mark.line + 1
            if node.style in ("|", ">"):  # a block scalar's text starts on the line after its indicator
                line += 1
            text = expand(node.value, f"{self.origin}:{line}: ", self.context)
            return text if node.style is not None else typed(text)
        return _RESOLVER.construct_object(node, deep=True)

    def where(self, *path: Any) -> str:
        """ "file:line: " of the deepest key of `path` that has a line."""
        for cut in range(len(path), 0, -1):
            line = self.lines.get(tuple(path[:cut]))
            if line is not None:
                return f"{self.origin}:{line}: "
        return f"{self.origin}: "


def read_source(source: str | os.PathLike) -> tuple[str, str, Path]:
    """(text, origin for messages, directory relative paths are resolved against) of a file or YAML string."""
    if isinstance(source, os.PathLike) or ("\n" not in str(source) and Path(str(source)).is_file()):
        path = Path(source)
        return path.read_text(), str(path), path.resolve().parent
    text = str(source)
    if "\n" not in text and text.endswith((".yml", ".yaml")):
        raise BadConfig(f"{text}: no such file")
    return text, "<yaml string>", Path.cwd()


def parse_text(
    text: str, origin: str, context: Mapping[str, Any] | None = None, substitute: bool = True
) -> tuple[Any, LocatedYaml]:
    """(the data, where each key is) of YAML text; invalid YAML is a BadConfig naming its line."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = f"{origin}:{mark.line + 1}" if mark is not None else origin
        raise BadConfig(f"{line}: not valid YAML: {exc.problem}") from None
    located = LocatedYaml(origin, context)
    return (located.build(node, substitute=substitute) if node is not None else None), located


__all__ = ["LocatedYaml", "expand", "expand_values", "parse_text", "read_source", "typed"]

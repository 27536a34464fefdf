"""Path templates of `google.api.http` rules, compiled to matchers (google/api/http.proto grammar).

    Template = "/" Segments [ Verb ] ;
    Segments = Segment { "/" Segment } ;
    Segment  = "*" | "**" | LITERAL | Variable ;
    Variable = "{" FieldPath [ "=" Segments ] "}" ;
    FieldPath = IDENT { "." IDENT } ;
    Verb     = ":" LITERAL ;

`*` matches one path segment, `**` the rest of the path; a variable without a pattern is `*`.
A matched variable binds the request field named by its field path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import unquote

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_LITERAL = re.compile(r"^[A-Za-z0-9\-._~%!$&'()+,;=@]+$")


class TemplateError(ValueError):
    pass


@dataclass(frozen=True)
class PathTemplate:
    template: str
    regex: re.Pattern[str] = field(compare=False)
    variables: tuple[str, ...]
    #: the template with variables written as OpenAPI parameters ("/v1/{name}")
    openapi_path: str

    @classmethod
    def parse(cls, template: str) -> PathTemplate:
        if not template.startswith("/"):
            raise TemplateError(f"path template {template!r} must start with '/'")
        path, verb = template, ""
        last = template.rsplit("/", 1)[-1]
        if ":" in last and "}" not in last.split(":", 1)[1]:
            path, verb = template.rsplit(":", 1)
            if not _LITERAL.match(verb):
                raise TemplateError(f"path template {template!r}: bad verb {verb!r}")
        variables: list[str] = []
        if path == "/":
            pattern, openapi = "", ""
        else:
            pattern, openapi = _compile_segments(_split(path[1:], template), template, variables, top=True)
        regex = "^/" + pattern + (re.escape(":" + verb) if verb else "") + "$"
        openapi_path = "/" + openapi + (":" + verb if verb else "")
        return cls(template=template, regex=re.compile(regex), variables=tuple(variables), openapi_path=openapi_path)

    def match(self, path: str) -> dict[str, str] | None:
        found = self.regex.match(path)
        if found is None:
            return None
        return {name: unquote(found.group(f"v{i}")) for i, name in enumerate(self.variables)}

    @property
    def is_literal(self) -> bool:
        return not self.variables and "*" not in self.template


def _split(path: str, template: str) -> list[str]:
    """Split on '/' outside braces."""
    segments, depth, current = [], 0, ""
    for char in path:
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth < 0:
                raise TemplateError(f"path template {template!r}: unbalanced '}}'")
        if char == "/" and depth == 0:
            segments.append(current)
            current = ""
        else:
            current += char
    if depth:
        raise TemplateError(f"path template {template!r}: unbalanced '{{'")
    segments.append(current)
    return segments


def _compile_segments(segments: list[str], template: str, variables: list[str], top: bool) -> tuple[str, str]:
    parts, openapi = [], []
    for index, segment in enumerate(segments):
        if segment == "":
            raise TemplateError(f"path template {template!r}: empty segment")
        if segment == "*":
            parts.append("[^/]+")
            openapi.append("*")
        elif segment == "**":
            if index != len(segments) - 1:
                raise TemplateError(f"path template {template!r}: '**' must be the last segment")
            parts.append(".+")
            openapi.append("**")
        elif segment.startswith("{"):
            if not top:
                raise TemplateError(f"path template {template!r}: nested variables are not allowed")
            if not segment.endswith("}"):
                raise TemplateError(f"path template {template!r}: bad variable {segment!r}")
            name, _, sub = segment[1:-1].partition("=")
            if not _IDENT.match(name):
                raise TemplateError(f"path template {template!r}: bad field path {name!r}")
            if name in variables:
                raise TemplateError(f"path template {template!r}: {name!r} bound twice")
            inner = "[^/]+"
            if sub:
                inner, _ = _compile_segments(_split(sub, template), template, variables, top=False)
            parts.append(f"(?P<v{len(variables)}>{inner})")
            variables.append(name)
            openapi.append("{" + name + "}")
        else:
            if not _LITERAL.match(segment):
                raise TemplateError(f"path template {template!r}: bad literal {segment!r}")
            parts.append(re.escape(segment))
            openapi.append(segment)
    return "/".join(parts), "/".join(openapi)

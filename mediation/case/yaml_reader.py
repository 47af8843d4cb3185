"""YAML text into plain data in one pass over the parser's events, within the limits.

PyYAML composes the whole document into nodes and then constructs Python data from them:
two object graphs, each of them built in full before a size limit can be checked (about
100 s and 3.6 GB to refuse a case one interest over the limit). :func:`read_yaml` builds the data
straight from libyaml's events and counts as it goes (values, characters of text, depth,
items per section, each YAML alias at every use), so a document is refused as soon as it
passes a limit of :mod:`mediation.case.limits`.
"""

from __future__ import annotations

import re
import sys
from typing import Any, NoReturn

import yaml
from yaml.events import (
    AliasEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)
from yaml.nodes import ScalarNode

from ..errors import CaseError, Problem, describe, field_path
from .limits import MAX_DEPTH, MAX_EXPANDED_TEXT, MAX_NODES, MAX_TERMS, SECTION_LIMITS

__all__ = ["EXPONENT_FLOAT", "read_yaml"]

#: ``1e6`` and ``2.5E-3``: numbers in YAML 1.2 and JSON, strings in YAML 1.1 (which wants
#: ``1.0e6``); users write them for money amounts, so they are read as numbers.
EXPONENT_FLOAT = re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$")

try:  # libyaml's parser is ~10x faster on large cases; fall back when it is absent
    _Base: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _Base = yaml.SafeLoader


class _Loader(_Base):  # type: ignore[misc]
    """The safe loader's parser, tag resolver and scalar constructors, reading ``1e6`` as a number.

    :func:`read_yaml` drives it event by event; its own composer is not used.
    """


_Loader.add_implicit_resolver("tag:yaml.org,2002:float", EXPONENT_FLOAT, list("-+0123456789"))

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_NOUNS = {
    "tag:yaml.org,2002:int": "an integer",
    "tag:yaml.org,2002:float": "a number",
    "tag:yaml.org,2002:bool": "a boolean (true or false)",
    "tag:yaml.org,2002:null": "null",
    "tag:yaml.org,2002:timestamp": "a date or time (YYYY-MM-DD, YYYY-MM-DD hh:mm:ss)",
    "tag:yaml.org,2002:binary": "base64 text",
}
#: Scalar tags a case may use, explicitly (``!!int 3``) or as YAML 1.1 resolves plain text.
_SCALAR_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}"
    for name in ("str", "int", "float", "bool", "null", "timestamp", "binary")
)
_MAP_TAGS = frozenset({"tag:yaml.org,2002:map", "!"})
_SEQ_TAGS = frozenset({"tag:yaml.org,2002:seq", "!"})
#: Scalars up to this length are kept once (ids, kinds, keys and small numbers recur).
_SHARED_LENGTH = 64

_NO_KEY: Any = object()  # a mapping waiting for its next key
_MERGE: Any = object()  # the merge key '<<'
_MERGE_TAG = "tag:yaml.org,2002:merge"
_OPEN: Any = object()  # an anchor whose mapping or list is still being read


class _Frame:
    """A mapping or list being read, with the counts at its start (to size its anchor)."""

    __slots__ = (
        "anchor",
        "chars",
        "container",
        "counter",
        "height",
        "key",
        "mark",
        "merges",
        "nodes",
    )

    def __init__(
        self,
        container: Any,
        mark: Any,
        anchor: str | None,
        nodes: int,
        chars: int,
        counter: str | None,
    ) -> None:
        self.container = container
        self.mark = mark
        self.anchor = anchor
        self.nodes = nodes
        self.chars = chars
        self.counter = counter
        self.key: Any = _NO_KEY
        self.height = 0
        self.merges: list[dict[str, Any]] | None = None


def read_yaml(text: str) -> object:
    r"""Parse a single YAML document into plain data (mappings, lists and scalars).

    Plain scalars resolve as in YAML 1.1 (as ``yaml.safe_load`` reads them), except that
    ``1e6`` is a number; aliases share the data of their anchor; merge keys (``<<: *base``,
    ``<<: [*a, *b]``) bring in the keys that the mapping does not state, earlier mappings
    first.

    Raises
    ------
    CaseError
        As soon as the document passes a limit (its values, characters of text or depth, or
        the items of a section); for a key that is not a string or is repeated, an alias
        that is unknown or inside what it refers to, a tag other than YAML's standard
        scalars, mappings and lists, or a scalar its tag cannot read (``!!int "abc"``).
        Each error gives the field path and the line and column.
    yaml.YAMLError
        When the text is not well-formed YAML.

    Examples
    --------
    >>> read_yaml("a: &x [1, 2.5e3, yes]\nb: *x\n")
    {'a': [1, 2500.0, True], 'b': [1, 2500.0, True]}
    """
    loader = _Loader(text)
    try:
        return _Reader(loader).document()
    finally:
        loader.dispose()


class _Reader:
    def __init__(self, loader: Any) -> None:
        self.loader = loader
        self.stack: list[_Frame] = []
        self.anchors: dict[str, Any] = {}
        self.counts: dict[str, int] = dict.fromkeys([*SECTION_LIMITS, "terms"], 0)
        self.shared: dict[str, object] = {}
        self.quoted: dict[str, str] = {}
        self.resolvers: dict[str | None, list[tuple[str, re.Pattern[str]]]] = (
            loader.yaml_implicit_resolvers
        )

    def document(self) -> object:
        """Return the stream's single document (``None`` for an empty stream)."""
        get = self.loader.get_event
        get()  # the stream's start
        if isinstance(self.loader.peek_event(), StreamEndEvent):
            return None
        get()  # the document's start
        root = self.read()
        get()  # the document's end
        event = get()
        if not isinstance(event, StreamEndEvent):
            raise yaml.composer.ComposerError(
                "expected a single document in the stream",
                None,
                "but found another document",
                event.start_mark,
            )
        return root

    def read(self) -> object:
        """Read events until the document's root is complete; return it."""
        get = self.loader.get_event
        stack = self.stack
        shared, quoted = self.shared, self.quoted
        nodes = chars = 0
        while True:
            event = get()
            kind = type(event)
            mark = event.start_mark
            height = 0
            if kind is ScalarEvent:
                text = event.value
                nodes += 1
                if event.tag is not None and event.tag != "!":
                    value = self.construct(event.tag, event, explicit=True)
                elif not event.implicit[0]:  # quoted: a string
                    value = quoted.get(text)
                    if value is None:
                        value = text
                        if len(text) <= _SHARED_LENGTH:
                            quoted[text] = text
                else:
                    value = shared.get(text, _NO_KEY)
                    if value is _NO_KEY:
                        value = self.plain(event)
                        if len(text) <= _SHARED_LENGTH:
                            shared[text] = value
                length = len(value) if type(value) is str else 0
                chars += length
                if event.anchor is not None:
                    self.anchor(event, (value, 1, length, 0))
            elif kind is MappingStartEvent or kind is SequenceStartEvent:
                nodes += 1
                mapping = kind is MappingStartEvent
                if event.tag is not None and event.tag not in (_MAP_TAGS if mapping else _SEQ_TAGS):
                    self.not_allowed(event.tag, event.start_mark)
                if len(stack) > MAX_DEPTH:
                    self.too_deep()
                if event.anchor is not None:
                    self.anchor(event, _OPEN)
                stack.append(
                    _Frame(
                        {} if mapping else [],
                        event.start_mark,
                        event.anchor,
                        nodes - 1,
                        chars,
                        None if mapping else self.counter(),
                    )
                )
                if nodes > MAX_NODES:
                    self.too_many_values()
                continue
            elif kind is MappingEndEvent or kind is SequenceEndEvent:
                frame = stack.pop()
                value = frame.container
                if frame.merges is not None:
                    for merged in frame.merges:  # explicit keys win, then earlier mappings
                        for key, item in merged.items():
                            value.setdefault(key, item)
                mark = frame.mark
                height = frame.height + 1
                if frame.anchor is not None:
                    self.anchors[frame.anchor] = (
                        value,
                        nodes - frame.nodes,
                        chars - frame.chars,
                        height,
                    )
            elif kind is AliasEvent:
                found = self.anchors.get(event.anchor)
                if found is None:
                    self.fail(
                        f"unknown alias '*{event.anchor}'",
                        event.start_mark,
                        "define '&name' first",
                        "unknown_alias",
                    )
                if found is _OPEN:
                    self.fail(
                        f"the alias '*{event.anchor}' is inside what it refers to",
                        event.start_mark,
                        "a case cannot contain itself",
                        "recursive_alias",
                    )
                value, more_nodes, more_chars, height = found
                if height and len(stack) + height - 1 > MAX_DEPTH:
                    self.too_deep()
                nodes += more_nodes
                chars += more_chars
                if nodes > MAX_NODES:
                    self.too_many_values()
            else:  # pragma: no cover - libyaml sends no other event inside a document
                raise yaml.composer.ComposerError(
                    None, None, f"unexpected {kind.__name__}", event.start_mark
                )
            if chars > MAX_EXPANDED_TEXT:
                self.too_much_text()
            if not stack:
                if value is _MERGE:
                    self.misplaced_merge(mark)
                return value
            self.put(value, height, mark)

    def put(self, value: object, height: int, mark: Any) -> None:
        """Place a value read whole (it starts at ``mark``) into the mapping or list being read."""
        frame = self.stack[-1]
        if frame.key is _MERGE:  # the merged mappings' values land one level up
            height -= 1 if type(value) is dict else 2
        if height > frame.height:
            frame.height = height
        container = frame.container
        if value is _MERGE and (type(container) is list or frame.key is not _NO_KEY):
            self.misplaced_merge(mark)
        if type(container) is list:
            container.append(value)
            if frame.counter is not None:
                self.count(frame.counter, mark)
        elif frame.key is _NO_KEY:
            if value is _MERGE:
                if frame.merges is not None:
                    self.fail(
                        "repeated key '<<'",
                        mark,
                        "a key may appear once in a mapping",
                        "duplicate_key",
                    )
                frame.key = _MERGE
                return
            if type(value) is not str:
                self.fail(
                    f"keys must be strings, got {describe(value)}",
                    mark,
                    "quote the key",
                    "key_type",
                )
            if value in container:
                self.fail(
                    f"repeated key '{value}'",
                    mark,
                    "a key may appear once in a mapping",
                    "duplicate_key",
                )
            frame.key = value
        elif frame.key is _MERGE:
            frame.merges = self.merged(value, mark)
            frame.key = _NO_KEY
        else:
            container[frame.key] = value
            frame.key = _NO_KEY

    def merged(self, value: object, mark: Any) -> list[dict[str, Any]]:
        """Return the mappings that a merge key (``<<: *base`` or ``<<: [*a, *b]``) brings in."""
        sources = value if type(value) is list else [value]
        if any(type(source) is not dict for source in sources):
            self.fail(
                f"the merge key '<<' needs a mapping or a list of mappings, got {describe(value)}",
                mark,
                "write '<<: *name' with '&name' on a mapping",
                "invalid_merge",
            )
        return sources  # type: ignore[return-value]

    def misplaced_merge(self, mark: Any) -> NoReturn:
        self.fail(
            "'<<' is YAML's merge key and can only be a key",
            mark,
            'quote it ("<<") to make it a string',
            "invalid_merge",
        )

    def counter(self) -> str | None:
        """Return the section whose items the list about to be read holds, if any."""
        stack = self.stack
        if len(stack) == 1 and stack[0].key in SECTION_LIMITS:
            return str(stack[0].key)
        if len(stack) == 3 and stack[0].key == "constraints" and stack[2].key == "terms":
            return "terms"
        return None

    def count(self, counter: str, mark: Any) -> None:
        counts = self.counts
        counts[counter] += 1
        if counter == "terms":
            if counts[counter] > MAX_TERMS:
                where = _at(mark)
                message = f"more than {MAX_TERMS} terms in all, above the limit (at {where})"
                raise CaseError([Problem("constraints", message, "too_large")])
        elif counts[counter] > SECTION_LIMITS[counter]:
            limit = SECTION_LIMITS[counter]
            message = f"more than {limit} items, above the limit of {limit} (at {_at(mark)})"
            raise CaseError([Problem(counter, message, "too_large")])

    def anchor(self, event: Any, record: object) -> None:
        if event.anchor in self.anchors:
            self.fail(
                f"the anchor '&{event.anchor}' is defined twice",
                event.start_mark,
                "rename one",
                "duplicate_anchor",
            )
        self.anchors[event.anchor] = record

    def plain(self, event: Any) -> object:
        """Return a plain scalar as YAML 1.1 resolves it (``60`` a number, ``yes`` true, ...)."""
        text = event.value
        for tag, pattern in self.resolvers.get(text[0] if text else "", ()):
            if pattern.match(text):
                return self.construct(tag, event, explicit=False)
        return text

    def construct(self, tag: str, event: Any, *, explicit: bool) -> object:
        """Return a scalar of a tag, ``explicit`` (``!!int "3"``) or resolved from plain text."""
        if tag == _STR:
            return str(event.value)
        if tag == _MERGE_TAG:
            return _MERGE
        constructor = self.loader.yaml_constructors.get(tag) if tag in _SCALAR_TAGS else None
        if constructor is None:
            self.not_allowed(tag, event.start_mark)
        if tag == _TIMESTAMP and not self.loader.timestamp_regexp.match(event.value):
            self.unreadable(tag, event, explicit=explicit)  # PyYAML fails on AttributeError
        node = ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
        try:
            return constructor(self.loader, node)
        except (ValueError, LookupError, ArithmeticError, yaml.YAMLError):
            self.unreadable(tag, event, explicit=explicit)

    def unreadable(self, tag: str, event: Any, *, explicit: bool) -> NoReturn:
        """Fail on a scalar that its tag's constructor cannot read, saying what it should be."""
        text = event.value
        shown = repr(text) if len(text) <= 40 else repr(text[:37]) + "..."
        most = sys.get_int_max_str_digits()
        digits = sum(c.isdigit() for c in text)
        code = "invalid_scalar"
        if tag == _INT and most and digits > most:
            what = f"an integer of {digits} digits is too long to read"
            hint = f"numbers may have at most {most} digits"
            code = "integer_too_long"
        elif explicit:
            what = f"{_short(tag)} {shown} is not {_NOUNS[tag]}"
            hint = f"write {_NOUNS[tag]}, or drop the tag"
        else:
            what = f"{shown} is not {_NOUNS[tag]}"
            hint = "quote it to make it a string"
        self.fail(what, event.start_mark, hint, code)

    def path(self) -> str:
        """Where the next value goes, as a field path."""
        loc: list[int | str] = []
        for frame in self.stack:
            if type(frame.container) is list:
                loc.append(len(frame.container))
            elif frame.key is _NO_KEY:
                break  # the next value is a key of this mapping
            elif frame.key is _MERGE:
                loc.append("<<")
            else:
                loc.append(frame.key)
        return field_path(loc)

    def fail(self, what: str, mark: Any, hint: str, code: str) -> NoReturn:
        """Stop with a problem at the value being read: ``what`` went wrong, where, and a hint."""
        raise CaseError([Problem(self.path(), f"{what} ({_at(mark)}); {hint}", code)])

    def not_allowed(self, tag: str, mark: Any) -> NoReturn:
        self.fail(f"the tag {_short(tag)} is not allowed", mark, _ALLOWED, "tag_not_allowed")

    def too_deep(self) -> NoReturn:
        message = f"the document is nested deeper than {MAX_DEPTH} levels"
        raise CaseError([Problem("", message, "too_deep")])

    def too_many_values(self) -> NoReturn:
        message = f"the document expands to more than {MAX_NODES} values"
        raise CaseError([Problem("", message, "too_large")])

    def too_much_text(self) -> NoReturn:
        raise CaseError(
            [
                Problem(
                    "",
                    f"the document expands to more than {MAX_EXPANDED_TEXT} characters of text "
                    "(a YAML alias counts at every use)",
                    "too_large",
                )
            ]
        )


_ALLOWED = "a case holds mappings, lists, strings, numbers, booleans and null"


def _at(mark: Any) -> str:
    return f"line {mark.line + 1}, column {mark.column + 1}"


def _short(tag: str) -> str:
    return "!!" + tag.removeprefix("tag:yaml.org,2002:") if tag.startswith("tag:yaml.org") else tag

"""Shapes as XML: the bodies of query and ec2 responses and of rest-xml requests and responses.

One set of rules serves all three (they are botocore's XML rules): a member's element is named by
its ``locationName``; lists are ``<Name><member>..</member></Name>`` (the list member's
locationName replaces ``member``) or, when flattened, repeated ``<Name>`` elements; maps are
``<entry><key/><value/></entry>`` (flattened: repeated elements holding key and value);
``xmlAttribute`` members are attributes; ``xmlNamespace`` adds ``xmlns``.
Writers append text to a list of parts; readers take ElementTree elements.
"""

from __future__ import annotations

import re

import xml.etree.ElementTree as ElementTree
from typing import Any, Callable

from nubo.protocols.models import plan_cache, structure_plan
from nubo.protocols.values import BadValue, scalar_from_text, scalar_kind, scalar_to_text

XSI = "http://www.w3.org/2001/XMLSchema-instance"
# Where an output member may travel outside the body; URI and query bindings of a structure
# shared by input and output are body members in the output.
HTTP_LOCATIONS = ("header", "headers", "statusCode")
_TEXT_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#xD;"})
_ATTR_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;",
                               "\r": "&#xD;", "\n": "&#xA;", "\t": "&#x9;"})

Writer = Callable[[list, Any, str, str], None]  # (parts, value, tag, namespace attributes)
Reader = Callable[[ElementTree.Element], Any]


# Characters XML 1.0 cannot carry at all, not even as references: a value echoing them (an
# error message quoting the input) gets U+FFFD instead, so clients can still parse the body.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


_SPECIAL = re.compile("[&<>\r\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def escape(text: str) -> str:
    if _SPECIAL.search(text) is None:  # most values: one scan, nothing to change
        return text
    if _NOT_XML.search(text):
        text = _NOT_XML.sub("\ufffd", text)
    return text.translate(_TEXT_ESCAPES)


def escape_attr(text: str) -> str:
    return text.translate(_ATTR_ESCAPES)


def error_code_and_message(code: str, message: str) -> str:
    """``<Code>`` and ``<Message>`` of an XML error; no ``<Message>`` for an empty message."""
    text = f"<Code>{escape(code)}</Code>"
    return f"{text}<Message>{escape(message)}</Message>" if message else text


def element_name(shape, default: str) -> str:
    return shape.serialization.get("name", default)


def namespace_attr(shape) -> str:
    """The xmlns declaration an element of this (member) shape carries, if any."""
    namespace = shape.serialization.get("xmlNamespace")
    if not namespace:
        return ""
    if isinstance(namespace, str):
        return f' xmlns="{escape_attr(namespace)}"'
    prefix = namespace.get("prefix")
    attr = f"xmlns:{prefix}" if prefix else "xmlns"
    return f' {attr}="{escape_attr(namespace["uri"])}"'


def _flattened(shape) -> bool:
    return bool(shape.serialization.get("flattened"))


def _compile(shape, cache: dict, builders: dict) -> Callable:
    """A shape's reader or writer, by its kind; structures once per cache, so that recursive
    shapes compile (``builders["structure"]`` is ``(make, member entries)``)."""
    kind = shape.type_name
    if kind == "structure":
        make, entries = builders["structure"]
        return structure_plan(shape, cache, make, lambda: entries(shape, cache))
    return builders.get(kind, builders["scalar"])(shape, cache)


# --- writers ---------------------------------------------------------------------------------
def compile_writer(shape) -> Writer:
    return _writer(shape, plan_cache(shape._shape_resolver, "xml-writer"))


def _writer(shape, cache: dict) -> Writer:
    return _compile(shape, cache, _WRITERS)


# Scalar kinds whose text never holds a character XML must escape.
_PLAIN_KINDS = ("integer", "float", "boolean", "timestamp", "blob")


def _scalar_writer(shape, cache: dict) -> Writer:
    to_text = scalar_to_text(shape)
    kind = scalar_kind(shape)
    if kind == "integer":  # digits need no escaping
        def write_integer(parts, value, tag, ns=""):
            parts.append(f"<{tag}{ns}>{int(value)}</{tag}>")
        write_integer.to_text, write_integer.plain = int, True  # for _elements_writer
        return write_integer

    def write_scalar(parts, value, tag, ns=""):
        parts.append(f"<{tag}{ns}>{escape(to_text(value))}</{tag}>")
    write_scalar.to_text, write_scalar.plain = to_text, kind in _PLAIN_KINDS
    # an enum's own values need no escaping (a listing writes a storage class per key)
    write_scalar.enum = frozenset(value for value in getattr(shape, "enum", ())
                                  if escape(value) == value)
    return write_scalar


def _struct_member_plan(shape, cache: dict) -> list:
    plan = []
    for name, member in shape.members.items():
        if member.serialization.get("location") in HTTP_LOCATIONS:  # not in the body
            continue
        tag = element_name(member, name)
        if member.serialization.get("xmlAttribute"):
            plan.append((name, tag, None, scalar_to_text(member), namespace_attr(member)))
            continue
        if member.type_name == "list" and _flattened(member):
            tag = element_name(member.member, tag)
        plan.append((name, tag, _writer(member, cache), None, namespace_attr(member)))
    return plan


def _struct_writer(plan: list) -> Writer:
    # ``plan`` is filled after this writer is made (recursive shapes), so it is split on first use
    split: list = []

    def write_struct(parts, value, tag, ns=""):
        if not split:
            split[:] = ([(name, attr, to_text, member_ns)
                         for name, attr, write, to_text, member_ns in plan if write is None],
                        _elements_writer([(name, member_tag, write, member_ns)
                                          for name, member_tag, write, _, member_ns in plan
                                          if write is not None]))
        attributes, write_elements = split
        if attributes:
            for name, attr_name, to_text, member_ns in attributes:
                if value.get(name) is not None:
                    ns += f'{member_ns} {attr_name}="{escape_attr(to_text(value[name]))}"'
        parts.append(f"<{tag}{ns}>")
        write_elements(parts, value)
        parts.append(f"</{tag}>")
    return write_struct


def _elements_writer(elements: list) -> Callable[[list, dict], None]:
    """One function writing a structure's element members, generated from its plan: a
    listing writes thousands of structures, and a call per member (to its writer, then to the
    text converter and to ``escape``) was most of their cost. Scalars, and flattened lists of
    scalars, are written inline with constant tags; other members call their writers."""
    scope: dict[str, Any] = {"_special": _SPECIAL.search, "_escape": escape}
    lines = ["def write_elements(parts, value):", "    append = parts.append",
             "    get = value.get"]
    for index, (name, tag, write, member_ns) in enumerate(elements):
        opening, closing = f"<{tag}{member_ns}>", f"</{tag}>"
        lines += [f"    item = get({name!r})", "    if item is not None:"]
        each = getattr(write, "each", None)  # a flattened list's item writer
        if each is not None and getattr(each, "to_text", None) is not None:
            write, indent = each, "            "
            lines.append("        for item in item:")
        else:
            indent = "        "
        to_text = getattr(write, "to_text", None)
        if to_text is int:  # digits need no escaping
            lines.append(f"{indent}append({opening!r} + str(int(item)) + {closing!r})")
        elif to_text is not None:
            scope[f"to_text_{index}"] = to_text
            text = f"to_text_{index}(item)"
            if write.enum:
                scope[f"enum_{index}"] = write.enum
                lines.append(f"{indent}text = {text}")
                text = (f"(text if text in enum_{index} or _special(text) is None"
                        f" else _escape(text))")
            elif not write.plain:
                lines.append(f"{indent}text = {text}")
                text = "(text if _special(text) is None else _escape(text))"
            lines.append(f"{indent}append({opening!r} + {text} + {closing!r})")
        else:
            scope[f"write_{index}"] = write
            lines.append(f"{indent}write_{index}(parts, item, {tag!r}, {member_ns!r})")
    if not elements:
        lines.append("    pass")
    exec("\n".join(lines), scope)  # noqa: S102 - code built from the model's names, as repr()
    return scope["write_elements"]


def _list_writer(shape, cache: dict) -> Writer:
    write_item = _writer(shape.member, cache)
    if _flattened(shape):
        def write_flat_list(parts, value, tag, ns=""):
            for item in value:
                write_item(parts, item, tag, ns)
        write_flat_list.each = write_item  # for _elements_writer
        return write_flat_list
    item_tag = element_name(shape.member, "member")
    item_ns = namespace_attr(shape.member)

    def write_list(parts, value, tag, ns=""):
        parts.append(f"<{tag}{ns}>")
        for item in value:
            write_item(parts, item, item_tag, item_ns)
        parts.append(f"</{tag}>")
    return write_list


def _map_writer(shape, cache: dict) -> Writer:
    write_key = _writer(shape.key, cache)
    write_value = _writer(shape.value, cache)
    key_tag = element_name(shape.key, "key")
    value_tag = element_name(shape.value, "value")

    def write_entries(parts, value, entry_tag):
        for key, item in value.items():
            parts.append(f"<{entry_tag}>")
            write_key(parts, key, key_tag, "")
            if item is not None:
                write_value(parts, item, value_tag, "")
            parts.append(f"</{entry_tag}>")

    if _flattened(shape):
        def write_flat_map(parts, value, tag, ns=""):
            write_entries(parts, value, tag)
        return write_flat_map

    def write_map(parts, value, tag, ns=""):
        parts.append(f"<{tag}{ns}>")
        write_entries(parts, value, "entry")
        parts.append(f"</{tag}>")
    return write_map


_WRITERS = {"structure": (_struct_writer, _struct_member_plan), "list": _list_writer,
            "map": _map_writer, "scalar": _scalar_writer}


def write_members(parts: list, shape, value: dict) -> None:
    """The members of a structure as XML children, without an enclosing element (ec2)."""
    for name, tag, write, _, member_ns in _members_plan(shape):
        item = value.get(name)
        if item is not None and write is not None:
            write(parts, item, tag, member_ns)


def _members_plan(shape) -> list:
    cache = plan_cache(shape._shape_resolver, "xml-writer")
    plans = plan_cache(shape._shape_resolver, "xml-member-plans")
    found = plans.get(shape.name)
    if found is None:
        found = plans[shape.name] = _struct_member_plan(shape, cache)
    return found


# --- readers ---------------------------------------------------------------------------------
class MalformedXml(Exception):
    pass


def parse_document(body: bytes) -> ElementTree.Element:
    # A DOCTYPE is never part of an AWS request; refusing it rules out entity expansion attacks.
    if b"<!DOCTYPE" in body or b"<!ENTITY" in body:
        raise MalformedXml("DOCTYPE is not allowed")
    try:
        return ElementTree.fromstring(body)
    except (ElementTree.ParseError, ValueError) as error:
        raise MalformedXml(str(error)) from None


def local_name(tag: str) -> str:
    return tag.rsplit("}", 1)[-1] if tag[:1] == "{" else tag


def _children(element) -> dict[str, list]:
    grouped: dict[str, list] = {}
    for child in element:
        if isinstance(child.tag, str):
            grouped.setdefault(local_name(child.tag), []).append(child)
    return grouped


def compile_reader(shape) -> Reader:
    return _reader(shape, plan_cache(shape._shape_resolver, "xml-reader"))


def _reader(shape, cache: dict) -> Reader:
    return _compile(shape, cache, _READERS)


def _list_reader(shape, cache: dict) -> Reader:
    read_item = _reader(shape.member, cache)
    item_tag = element_name(shape.member, "member")

    def read_list(element):
        return [read_item(child) for child in element if isinstance(child.tag, str)
                and local_name(child.tag) == item_tag]
    return read_list


def _map_reader(shape, cache: dict) -> Reader:
    read_entry = _entry_reader(shape, cache)

    def read_map(element):
        return dict(read_entry(child) for child in element if isinstance(child.tag, str)
                    and local_name(child.tag) == "entry")
    return read_map


def _scalar_reader(shape, cache: dict) -> Reader:
    from_text = scalar_from_text(shape)
    if from_text is str:
        return lambda element: element.text or ""
    return lambda element: from_text(element.text or "")


def _entry_reader(shape, cache: dict):
    read_key = _reader(shape.key, cache)
    read_value = _reader(shape.value, cache)
    key_tag = element_name(shape.key, "key")
    value_tag = element_name(shape.value, "value")

    def read_entry(element):
        key = value = None
        for child in element:
            if isinstance(child.tag, str):
                tag = local_name(child.tag)
                if tag == key_tag:
                    key = read_key(child)
                elif tag == value_tag:
                    value = read_value(child)
        if key is None:
            raise BadValue("map entry without a key")
        return key, value
    return read_entry


def _attribute_key(member, name: str) -> str:
    # "xsi:type" is stored by ElementTree as "{uri}type"
    prefix, _, local = name.rpartition(":")
    if not prefix:
        return name
    namespace = member.serialization.get("xmlNamespace")
    uri = namespace.get("uri") if isinstance(namespace, dict) else None
    return f"{{{uri or XSI}}}{local}"


def struct_read_plan(members, cache: dict | None = None) -> list:
    """(name, tag, how, reader) per member: how is "attr", "flat" (repeated elements) or "one".

    A member is read under botocore's element name and, where the XML protocols' specification
    names it otherwise, under that name too (botocore's wins when both are present): botocore
    names a flattened list by its list member's locationName and a member by its target shape's
    locationName; other SDKs use the structure member's name."""
    plan, aliases = [], []
    for name, member in members:
        if cache is None:
            cache = plan_cache(member._shape_resolver, "xml-reader")
        tag = element_name(member, name)
        if member.serialization.get("xmlAttribute"):
            from_text = scalar_from_text(member)
            plan.append((name, _attribute_key(member, tag), "attr", from_text))
            continue
        if member.type_name == "list" and _flattened(member):
            read_item = _reader(member.member, cache)
            entry = (name, element_name(member.member, tag), "flat",
                     lambda elements, read=read_item: [read(e) for e in elements])
        elif member.type_name == "map" and _flattened(member):
            read_entry = _entry_reader(member, cache)
            entry = (name, tag, "flat",
                     lambda elements, read=read_entry: dict(read(e) for e in elements))
        else:
            entry = (name, tag, "one", _reader(member, cache))
        plan.append(entry)
        aliases.extend((name, alias, entry[2], entry[3]) for alias in (tag, name)
                       if alias != entry[1])
    taken = {entry[1] for entry in plan}
    unique = {}
    for alias in aliases:
        if alias[1] not in taken:
            unique.setdefault(alias[1], alias)
    return list(unique.values()) + plan


def struct_reader(plan: list) -> Reader:
    def read_struct(element):
        children = _children(element)
        out = {}
        for name, tag, how, read in plan:
            try:
                if how == "attr":
                    raw = element.attrib.get(tag)
                    if raw is not None:
                        out[name] = read(raw)
                    continue
                found = children.get(tag)
                if found:
                    out[name] = read(found) if how == "flat" else read(found[0])
            except BadValue as error:
                raise error.within(name)
        return out
    return read_struct


_READERS = {"structure": (struct_reader, lambda shape, cache: struct_read_plan(
    shape.members.items(), cache)), "list": _list_reader, "map": _map_reader,
    "scalar": _scalar_reader}

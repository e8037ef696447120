"""Whether a new JSON Schema of an event type may replace the published one.

The platform's rule (SPEC §3): a published schema only evolves compatibly, by new optional
fields; anything else is a new `.v2` type. Concretely the new schema must

- accept every payload the old one accepted (a consumer on the new version reads old events,
  on replay or from a lagging producer): no property newly required, no type, `format` or
  `pattern` changed, no enum or const narrowed, no bound tightened;
- keep every property (consumers on the old version rely on them): none removed.

Widening is allowed: a new optional property, a wider enum, a required property made optional,
a type that also accepts `null`. Titles, descriptions, `$id` and defaults are not compared.

`breaking_changes` walks both schemas together, into properties, array items, map values and
local `$ref`s (pydantic puts nested models and enums in `$defs`), and names each problem by its
path in the event's data: `$` is the payload, `.name` a property, `[]` an array's items, `.*` a
map's values. Not compared: `allOf` of several schemas, `not`, `if`/`then`, `patternProperties`.
"""

import json
from dataclasses import dataclass, field
from typing import Any, NamedTuple

Schema = dict[str, Any]

_LOWER_BOUNDS = ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties")
_UPPER_BOUNDS = ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties")
_EXACT_KEYWORDS = ("format", "pattern", "multipleOf")


class _Branch(NamedTuple):
    """One alternative of a schema (an `anyOf` member, one of a list of types), resolved."""

    node: Schema
    kind: str  # a JSON type, "any", or "$ref <uri>" for a reference outside the document
    ref: str | None  # the $ref it was reached through, to recognise recursion


@dataclass
class _Walk:
    old_root: Schema
    new_root: Schema
    problems: list[str] = field(default_factory=list)
    seen: set[tuple[object, object, str]] = field(default_factory=set)

    def report(self, path: str, message: str) -> None:
        self.problems.append(f"{path}: {message}")


def breaking_changes(old: Schema, new: Schema) -> list[str]:
    """Each incompatible difference from `old` to `new`, as `path: what changed`."""
    walk = _Walk(old, new)
    _compare(walk, old, new, "$")
    walk.problems.extend(_dangling_references(old, new))
    return list(dict.fromkeys(walk.problems))


def _compare(walk: _Walk, old: Schema, new: Schema, path: str) -> None:
    """Compare two schemas of one place in the payload, alternative by alternative."""
    old_branches = _branches(walk.old_root, old)
    new_branches = _branches(walk.new_root, new)
    if not old_branches or not new_branches or any(b.kind == "any" for b in new_branches):
        return  # a dangling $ref is reported once by _dangling_references; "any" takes all
    for old_branch in old_branches:
        candidates = _accepting(old_branch.kind, new_branches)
        if not candidates:
            walk.report(path, f"type changed from {_kinds(old_branches)} to {_kinds(new_branches)}")
            return
        _compare_branch(walk, old_branch, _best_match(walk, old_branch, candidates), path)


def _branches(root: Schema, node: Schema, ref: str | None = None) -> list[_Branch]:
    """The alternatives a schema accepts, with local `$ref`s resolved."""
    if "$ref" in node:
        reference = node["$ref"]
        if not reference.startswith("#"):
            return [_Branch(node, f"$ref {reference}", reference)]
        target = _pointer(root, reference)
        return [] if target is None else _branches(root, target, reference)
    alternatives = node.get("anyOf") or node.get("oneOf")
    if alternatives:
        return [branch for member in alternatives for branch in _branches(root, member)]
    all_of = node.get("allOf")
    if isinstance(all_of, list) and len(all_of) == 1:
        return _branches(root, all_of[0], ref)
    return [_Branch(node, kind, ref) for kind in _types(node)]


def _types(node: Schema) -> list[str]:
    declared = node.get("type")
    if isinstance(declared, list):
        return [str(kind) for kind in declared]
    if declared is not None:
        return [str(declared)]
    values = _allowed_values(node)
    if values is not None:
        return sorted({_json_type(json.loads(value)) for value in values})
    if "properties" in node:
        return ["object"]
    return ["array"] if "items" in node or "prefixItems" in node else ["any"]


def _json_type(value: object) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    kinds = {str: "string", float: "number", list: "array", dict: "object"}
    return kinds.get(type(value), "null")


def _kinds(branches: list[_Branch]) -> str:
    return " | ".join(dict.fromkeys(branch.kind for branch in branches))


def _accepting(kind: str, branches: list[_Branch]) -> list[_Branch]:
    """The new alternatives that accept values of an old kind (a number accepts integers)."""
    exact = [branch for branch in branches if branch.kind == kind]
    if exact or kind != "integer":
        return exact
    return [branch for branch in branches if branch.kind == "number"]


def _best_match(walk: _Walk, old: _Branch, candidates: list[_Branch]) -> _Branch:
    """The candidate reached through the same `$ref` if any, else the first compatible one."""
    for candidate in candidates:
        if old.ref is not None and candidate.ref == old.ref:
            return candidate
    if len(candidates) > 1:
        for candidate in candidates:
            trial = _Walk(walk.old_root, walk.new_root, seen=set(walk.seen))
            _compare_branch(trial, old, candidate, "$")
            if not trial.problems:
                return candidate
    return candidates[0]


def _compare_branch(walk: _Walk, old: _Branch, new: _Branch, path: str) -> None:
    key = (old.ref or id(old.node), new.ref or id(new.node), old.kind)
    if key in walk.seen:
        return  # a recursive model: this pair is being (or was) compared already
    walk.seen.add(key)
    _compare_values(walk, old.node, new.node, path)
    _compare_exact(walk, old.node, new.node, path)
    _compare_bounds(walk, old.node, new.node, path)
    if old.kind == "object":
        _compare_object(walk, old.node, new.node, path)
    elif old.kind == "array":
        _compare_array(walk, old.node, new.node, path)


def _allowed_values(node: Schema) -> list[str] | None:
    """`enum` or `const` as canonical JSON texts (so `true` and `1` differ), else None."""
    if "const" in node:
        return [json.dumps(node["const"], sort_keys=True)]
    if "enum" in node:
        return [json.dumps(value, sort_keys=True) for value in node["enum"]]
    return None


def _compare_values(walk: _Walk, old: Schema, new: Schema, path: str) -> None:
    old_values, new_values = _allowed_values(old), _allowed_values(new)
    if new_values is None:
        return
    if old_values is None:
        walk.report(path, f"now restricted to {', '.join(new_values)}")
        return
    removed = [value for value in old_values if value not in new_values]
    if removed:
        walk.report(path, f"enum or const narrowed: {', '.join(removed)} no longer allowed")


def _compare_exact(walk: _Walk, old: Schema, new: Schema, path: str) -> None:
    for keyword in _EXACT_KEYWORDS:
        if old.get(keyword) != new.get(keyword):
            walk.report(
                path, f"{keyword} changed from {old.get(keyword)!r} to {new.get(keyword)!r}"
            )


def _compare_bounds(walk: _Walk, old: Schema, new: Schema, path: str) -> None:
    for keyword in (*_LOWER_BOUNDS, *_UPPER_BOUNDS):
        if keyword not in new:
            continue
        before, after = old.get(keyword), new[keyword]
        tighter = after > before if keyword in _LOWER_BOUNDS else after < before
        if before is None or tighter:
            walk.report(path, f"{keyword} tightened from {before!r} to {after!r}")


def _compare_object(walk: _Walk, old: Schema, new: Schema, path: str) -> None:
    old_properties = old.get("properties", {})
    new_properties = new.get("properties", {})
    for name, old_property in old_properties.items():
        if name not in new_properties:
            walk.report(f"{path}.{name}", "property removed")
        else:
            _compare(walk, old_property, new_properties[name], f"{path}.{name}")
    newly_required = set(new.get("required", ())) - set(old.get("required", ()))
    for name in sorted(newly_required):
        reason = "newly required" if name in old_properties else "new property is required"
        walk.report(f"{path}.{name}", f"{reason} (only optional properties may be added)")
    old_values, new_values = old.get("additionalProperties"), new.get("additionalProperties")
    if new_values is False and old_values is not False:
        walk.report(path, "no longer accepts additional properties")
    elif isinstance(old_values, dict) and isinstance(new_values, dict):
        _compare(walk, old_values, new_values, f"{path}.*")


def _compare_array(walk: _Walk, old: Schema, new: Schema, path: str) -> None:
    old_items, new_items = old.get("items"), new.get("items")
    if isinstance(old_items, dict) and isinstance(new_items, dict):
        _compare(walk, old_items, new_items, f"{path}[]")
    old_prefix, new_prefix = old.get("prefixItems", []), new.get("prefixItems", [])
    if len(old_prefix) != len(new_prefix):
        walk.report(path, f"tuple length changed from {len(old_prefix)} to {len(new_prefix)}")
    for index, (old_item, new_item) in enumerate(zip(old_prefix, new_prefix, strict=False)):
        _compare(walk, old_item, new_item, f"{path}[{index}]")


def _pointer(root: Schema, reference: str) -> Schema | None:
    """The node a local JSON Pointer reference (`#/$defs/Name`) designates, or None."""
    node: Any = root
    for escaped in reference.removeprefix("#").split("/")[1:]:
        token = escaped.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or token not in node:
            return None
        node = node[token]
    return node if isinstance(node, dict) else None


def _references(node: object) -> set[str]:
    """Every `$ref` string anywhere in a schema."""
    if isinstance(node, list):
        return {reference for item in node for reference in _references(item)}
    if not isinstance(node, dict):
        return set()
    found = {node["$ref"]} if isinstance(node.get("$ref"), str) else set()
    return found.union(*(_references(value) for value in node.values()))


def _dangling_references(old: Schema, new: Schema) -> list[str]:
    problems = []
    for reference in sorted(_references(new)):
        if not reference.startswith("#") or _pointer(new, reference) is not None:
            continue
        if _pointer(old, reference) is not None:
            problems.append(f"{reference}: removed $defs entry is still referenced")
        else:
            problems.append(f"{reference}: $ref does not resolve")
    return problems

"""Read a YAML file into a pydantic model, or fail with a message a CS-ops person can act on.

Every error names the file, the key path inside it, what is wrong and (where
pydantic knows it) what is allowed, e.g.::

    include/config/sources.yml: sources.crm.streams.crm_accounts.object: Field required
"""
from __future__ import annotations

from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from customer_health.contracts.versions import content_version

M = TypeVar("M", bound=BaseModel)


class Strict(BaseModel):
    """Base of every config model: an unknown key is an error (a typo, not a silent default), and models are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ConfigError(ValueError):
    """A config file is missing, unreadable or invalid; ``problems`` lists each one."""

    def __init__(self, path: Path | str, problems: list[str]):
        self.path = str(path)
        self.problems = problems
        super().__init__("\n".join(f"{self.path}: {p}" for p in problems))


def _location(loc: tuple) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        elif str(item).startswith(("function-", "tagged-union")):
            continue  # pydantic's internal validator names mean nothing to a reader
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts) or "(top level)"


def explain(path: Path | str, error: ValidationError, prefix: str = "") -> ConfigError:
    problems = []
    for err in error.errors():
        where = _location(err["loc"])
        where = f"{prefix}.{where}" if prefix and where != "(top level)" else (prefix or where)
        message = err["msg"]
        if err["type"] == "extra_forbidden":
            message = "unknown key (a typo?)"
        if "input" in err and err["type"] not in ("missing", "extra_forbidden") and not isinstance(err["input"], dict):
            message += f" (got {err['input']!r})"
        problems.append(f"{where}: {message}")
    return ConfigError(path, problems)


def read_yaml(path: Path) -> object:
    if not path.is_file():
        raise ConfigError(path, ["file not found"])
    return parse_yaml(path.read_text(encoding="utf-8"), path)


def parse_yaml(text: str, path: Path | str) -> object:
    """YAML text as data; ``path`` is what error messages name (a file, or where the text was stored).

    A key given twice in one mapping is an error: plain YAML loaders keep the
    last one silently, so a pasted block could override a setting nobody sees.
    """
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        duplicates = list(_duplicate_keys(node, "", set()))
        if duplicates:
            raise ConfigError(path, duplicates)
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise ConfigError(path, [f"{where}not valid YAML ({getattr(exc, 'problem', exc)})"]) from exc
    finally:
        loader.dispose()


def _duplicate_keys(node: yaml.Node, where: str, visited: set[int]):
    """Problems for every key given twice in a mapping, anywhere in the document, by key path and lines
    (a node reached again through an alias is checked once)."""
    if id(node) in visited:
        return
    visited.add(id(node))
    if isinstance(node, yaml.MappingNode):
        seen: dict[tuple[str, str], yaml.Node] = {}
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.tag != "tag:yaml.org,2002:merge":
                path = f"{where}.{key.value}" if where else str(key.value)
                first = seen.setdefault((key.tag, key.value), key)
                if first is not key:
                    yield (f"{path}: key given twice (lines {first.start_mark.line + 1} and {key.start_mark.line + 1}); "
                           "each key may appear once per mapping: remove one")
                yield from _duplicate_keys(value, path, visited)
            else:
                yield from _duplicate_keys(value, where, visited)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield from _duplicate_keys(item, f"{where}[{index}]", visited)


def load_yaml(path: Path, model: type[M]) -> M:
    return _validate(read_yaml(path), path, model)


def load_yaml_text(text: str, model: type[M], path: Path | str) -> M:
    """Like ``load_yaml`` for text already read (a config version stored in the warehouse)."""
    return _validate(parse_yaml(text, path), path, model)


def _validate(data: object, path: Path | str, model: type[M]) -> M:
    try:
        return model.model_validate(data if data is not None else {})
    except ValidationError as exc:
        raise explain(path, exc) from None


def read_config(path: Path, model: type[M]) -> tuple[M, str, str]:
    """A config file read ONCE: its model, its version (as ``config_version``) and its text, which agree."""
    if not path.is_file():
        raise ConfigError(path, ["file not found"])
    raw = path.read_bytes()
    digest = content_version([(path.name, raw)])
    text = raw.decode("utf-8")
    return load_yaml_text(text, model, path), digest, text


def config_version(*paths: Path) -> str:
    """Content hash of config files: tags every score with the exact logic that made it."""
    return content_version((path.name, path.read_bytes()) for path in sorted(paths))

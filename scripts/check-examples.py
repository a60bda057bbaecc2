#!/usr/bin/env python3
"""Check the example pipelines and the JSON Schema of the spec format.

Usage: python3 scripts/check-examples.py        (needs PyYAML and jsonschema)

Until `pipe lint` exists this is what keeps `pipelines/` honest. For every
`pipelines/*.yaml` it checks that:

- the spec validates against `schemas/pipeline.schema.json`;
- every schema it uses (input and stage outputs, inline or by path) is a valid
  JSON Schema (2020-12, or draft-07 when its `$schema` says so), and every
  path exists and stays inside the spec's directory tree;
- every file in `pipelines/schemas/` is used by some example;
- the sample input beside it (`NAME.input.txt` for a string input schema,
  `NAME.input.json` otherwise) matches the input schema;
- every `{{ ref }}` names `input` or a stage and resolves in the schema of
  what it points into (`.field` through `properties`, `[n]` through `items`);
  a stage without an output schema is a string and has no fields. Stricter
  than lint: a field must also be `required`, so it is there at run time;
- a template may chain defaults, `{{ a.x ?? b.x ?? "none" }}`: each part is a
  reference or a literal; a `for_each` stage's value is a list of its output,
  and its item name (`as:`, default `item`) reads the items of the list;
- `when:`/`until:` conditions add the edges of their references; inside a loop,
  a stage reading the loop's last stage or itself reads the previous iteration
  (no edge);
- models, fallbacks and `needs` name things that exist, the DAG has no cycle,
  and every stage contributes to `output`;
- every `mock:` value matches its stage's output schema;
- no stage's max_tokens exceeds the budget, and the worst case fits the budget:
  every attempt (retries, and retries on each fallback model) at the stage's
  max_tokens plus an estimate of its prompt (text / 4 + the max_tokens of each
  stage it references + the sample input), priced with each model's `price`;
  a loop's stages count `max_iterations` times, a `for_each` stage (and what it
  adds to its readers' prompts) `maxItems` times.

It also proves the spec schema rejects what it must (NEGATIVE cases below) and
that every property of the spec schema has a description, for editors.
Exit status: 0 when everything passes, 1 otherwise.
"""
import copy
import json
import re
import sys
from pathlib import Path

import yaml
from jsonschema import Draft7Validator, Draft202012Validator, FormatChecker

ROOT = Path(__file__).resolve().parent.parent
SPEC_SCHEMA = json.loads((ROOT / "schemas/pipeline.schema.json").read_text())
SPEC_VALIDATOR = Draft202012Validator(SPEC_SCHEMA, format_checker=FormatChecker())

TEMPLATE = re.compile(r"\{\{\s*(.*?)\s*\}\}")
REF = re.compile(r"^(?P<root>[a-z][a-z0-9_-]*)(?P<segs>(?:\.[A-Za-z_][A-Za-z0-9_-]*|\[\d+\])*)$")
SEGMENT = re.compile(r"\.([A-Za-z_][A-Za-z0-9_-]*)|\[(\d+)\]")
LITERAL = re.compile(r"^(\"[^\"]*\"|'[^']*'|-?\d+(\.\d+)?|true|false|null)$")
# The references of a condition: paths outside string literals, not keywords or calls.
CONDITION_REF = re.compile(r"\"[^\"]*\"|'[^']*'|(?<![\w.\]-])([a-z][a-z0-9_-]*(?:\.[A-Za-z_][A-Za-z0-9_-]*|\[\d+\])*)(?![\w.\[-]|\s*\()")
KEYWORDS = {"and", "or", "not", "true", "false", "null"}

problems = []
used_schema_files = set()


def problem(where, message):
    problems.append(f"{where}: {message}")


def validator_for(schema):
    """The validator class of a schema: draft-07 when its $schema says so, else 2020-12."""
    if isinstance(schema, dict) and "draft-07" in str(schema.get("$schema", "")):
        return Draft7Validator
    return Draft202012Validator


def load_schema(spec_path, value, where):
    """An inline schema as is, or the file a path names (relative to the spec, inside its tree)."""
    if not isinstance(value, str):
        schema = value
    else:
        base = spec_path.parent.resolve()
        path = (base / value).resolve()
        if not path.is_relative_to(base):
            return problem(where, f"schema path {value} leaves the spec's directory tree")
        if not path.is_file():
            return problem(where, f"schema file {value} does not exist")
        used_schema_files.add(path)
        schema = json.loads(path.read_text())
    try:
        validator_for(schema).check_schema(schema)
    except Exception as error:  # SchemaError; keep going to report everything
        return problem(where, f"invalid JSON Schema: {error.message}")
    return schema


def resolve(schema, segments, root):
    """The subschema a reference's segments lead to, or an error message.

    Follows local `$ref`s and looks into every branch of allOf/anyOf/oneOf.
    """
    if not isinstance(schema, dict) or schema == {}:
        return schema  # a boolean schema or {}: nothing to check further
    if "$ref" in schema:
        target = root
        for part in schema["$ref"].removeprefix("#/").split("/"):
            target = target[part] if part else target
        return resolve(target, segments, root)
    if not segments:
        return schema
    field, index = segments[0]
    branches = [b for key in ("allOf", "anyOf", "oneOf") for b in schema.get(key, [])]
    if field is not None and field in schema.get("properties", {}):
        if field not in schema.get("required", []):
            return f"property {field!r} is optional: the examples reference only required ones"
        return resolve(schema["properties"][field], segments[1:], root)
    if index is not None and ("items" in schema or schema.get("type") == "array"):
        return resolve(schema.get("items", True), segments[1:], root)
    failures = []
    for branch in branches:
        found = resolve(branch, segments, root)
        if not isinstance(found, str):
            return found
        failures.append(found)
    if failures and not schema.get("properties"):
        return failures[-1]
    if field is not None:
        known = ", ".join(schema.get("properties", {})) or "none"
        return f"no property {field!r} (properties: {known})"
    return "indexes a value that is not an array"


def template_refs(template):
    """The references of a template's `{{ }}`s; the parts of a `??` chain that are literals are left out."""
    for body in TEMPLATE.findall(template):
        for part in (p.strip() for p in body.split("??")):
            if not LITERAL.match(part):
                yield part


def condition_refs(text):
    """The references of a `when:`/`until:` condition."""
    for match in CONDITION_REF.finditer(text):
        if match[1] and match[1].split(".")[0].split("[")[0] not in KEYWORDS:
            yield match[1]


def templates(spec):
    """(where, template text) for every template of the spec; a stage's system may come from defaults."""
    for name, stage in spec["stages"].items():
        yield f"stages.{name}.system", setting(spec, stage, "system", "")
        yield f"stages.{name}.prompt", stage["prompt"]
    output = spec.get("output")
    if isinstance(output, str):
        yield "output", output
    elif isinstance(output, dict):
        for key, text in output.items():
            yield f"output.{key}", text


def setting(spec, stage, key, fallback=None):
    """A stage setting by precedence: the stage's own, its model's, the defaults'."""
    defaults = spec.get("defaults", {})
    model = spec.get("models", {}).get(stage.get("model", defaults.get("model")), {})
    for layer in (stage, model, defaults) if key != "model" else (stage, defaults):
        if key in layer:
            return layer[key]
    return fallback


def check_spec(spec_path):
    where = spec_path.relative_to(ROOT)
    text = spec_path.read_text()
    if not text.startswith("# yaml-language-server: $schema=../schemas/pipeline.schema.json\n"):
        problem(where, "does not start with the yaml-language-server modeline")
    spec = yaml.safe_load(text)
    before = len(problems)
    errors = sorted(SPEC_VALIDATOR.iter_errors(spec), key=lambda e: list(e.path))
    for error in errors:
        problem(where, f"spec schema: {'/'.join(map(str, error.path))}: {error.message}")
    if errors:
        return

    # Schemas and the sample input.
    input_schema = load_schema(spec_path, spec.get("input", {}).get("schema", True), f"{where}: input")
    outputs = {}  # stage -> its output schema (a string stage's is {type: string}), None when broken
    for name, stage in spec["stages"].items():
        outputs[name] = {"type": "string"}
        if "output" in stage:
            outputs[name] = load_schema(spec_path, stage["output"]["schema"], f"{where}: stages.{name}.output")
        if outputs[name] is not None and "mock" in stage:
            mock = stage["mock"]  # values in turn, or one alone (for a list output, a list of lists)
            listed = isinstance(mock, list) and (outputs[name].get("type") != "array" or all(isinstance(v, list) for v in mock))
            mocks = mock if listed else [mock]
            for i, value in enumerate(mocks):
                for error in validator_for(outputs[name])(outputs[name]).iter_errors(value):
                    problem(where, f"stages.{name}.mock[{i}]: does not match the output schema: {error.message}")
    input_tokens = 0
    if input_schema is not None:
        is_text = isinstance(input_schema, dict) and input_schema.get("type") == "string"
        sample = spec_path.with_name(spec_path.stem + (".input.txt" if is_text else ".input.json"))
        if not sample.is_file():
            problem(where, f"no sample input {sample.name}")
        else:
            value = sample.read_text() if is_text else json.loads(sample.read_text())
            input_tokens = len(sample.read_text()) // 4
            for error in validator_for(input_schema)(input_schema, format_checker=FormatChecker()).iter_errors(value):
                problem(sample.relative_to(ROOT), f"does not match the input schema: {error.message}")

    # References, dependencies, models: the DAG checks below need them right.
    before = len(problems)
    if "input" in spec["stages"]:
        problem(where, "a stage may not be called `input`")
    depends = {name: set(stage.get("needs", [])) for name, stage in spec["stages"].items()}
    output_refs = set()
    fan_out = {}  # for_each stage -> the maxItems of its list (None: unbounded)
    values = dict(outputs)  # what a reference to a stage reads: a for_each stage's is a list
    for name, stage in spec["stages"].items():
        if "for_each" in stage and outputs[name] is not None:
            values[name] = {"type": "array", "items": outputs[name]}

    def check_ref(place, ref, scope=None):
        """Resolves a reference; returns the stage it reads (None for input or an item)."""
        match = REF.match(ref)
        if not match:
            return problem(where, f"{place}: malformed reference {ref!r}")
        root = match["root"]
        segments = [(f or None, int(i) if i else None) for f, i in SEGMENT.findall(match["segs"])]
        if scope and root in scope:
            schema = scope[root]
        elif root == "input":
            schema = input_schema
        elif root in values:
            schema = values[root]
        else:
            return problem(where, f"{place}: {ref!r} names no stage")
        if schema is not None:  # else its schema is broken, already reported
            found = resolve(schema, segments, schema)
            if isinstance(found, str):
                problem(where, f"{place}: {ref!r}: {found}")
            elif place.endswith(".for_each"):
                fan_out[place.split(".")[1]] = found.get("maxItems") if isinstance(found, dict) else None
        return root if root in values and not (scope and root in scope) else None

    scopes = {}  # stage -> {item name: items schema}
    for name, stage in spec["stages"].items():
        if "for_each" in stage:
            ref = TEMPLATE.sub(r"\1", stage["for_each"]).strip()
            root = check_ref(f"stages.{name}.for_each", ref)
            if root:
                depends[name].add(root)
            match = REF.match(ref)
            listed = values.get(match["root"]) if match and match["root"] != "input" else input_schema
            if match and listed is not None:
                segments = [(f or None, int(i) if i else None) for f, i in SEGMENT.findall(match["segs"])]
                found = resolve(listed, segments + [(None, 0)], listed)
                scopes[name] = {stage.get("as", "item"): found if not isinstance(found, str) else None}
        conditions = [("when", stage.get("when"))] + [("loop.until", stage.get("loop", {}).get("until"))]
        for key, text in conditions:
            for ref in condition_refs(text or ""):
                root = check_ref(f"stages.{name}.{key}", ref)
                if root:
                    depends[name].add(root)
    for place, template in templates(spec):
        stage = place.split(".")[1] if place.startswith("stages.") else None
        for ref in template_refs(template):
            root = check_ref(place, ref, scopes.get(stage))
            if root and stage:
                depends[stage].add(root)
            elif root:
                output_refs.add(root)

    # Loops: a stage of a loop that reads the loop's last stage, or itself, reads the previous
    # iteration: not an edge. The loop's stages are those between `from` and the last one.
    loops = {}  # last stage -> (its members, max_iterations)
    for last, stage in spec["stages"].items():
        if "loop" not in stage:
            continue

        def upstream(name, seen):
            for other in depends.get(name, ()):
                if other != last and other not in seen:
                    seen.add(other)
                    upstream(other, seen)
            return seen

        first = stage["loop"]["from"]
        members = {last} | {s for s in upstream(last, set()) if s == first or first in upstream(s, set())}
        for member in members:
            depends[member].discard(last)
            depends[member].discard(member)
        loops[last] = (members, stage["loop"]["max_iterations"])
    for name, needs in depends.items():
        for other in needs - set(spec["stages"]):
            problem(where, f"stages.{name}: needs unknown stage {other!r}")
    models = spec.get("models", {})
    for name, stage in spec["stages"].items():
        for model in [setting(spec, stage, "model")] + setting(spec, stage, "fallback", []):
            if model not in models:
                problem(where, f"stages.{name}: model {model!r} is not declared")
    if len(problems) > before:
        return

    # The DAG: no cycle, every stage contributes to the output.
    done, visiting, order = set(), [], []

    def visit(name):
        if name in visiting:
            return problem(where, "cycle " + " -> ".join(visiting[visiting.index(name):] + [name]))
        if name not in done:
            visiting.append(name)
            for other in sorted(depends[name]):
                visit(other)
            visiting.pop()
            done.add(name)
            order.append(name)

    for name in spec["stages"]:
        visit(name)
    if "output" in spec:
        contributing, todo = set(), list(output_refs)
        while todo:
            name = todo.pop()
            if name not in contributing:
                contributing.add(name)
                todo.extend(depends[name])
        for name in spec["stages"]:
            if name not in contributing:
                problem(where, f"stages.{name} contributes nothing to output")

    # Budgets: the worst case of every attempt.
    budget = spec.get("budget", {})
    tokens = cost = 0
    runs = {name: 1 for name in spec["stages"]}  # how many times a stage may run
    for members, iterations in loops.values():
        for member in members:
            runs[member] *= iterations
    for name, items in fan_out.items():
        if items is None:
            problem(where, f"stages.{name}: its for_each list has no maxItems, so its worst case is unbounded")
        runs[name] *= items or 1
    for name, stage in spec["stages"].items():
        max_tokens = setting(spec, stage, "max_tokens", 4096)
        if max_tokens > budget.get("max_tokens", float("inf")):
            problem(where, f"stages.{name}: max_tokens {max_tokens} exceeds budget.max_tokens")
        prompt = (len(stage.get("prompt", "")) + len(setting(spec, stage, "system", ""))) // 4
        prompt += input_tokens + sum(setting(spec, spec["stages"][d], "max_tokens", 4096) * fan_out.get(d, 1)
                                     for d in depends[name])
        attempts = 1 + setting(spec, stage, "retries", 0)
        for model in [setting(spec, stage, "model")] + setting(spec, stage, "fallback", []):
            price = models[model].get("price", {"input": 0, "output": 0})
            tokens += runs[name] * attempts * (prompt + max_tokens)
            cost += runs[name] * attempts * (prompt * price["input"] + max_tokens * price["output"]) / 1e6
    if tokens > budget.get("max_tokens", float("inf")):
        problem(where, f"worst case {tokens} tokens exceeds budget.max_tokens {budget['max_tokens']}")
    if cost > budget.get("max_cost_usd", float("inf")):
        problem(where, f"worst case ${cost:.3f} exceeds budget.max_cost_usd {budget['max_cost_usd']}")
    print(f"ok   {where}: {len(spec['stages'])} stages, order {' '.join(order)}; "
          f"worst case {tokens} tokens, ${cost:.3f}")


# Mutations of a valid spec that the spec schema must reject.
NEGATIVE = {
    "unknown top-level key": lambda s: s.update(stagez={}),
    "unknown stage key": lambda s: s["stages"]["writer"].update(promt="x"),
    "stage name Writer": lambda s: s["stages"].update(Writer=s["stages"].pop("writer")),
    "provider gemini": lambda s: s["models"]["fast"].update(provider="gemini"),
    "version 2": lambda s: s.update(version=2),
    "missing prompt": lambda s: s["stages"]["critic"].pop("prompt"),
    "duration 5 minutes": lambda s: s["budget"].update(max_duration="5 minutes"),
    "anthropic temperature 1.5": lambda s: s["models"]["fast"].update(temperature=1.5),
    "unknown key in inline output schema": lambda s: s["stages"]["editor"]["output"].update(shema={}),
    "invalid inline output schema": lambda s: s["stages"]["editor"]["output"].update(schema={"type": "strin"}),
}
# The stage keys of fan-out, conditions, loops and approval are stage keys only, and typed.
for key in ("for_each", "loop", "when", "approve", "mock"):
    NEGATIVE[f"top-level key {key}"] = lambda s, key=key: s.update({key: True})
NEGATIVE["a for_each that is not a reference"] = lambda s: s["stages"]["critic"].update(for_each=3)
NEGATIVE["on_item_error ignore"] = lambda s: s["stages"]["critic"].update(for_each="editor.text", on_item_error="ignore")
NEGATIVE["a when that is not a string"] = lambda s: s["stages"]["critic"].update(when=True)
NEGATIVE["a loop without max_iterations"] = lambda s: s["stages"]["critic"].update(loop={"from": "editor"})
NEGATIVE["a loop of 0 iterations"] = lambda s: s["stages"]["critic"].update(loop={"from": "editor", "max_iterations": 0})
NEGATIVE["an approve that is not a boolean"] = lambda s: s["stages"]["critic"].update(approve="yes")
NEGATIVE["top-level key cache"] = lambda s: s.update({"cache": True})
NEGATIVE["a cache that is not a boolean"] = lambda s: s["stages"]["critic"].update({"cache": "yes"})


def check_negative():
    base = yaml.safe_load((ROOT / "pipelines/research-report.yaml").read_text())
    if not SPEC_VALIDATOR.is_valid(base):
        return problem("pipelines/research-report.yaml", "invalid, so the negative checks prove nothing")
    for label, mutate in NEGATIVE.items():
        spec = copy.deepcopy(base)
        mutate(spec)
        if SPEC_VALIDATOR.is_valid(spec):
            problem("schemas/pipeline.schema.json", f"accepts a spec with {label}")
        else:
            print(f"ok   rejects {label}")


def check_descriptions(schema, path="#"):
    """Every property of the spec schema has a description (directly or by $ref), for editors."""
    if isinstance(schema, dict):
        for name, sub in schema.get("properties", {}).items():
            if isinstance(sub, dict) and "description" not in sub and "$ref" not in sub:
                problem("schemas/pipeline.schema.json", f"{path}/properties/{name} has no description")
        for key, sub in schema.items():
            if key not in ("defaultSnippets", "examples", "if", "then", "else"):
                check_descriptions(sub, f"{path}/{key}")
    elif isinstance(schema, list):
        for i, sub in enumerate(schema):
            check_descriptions(sub, f"{path}/{i}")


def main():
    Draft202012Validator.check_schema(SPEC_SCHEMA)
    check_descriptions(SPEC_SCHEMA)
    for path in sorted((ROOT / "pipelines").glob("*.yaml")):
        check_spec(path)
    for path in sorted((ROOT / "pipelines/schemas").glob("*.json")):
        if path.resolve() not in used_schema_files:
            load_schema(path, path.name, path.relative_to(ROOT))
            problem(path.relative_to(ROOT), "no example uses this schema")
    check_negative()
    for line in problems:
        print(f"FAIL {line}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

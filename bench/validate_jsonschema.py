#!/usr/bin/env python3
"""Time Python's `jsonschema` on the document and schema `pipe-bench validate` writes.

Usage: .build/release/pipe-bench validate && python3 bench/validate_jsonschema.py [DIR] [RUNS]
"""
import json
import statistics
import sys
import time

import jsonschema

directory = sys.argv[1] if len(sys.argv) > 1 else "/tmp/pipe-bench-validate"
runs = int(sys.argv[2]) if len(sys.argv) > 2 else 200

with open(f"{directory}/schema.json") as f:
    schema = json.load(f)
with open(f"{directory}/document.json") as f:
    document = json.load(f)

validator = jsonschema.Draft202012Validator(schema)  # compiled once, like JSONSchema(compiling:)
assert not list(validator.iter_errors(document)), "the generated document must be valid"


def median_micros(body, runs):
    for _ in range(min(10, runs)):
        body()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        body()
        samples.append((time.perf_counter() - start) * 1e6)
    return statistics.median(samples)


print(f"python {sys.version.split()[0]}, jsonschema {__import__('importlib.metadata').metadata.version('jsonschema')}")
print(f"validate (all errors)        median {median_micros(lambda: list(validator.iter_errors(document)), runs):.1f} µs")
print(f"is_valid (first failure)     median {median_micros(lambda: validator.is_valid(document), runs):.1f} µs")
print(f"json.loads document          median {median_micros(lambda: json.loads(open(f'{directory}/document.json').read()), runs):.1f} µs")

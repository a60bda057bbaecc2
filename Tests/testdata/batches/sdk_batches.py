"""Drives the fake server's batch APIs with the official SDKs (anthropic, openai) as a user
would: create a batch, poll it until it ends, read its results, cancel another. Prints one
JSON object of what it saw; FakeLLMBatchTests checks it.
    python3 sdk_batches.py BASE_URL
"""
import io
import json
import sys
import time

import anthropic
import openai

base = sys.argv[1]
seen = {}


def wait(get, ended):
    for _ in range(600):
        batch = get()
        if ended(batch):
            return batch
        time.sleep(0.05)
    raise SystemExit("the batch never ended")


# Anthropic Message Batches
claude = anthropic.Anthropic(base_url=base, api_key="sdk-test-key", max_retries=0)
params = lambda text: {"model": "claude-sdk", "max_tokens": 64, "messages": [{"role": "user", "content": text}]}
batch = claude.messages.batches.create(requests=[
    {"custom_id": "ok-1", "params": params("say hello")},
    {"custom_id": "bad-2", "params": params("please fail")},
    {"custom_id": "expire-3", "params": params("say bye")},
])
seen["anthropic_created"] = batch.processing_status
seen["anthropic_processing"] = batch.request_counts.processing
batch = wait(lambda: claude.messages.batches.retrieve(batch.id), lambda b: b.processing_status == "ended")
seen["anthropic_counts"] = batch.request_counts.model_dump()
results = {}
for entry in claude.messages.batches.results(batch.id):
    result = entry.result
    if result.type == "succeeded":
        results[entry.custom_id] = ["succeeded", result.message.content[0].text, result.message.usage.output_tokens > 0]
    elif result.type == "errored":
        results[entry.custom_id] = ["errored", result.error.error.type]
    else:
        results[entry.custom_id] = [result.type]
seen["anthropic_results"] = results
other = claude.messages.batches.create(requests=[{"custom_id": "later", "params": params("say hello")}])
canceled = claude.messages.batches.cancel(other.id)
seen["anthropic_cancel"] = canceled.processing_status
other = wait(lambda: claude.messages.batches.retrieve(other.id), lambda b: b.processing_status == "ended")
seen["anthropic_canceled"] = [entry.result.type for entry in claude.messages.batches.results(other.id)]

# OpenAI Batch API
gpt = openai.OpenAI(base_url=base + "/v1", api_key="sdk-test-key", max_retries=0)
lines = [
    {"custom_id": cid, "method": "POST", "url": "/v1/chat/completions",
     "body": {"model": "gpt-sdk", "messages": [{"role": "user", "content": text}]}}
    for cid, text in [("ok-1", "say hello"), ("bad-2", "please fail"), ("expire-3", "say bye")]
]
upload = gpt.files.create(file=("input.jsonl", io.BytesIO("".join(json.dumps(l) + "\n" for l in lines).encode())), purpose="batch")
seen["openai_file"] = [upload.purpose, upload.bytes > 0]
batch = gpt.batches.create(input_file_id=upload.id, endpoint="/v1/chat/completions", completion_window="24h")
seen["openai_created"] = batch.status
batch = wait(lambda: gpt.batches.retrieve(batch.id), lambda b: b.status in ("completed", "failed", "expired", "cancelled"))
seen["openai_status"] = batch.status
seen["openai_counts"] = batch.request_counts.model_dump()
results = {}
for line in gpt.files.content(batch.output_file_id).text.splitlines():
    entry = json.loads(line)
    results[entry["custom_id"]] = ["succeeded", entry["response"]["body"]["choices"][0]["message"]["content"]]
for line in gpt.files.content(batch.error_file_id).text.splitlines():
    entry = json.loads(line)
    if entry["response"] is not None:
        results[entry["custom_id"]] = ["errored", entry["response"]["status_code"]]
    else:
        results[entry["custom_id"]] = [entry["error"]["code"]]
seen["openai_results"] = results
upload = gpt.files.create(file=("later.jsonl", io.BytesIO((json.dumps(lines[0]) + "\n").encode())), purpose="batch")
other = gpt.batches.create(input_file_id=upload.id, endpoint="/v1/chat/completions", completion_window="24h")
seen["openai_cancel"] = gpt.batches.cancel(other.id).status
seen["openai_canceled"] = wait(lambda: gpt.batches.retrieve(other.id), lambda b: b.status == "cancelled").status

print(json.dumps(seen, sort_keys=True))

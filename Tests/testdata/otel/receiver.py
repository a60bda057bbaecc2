#!/usr/bin/env python3
"""An OTLP/HTTP trace receiver for pipe's tests: decodes ExportTraceServiceRequest with the
official protobuf definitions (the opentelemetry-proto package), protobuf or JSON, and writes
each span as a JSON line to --out. Every request's raw headers and body are appended to --raw,
so a test can search every byte pipe sent. Listens on 127.0.0.1, port 0; prints the port.

--mode ok (answer 200), hang (read the request, note it, never answer), status:N (answer N).
Stops by itself after --lifetime seconds."""
import argparse
import base64
import json
import os
import signal
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

parser = argparse.ArgumentParser()
parser.add_argument("--out", required=True)
parser.add_argument("--raw", required=True)
parser.add_argument("--mode", default="ok")
parser.add_argument("--lifetime", type=float, default=300)
args = parser.parse_args()
lock = threading.Lock()


def value(any_value):
    kind = any_value.WhichOneof("value")
    if kind == "array_value":
        return [value(v) for v in any_value.array_value.values]
    if kind is None:
        return None
    return getattr(any_value, kind)


def hex_ids_to_base64(request):
    """OTLP/JSON writes ids as hex; the protobuf JSON mapping reads bytes as base64."""
    for resource_spans in request.get("resourceSpans", []):
        for scope_spans in resource_spans.get("scopeSpans", []):
            for span in scope_spans.get("spans", []):
                for key in ("traceId", "spanId", "parentSpanId"):
                    if key in span:
                        span[key] = base64.b64encode(bytes.fromhex(span[key])).decode()
    return request


def write(line, path):
    with lock, open(path, "a") as out:
        out.write(line + "\n")


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *_):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        content_type = self.headers.get("Content-Type", "")
        with lock, open(args.raw, "ab") as raw:
            raw.write(str(self.headers).encode() + body + b"\n")
        request = trace_service_pb2.ExportTraceServiceRequest()
        if content_type == "application/json":
            json_format.Parse(json.dumps(hex_ids_to_base64(json.loads(body))), request)
        else:
            request.ParseFromString(body)
        for resource_spans in request.resource_spans:
            resource = {kv.key: value(kv.value) for kv in resource_spans.resource.attributes}
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    write(json.dumps({
                        "path": self.path, "content_type": content_type,
                        "authorization": self.headers.get("Authorization"),
                        "trace_id": span.trace_id.hex(), "span_id": span.span_id.hex(),
                        "parent_span_id": span.parent_span_id.hex(), "trace_state": span.trace_state,
                        "name": span.name, "kind": span.kind,
                        "start": span.start_time_unix_nano, "end": span.end_time_unix_nano,
                        "attributes": {kv.key: value(kv.value) for kv in span.attributes},
                        "status_code": span.status.code, "status_message": span.status.message,
                        "resource": resource, "scope": scope_spans.scope.name,
                    }), args.out)
        if args.mode == "hang":
            write(json.dumps({"event": "hung"}), args.out)
            time.sleep(args.lifetime)
            return
        status = int(args.mode.split(":")[1]) if args.mode.startswith("status:") else 200
        reply = b"{}" if content_type == "application/json" else trace_service_pb2.ExportTraceServiceResponse().SerializeToString()
        self.send_response(status)
        self.send_header("Content-Type", content_type or "application/x-protobuf")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)


# SIGTERM ends it at once, even where the parent left the signal ignored.
signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
print(server.server_address[1], flush=True)
threading.Timer(args.lifetime, lambda: os._exit(0)).start()
server.serve_forever()

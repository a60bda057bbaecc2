"""A model that is down and a backup, for bench/circuit.sh: POST /v1/messages answers 503 after
--latency-ms for the model `claude-down` (counted), and a text reply for any other model."""
import json, sys, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

latency = float(sys.argv[2]) / 1000 if len(sys.argv) > 2 else 0.1
down_calls = 0

class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        body = json.dumps({"down_calls": down_calls}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        global down_calls
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        time.sleep(latency)
        if request.get("model") == "claude-down":
            down_calls += 1
            status, reply = 503, {"type": "error", "error": {"type": "api_error", "message": "down"}}
        else:
            status, reply = 200, {"id": "m", "type": "message", "role": "assistant", "model": request.get("model"),
                                  "content": [{"type": "text", "text": "ok"}], "stop_reason": "end_turn",
                                  "usage": {"input_tokens": 10, "output_tokens": 2}}
        body = json.dumps(reply).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()

"""A small OpenAI-compatible chat server for the tests: real HTTP on 127.0.0.1, deterministic
replies, every request recorded, and faults on demand (400, 401, 429, 500, a timeout, a
request left unanswered until the server closes, a dropped connection, a refused
response_format)."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def reply_for(messages: list[dict]) -> str:
    """What the server answers: questions for a questions prompt, an answer for an answer
    prompt, an echo of the instruction otherwise."""
    text = messages[-1]["content"]
    digest = hashlib.sha1(text.encode()).hexdigest()[:6]
    if "question(s) about the text above" in text:
        if "NO QUESTIONS" in text:
            return "This text is about many things."
        return f"1. What does passage {digest} describe?\n2. Why does passage {digest} matter?"
    if text.startswith("EMPTY"):
        return ""
    if "Question:" in text:
        return f"The text says {digest}."
    return f"Reply {digest} to: {text[:40]}"


class ChatServer:
    def __init__(self, delay: float = 0.0, reply=None, port: int = 0):
        self.requests: list[dict] = []       # bodies of requests received
        self.answered: list[dict] = []       # bodies of requests whose answer was delivered
        self.headers: list[dict] = []
        # consumed one per request: 400, 401, 429, 500, timeout, hang, drop
        self.faults: list[str] = []
        self.closing = threading.Event()     # what a "hang" waits for
        self.delay = delay
        self.refuse_schema = False
        # what to answer, from the request body (default: reply_for its messages)
        self.reply = reply or (lambda body: reply_for(body["messages"]))
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with server.lock:
                    server.requests.append(body)
                    server.headers.append(dict(self.headers))
                    fault = server.faults.pop(0) if server.faults else None
                if fault == "drop":
                    self.connection.close()
                    return
                if fault == "timeout":
                    time.sleep(2.0)
                if fault == "hang":  # no answer at all, until the server closes
                    server.closing.wait()
                    self.connection.close()
                    return
                if fault in ("400", "401", "429", "500"):
                    said = {"400": "bad request", "401": "invalid key"}.get(fault, "try later")
                    return self._send(int(fault), {"error": {"message": said}})
                if server.refuse_schema and "response_format" in body:
                    return self._send(400, {"error": {"message": "response_format is not "
                                                                 "supported"}})
                if server.delay:
                    time.sleep(server.delay)
                text = server.reply(body)
                prompt = sum(len(m["content"].split()) for m in body["messages"])
                if self._send(200, {"id": "x", "object": "chat.completion", "choices": [
                    {"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": text}}],
                    "usage": {"prompt_tokens": prompt,
                              "completion_tokens": len(text.split())}}):
                    with server.lock:
                        server.answered.append(body)

            def _send(self, status, payload):
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                try:
                    self.wfile.write(data)
                    self.wfile.flush()
                except OSError:  # the client went away (killed) before the answer
                    return False
                return True

        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.closing.set()
        self.httpd.shutdown()
        self.httpd.server_close()


if __name__ == "__main__":  # a server for a test's subprocess: prints its URL
    import os
    import sys

    s = ChatServer(delay=float(sys.argv[1]) if len(sys.argv) > 1 else 0.0)
    print(s.url, flush=True)
    log = sys.argv[2] if len(sys.argv) > 2 else None
    while True:
        time.sleep(0.05)
        if log:
            with s.lock, open(log + ".tmp", "w") as fh:
                json.dump({"received": s.requests, "answered": s.answered}, fh)
            os.replace(log + ".tmp", log)

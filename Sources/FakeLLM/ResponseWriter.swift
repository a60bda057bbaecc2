import Foundation

/// Writes one `FakeReply` to a connection, shaped for the request's API.
struct ResponseWriter {
    let fd: Int32
    let request: FakeRequest
    /// When the first byte may go out: the request's arrival plus the reply's latency. Building
    /// the reply happens within the latency, as a real server's work does, so a reply of
    /// 100 ms starts 100 ms after the request, not 100 ms plus the fake's own time.
    let answerAt: ContinuousClock.Instant
    /// Waits for `answerAt` awake at the end (`FakeReply.punctual`).
    let isPunctual: Bool
    /// Called once the head is written, with its status.
    let onStatus: (Int) -> Void
    /// Called when the exchange ends, with whether the whole reply was sent. A complete
    /// reply is recorded just before its last bytes go out, so a client that has the
    /// response always finds it complete in the log.
    let onEnd: (Bool) -> Void

    /// Sends `reply`. Returns true when the whole reply was written and the connection
    /// can serve another request; false after a hang, a cut or a write failure.
    func send(_ reply: FakeReply, isStopped: () -> Bool) -> Bool {
        switch reply.action {
        case .answer(let text, let stopReason):
            return sendAnswer(request.blocks(answering: text), stopReason: stopReason, reply: reply)
        case .content(let blocks, let stopReason):
            return sendAnswer(blocks, stopReason: stopReason, reply: reply)
        case .error(let status, let type, let message):
            return sendWhole(status: status, contentType: "application/json", body: errorBody(status: status, type: type, message: message), reply: reply)
        case .streamError(let text, let afterEvents, let type, let message):
            guard request.isStreaming else {
                let status = type == "overloaded_error" ? 529 : 500
                return sendWhole(status: status, contentType: "application/json", body: errorBody(status: status, type: type, message: message), reply: reply)
            }
            var events = Array(events(request.blocks(answering: text), stopReason: .endTurn, reply: reply).prefix(afterEvents))
            let error = String(decoding: errorBody(status: 500, type: type, message: message), as: UTF8.self)
            events.append(request.api == .openAI ? "data: \(error)\n\n" : "event: error\ndata: \(error)\n\n")
            return sendEvents(events, reply: reply)
        case .raw(let status, let contentType, let body):
            return sendWhole(status: status, contentType: contentType, body: body, reply: reply)
        case .hang:
            waitToAnswer()
            waitForClientToLeave(isStopped)
            return end(false)
        case .cut(let text, let afterEvents):
            sendPart(text: text, afterEvents: afterEvents, reply: reply)
            return end(false)
        case .stall(let text, let afterEvents):
            sendPart(text: text, afterEvents: afterEvents, reply: reply)
            waitForClientToLeave(isStopped)
            return end(false)
        case .flood(let bytes, let eventStream):
            return sendFlood(bytes: bytes, eventStream: eventStream, reply: reply)
        }
    }

    private func sendAnswer(_ blocks: [FakeReply.Block], stopReason: FakeReply.StopReason, reply: FakeReply) -> Bool {
        if request.isStreaming, !reply.ignoresStreaming {
            return sendEvents(events(blocks, stopReason: stopReason, reply: reply), reply: reply)
        }
        return sendWhole(status: 200, contentType: "application/json", body: Array(JSON.text(body(blocks, stopReason: stopReason)).utf8), reply: reply)
    }

    /// `bytes` bytes of a value (or an event-stream line) that never ends, in 64 KiB writes.
    /// The connection closes afterwards: what was sent is not a whole reply.
    private func sendFlood(bytes: Int, eventStream: Bool, reply: FakeReply) -> Bool {
        if eventStream {
            guard sendEventStreamHead(reply: reply) else { return end(false) }
        } else {
            waitToAnswer()
            guard Socket.write(fd, head(status: 200, reply: reply, fields: [("Content-Type", "application/json"), ("Content-Length", "\(bytes)")]))
            else { return end(false) }
            onStatus(200)
        }
        var start = Array((eventStream ? #"data: {"pad": ""# : #"{"pad": ""#).utf8)
        var remaining = bytes
        while remaining > 0 {
            let piece = Array((start + [UInt8](repeating: UInt8(ascii: "x"), count: 65_536)).prefix(min(remaining, 65_536)))
            start = []
            remaining -= piece.count
            guard Socket.write(fd, eventStream ? chunk(piece) : piece) else { return end(false) }
        }
        onEnd(true)
        return false
    }

    /// The start of an answer: `afterEvents` events of a stream, or half of a plain body.
    private func sendPart(text: String, afterEvents: Int, reply: FakeReply) {
        if request.isStreaming {
            sendEventStreamHead(reply: reply)
            for event in events(request.blocks(answering: text), stopReason: .endTurn, reply: reply).prefix(afterEvents) {
                guard sendEvent(event, reply: reply) else { return }
            }
            return
        }
        let body = Array(JSON.text(body(request.blocks(answering: text), stopReason: .endTurn)).utf8)
        waitToAnswer()
        if Socket.write(fd, head(status: 200, reply: reply, fields: [("Content-Type", "application/json"), ("Content-Length", "\(body.count)")])) {
            onStatus(200)
            Socket.write(fd, Array(body.prefix(body.count / 2)))
        }
    }

    /// Sleeps until `answerAt`; a punctual reply sleeps until shortly before it, then yields
    /// the processor until it comes.
    private func waitToAnswer() {
        let awake = isPunctual ? Self.punctualStretch : .zero
        let wait = answerAt - .now
        if wait > awake { Thread.sleep(forTimeInterval: (wait - awake).seconds) }
        while isPunctual, ContinuousClock.now < answerAt { sched_yield() }
    }

    private static let punctualStretch = Duration.microseconds(250)

    /// Blocks until the client closes the connection or the server stops; never answers.
    private func waitForClientToLeave(_ isStopped: () -> Bool) {
        while !isStopped(), Socket.read(fd) != nil {}
    }

    private func errorBody(status: Int, type: String?, message: String) -> [UInt8] {
        let body = request.api == .openAI
            ? OpenAIShape.error(status: status, type: type, message: message)
            : AnthropicShape.error(status: status, type: type, message: message)
        return Array(JSON.text(body).utf8)
    }

    private func body(_ blocks: [FakeReply.Block], stopReason: FakeReply.StopReason) -> [String: Any] {
        request.api == .openAI
            ? OpenAIShape.completion(for: request, blocks: blocks, stopReason: stopReason)
            : AnthropicShape.message(for: request, blocks: blocks, stopReason: stopReason)
    }

    private func events(_ blocks: [FakeReply.Block], stopReason: FakeReply.StopReason, reply: FakeReply) -> [String] {
        request.api == .openAI
            ? OpenAIShape.events(for: request, blocks: blocks, stopReason: stopReason, deltaSize: reply.deltaSize)
            : AnthropicShape.events(for: request, blocks: blocks, stopReason: stopReason, deltaSize: reply.deltaSize)
    }

    private func sendWhole(status: Int, contentType: String, body: [UInt8], reply: FakeReply) -> Bool {
        let head = head(status: status, reply: reply, fields: [("Content-Type", contentType), ("Content-Length", "\(body.count)")])
        waitToAnswer()
        onStatus(status)
        onEnd(true)
        return Socket.write(fd, head + body) || end(false)
    }

    /// Records the end of the exchange and returns `completed`.
    private func end(_ completed: Bool) -> Bool {
        onEnd(completed)
        return completed
    }

    /// A whole chunked `text/event-stream`, one chunk per event. Without an event delay the
    /// head and the events are built within the latency and go out in one write, as a busy
    /// real server's would arrive: a write per event made the server's own time (about 1 ms a
    /// reply) show up in the runner's benchmarks.
    private func sendEvents(_ events: [String], reply: FakeReply) -> Bool {
        let last = Array("0\r\n\r\n".utf8)
        if reply.eventDelay == .zero {
            var whole = eventStreamHead(reply: reply)
            whole.reserveCapacity(whole.count + events.reduce(last.count) { $0 + $1.utf8.count + 12 })
            for event in events { appendChunk(Array(event.utf8), to: &whole) }
            whole += last
            waitToAnswer()
            onStatus(200)
            onEnd(true)
            return Socket.write(fd, whole) || end(false)
        }
        guard sendEventStreamHead(reply: reply) else { return end(false) }
        for event in events {
            guard sendEvent(event, reply: reply) else { return end(false) }
        }
        onEnd(true)
        return Socket.write(fd, last) || end(false)
    }

    @discardableResult
    private func sendEventStreamHead(reply: FakeReply) -> Bool {
        let head = eventStreamHead(reply: reply)
        waitToAnswer()
        guard Socket.write(fd, head) else { return false }
        onStatus(200)
        return true
    }

    private func eventStreamHead(reply: FakeReply) -> [UInt8] {
        head(status: 200, reply: reply, fields: [
            ("Content-Type", "text/event-stream; charset=utf-8"), ("Cache-Control", "no-cache"), ("Transfer-Encoding", "chunked"),
        ])
    }

    /// One event as one chunk, after the reply's event delay.
    private func sendEvent(_ event: String, reply: FakeReply) -> Bool {
        if reply.eventDelay > .zero { Thread.sleep(forTimeInterval: reply.eventDelay.seconds) }
        return Socket.write(fd, chunk(event))
    }

    private func chunk(_ event: String) -> [UInt8] {
        chunk(Array(event.utf8))
    }

    private func chunk(_ bytes: [UInt8]) -> [UInt8] {
        var chunk: [UInt8] = []
        chunk.reserveCapacity(bytes.count + 12)
        appendChunk(bytes, to: &chunk)
        return chunk
    }

    /// `bytes` framed as one chunk of a chunked body, appended to `out`.
    private func appendChunk(_ bytes: [UInt8], to out: inout [UInt8]) {
        out += String(bytes.count, radix: 16).utf8
        out += [13, 10]
        out += bytes
        out += [13, 10]
    }

    private func head(status: Int, reply: FakeReply, fields: [(String, String)]) -> [UInt8] {
        var text = "HTTP/1.1 \(status) \(Self.reason(status))\r\n"
        let id = request.api == .openAI ? ("x-request-id", "req_fake_\(request.callNumber)") : ("request-id", "req_fake_\(request.callNumber)")
        for (name, value) in fields + [id] + reply.headers {
            text += "\(name): \(value)\r\n"
        }
        return Array((text + "\r\n").utf8)
    }

    /// A bare response for a request the server could not parse.
    static func plain(status: Int, body: String) -> [UInt8] {
        Array("HTTP/1.1 \(status) \(reason(status))\r\nContent-Type: text/plain\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)".utf8)
    }

    private static func reason(_ status: Int) -> String {
        switch status {
        case 200: "OK"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 408: "Request Timeout"
        case 413: "Payload Too Large"
        case 429: "Too Many Requests"
        case 500: "Internal Server Error"
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        case 504: "Gateway Timeout"
        case 529: "Overloaded"
        default: "Status"
        }
    }
}

extension Duration {
    /// The duration in seconds, as a `TimeInterval`.
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}

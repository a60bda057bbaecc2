import Foundation

/// Writes one `FakeReply` to a connection, shaped for the request's API.
struct ResponseWriter {
    let fd: Int32
    let request: FakeRequest
    /// Called once the head is written, with its status.
    let onStatus: (Int) -> Void
    /// Called when the exchange ends, with whether the whole reply was sent. A complete
    /// reply is recorded just before its last bytes go out, so a client that has the
    /// response always finds it complete in the log.
    let onEnd: (Bool) -> Void

    /// Sends `reply`. Returns true when the whole reply was written and the connection
    /// can serve another request; false after a hang, a cut or a write failure.
    func send(_ reply: FakeReply, isStopped: () -> Bool) -> Bool {
        if reply.latency > .zero { Thread.sleep(forTimeInterval: reply.latency.seconds) }
        switch reply.action {
        case .answer(let text, let stopReason):
            if request.isStreaming {
                return sendEvents(events(text: text, stopReason: stopReason, reply: reply), reply: reply, cutAfter: nil)
            }
            return sendWhole(status: 200, contentType: "application/json", body: Array(JSON.text(body(text: text, stopReason: stopReason)).utf8), reply: reply)
        case .error(let status, let type, let message):
            return sendWhole(status: status, contentType: "application/json", body: errorBody(status: status, type: type, message: message), reply: reply)
        case .streamError(let text, let afterEvents, let type, let message):
            guard request.isStreaming else {
                let status = type == "overloaded_error" ? 529 : 500
                return sendWhole(status: status, contentType: "application/json", body: errorBody(status: status, type: type, message: message), reply: reply)
            }
            var events = Array(events(text: text, stopReason: .endTurn, reply: reply).prefix(afterEvents))
            let error = String(decoding: errorBody(status: 500, type: type, message: message), as: UTF8.self)
            events.append(request.api == .openAI ? "data: \(error)\n\n" : "event: error\ndata: \(error)\n\n")
            return sendEvents(events, reply: reply, cutAfter: nil)
        case .raw(let status, let contentType, let body):
            return sendWhole(status: status, contentType: contentType, body: body, reply: reply)
        case .hang:
            // Wait for the client to give up (or the server to stop); never answer.
            while !isStopped(), Socket.read(fd) != nil {}
            return end(false)
        case .cut(let text, let afterEvents):
            if request.isStreaming {
                return sendEvents(events(text: text, stopReason: .endTurn, reply: reply), reply: reply, cutAfter: afterEvents)
            }
            let body = Array(JSON.text(body(text: text, stopReason: .endTurn)).utf8)
            if Socket.write(fd, head(status: 200, reply: reply, fields: [("Content-Type", "application/json"), ("Content-Length", "\(body.count)")])) {
                onStatus(200)
                Socket.write(fd, Array(body.prefix(body.count / 2)))
            }
            return end(false)
        }
    }

    private func errorBody(status: Int, type: String?, message: String) -> [UInt8] {
        let body = request.api == .openAI
            ? OpenAIShape.error(status: status, type: type, message: message)
            : AnthropicShape.error(status: status, type: type, message: message)
        return Array(JSON.text(body).utf8)
    }

    private func body(text: String, stopReason: FakeReply.StopReason) -> [String: Any] {
        request.api == .openAI
            ? OpenAIShape.completion(for: request, text: text, stopReason: stopReason)
            : AnthropicShape.message(for: request, text: text, stopReason: stopReason)
    }

    private func events(text: String, stopReason: FakeReply.StopReason, reply: FakeReply) -> [String] {
        request.api == .openAI
            ? OpenAIShape.events(for: request, text: text, stopReason: stopReason, deltaSize: reply.deltaSize)
            : AnthropicShape.events(for: request, text: text, stopReason: stopReason, deltaSize: reply.deltaSize)
    }

    private func sendWhole(status: Int, contentType: String, body: [UInt8], reply: FakeReply) -> Bool {
        let head = head(status: status, reply: reply, fields: [("Content-Type", contentType), ("Content-Length", "\(body.count)")])
        onStatus(status)
        onEnd(true)
        return Socket.write(fd, head + body) || end(false)
    }

    /// Records the end of the exchange and returns `completed`.
    private func end(_ completed: Bool) -> Bool {
        onEnd(completed)
        return completed
    }

    /// A chunked `text/event-stream`, one chunk per event; closes after `cutAfter` events.
    private func sendEvents(_ events: [String], reply: FakeReply, cutAfter: Int?) -> Bool {
        let head = head(status: 200, reply: reply, fields: [
            ("Content-Type", "text/event-stream; charset=utf-8"), ("Cache-Control", "no-cache"), ("Transfer-Encoding", "chunked"),
        ])
        guard Socket.write(fd, head) else { return end(false) }
        onStatus(200)
        for (number, event) in events.enumerated() {
            if let cutAfter, number >= cutAfter { return end(false) }
            if number > 0, reply.eventDelay > .zero { Thread.sleep(forTimeInterval: reply.eventDelay.seconds) }
            let bytes = Array(event.utf8)
            guard Socket.write(fd, Array(String(bytes.count, radix: 16).utf8) + [13, 10] + bytes + [13, 10]) else { return end(false) }
        }
        if cutAfter != nil { return end(false) }
        onEnd(true)
        return Socket.write(fd, Array("0\r\n\r\n".utf8)) || end(false)
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

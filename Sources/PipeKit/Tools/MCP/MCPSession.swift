import Foundation

/// One MCP connection's JSON-RPC 2.0 exchange over a transport: requests matched to their
/// replies by id (any number in flight at once), the `initialize` handshake, a timeout per
/// request (then `notifications/cancelled`), the server's own requests answered ("method not
/// found", `ping` excepted) and its notifications ignored. Once the connection breaks, every
/// request in flight and every later one fails with the same `ToolFailure`.
final class MCPSession: Sendable {
    /// The revision asked for in `initialize` (the newest one with that handshake).
    static let protocolVersion = "2025-11-25"
    /// The revisions pipe accepts when the server answers with another one.
    static let supportedVersions: Set<String> = ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"]

    let server: String
    private let state = Locked(State())
    private let transportBox = Locked<(any MCPTransport)?>(nil)

    private struct State {
        var nextID = 1
        var slots: [Int: Slot] = [:]
        var broken: ToolFailure?
    }

    /// A request in flight: waiting for its reply (and maybe for the caller to await it), or answered.
    private enum Slot {
        case waiting(CheckedContinuation<Result<JSONValue, ToolFailure>, Never>?)
        case answered(Result<JSONValue, ToolFailure>)
    }

    private init(server: String) {
        self.server = server
    }

    /// Opens a transport delivering to a new session, then initializes the connection; on any
    /// failure the transport is closed before this throws.
    static func open(
        server: String, timeout: Duration,
        transport makeTransport: (MCPInbox) async throws(ToolFailure) -> any MCPTransport
    ) async throws(ToolFailure) -> MCPSession {
        let session = MCPSession(server: server)
        let transport = try await makeTransport(
            MCPInbox(receive: { [weak session] in await session?.receive($0) }, fail: { [weak session] in session?.fail($0) }))
        session.transportBox.withLock { $0 = transport }
        do {
            try await session.initialize(timeout: timeout)
        } catch {
            await transport.close()
            throw error
        }
        return session
    }

    private var transport: (any MCPTransport)? { transportBox.withLock { $0 } }

    private func initialize(timeout: Duration) async throws(ToolFailure) {
        let params: JSONValue = [
            "protocolVersion": .string(Self.protocolVersion),
            "capabilities": [:],
            "clientInfo": ["name": "pipe", "version": .string(PipeVersion.current)],
        ]
        let result = try await request("initialize", params, timeout: timeout, naming: "initialize")
        guard let version = result["protocolVersion"]?.stringValue, Self.supportedVersions.contains(version) else {
            let answered = result["protocolVersion"]?.serialized() ?? "none"
            throw .protocolViolation(
                server: server,
                detail: "it speaks protocol version \(answered); pipe speaks \(Self.supportedVersions.sorted().joined(separator: ", "))")
        }
        await transport?.negotiated(version: version)
        try await notify("notifications/initialized", nil)
    }

    /// Sends a request and waits for its result, at most `timeout`: then the server is told
    /// the request is cancelled and this throws `.timedOut` naming `naming` (the tool).
    func request(_ method: String, _ params: JSONValue?, timeout: Duration, naming: String) async throws(ToolFailure) -> JSONValue {
        let (id, broken): (Int, ToolFailure?) = state.withLock { state in
            if let broken = state.broken { return (0, broken) }
            defer { state.nextID += 1 }
            state.slots[state.nextID] = .waiting(nil)
            return (state.nextID, nil)
        }
        if let broken { throw broken }
        guard let transport else { throw .crashed(server: server, detail: "not connected") }
        var message: JSONObject = ["jsonrpc": "2.0", "id": .number(JSONNumber(id)), "method": .string(method)]
        if let params { message["params"] = params }
        let server = self.server
        let outcome = await withTaskGroup(of: Result<JSONValue, ToolFailure>?.self) { group in
            group.addTask { [message] in
                do throws(ToolFailure) {
                    try await transport.send(.object(message))
                } catch {
                    return .failure(error)
                }
                return await self.reply(to: id)
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return Task.isCancelled ? nil : .failure(.timedOut(server: server, tool: naming, after: timeout))
            }
            while let next = await group.next() {
                if let next {
                    group.cancelAll()
                    return next
                }
            }
            return .failure(Self.cancelled(server))
        }
        switch outcome {
        case .success(let result):
            return result
        case .failure(let failure):
            let broken = state.withLock { state in
                state.slots[id] = nil
                return state.broken != nil
            }
            // Timed out or cancelled, the server may still be working on it: say it can stop
            // (never for `initialize`).
            if !broken, method != "initialize" {
                try? await notify("notifications/cancelled", ["requestId": .number(JSONNumber(id)), "reason": .string("\(failure)")])
            }
            throw failure
        }
    }

    func notify(_ method: String, _ params: JSONValue?) async throws(ToolFailure) {
        var message: JSONObject = ["jsonrpc": "2.0", "method": .string(method)]
        if let params { message["params"] = params }
        try await transport?.send(.object(message))
    }

    /// Ends the connection; calls in flight fail.
    func close() async {
        fail(.crashed(server: server, detail: "the server was shut down"))
        await transport?.close()
    }

    /// What a call gets when its task is cancelled.
    static func cancelled(_ server: String) -> ToolFailure {
        .crashed(server: server, detail: "the call was cancelled")
    }

    private func reply(to id: Int) async -> Result<JSONValue, ToolFailure> {
        let server = self.server
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let ready: Result<JSONValue, ToolFailure>? = state.withLock { state in
                    switch state.slots[id] {
                    case .answered(let result):
                        state.slots[id] = nil
                        return result
                    case .waiting:
                        state.slots[id] = .waiting(continuation)
                        return nil
                    case nil:
                        return .failure(state.broken ?? Self.cancelled(server))
                    }
                }
                if let ready { continuation.resume(returning: ready) }
            }
        } onCancel: {
            let waiting = state.withLock { state -> CheckedContinuation<Result<JSONValue, ToolFailure>, Never>? in
                guard case .waiting(let continuation) = state.slots[id] else { return nil }
                state.slots[id] = nil
                return continuation
            }
            waiting?.resume(returning: .failure(Self.cancelled(server)))
        }
    }

    private func receive(_ message: JSONValue) async {
        guard case .object(let object) = message, object["jsonrpc"]?.stringValue == "2.0" else {
            fail(.protocolViolation(server: server, detail: "not a JSON-RPC 2.0 message: \(MCPText.excerpt(message.serialized()))"))
            return
        }
        if let method = object["method"]?.stringValue {
            // The server's request (answered: pipe offers no client features) or notification (ignored).
            if let id = object["id"], !id.isNull {
                let answer: (String, JSONValue) =
                    method == "ping" ? ("result", [:]) : ("error", ["code": -32601, "message": .string("method not found: \(method)")])
                try? await transport?.send(["jsonrpc": "2.0", "id": id, answer.0: answer.1])
            }
            return
        }
        // A reply to an id no call waits for (timed out, cancelled) is dropped.
        guard let id = object["id"]?.numberValue?.intValue else { return }
        let result: Result<JSONValue, ToolFailure>
        if let error = object["error"] {
            result = .failure(
                .serverError(
                    server: server, code: error["code"]?.numberValue?.intValue ?? 0,
                    message: error["message"]?.stringValue ?? error.serialized()))
        } else if let value = object["result"] {
            result = .success(value)
        } else {
            result = .failure(.protocolViolation(server: server, detail: "a reply with neither result nor error"))
        }
        let waiting = state.withLock { state -> CheckedContinuation<Result<JSONValue, ToolFailure>, Never>? in
            guard case .waiting(let continuation) = state.slots[id] else { return nil }
            if continuation == nil {
                state.slots[id] = .answered(result)
            } else {
                state.slots[id] = nil
            }
            return continuation
        }
        waiting?.resume(returning: result)
    }

    private func fail(_ failure: ToolFailure) {
        let waiting = state.withLock { state in
            if state.broken == nil { state.broken = failure }
            let slots = state.slots
            state.slots = [:]
            return slots.values.compactMap { slot -> CheckedContinuation<Result<JSONValue, ToolFailure>, Never>? in
                if case .waiting(let continuation) = slot { return continuation }
                return nil
            }
        }
        let reported = state.withLock { $0.broken ?? failure }
        for continuation in waiting { continuation.resume(returning: .failure(reported)) }
    }
}

extension MCPTransport {
    func negotiated(version: String) async {}
}

/// Text helpers for messages about what a server sent.
enum MCPText {
    /// At most `limit` characters of `text`, on one line, for an error message.
    static func excerpt(_ text: String, limit: Int = 200) -> String {
        let flat = text.replacingOccurrences(of: "\n", with: "\\n")
        return flat.count > limit ? String(flat.prefix(limit)) + "…" : flat
    }
}

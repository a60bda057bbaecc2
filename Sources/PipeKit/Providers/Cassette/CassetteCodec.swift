/// How a cassette writes and reads back the typed values of an exchange: messages and their
/// content blocks (as the Anthropic Messages API writes them), stop reasons, and the errors
/// of failed calls and tool calls. What is read back is the same typed value as was written.
enum CassetteCodec {
    // MARK: - Messages

    /// A message of one text block as `role: text` (how every line was written before blocks
    /// were recorded), else `{ role, content: [blocks] }`.
    static func message(_ message: ChatMessage) -> JSONValue {
        if let text = message.plainText { return .string("\(message.role.rawValue): \(text)") }
        return ["role": .string(message.role.rawValue), "content": .array(message.content.map(\.json))]
    }

    static func message(_ value: JSONValue) -> ChatMessage? {
        if let line = value.stringValue {
            guard let colon = line.firstIndex(of: ":"), let role = ChatMessage.Role(rawValue: String(line[..<colon])) else { return nil }
            var text = line[line.index(after: colon)...]
            if text.first == " " { text = text.dropFirst() }
            return ChatMessage(role, String(text))
        }
        guard let role = value["role"]?.stringValue.flatMap(ChatMessage.Role.init(rawValue:)) else { return nil }
        if let text = value["content"]?.stringValue { return ChatMessage(role, text) }
        guard let written = value["content"]?.arrayValue else { return nil }
        var blocks: [ContentBlock] = []
        for block in written {
            guard let block = Self.block(block) else { return nil }
            blocks.append(block)
        }
        return ChatMessage(role, blocks)
    }

    /// A block as `ContentBlock.json` writes it.
    static func block(_ value: JSONValue) -> ContentBlock? {
        switch value["type"]?.stringValue {
        case "text": return value["text"]?.stringValue.map(ContentBlock.text)
        case "tool_use":
            guard let id = value["id"]?.stringValue, let name = value["name"]?.stringValue, let input = value["input"] else { return nil }
            return .toolUse(id: id, name: name, input: input)
        case "tool_result":
            guard let id = value["tool_use_id"]?.stringValue, let content = value["content"]?.stringValue else { return nil }
            return .toolResult(toolUseID: id, content: content, isError: value["is_error"]?.boolValue ?? false)
        default: return nil
        }
    }

    /// Anthropic's name of a stop reason, which `StopReason(anthropic:)` reads back.
    static func name(_ reason: StopReason) -> String {
        switch reason {
        case .endTurn: "end_turn"
        case .maxTokens: "max_tokens"
        case .toolUse: "tool_use"
        case .stopSequence: "stop_sequence"
        case .refusal: "refusal"
        case .other(let name): name
        }
    }

    // MARK: - Errors

    static func milliseconds(_ duration: Duration) -> JSONValue {
        let (seconds, attoseconds) = duration.components
        return .number(JSONNumber(Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)))
    }

    static func duration(_ value: JSONValue?) -> Duration? {
        value?.numberValue?.intValue.map { .milliseconds($0) }
    }

    /// A failed call's error. `cancelled` is never recorded (`RecordingProvider`).
    static func error(_ error: ProviderError) -> JSONValue {
        switch error {
        case .status(let code, let provider, let message, let retryAfter):
            var object: JSONObject = [
                "kind": "status", "code": .number(JSONNumber(code)), "provider": .string(provider.name), "message": .string(message),
            ]
            if let retryAfter { object["retry_after_ms"] = milliseconds(retryAfter) }
            return .object(object)
        case .transport(let message): return ["kind": "transport", "message": .string(message)]
        case .timedOut: return ["kind": "timed_out"]
        case .invalidResponse(let message): return ["kind": "invalid_response", "message": .string(message)]
        case .missingAPIKey(let variable, let provider):
            return ["kind": "missing_api_key", "variable": .string(variable), "provider": .string(provider.name)]
        case .invalidRequest(let message): return ["kind": "invalid_request", "message": .string(message)]
        case .cancelled: return ["kind": "cancelled"]
        case .circuitOpen(let failures, let retryIn):
            return ["kind": "circuit_open", "failures": .number(JSONNumber(failures)), "retry_in_ms": milliseconds(retryIn)]
        }
    }

    static func error(_ value: JSONValue) -> ProviderError? {
        let message = value["message"]?.stringValue ?? ""
        switch value["kind"]?.stringValue {
        case "status":
            guard let code = value["code"]?.numberValue?.intValue,
                let provider = value["provider"]?.stringValue.flatMap(ProviderRegistry.named)
            else { return nil }
            return .status(code: code, provider: provider, message: message, retryAfter: duration(value["retry_after_ms"]))
        case "transport": return .transport(message)
        case "timed_out": return .timedOut
        case "invalid_response": return .invalidResponse(message)
        case "missing_api_key":
            guard let variable = value["variable"]?.stringValue, let provider = value["provider"]?.stringValue.flatMap(ProviderRegistry.named)
            else { return nil }
            return .missingAPIKey(variable: variable, provider: provider)
        case "invalid_request": return .invalidRequest(message)
        case "cancelled": return .cancelled
        case "circuit_open":
            guard let failures = value["failures"]?.numberValue?.intValue else { return nil }
            return .circuitOpen(failures: failures, retryIn: duration(value["retry_in_ms"]) ?? .zero)
        default: return nil
        }
    }

    /// A tool server's failure.
    static func failure(_ failure: ToolFailure) -> JSONValue {
        switch failure {
        case .unknownServer(let server): ["kind": "unknown_server", "server": .string(server)]
        case .couldNotStart(let server, let reason): ["kind": "could_not_start", "server": .string(server), "detail": .string(reason)]
        case .crashed(let server, let detail): ["kind": "crashed", "server": .string(server), "detail": .string(detail)]
        case .protocolViolation(let server, let detail):
            ["kind": "protocol_violation", "server": .string(server), "detail": .string(detail)]
        case .timedOut(let server, let tool, let after):
            ["kind": "timed_out", "server": .string(server), "tool": .string(tool), "after_ms": milliseconds(after)]
        case .serverError(let server, let code, let message):
            ["kind": "server_error", "server": .string(server), "code": .number(JSONNumber(code)), "detail": .string(message)]
        }
    }

    static func failure(_ value: JSONValue) -> ToolFailure? {
        guard let server = value["server"]?.stringValue else { return nil }
        let detail = value["detail"]?.stringValue ?? ""
        switch value["kind"]?.stringValue {
        case "unknown_server": return .unknownServer(server)
        case "could_not_start": return .couldNotStart(server: server, reason: detail)
        case "crashed": return .crashed(server: server, detail: detail)
        case "protocol_violation": return .protocolViolation(server: server, detail: detail)
        case "timed_out":
            return .timedOut(server: server, tool: value["tool"]?.stringValue ?? "", after: duration(value["after_ms"]) ?? .zero)
        case "server_error": return .serverError(server: server, code: value["code"]?.numberValue?.intValue ?? 0, message: detail)
        default: return nil
        }
    }
}

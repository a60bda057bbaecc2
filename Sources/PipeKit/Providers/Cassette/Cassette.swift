/// A recording of model exchanges (`pipe run --record FILE`): JSON Lines, one call a line,
/// with the provider, the model, the stage, the rendered request (every message with all its
/// content blocks, the tools offered) and what came back: the reply's content blocks, stop
/// reason and usage, or the typed error of a call that failed. A run whose stages use tools
/// also writes each server's tool list and each tool call with its result
/// (`CassetteToolCall`, `CassetteToolList`). No key, header, or base URL is ever written:
/// only what the request and the reply say.
///
/// `pipe run --replay FILE` and a test case's `replay:` answer from it (`ReplayProvider`,
/// `ReplayToolServers`), matching each call by its stage and its rendered request
/// (`CassetteEntry.Request`). Lines written before blocks were recorded (`messages` as
/// `role: text` strings, the reply's text only) are read as the text messages they were.
public struct CassetteEntry: Sendable {
    /// What identifies a call: the stage and what the model was sent.
    public struct Request: Sendable, Hashable {
        public var stage: String
        public var system: String?
        public var messages: [ChatMessage]
        /// The tools offered besides the output tool.
        public var tools: [ToolDefinition]
        public var outputSchema: JSONValue?

        public init(_ request: ModelRequest) {
            stage = request.stageName
            system = request.system
            messages = request.messages
            tools = request.tools
            outputSchema = request.outputSchema
        }

        init(stage: String, system: String?, messages: [ChatMessage], tools: [ToolDefinition], outputSchema: JSONValue?) {
            self.stage = stage
            self.system = system
            self.messages = messages
            self.tools = tools
            self.outputSchema = outputSchema
        }

        /// The request with its system prompt and every block of its messages as their hashes
        /// (`record.prompts: hash`), as `RecordPolicy` hashes a request.
        var hashed: Request {
            var copy = self
            copy.system = system.map { HashedText($0).description }
            copy.messages = messages.map { ChatMessage($0.role, $0.content.map(RecordPolicy.hashed)) }
            return copy
        }

        /// The request as the lines a difference is shown in: a text message as `role: text`,
        /// a block a line (`assistant: [tool_use ID NAME] {input}`, `user: [tool_result ID] text`).
        var lines: [String] {
            var lines: [String] = []
            func add(_ text: String) { lines += text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) }
            if let system { add("system: " + system) }
            for message in messages {
                let role = message.role.rawValue
                if message.content.allSatisfy({ if case .text = $0 { true } else { false } }) {
                    add("\(role): \(message.text)")
                    continue
                }
                for block in message.content {
                    switch block {
                    case .text(let text): add("\(role): \(text)")
                    case .toolUse(let id, let name, let input): add("\(role): [tool_use \(id) \(name)] \(input.serialized())")
                    case .toolResult(let id, let content, let isError):
                        add("\(role): [tool_result \(id)\(isError ? " error" : "")] \(content)")
                    }
                }
            }
            for tool in tools { lines.append("tool: \(tool.name) \(tool.inputSchema.serialized())") }
            if let outputSchema { lines.append("output schema: " + outputSchema.serialized()) }
            return lines
        }

        var json: JSONValue {
            var request: JSONObject = ["stage": .string(stage), "messages": .array(messages.map(CassetteCodec.message))]
            if let system { request["system"] = .string(system) }
            if !tools.isEmpty { request["tools"] = .array(tools.map(\.json)) }
            if let outputSchema { request["output_schema"] = outputSchema }
            return .object(request)
        }

        init?(_ value: JSONValue) {
            guard let stage = value["stage"]?.stringValue, let written = value["messages"]?.arrayValue else { return nil }
            var messages: [ChatMessage] = []
            for message in written {
                guard let message = CassetteCodec.message(message) else { return nil }
                messages.append(message)
            }
            var tools: [ToolDefinition] = []
            for tool in value["tools"]?.arrayValue ?? [] {
                guard let name = tool["name"]?.stringValue, let schema = tool["input_schema"] else { return nil }
                tools.append(ToolDefinition(name: name, description: tool["description"]?.stringValue ?? "", inputSchema: schema))
            }
            self.init(stage: stage, system: value["system"]?.stringValue, messages: messages, tools: tools, outputSchema: value["output_schema"])
        }
    }

    /// What the call came back with.
    public enum Outcome: Sendable {
        case reply(ModelReply)
        /// A failed call: replayed as the same error, so retries and fallbacks go the same way.
        case failure(ProviderError)
    }

    public var provider: String
    public var model: String
    public var modelName: String
    public var unit: String
    public var request: Request
    public var outcome: Outcome

    /// The answer's text, as the provider recognised it (`ModelReply.answerText`); nil for a failed call.
    public var reply: String? {
        if case .reply(let reply) = outcome { return reply.answerText }
        return nil
    }

    /// The entry as a cassette recorded under `policy` keeps it: the request hashed with the
    /// prompts, the reply's blocks and answer with the outputs.
    func recorded(under policy: RecordPolicy) -> CassetteEntry {
        var entry = self
        if policy.hashesPrompts { entry.request = request.hashed }
        if policy.hashesOutputs, case .reply(var reply) = outcome {
            reply.content = reply.content.map(RecordPolicy.hashed)
            reply.answerText = HashedText(reply.answerText).description
            entry.outcome = .reply(reply)
        }
        return entry
    }

    public var json: JSONValue {
        var line: JSONObject = [
            "provider": .string(provider), "model": .string(model), "model_name": .string(modelName), "unit": .string(unit),
            "request": request.json,
        ]
        switch outcome {
        case .reply(let reply):
            line["reply"] = .string(reply.answerText)
            line["content"] = .array(reply.content.map(\.json))
            line["stop_reason"] = .string(CassetteCodec.name(reply.stopReason))
            line["usage"] = ["input": .number(JSONNumber(reply.usage.input)), "output": .number(JSONNumber(reply.usage.output))]
        case .failure(let error):
            line["error"] = CassetteCodec.error(error)
        }
        return .object(line)
    }

    init(request: ModelRequest, outcome: Outcome) {
        provider = request.model.provider.name
        model = request.model.model
        modelName = request.model.name
        unit = request.unit.description
        self.request = Request(request)
        self.outcome = outcome
    }

    init?(_ value: JSONValue) {
        guard let written = value["request"], let request = Request(written) else { return nil }
        if let error = value["error"] {
            guard let error = CassetteCodec.error(error) else { return nil }
            outcome = .failure(error)
        } else {
            guard let text = value["reply"]?.stringValue else { return nil }
            let usage = TokenUsage(
                input: value["usage"]?["input"]?.numberValue?.intValue ?? 0, output: value["usage"]?["output"]?.numberValue?.intValue ?? 0)
            if let blocks = value["content"]?.arrayValue {
                var content: [ContentBlock] = []
                for block in blocks {
                    guard let block = CassetteCodec.block(block) else { return nil }
                    content.append(block)
                }
                outcome = .reply(
                    ModelReply(content: content, stopReason: StopReason(anthropic: value["stop_reason"]?.stringValue), usage: usage, answerText: text))
            } else {
                // A line recorded before blocks were: the answer's text was all it kept.
                outcome = .reply(ModelReply(text: text, usage: usage))
            }
        }
        self.request = request
        provider = value["provider"]?.stringValue ?? ""
        model = value["model"]?.stringValue ?? ""
        modelName = value["model_name"]?.stringValue ?? ""
        unit = value["unit"]?.stringValue ?? request.stage
    }
}

/// Why a cassette cannot be used.
public struct CassetteError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var reason: String
    public var description: String { "cassette \(path): \(reason)" }
}

public enum Cassette {
    /// The largest cassette read.
    public static let maxBytes = 256 * 1024 * 1024

    /// Everything a cassette holds, in the order recorded.
    public struct Contents: Sendable {
        public var calls: [CassetteEntry] = []
        public var toolLists: [CassetteToolList] = []
        public var toolCalls: [CassetteToolCall] = []
    }

    /// The lines of a cassette file, in the order recorded.
    public static func read(_ path: String) throws(CassetteError) -> Contents {
        let bytes: [UInt8]
        do {
            bytes = try BoundedRead.file(path, limit: maxBytes)
        } catch {
            throw CassetteError(path: path, reason: "cannot be read: \(error)")
        }
        var contents = Contents()
        for (index, line) in bytes.split(separator: UInt8(ascii: "\n")).enumerated() {
            let value: JSONValue
            do {
                value = try JSONParser.parse(Array(line))
            } catch {
                throw CassetteError(path: path, reason: "line \(index + 1) is not JSON: \(error)")
            }
            if value["tool_call"] != nil {
                guard let call = CassetteToolCall(value) else {
                    throw CassetteError(path: path, reason: "line \(index + 1) is not a recorded tool call (it needs `tool_call.server`, `tool_call.tool`, `tool_call.arguments`, and `outcome` or `failure`)")
                }
                contents.toolCalls.append(call)
            } else if value["tools_of"] != nil {
                guard let list = CassetteToolList(value) else {
                    throw CassetteError(path: path, reason: "line \(index + 1) is not a recorded tool list (it needs `tools_of` and `tools`)")
                }
                contents.toolLists.append(list)
            } else {
                guard let entry = CassetteEntry(value) else {
                    throw CassetteError(path: path, reason: "line \(index + 1) is not a recorded call (it needs `request.stage`, `request.messages`, and `reply` or `error`)")
                }
                contents.calls.append(entry)
            }
        }
        return contents
    }
}

/// A recording of model exchanges (`pipe run --record FILE`): JSON Lines, one call a line,
/// with the provider, the model, the stage, the rendered request and the reply. No key,
/// header, or base URL is ever written: only what the request and the reply say.
///
/// `pipe run --replay FILE` and a test case's `replay:` answer from it (`ReplayProvider`),
/// matching each call by its stage and its rendered request (`CassetteEntry.Request`).
public struct CassetteEntry: Sendable, Hashable {
    /// What identifies a call: the stage and what the model was sent.
    public struct Request: Sendable, Hashable {
        public var stage: String
        public var system: String?
        /// Each message as `role: text`.
        public var messages: [String]
        public var outputSchema: JSONValue?

        public init(_ request: ModelRequest) {
            stage = request.stageName
            system = request.system
            messages = request.messages.map { "\($0.role.rawValue): \($0.text)" }
            outputSchema = request.outputSchema
        }

        init(stage: String, system: String?, messages: [String], outputSchema: JSONValue?) {
            self.stage = stage
            self.system = system
            self.messages = messages
            self.outputSchema = outputSchema
        }

        /// The request with its system prompt and each message's text (after `role: `) as
        /// their hashes (`record.prompts: hash`).
        var hashed: Request {
            var copy = self
            copy.system = system.map { HashedText($0).description }
            copy.messages = messages.map { message in
                guard let colon = message.range(of: ": ") else { return HashedText(message).description }
                return message[..<colon.upperBound] + HashedText(String(message[colon.upperBound...])).description
            }
            return copy
        }

        /// The request as the lines a difference is shown in.
        var lines: [String] {
            var lines: [String] = []
            if let system { lines += ("system: " + system).split(separator: "\n", omittingEmptySubsequences: false).map(String.init) }
            for message in messages { lines += message.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) }
            if let outputSchema { lines.append("output schema: " + outputSchema.serialized()) }
            return lines
        }
    }

    public var provider: String
    public var model: String
    public var modelName: String
    public var unit: String
    public var request: Request
    /// The answer's text, as the provider recognised it (`ModelReply.answerText`).
    public var reply: String
    public var usage: TokenUsage

    public var json: JSONValue {
        var request: JSONObject = ["stage": .string(self.request.stage), "messages": .array(self.request.messages.map(JSONValue.string))]
        if let system = self.request.system { request["system"] = .string(system) }
        if let schema = self.request.outputSchema { request["output_schema"] = schema }
        return [
            "provider": .string(provider), "model": .string(model), "model_name": .string(modelName), "unit": .string(unit),
            "request": .object(request), "reply": .string(reply),
            "usage": ["input": .number(JSONNumber(usage.input)), "output": .number(JSONNumber(usage.output))],
        ]
    }

    /// The entry as a cassette recorded under `policy` keeps it.
    func recorded(under policy: RecordPolicy) -> CassetteEntry {
        var entry = self
        if policy.hashesPrompts { entry.request = request.hashed }
        if policy.hashesOutputs { entry.reply = HashedText(reply).description }
        return entry
    }

    init(request: ModelRequest, reply: ModelReply) {
        provider = request.model.provider.name
        model = request.model.model
        modelName = request.model.name
        unit = request.unit.description
        self.request = Request(request)
        self.reply = reply.answerText
        usage = reply.usage
    }

    init?(_ value: JSONValue) {
        guard let request = value["request"], let stage = request["stage"]?.stringValue,
            let messages = request["messages"]?.arrayValue?.compactMap(\.stringValue), let reply = value["reply"]?.stringValue
        else { return nil }
        self.request = Request(stage: stage, system: request["system"]?.stringValue, messages: messages, outputSchema: request["output_schema"])
        self.reply = reply
        provider = value["provider"]?.stringValue ?? ""
        model = value["model"]?.stringValue ?? ""
        modelName = value["model_name"]?.stringValue ?? ""
        unit = value["unit"]?.stringValue ?? stage
        usage = TokenUsage(
            input: value["usage"]?["input"]?.numberValue?.intValue ?? 0, output: value["usage"]?["output"]?.numberValue?.intValue ?? 0)
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

    /// The entries of a cassette file, in the order recorded.
    public static func read(_ path: String) throws(CassetteError) -> [CassetteEntry] {
        let bytes: [UInt8]
        do {
            bytes = try BoundedRead.file(path, limit: maxBytes)
        } catch {
            throw CassetteError(path: path, reason: "cannot be read: \(error)")
        }
        var entries: [CassetteEntry] = []
        for (index, line) in bytes.split(separator: UInt8(ascii: "\n")).enumerated() {
            let value: JSONValue
            do {
                value = try JSONParser.parse(Array(line))
            } catch {
                throw CassetteError(path: path, reason: "line \(index + 1) is not JSON: \(error)")
            }
            guard let entry = CassetteEntry(value) else {
                throw CassetteError(path: path, reason: "line \(index + 1) is not a recorded call (it needs `request.stage`, `request.messages`, `reply`)")
            }
            entries.append(entry)
        }
        return entries
    }
}

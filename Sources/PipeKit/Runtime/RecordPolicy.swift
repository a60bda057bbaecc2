/// How a run's text is kept where it is recorded (the run store, `--trace`, the OpenTelemetry
/// export, `--record` cassettes): `record: { prompts: full | hash, outputs: full | hash }` in
/// the spec, `--record-prompts`/`--record-outputs` on the command line. A hashed text is kept
/// as `HashedText` (its SHA-256 and size), never as text. What the run computes with (the
/// values stages read, the output on stdout) is never hashed.
///
/// Prompts: the run's input, the system prompts and messages a model is sent (tool results
/// included, as they go back to the model), a command stage's stdin and arguments.
/// Outputs: replies, the stages' values (a command's stdout), the run's output, the arguments
/// of the tools a model calls.
public struct RecordPolicy: Sendable, Hashable {
    public enum Mode: String, Sendable, Hashable, CaseIterable {
        case full, hash
    }

    public var prompts: Mode
    public var outputs: Mode

    public init(prompts: Mode = .full, outputs: Mode = .full) {
        self.prompts = prompts
        self.outputs = outputs
    }

    public static let full = RecordPolicy()

    public var hashesPrompts: Bool { prompts == .hash }
    public var hashesOutputs: Bool { outputs == .hash }
    public var hashesAnything: Bool { hashesPrompts || hashesOutputs }

    /// The spec's policy with the command line's choices (nil: the spec's) over it.
    public func overridden(prompts: Mode?, outputs: Mode?) -> RecordPolicy {
        RecordPolicy(prompts: prompts ?? self.prompts, outputs: outputs ?? self.outputs)
    }

    // MARK: What is recorded

    /// The run's input as it is recorded (hashed with the prompts).
    public func input(_ value: JSONValue) -> JSONValue {
        hashesPrompts ? .string(HashedText(value).description) : value
    }

    /// A value (a stage's, the run's output) as it is recorded (hashed with the outputs).
    public func output(_ value: JSONValue?) -> JSONValue? {
        guard hashesOutputs, let value else { return value }
        return .string(HashedText(value).description)
    }

    /// A model call as it is recorded: the request's texts hashed with the prompts, the reply
    /// with the outputs. A hashed reply cannot answer `--cache`: its cache key is dropped.
    public func call(_ call: CallRecord) -> CallRecord {
        guard hashesAnything else { return call }
        var call = call
        if hashesPrompts {
            // The key is the real request's (made now, before its texts are hashed), so `--cache` still matches.
            call.madeCacheKey = call.cacheKey
            call.request = request(call.request)
        }
        if hashesOutputs {
            call.reply = call.reply.map { HashedText($0).description }
            call.madeCacheKey = ""
        }
        return call
    }

    /// A request whose system prompt and message texts are hashed; a reply's blocks in the
    /// conversation (an earlier assistant turn) are hashed as prompts too: they are sent.
    public func request(_ request: ModelRequest) -> ModelRequest {
        guard hashesPrompts else { return request }
        var request = request
        request.system = request.system.map { HashedText($0).description }
        request.messages = request.messages.map { message in
            ChatMessage(message.role, message.content.map(Self.hashed))
        }
        return request
    }

    static func hashed(_ block: ContentBlock) -> ContentBlock {
        switch block {
        case .text(let text): .text(HashedText(text).description)
        case .toolUse(let id, let name, let input): .toolUse(id: id, name: name, input: .string(HashedText(input).description))
        case .toolResult(let id, let content, let isError): .toolResult(toolUseID: id, content: HashedText(content).description, isError: isError)
        }
    }

    /// A tool call as it is recorded: its arguments, which the model wrote, hashed with the outputs.
    /// Its result, which goes back to the model, is hashed with the prompts.
    public func toolCall(_ call: ToolCallRecord) -> ToolCallRecord {
        var call = call
        if hashesOutputs { call.arguments = .string(HashedText(call.arguments).description) }
        if hashesPrompts { call.result = call.result.map { HashedText($0).description } }
        return call
    }

    /// A stage as it is recorded: a hashed value has no fingerprint, so `--resume` and `--cache`
    /// never reuse it (its readers need the real value): the stage runs again.
    public func stage(_ stage: StageRecord) -> StageRecord {
        guard hashesOutputs, stage.output != nil else { return stage }
        var stage = stage
        stage.output = output(stage.output)
        stage.fingerprint = nil
        return stage
    }

    /// A run's end as it is recorded: its output hashed with the outputs.
    public func end(_ end: RunEnd) -> RunEnd {
        var end = end
        end.output = output(end.output)
        return end
    }
}

/// A text kept as its SHA-256 and its size in bytes: `sha256:HEX (N bytes)`. A JSON value
/// that is not a string is hashed as its compact JSON text.
public struct HashedText: Sendable, Hashable, CustomStringConvertible {
    public var hex: String
    public var bytes: Int

    public init(_ text: String) {
        hex = SHA256.hex(text)
        bytes = text.utf8.count
    }

    public init(_ value: JSONValue) {
        self.init(value.stringValue ?? value.serialized())
    }

    public var description: String { "sha256:\(hex) (\(bytes) bytes)" }

    /// The hash a recorded text stands for, when it is one.
    public init?(recorded text: String) {
        guard text.hasPrefix("sha256:"), text.hasSuffix(" bytes)"), text.utf8.count < 100 else { return nil }
        let body = text.dropFirst("sha256:".count).dropLast(" bytes)".count)
        let parts = body.split(separator: " (", maxSplits: 1)
        guard parts.count == 2, parts[0].count == 64, parts[0].allSatisfy(\.isHexDigit), let bytes = Int(parts[1]) else { return nil }
        hex = String(parts[0])
        self.bytes = bytes
    }

    /// Whether `value` (a recorded input, say) is a hash rather than the value itself.
    public static func isHashed(_ value: JSONValue) -> Bool {
        value.stringValue.flatMap(HashedText.init(recorded:)) != nil
    }
}

/// A run's journal seen through its `RecordPolicy`: the stages' values are hashed as the
/// policy says before the store sees them (the calls and tool calls come hashed from their
/// executor, which traces them too); what a resumed or cached run reads passes unchanged.
struct HashingJournal: RunJournal {
    let inner: any RunJournal
    let policy: RecordPolicy

    func reusableOutput(stage: String, fingerprint: String) async -> JSONValue? {
        await inner.reusableOutput(stage: stage, fingerprint: fingerprint)
    }

    var resumes: Bool { inner.resumes }

    func cachedReply(key: String) async -> ModelReply? { await inner.cachedReply(key: key) }

    func cachedOutput(fingerprint: String) async -> JSONValue? { await inner.cachedOutput(fingerprint: fingerprint) }

    func record(_ call: CallRecord) async { await inner.record(call) }

    func record(_ stage: StageRecord) async { await inner.record(policy.stage(stage)) }

    func record(_ toolCall: ToolCallRecord) async { await inner.record(toolCall) }

    func idle() { inner.idle() }
}

extension RecordPolicy {
    /// A call as the trace and the journal get it, hashed once, off the HTTP thread (a prompt
    /// may be megabytes).
    func recorded(_ call: CallRecord) async -> CallRecord {
        guard hashesAnything else { return call }
        return await offHTTPThread { self.call(call) }
    }

    func recorded(_ toolCall: ToolCallRecord) async -> ToolCallRecord {
        guard hashesAnything else { return toolCall }
        return await offHTTPThread { self.toolCall(toolCall) }
    }

    /// A journal that records the stages' values as the policy says (nil stays nil).
    func journal(_ journal: (any RunJournal)?) -> (any RunJournal)? {
        guard hashesOutputs, let journal else { return journal }
        return HashingJournal(inner: journal, policy: self)
    }
}

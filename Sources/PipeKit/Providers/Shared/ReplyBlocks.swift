/// A reply's content as a reader collects it, from a whole reply or from stream deltas: the
/// blocks in the order they started, tool inputs as the JSON text the model wrote.
struct ReplyBlocks: Sendable {
    enum Block: Sendable {
        case text(String)
        case toolUse(id: String, name: String, input: String)
    }

    private(set) var blocks: [Block] = []
    /// The API's index of a block (Anthropic's `index`, OpenAI's tool call `index`) → its place in `blocks`.
    private var places: [Int: Int] = [:]
    /// Characters of text and tool input received so far.
    private(set) var characters = 0

    /// Starts the text block `index` with `text`; returns whether the reply grew.
    mutating func startText(at index: Int, _ text: String) -> Bool {
        start(.text(""), at: index)
        return append(text, at: index)
    }

    /// Starts the tool call `index`, with the first part of its input.
    mutating func startToolUse(at index: Int, id: String, name: String, input: String = "") -> Bool {
        start(.toolUse(id: id, name: name, input: ""), at: index)
        return append(input, at: index)
    }

    /// Appends to the text or tool input of block `index`; a piece for a block that has not
    /// started starts a text block.
    mutating func append(_ piece: String, at index: Int) -> Bool {
        guard !piece.isEmpty else { return false }
        guard let place = places[index] else { return startText(at: index, piece) }
        // The array lets go of the block's string before it grows, so that the string is not
        // shared and grows in place: `text + piece` copied the whole reply at every delta
        // (quadratic in a long reply's deltas: 40,000 deltas took 0.8 s, now 8 ms, unoptimized).
        switch blocks[place] {
        case .text(var text):
            blocks[place] = .text("")
            text += piece
            blocks[place] = .text(text)
        case .toolUse(let id, let name, var input):
            blocks[place] = .text("")
            input += piece
            blocks[place] = .toolUse(id: id, name: name, input: input)
        }
        characters += piece.unicodeScalars.count
        return true
    }

    private mutating func start(_ block: Block, at index: Int) {
        places[index] = blocks.count
        blocks.append(block)
    }

    /// The text blocks, joined.
    var text: String {
        blocks.reduce(into: "") { text, block in
            if case .text(let piece) = block { text += piece }
        }
    }

    /// UTF-8 bytes of the text and tool inputs, for estimates.
    var utf8Count: Int {
        blocks.reduce(0) { count, block in
            switch block {
            case .text(let text): count + text.utf8.count
            case .toolUse(_, _, let input): count + input.utf8.count
            }
        }
    }

    /// The names of the tools called, in order.
    var toolNames: [String] {
        blocks.compactMap { block in
            if case .toolUse(_, let name, _) = block { return name }
            return nil
        }
    }

    /// The input of the first call of the tool `name`.
    func input(ofTool name: String) -> String? {
        for block in blocks {
            if case .toolUse(_, let called, let input) = block, called == name { return input }
        }
        return nil
    }

    /// The stage's answer: for a structured stage, the input of its output tool (`answerTool`),
    /// found by name, else the text for validation to judge; for a text stage, the text. Empty
    /// when the reply calls tools of a request that offers some (a turn, whose calls of tools
    /// not offered get error results). Nil when the reply has neither (the provider says why).
    /// A call of a tool by a request that offers none, without the output tool, is no
    /// answer: an invalid response, so the attempt is made again.
    /// The output tool is named after the stage (`ProviderNames.sanitized`).
    func answer(to request: ModelRequest, schema: ObjectRootSchema?, mapper: ProviderErrorMapper) throws(ProviderError) -> String? {
        let answerTool = ProviderNames.sanitized(request.stageName)
        let offered = request.tools
        if let schema, let input = input(ofTool: answerTool) {
            return schema.unwrap(input.isEmpty ? "{}" : input)
        }
        let called = toolNames
        // A stage with tools answers a call of a tool it was not offered with an error result.
        if !offered.isEmpty, !called.isEmpty { return "" }
        if let stray = called.first(where: { name in !offered.contains { $0.name == name } }) {
            let expected = schema == nil ? "" : ", not the output tool `\(answerTool)`"
            throw mapper.invalidResponse("the reply calls the tool `\(stray)`, which the request does not offer\(expected)")
        }
        if !called.isEmpty { return text }
        if text.isEmpty { return nil }
        return schema?.unwrap(text) ?? text
    }

    /// The reply with `answer` (from `answer(to:schema:mapper:)`). A model or a server may echo
    /// the key: it is printed, stored and passed on nowhere.
    func reply(
        answering answer: String, stopReason: StopReason, usage: TokenUsage, model: String?, mapper: ProviderErrorMapper
    ) async -> ModelReply {
        ModelReply(
            content: await content(mapper), stopReason: stopReason, usage: usage, answerText: mapper.redact(answer),
            model: model.map(mapper.redact))
    }

    /// The blocks as the reply carries them, with the key redacted. A tool input that is not
    /// JSON is kept as the string the model wrote. Large inputs are parsed off the HTTP thread
    /// (which the calling stage prefers), as the runtime validates replies.
    func content(_ mapper: ProviderErrorMapper) async -> [ContentBlock] {
        if characters > Self.inlineParseCharacters {
            return await withTaskExecutorPreference(globalConcurrentExecutor) { parsed(mapper) }
        }
        return parsed(mapper)
    }

    /// Up to this many characters, parsing takes microseconds: not worth a hop to another thread.
    static let inlineParseCharacters = 16_384

    private func parsed(_ mapper: ProviderErrorMapper) -> [ContentBlock] {
        blocks.map { block in
            switch block {
            case .text(let text): return .text(mapper.redact(text))
            case .toolUse(let id, let name, let input):
                let written = mapper.redact(input)
                let value = written.isEmpty ? JSONValue.object(JSONObject()) : (try? JSONParser.parse(written)) ?? .string(written)
                return .toolUse(id: id, name: name, input: value)
            }
        }
    }
}

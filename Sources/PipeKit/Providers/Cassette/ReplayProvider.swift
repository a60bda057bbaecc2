/// Answers calls from a cassette (`pipe run --replay FILE`, a test case's `replay:`): a call
/// gets the reply recorded for the same stage and the same rendered request (every message
/// with its blocks, the tools offered): its content blocks, so a tool-using stage's tool calls
/// come from the cassette too, or the error a failed call ended with. Identical requests get
/// their recorded outcomes in turn (the last repeats): a 500 then a reply replays as the same
/// two attempts. `tools` answers the tool servers' lists and calls. A request that is not in
/// the cassette fails the stage (not retried), showing how it differs from the nearest
/// recorded request of the stage: a prompt edited since the recording. It never opens a socket.
public final class ReplayProvider: ModelProvider {
    let path: String
    let entries: [CassetteEntry.Request: [CassetteEntry]]
    let byStage: [String: [CassetteEntry.Request]]
    private let used = Locked<[CassetteEntry.Request: Int]>([:])
    /// The tool servers of a replayed run: nothing started, every result from the cassette.
    public let tools: ReplayToolServers

    public convenience init(path: String, entries: [CassetteEntry]) {
        self.init(path: path, contents: Cassette.Contents(calls: entries))
    }

    public init(path: String, contents: Cassette.Contents) {
        self.path = path
        tools = ReplayToolServers(path: path, contents: contents)
        let entries = contents.calls
        var grouped: [CassetteEntry.Request: [CassetteEntry]] = [:]
        var byStage: [String: [CassetteEntry.Request]] = [:]
        for entry in entries {
            if grouped[entry.request] == nil { byStage[entry.request.stage, default: []].append(entry.request) }
            grouped[entry.request, default: []].append(entry)
        }
        self.entries = grouped
        self.byStage = byStage
    }

    public convenience init(reading path: String) throws(CassetteError) {
        self.init(path: path, contents: try Cassette.read(path))
    }

    public func complete(_ request: ModelRequest, progress: @escaping @Sendable (StreamProgress) -> Void)
        async throws(ProviderError) -> ModelReply
    {
        if Task.isCancelled { throw .cancelled }
        var key = CassetteEntry.Request(request)
        // A cassette recorded with `record.prompts: hash` holds the requests' hashes.
        if entries[key] == nil, entries[key.hashed] != nil { key = key.hashed }
        guard let recorded = entries[key], !recorded.isEmpty else { throw .invalidRequest(miss(key)) }
        let index = used.withLock { used in
            defer { used[key, default: 0] += 1 }
            return min(used[key, default: 0], recorded.count - 1)
        }
        switch recorded[index].outcome {
        case .reply(let reply):
            if HashedText(recorded: reply.answerText) != nil {
                throw .invalidRequest("the reply of stage `\(key.stage)` in the replay cassette \(path) was recorded as its hash "
                    + "(record.outputs: hash): record the cassette again with full outputs to replay it")
            }
            progress(StreamProgress(characters: reply.content.reduce(0) { $0 + $1.characters }))
            return reply
        case .failure(let error):
            throw error
        }
    }

    /// Why a request is not in the cassette, with the difference from the nearest one.
    func miss(_ request: CassetteEntry.Request) -> String {
        guard let candidates = byStage[request.stage], !candidates.isEmpty else {
            return "not in the replay cassette \(path): it has no call of stage `\(request.stage)`; record it again with --record"
        }
        let lines = request.lines
        // The same turn of the conversation first (as many messages), then the fewest lines apart.
        func apart(_ recorded: CassetteEntry.Request) -> (Int, Int) {
            (abs(recorded.messages.count - request.messages.count), Self.distance(recorded.lines, lines))
        }
        let nearest = candidates.min { a, b in apart(a) < apart(b) }!
        return "not in the replay cassette \(path): the request of stage `\(request.stage)` differs from the one recorded"
            + " (- recorded, + now):\n" + Self.difference(nearest.lines, lines)
            + "\nrecord it again with --record, or undo the change"
    }

    /// How many lines differ once the common beginning and end are set aside.
    static func distance(_ a: [String], _ b: [String]) -> Int {
        let (prefix, suffix) = common(a, b)
        return (a.count - prefix - suffix) + (b.count - prefix - suffix)
    }

    static func common(_ a: [String], _ b: [String]) -> (prefix: Int, suffix: Int) {
        var prefix = 0
        while prefix < a.count, prefix < b.count, a[prefix] == b[prefix] { prefix += 1 }
        var suffix = 0
        while suffix < a.count - prefix, suffix < b.count - prefix, a[a.count - 1 - suffix] == b[b.count - 1 - suffix] { suffix += 1 }
        return (prefix, suffix)
    }

    /// The lines that differ, at most 5 each side, each cut at 160 characters.
    static func difference(_ recorded: [String], _ now: [String]) -> String {
        let (prefix, suffix) = common(recorded, now)
        func shown(_ lines: ArraySlice<String>, _ mark: String) -> [String] {
            var out = lines.prefix(5).map { line in "  \(mark) " + (line.count > 160 ? String(line.prefix(159)) + "…" : line) }
            if lines.count > 5 { out.append("  \(mark) ... \(lines.count - 5) more lines") }
            return out
        }
        var out = prefix > 0 ? ["  @@ line \(prefix + 1)"] : []
        out += shown(recorded[prefix..<(recorded.count - suffix)], "-")
        out += shown(now[prefix..<(now.count - suffix)], "+")
        return out.joined(separator: "\n")
    }
}

import FakeLLM
import Foundation
import Testing
@testable import PipeKit

/// `pipe batch` on the embedded queue, run as a user runs it against the fake server: invalid
/// lines and failing items reported, results complete and in order, CSV and stdin, a batch
/// killed and resumed without paying twice, and the cost limit.
@Suite final class BatchCommandTests: Sendable {
    let folder: TemporaryFolder
    let spec: String
    let store: String

    init() throws {
        folder = try TemporaryFolder("pipe-batch")
        spec = folder.url.appendingPathComponent("classify.yaml").path
        try Self.specText.write(toFile: spec, atomically: true, encoding: .utf8)
        store = folder.url.appendingPathComponent("runs.db").path
    }

    /// One stage; the prompt names the item's id, so the server can tell the items apart. An
    /// output token costs $1, so that a cost limit is reached in a few items.
    static let specText = """
        version: 1
        name: classify
        input:
          schema: { type: object, required: [id, text], properties: { id: { type: string, pattern: "^[0-9]+$" }, text: { type: string } } }
        models:
          claude: { provider: anthropic, model: claude-test, price: { input: 0.0, output: 1000000.0 } }
        defaults: { model: claude, max_tokens: 100, retries: 1, timeout: 60s }
        stages:
          classify:
            prompt: "ITEM {{ input.id }}: {{ input.text }}"
            output: { schema: { type: object, required: [label], properties: { label: { type: string } } } }
        output: "{{ classify.label }}"
        """

    /// The item id a request is for (`ITEM 17: ...`).
    static func item(of request: FakeRequest) -> Int? {
        guard let range = request.prompt.range(of: "ITEM ") else { return nil }
        return Int(request.prompt[range.upperBound...].prefix { $0 != ":" })
    }

    /// Every item whose id is a multiple of 23 gets a 400 (not retried); the others a label.
    static func reply(_ request: FakeRequest) -> FakeReply {
        guard let id = item(of: request) else { return .error(status: 400, message: "no item") }
        if id % 23 == 0 { return .error(status: 400, message: "injected fault for item \(id)") }
        return .text(#"{"label": "L\#(id)"}"#)
    }

    func environment(_ server: FakeLLMServer) -> [String: String] {
        ["PATH": "/usr/bin:/bin", "ANTHROPIC_BASE_URL": server.baseURL, "ANTHROPIC_API_KEY": "k", "PIPE_STORE": store]
    }

    func withServer(
        _ handler: @escaping FakeLLMServer.Handler = BatchCommandTests.reply, _ body: (FakeLLMServer) async throws -> Void
    ) async throws {
        let server = FakeLLMServer(handler: handler)
        try server.start()
        defer { server.stop() }
        try await body(server)
    }

    func write(_ text: String, to name: String) throws -> String {
        let path = folder.url.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Result lines by item.
    func results(_ text: String) throws -> [Int: JSONValue] { try Self.results(text) }

    /// Result lines by item; an item twice is a failure.
    static func results(_ text: String) throws -> [Int: JSONValue] {
        var byItem: [Int: JSONValue] = [:]
        for line in text.split(separator: "\n") {
            let value = try JSONParser.parse(String(line))
            let item = try #require(value["item"]?.numberValue?.intValue)
            #expect(byItem[item] == nil, "item \(item) reported twice")
            byItem[item] = value
        }
        return byItem
    }

    /// `count` items, seeded: most valid, some not JSON, some failing the input schema, and
    /// blank lines between. Returns the file and, per item, what it is.
    enum Kind { case valid(id: Int), notJSON, badSchema }
    func generated(_ count: Int, seed: UInt64) -> (text: String, kinds: [(kind: Kind, line: Int)]) {
        var random = SplitMix64(state: seed)
        var lines: [String] = []
        var kinds: [(Kind, Int)] = []
        for id in 0..<count {
            if Int.random(in: 0..<10, using: &random) == 0 { lines.append("") }
            switch Int.random(in: 0..<20, using: &random) {
            case 0:
                lines.append(#"{"id": "\#(id)", "text": unquoted}"#)
                kinds.append((.notJSON, lines.count))
            case 1:
                lines.append(#"{"id": \#(id), "text": "a number id"}"#)
                kinds.append((.badSchema, lines.count))
            default:
                lines.append(#"{"id": "\#(id)", "text": "text \#(Int.random(in: 0..<1000, using: &random))"}"#)
                kinds.append((.valid(id: id), lines.count))
            }
        }
        return (lines.joined(separator: "\n") + "\n", kinds)
    }

    @Test func aBatchReportsInvalidLinesFailedItemsAndSuccessesInInputOrder() async throws {
        let (text, kinds) = generated(300, seed: 12)
        let input = try write(text, to: "items.jsonl")
        try await withServer { server in
            let batch = try await runPipe(["batch", spec, "--input", input, "--concurrency", "16"], environment: environment(server))
            #expect(batch.status == 1, "\(batch.stderr)")
            let lines = try results(batch.stdout)
            #expect(lines.count == kinds.count)
            var expected = (succeeded: 0, failed: 0, invalid: 0)
            for (index, (kind, line)) in kinds.enumerated() {
                let result = try #require(lines[index], "no result for item \(index)")
                switch kind {
                case .valid(let id) where id % 23 == 0:
                    expected.failed += 1
                    #expect(result["status"] == "failed")
                    #expect(result["stage"] == "classify")
                    #expect(result["error"]?.stringValue?.contains("injected fault for item \(id)") == true, "\(result)")
                    #expect(result["run"]?.stringValue != nil)
                case .valid(let id):
                    expected.succeeded += 1
                    #expect(result["status"] == "succeeded")
                    #expect(result["output"] == .string("L\(id)"))
                    #expect(result["tokens"]?["output"]?.numberValue != nil)
                    #expect(result["cost_usd"]?.numberValue != nil)
                case .notJSON:
                    expected.invalid += 1
                    #expect(result["status"] == "invalid_input")
                    #expect(result["error"]?.stringValue?.hasPrefix("line \(line): not JSON") == true, "\(result)")
                case .badSchema:
                    expected.invalid += 1
                    #expect(result["status"] == "invalid_input")
                    #expect(result["error"]?.stringValue?.hasPrefix("line \(line): the input does not match the input schema") == true, "\(result)")
                }
            }
            #expect(expected.failed > 0 && expected.invalid > 0)
            // Each item that ran called the server once; invalid ones never.
            #expect(server.requestCount == expected.succeeded + expected.failed)
            #expect(batch.stderr.contains(
                "\(expected.succeeded) succeeded, \(expected.failed) failed, \(expected.invalid) invalid input, 0 running, 0 pending"))
            #expect(batch.stderr.hasPrefix("pipe: batch b"))

            // `pipe batch results` prints the same lines in input order.
            let stored = try await runPipe(["batch", "results", "last"], environment: environment(server))
            #expect(stored.status == 0, "\(stored.stderr)")
            let storedLines = stored.stdout.split(separator: "\n")
            #expect(storedLines.count == kinds.count)
            #expect(try storedLines.map { try JSONParser.parse(String($0))["item"]?.numberValue?.intValue } == Array(0..<kinds.count))
            #expect(try results(stored.stdout) == lines)

            // `pipe logs` lists the batch, and each item's run.
            let logs = try await runPipe(["logs", "--limit", "500"], environment: environment(server))
            #expect(logs.status == 0)
            let batchID = String(batch.stderr.dropFirst("pipe: batch ".count).prefix { $0 != "\n" })
            #expect(logs.stdout.contains(batchID))
            let run = try #require(lines[kinds.firstIndex { if case .valid(let id) = $0.kind { id % 23 != 0 } else { false } }!]?["run"]?.stringValue)
            #expect(logs.stdout.contains(run))
            let status = try await runPipe(["batch", "status", batchID], environment: environment(server))
            #expect(status.stdout.contains("items    \(kinds.count)"))
        }
    }

    @Test func csvRowsWithQuotedFieldsAndStdinAreInputs() async throws {
        let csv = "id,text\r\n1,plain\r\n2,\"a, comma\"\r\n3,\"two\nlines\"\r\n4,\"a \"\"quote\"\"\"\r\n5\r\nx6,bad id\r\n"
        try await withServer { server in
            let batch = try await runPipe(
                ["batch", spec, "--input", "-", "--format", "csv", "--quiet"], stdin: csv, environment: environment(server))
            #expect(batch.status == 1, "\(batch.stderr)")
            let lines = try results(batch.stdout)
            #expect(lines.count == 6)
            let prompts = Dictionary(uniqueKeysWithValues: server.log.compactMap { entry in
                Self.item(of: entry.request).map { ($0, entry.request.prompt) }
            })
            #expect(prompts[1] == "ITEM 1: plain")
            #expect(prompts[2] == "ITEM 2: a, comma")
            #expect(prompts[3] == "ITEM 3: two\nlines")
            #expect(prompts[4] == #"ITEM 4: a "quote""#)
            #expect((0..<4).allSatisfy { lines[$0]?["status"] == "succeeded" })
            // A row's line is where it starts: the rows after the two-line field are on lines 6 to 8.
            #expect(lines[4]?["error"]?.stringValue?.hasPrefix("line 7: the row has 1 field, the header 2") == true, "\(String(describing: lines[4]))")
            #expect(lines[5]?["error"]?.stringValue?.hasPrefix("line 8: the input does not match") == true)
        }
        // JSON Lines on stdin, the default format there.
        try await withServer { server in
            let batch = try await runPipe(
                ["batch", spec, "--input", "-"], stdin: #"{"id": "7", "text": "t"}"# + "\n", environment: environment(server))
            #expect(batch.status == 0, "\(batch.stderr)")
            #expect(try results(batch.stdout)[0]?["output"] == "L7")
        }
    }

    /// Under `--mock`, every item takes a stage's `mock:` values from the first, as a `pipe run
    /// --mock` of it alone would: the critic of the writer-critic loop scores 5 then 9 for each
    /// item, so each item writes two drafts (not only the first item, with the others given the
    /// last value at once).
    @Test func underMockEachItemTakesTheMockValuesFromTheFirst() async throws {
        let brief = "\"A launch note for the new search feature, for our customers, short and friendly.\""
        let items = Array(repeating: brief, count: 4).joined(separator: "\n") + "\n"
        let spec = Paths.pipelines.appendingPathComponent("writer-critic-loop.yaml").path
        let batch = try await runPipe(
            ["batch", spec, "--input", "-", "--mock", "--quiet", "--concurrency", "4"], stdin: items,
            environment: ["PATH": "/usr/bin:/bin", "PIPE_STORE": store])
        #expect(batch.status == 0, "\(batch.stderr)")
        let lines = try results(batch.stdout)
        #expect(lines.count == 4)
        let runs = (0..<4).compactMap { lines[$0]?["run"]?.stringValue }
        #expect(runs.count == 4)
        for run in runs {
            let logs = try await runPipe(["logs", run], environment: ["PATH": "/usr/bin:/bin", "PIPE_STORE": store])
            #expect(logs.status == 0, "\(logs.stderr)")
            #expect(logs.stdout.contains("critic@2"), "run \(run) did not revise its draft:\n\(logs.stdout)")
            #expect(!logs.stdout.contains("critic@3"), "\(logs.stdout)")
        }
    }

    /// `count` valid items, ids 1 to `count`.
    func items(_ count: Int) throws -> String {
        try write((0..<count).map { #"{"id": "\#($0 + 1)", "text": "t"}"# }.joined(separator: "\n") + "\n", to: "items.jsonl")
    }

    /// `pipe batch` on `input` at `--concurrency 4`, returned once the server has seen `calls`
    /// requests: ordered by the server's log, not by time.
    func liveBatch(_ input: String, server: FakeLLMServer, after calls: Int) async throws -> LivePipe {
        let live = try LivePipe(["batch", spec, "--input", input, "--concurrency", "4"], environment: environment(server))
        let start = ContinuousClock.now
        while server.requestCount < calls, ContinuousClock.now - start < .seconds(60) {
            try await Task.sleep(for: .milliseconds(5))
        }
        return live
    }

    @Test func aBatchKilledMidWayResumesWithoutRepeatingFinishedItems() async throws {
        let count = 120
        let input = try items(count)
        try await withServer({ Self.reply($0).delayed(by: .milliseconds(60)) }) { server in
            // Killed once the server has seen 40 calls.
            let live = try await liveBatch(input, server: server, after: 40)
            live.send(SIGKILL)
            let killed = await live.finish()
            #expect(killed.status == SIGKILL)
            let before = server.log.map { Self.item(of: $0.request) ?? -1 }
            #expect(before.count < count)

            let resumed = try await runPipe(["batch", "--resume", "last"], environment: environment(server))
            #expect(resumed.status == 1, "\(resumed.stderr)")  // the items with a fault
            #expect(resumed.stderr.contains("items were in flight when it stopped; they resume their runs"))
            let stored = try await runPipe(["batch", "results", "last"], environment: environment(server))
            let lines = try results(stored.stdout)
            #expect(lines.keys.sorted() == Array(0..<count))
            #expect(lines.values.allSatisfy { $0["status"] == ((($0["item"]?.numberValue?.intValue ?? 0) + 1) % 23 == 0 ? "failed" : "succeeded") })
            // No call twice, but for the items in flight at the kill (at most --concurrency) and
            // those whose answers had come but whose records were not yet committed (their slots
            // had gone to the next items: at most --concurrency more).
            var calls: [Int: Int] = [:]
            for entry in server.log { calls[Self.item(of: entry.request) ?? -1, default: 0] += 1 }
            let repeated = calls.filter { $0.value > 1 }
            #expect(repeated.values.allSatisfy { $0 == 2 })
            #expect(repeated.count <= 8, "\(repeated)")
            #expect(repeated.keys.allSatisfy(before.contains))
            #expect(Set(calls.keys) == Set(1...count))
        }
    }

    @Test func theCostLimitLeavesItemsPendingAndResumeFinishesThem() async throws {
        let count = 12
        let text = (0..<count).map { #"{"id": "\#($0 + 1)", "text": "t"}"# }.joined(separator: "\n")
        let input = try write(text, to: "items.jsonl")
        try await withServer { server in
            let batch = try await runPipe(
                ["batch", spec, "--input", input, "--concurrency", "1", "--max-cost-usd", "10"], environment: environment(server))
            #expect(batch.status == 4, "\(batch.stderr)")
            #expect(batch.stderr.contains("--max-cost-usd"))
            let lines = try results(batch.stdout)
            let costs = lines.keys.sorted().map { lines[$0]?["cost_usd"]?.numberValue?.doubleValue ?? 0 }
            #expect(costs.reduce(0, +) >= 10)
            #expect(costs.dropLast().reduce(0, +) < 10)
            #expect(lines.count < count)
            #expect(server.requestCount == lines.count)
            let status = try await runPipe(["batch", "status", "last"], environment: environment(server))
            #expect(status.stdout.contains("\(count - lines.count) pending"), "\(status.stdout)")

            let resumed = try await runPipe(["batch", "--resume", "last"], environment: environment(server))
            #expect(resumed.status == 0, "\(resumed.stderr)")
            #expect(try results(resumed.stdout).count == count - lines.count)
            #expect(server.requestCount == count)
            let all = try await runPipe(["batch", "results", "last"], environment: environment(server))
            #expect(all.stdout.split(separator: "\n").count == count)
        }
    }
}

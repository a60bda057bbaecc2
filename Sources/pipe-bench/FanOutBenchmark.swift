import FakeLLM
import Foundation
import PipeKit

/// `pipe-bench fanout`: a fan-out of N calls at C in flight, through `pipe run` and through a
/// bare HTTP client, against one fake server in one sitting. The server (in this process, a
/// thread a connection) answers every call with a streamed reply after --latency-ms. Timed,
/// each as a process of its own, start to exit, in turn every round:
///
/// - `pipe run` of N independent stages at `--concurrency C`, with `--no-store` and with a run store;
/// - `pipe run` of one `for_each` stage over N items, the same two ways;
/// - the bare client (`pipe-bench fanout-client`): C threads, each on one keep-alive
///   connection of blocking POSIX sockets, sending the same requests and reading each reply
///   to its last byte, parsing nothing.
///
/// The ratio of each `pipe run` median to the bare client's is what the runner adds. With
/// `--compare PIPE`, every `pipe run` is also timed with that other binary (say, main's build),
/// in the same rounds against the same server: an A/B comparison in one sitting.
enum FanOutBenchmark {
    static let command = BenchCommand(
        name: "fanout",
        summary: "N calls at C in flight: `pipe run` (N stages, a for_each of N items; --no-store and stored) vs a bare HTTP client [--calls N] [--concurrency C] [--latency-ms N] [--runs N] [--compare PIPE]",
        usage: "usage: pipe-bench fanout [--calls N] [--concurrency C] [--latency-ms N] [--runs N] [--compare PIPE]",
        valued: ["--calls", "--concurrency", "--latency-ms", "--runs", "--compare"],
        run: run)

    static let client = BenchCommand(
        name: "fanout-client",
        summary: "the bare HTTP client of `fanout`: --url BASE_URL --calls N --concurrency C",
        usage: "usage: pipe-bench fanout-client --url BASE_URL --calls N --concurrency C",
        valued: ["--url", "--calls", "--concurrency"],
        run: runClient)

    /// N independent stages.
    static func stagesSpec(_ calls: Int) -> String {
        "version: 1\nmodels: { m: { provider: anthropic, model: bench } }\ndefaults: { model: m, max_tokens: 16 }\nstages:\n"
            + (1...calls).map { "  s\($0): { prompt: \"item \($0): {{ input }}\" }\n" }.joined()
    }

    /// One stage over the N items of its input.
    static let forEachSpec = """
        version: 1
        input: { schema: { type: array, items: { type: string } } }
        models: { m: { provider: anthropic, model: bench } }
        defaults: { model: m, max_tokens: 16 }
        stages:
          each: { for_each: input, prompt: "{{ item }}" }

        """

    /// The prompt of call `index` (from 1), as both specs and the bare client send it.
    static func prompt(_ index: Int) -> String { "item \(index): The history of tide prediction" }

    @Sendable static func run(_ options: BenchOptions) async throws(BenchOptions.Exit) -> Int32 {
        let calls = try options.number("--calls", default: 500)
        let concurrency = try options.number("--concurrency", default: 50)
        let latencyMS = try options.number("--latency-ms", default: 100)
        let runs = try options.number("--runs", default: 5)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pipe-bench-fanout-\(getpid())")
        defer { try? FileManager.default.removeItem(at: folder) }
        func path(_ name: String) -> String { folder.appendingPathComponent(name).path }
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try stagesSpec(calls).write(toFile: path("stages.yaml"), atomically: true, encoding: .utf8)
            try forEachSpec.write(toFile: path("for-each.yaml"), atomically: true, encoding: .utf8)
            try "The history of tide prediction".write(toFile: path("input.txt"), atomically: true, encoding: .utf8)
            let items = JSONValue.array((1...calls).map { .string(prompt($0)) })
            try items.serialized().write(toFile: path("items.json"), atomically: true, encoding: .utf8)
        } catch {
            print("pipe-bench fanout: \(error)")
            return 1
        }
        let latency = Duration.milliseconds(latencyMS)
        let server = FakeLLMServer { _ in FakeReply.text("The quick brown fox jumps over the lazy dog.").delayed(by: latency).streamed(every: .zero) }
        guard (try? server.start()) != nil else {
            print("pipe-bench fanout: cannot start the fake server")
            return 1
        }
        defer { server.stop() }
        let folderOfBinaries = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let pipe = folderOfBinaries.appendingPathComponent("pipe")
        let bench = folderOfBinaries.appendingPathComponent("pipe-bench")
        let environment = ["PATH": "/usr/bin:/bin", "ANTHROPIC_BASE_URL": server.baseURL, "ANTHROPIC_API_KEY": "bench"]
        let common = ["run", "--quiet", "--concurrency", "\(concurrency)"]
        let pipeRuns: [(name: String, arguments: [String])] = [
            ("\(calls) stages, --no-store", common + [path("stages.yaml"), "--input", path("input.txt"), "--no-store"]),
            ("\(calls) stages, stored", common + [path("stages.yaml"), "--input", path("input.txt"), "--store", path("pipe.db")]),
            ("for_each of \(calls), --no-store", common + [path("for-each.yaml"), "--input", path("items.json"), "--no-store"]),
            ("for_each of \(calls), stored", common + [path("for-each.yaml"), "--input", path("items.json"), "--store", path("pipe.db")]),
        ]
        // Each `pipe run`, then the same with the --compare binary ("B: ").
        let compared = options.text("--compare").map { URL(fileURLWithPath: $0) }
        let scenarios: [(name: String, executable: URL, arguments: [String])] =
            [("bare HTTP client", bench, ["fanout-client", "--url", server.baseURL, "--calls", "\(calls)", "--concurrency", "\(concurrency)"])]
            + pipeRuns.flatMap { run in
                [(run.name, pipe, run.arguments)] + (compared.map { [("B: " + run.name, $0, run.arguments)] } ?? [])
            }
        var walls = Array(repeating: [Double](), count: scenarios.count)
        var phases = Array(repeating: [FanOutPhases](), count: scenarios.count)
        // TCP connections the server accepted, and the most requests it answered at once, in the last round.
        var connections = Array(repeating: 0, count: scenarios.count), inFlight = connections
        for round in 0..<(runs + 1) {
            // Each scenario first in turn, so that drift of the machine's speed hits all alike.
            for offset in 0..<scenarios.count {
                let index = (round + offset) % scenarios.count
                let scenario = scenarios[index]
                server.resetLog()
                guard let span = await StoreOverheadBenchmark.span(scenario.executable, scenario.arguments, environment),
                    server.log.count == calls
                else {
                    print("pipe-bench fanout: \(scenario.name) failed (\(server.log.count) requests served): "
                        + "\(scenario.executable.lastPathComponent) \(scenario.arguments.joined(separator: " "))")
                    return 1
                }
                if round >= 1 {  // 1 warm-up round
                    walls[index].append((span.1 - span.0).seconds * 1000)
                    phases[index].append(FanOutPhases(log: server.log, start: span.0, end: span.1, concurrency: concurrency))
                }
                connections[index] = server.connectionsAccepted
                inFlight[index] = server.maxInFlight
            }
        }
        let bare = RunnerBenchmark.median(walls[0])
        let ideal = Double((calls + concurrency - 1) / concurrency * latencyMS)
        print("fanout: \(calls) calls, \(concurrency) in flight, server latency \(latencyMS) ms (ideal \(Int(ideal)) ms), \(runs) runs each, process start to exit")
        for (index, scenario) in scenarios.enumerated() {
            let values = walls[index], median = RunnerBenchmark.median(values)
            print("  " + scenario.name.padding(toLength: 34, withPad: " ", startingAt: 0) + String(
                format: " median %7.1f ms (min %.1f, max %.1f)  %.3f× the bare client; %d connections, %d in flight at most", median, values.min()!, values.max()!, median / bare, connections[index], inFlight[index]))
            func ms(_ value: (FanOutPhases) -> Double) -> String {
                String(format: "%.2f", RunnerBenchmark.median(phases[index].map(value)) * 1000)
            }
            print("      phases (medians, ms): start → 1st request \(ms(\.beforeFirst)), 1st wave sent over \(ms(\.firstWave)), "
                + "reply → next request on its connection median \(ms(\.handOff)) p90 \(ms(\.handOff90)) "
                + "sum/slot \(ms(\.handOffsPerSlot)), last reply → exit \(ms(\.afterLast))")
        }
        return 0
    }

    /// BASE_URL CALLS CONCURRENCY: the calls' requests over CONCURRENCY keep-alive connections.
    @Sendable static func runClient(_ options: BenchOptions) async throws(BenchOptions.Exit) -> Int32 {
        let text = try options.required("--url")
        guard let url = URL(string: text), let port = url.port else { throw options.invalid("--url", text) }
        let calls = try options.number("--calls", default: 500)
        let concurrency = try options.number("--concurrency", default: 50)
        let next = Counter()
        let failures = Counter()
        // Each connection on a thread of its own, all at once.
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<min(concurrency, calls) {
                group.addTask {
                    await onOwnThread {
                        guard let connection = BareConnection(port: UInt16(port)) else { failures.add(1); return }
                        while case let index = next.add(1), index <= calls {
                            if !connection.exchange(request(index)) { failures.add(1) }
                        }
                    }
                }
            }
        }
        return failures.value == 0 ? 0 : 1
    }

    /// The request `pipe run` sends for call `index` (Anthropic, streamed).
    static func request(_ index: Int) -> [UInt8] {
        let body = #"{"max_tokens":16,"messages":[{"content":"\#(prompt(index))","role":"user"}],"model":"bench","stream":true}"#
        return Array(("POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: */*\r\ncontent-type: application/json\r\n"
            + "anthropic-version: 2023-06-01\r\nx-api-key: bench\r\nContent-Length: \(body.utf8.count)\r\n\r\n" + body).utf8)
    }
}

/// A thread-safe count.
private final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    var value: Int { lock.withLock { count } }
    /// Adds `amount` and returns the new count.
    @discardableResult func add(_ amount: Int) -> Int { lock.withLock { count += amount; return count } }
}

/// One keep-alive HTTP/1.1 connection to 127.0.0.1 on blocking sockets.
private final class BareConnection {
    private let fd: Int32
    private var buffer = [UInt8](repeating: 0, count: 65536)

    init?(port: UInt16) {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        guard connected == 0 else { return nil }
    }

    deinit { close(fd) }

    /// Sends `request` and reads its 200 reply to the end: a `Content-Length` body, or chunks
    /// to the last (empty) one.
    func exchange(_ request: [UInt8]) -> Bool {
        guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) == request.count else { return false }
        var reply: [UInt8] = []
        var bodyStart: Int?
        var length: Int?
        while true {
            let count = recv(fd, &buffer, buffer.count, 0)
            guard count > 0 else { return false }
            reply += buffer[0..<count]
            if bodyStart == nil, let end = reply.firstRange(of: Array("\r\n\r\n".utf8)) {
                bodyStart = end.upperBound
                let head = String(decoding: reply[..<end.lowerBound], as: UTF8.self).lowercased()
                guard head.hasPrefix("http/1.1 200") else { return false }
                length = head.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
                    .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) }
            }
            guard let start = bodyStart else { continue }
            if let length {
                if reply.count - start >= length { return true }
            } else if reply.count - start >= 5, reply.suffix(5).elementsEqual("0\r\n\r\n".utf8) {
                return true
            }
        }
    }
}

/// Where a fan-out's time goes, from the fake server's log (seconds): process start to the
/// first request; the first `concurrency` requests' spread; on each connection, a reply's end
/// to the next request's arrival (median, 90th percentile, and their sum over the slots, the
/// time a slot waited on its client); the last reply's end to the process's exit.
struct FanOutPhases {
    var beforeFirst = 0.0, firstWave = 0.0, handOff = 0.0, handOff90 = 0.0, handOffsPerSlot = 0.0, afterLast = 0.0

    init(log: [FakeLogEntry], start: ContinuousClock.Instant, end: ContinuousClock.Instant, concurrency: Int) {
        let entries = log.sorted { $0.arrival < $1.arrival }
        guard let first = entries.first else { return }
        beforeFirst = (first.arrival - start).seconds
        firstWave = (entries[min(concurrency, entries.count) - 1].arrival - first.arrival).seconds
        var gaps: [Double] = []
        for (_, list) in Dictionary(grouping: entries, by: \.request.connectionNumber) {
            for (previous, next) in zip(list, list.dropFirst()) {
                if let done = previous.completion { gaps.append((next.arrival - done).seconds) }
            }
        }
        gaps.sort()
        if !gaps.isEmpty {
            handOff = RunnerBenchmark.median(gaps)
            handOff90 = gaps[gaps.count * 9 / 10]
            handOffsPerSlot = gaps.reduce(0, +) / Double(concurrency)
        }
        if let last = entries.compactMap(\.completion).max() { afterLast = (end - last).seconds }
    }
}

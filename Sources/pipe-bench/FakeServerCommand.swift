import FakeLLM
import Foundation

/// `pipe-bench fake-server`: runs the fake LLM server standalone, for benchmarks that
/// point `pipe run` at it through `ANTHROPIC_BASE_URL` / `OPENAI_BASE_URL`.
enum FakeServerCommand {
    static let command = BenchCommand(
        name: "fake-server",
        summary: "run the fake Anthropic/OpenAI server: --port N --latency-ms N [--event-delay-ms N] [--reply TEXT]",
        run: run)

    static let usage = """
        usage: pipe-bench fake-server [--port N] [--latency-ms N] [--event-delay-ms N] [--reply TEXT]

        Serves POST /v1/messages (Anthropic) and POST /v1/chat/completions (OpenAI) on
        127.0.0.1 until killed. Every reply waits --latency-ms first (default 0); streamed
        replies wait --event-delay-ms between events (default 0). The reply is --reply, or
        by default a minimal JSON value matching the schema the request asks for.
        Prints the base URL on the first line of stdout. --port 0 (the default) picks a free port.
        """

    @Sendable static func run(_ arguments: [String]) async -> Int32 {
        var port = 0
        var latency = 0
        var eventDelay = 0
        var fixedReply: String?
        var rest = arguments[...]
        while let flag = rest.popFirst() {
            if flag == "--help" || flag == "-h" {
                print(usage)
                return 0
            }
            guard let value = rest.popFirst() else {
                printError("\(flag) needs a value\n\(usage)")
                return 2
            }
            switch flag {
            case "--port": guard let n = Int(value), (0...65535).contains(n) else { return badValue(flag, value) }; port = n
            case "--latency-ms": guard let n = Int(value), n >= 0 else { return badValue(flag, value) }; latency = n
            case "--event-delay-ms": guard let n = Int(value), n >= 0 else { return badValue(flag, value) }; eventDelay = n
            case "--reply": fixedReply = value
            default:
                printError("unknown option \(flag)\n\(usage)")
                return 2
            }
        }
        let delay = Duration.milliseconds(latency)
        let between = Duration.milliseconds(eventDelay)
        let fixed = fixedReply
        let server = FakeLLMServer { request in
            let reply = fixed.map { FakeReply.text($0) } ?? FakeLLMServer.defaultReply(request)
            return reply.delayed(by: delay).streamed(every: between)
        }
        do {
            let actual = try server.start(port: port)
            FileHandle.standardOutput.write(Data("http://127.0.0.1:\(actual)\n".utf8))
        } catch {
            printError("fake-server: cannot listen on port \(port): \(error)")
            return 1
        }
        // Serve until the process is killed.
        while true { sleep(3600) }
    }

    private static func badValue(_ flag: String, _ value: String) -> Int32 {
        printError("\(flag): \(value.debugDescription) is not a valid value")
        return 2
    }

    private static func printError(_ message: String) {
        FileHandle.standardError.write(Data((message + "\n").utf8))
    }
}

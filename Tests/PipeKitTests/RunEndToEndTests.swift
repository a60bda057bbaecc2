import FakeLLM
import Foundation
import Testing
@testable import PipeKit

/// `pipe run` against the fake LLM server on 127.0.0.1: the real providers, HTTP, retries,
/// fallbacks and exit codes, as a user would see them.
@Suite struct RunEndToEndTests {
    static let chain = Paths.testdata.appendingPathComponent("run/chain.yaml").path
    static let secret = "sk-ant-TESTSECRET-0123456789"

    /// The stage a request is for, from the "STAGE name:" its prompt starts with.
    static func stage(of request: FakeRequest) -> String {
        guard let range = request.prompt.range(of: "STAGE ") else { return "" }
        return String(request.prompt[range.upperBound...].prefix { $0 != ":" })
    }

    /// Good replies for every stage of chain.yaml.
    static func happy(_ request: FakeRequest) -> FakeReply {
        switch stage(of: request) {
        case "plan": .text(#"{"steps": ["measure", "predict"]}"#)
        case "draft": .text(#"{"text": "Tides follow the moon."}"#)
        case "left": .text("left view")
        case "right": .text("right view")
        default: .text("final words")
        }
    }

    func withServer(_ handler: @escaping FakeLLMServer.Handler, _ body: (FakeLLMServer) async throws -> Void) async throws {
        let server = FakeLLMServer(handler: handler)
        try server.start()
        defer { server.stop() }
        try await body(server)
    }

    func environment(_ server: FakeLLMServer) -> [String: String] {
        [
            "PATH": "/usr/bin:/bin", "ANTHROPIC_BASE_URL": server.baseURL, "OPENAI_BASE_URL": server.openAIBaseURL,
            "ANTHROPIC_API_KEY": Self.secret, "OPENAI_API_KEY": Self.secret,
        ]
    }

    func requests(_ server: FakeLLMServer, _ stage: String) -> [FakeLogEntry] {
        server.log.filter { Self.stage(of: $0.request) == stage }
    }

    @Test func aChainRunsEndToEndAndTheInputReachesTheLastStage() async throws {
        try await withServer({ request in
            let stage = Self.stage(of: request)
            return Self.happy(request).delayed(by: stage == "left" || stage == "right" ? .milliseconds(300) : .zero)
        }) { server in
            let result = try await runPipe(["run", Self.chain], stdin: #"{"topic": "tides"}"#, environment: environment(server))
            #expect(result.status == 0, "\(result.stderr)")
            let output = try JSONParser.parse(result.stdout)
            #expect(output["final"] == "final words")
            #expect(output["steps"] == ["measure", "predict"])
            #expect(server.log.count == 5)
            // The input, three stages downstream of the first.
            #expect(requests(server, "final").first?.request.prompt.contains("topic=tides") == true)
            #expect(requests(server, "draft").first?.model == "gpt-test")
            #expect(requests(server, "plan").first?.request.forcedTool == "plan")
            // left and right ran at the same time.
            let left = try #require(requests(server, "left").first), right = try #require(requests(server, "right").first)
            #expect(left.arrival < right.completion! && right.arrival < left.completion!)
            #expect(result.stderr.contains("total"))
        }
    }

    @Test func anInvalidReplyIsReaskedWithTheValidationErrors() async throws {
        try await withServer({ request in
            if Self.stage(of: request) == "plan", request.callNumber == 1 { return .text(#"{"stepz": []}"#) }
            return Self.happy(request)
        }) { server in
            let result = try await runPipe(["run", Self.chain], stdin: #"{"topic": "tides"}"#, environment: environment(server))
            #expect(result.status == 0, "\(result.stderr)")
            let plans = requests(server, "plan")
            #expect(plans.count == 2)
            #expect(plans[1].request.prompt.contains(#"missing required property "steps""#))
            #expect(result.stderr.contains("plan: attempt 1 failed"))
        }
    }

    @Test func serverErrorsAreRetriedThenTheFallbackModelIsUsed() async throws {
        try await withServer({ request in
            if request.model == "gpt-test" { return .error(status: 500, message: "boom", type: "server_error") }
            return Self.happy(request)
        }) { server in
            let result = try await runPipe(["run", Self.chain], stdin: #"{"topic": "tides"}"#, environment: environment(server))
            #expect(result.status == 0, "\(result.stderr)")
            #expect(requests(server, "draft").map(\.model) == ["gpt-test", "gpt-test", "claude-test"])
            #expect(result.stderr.contains("draft: falling back to model `claude`"))
        }
    }

    @Test func retryAfterIsHonoured() async throws {
        try await withServer({ request in
            if Self.stage(of: request) == "plan", request.callNumber == 1 { return .rateLimited(retryAfter: "1") }
            return Self.happy(request)
        }) { server in
            let result = try await runPipe(["run", Self.chain], stdin: #"{"topic": "tides"}"#, environment: environment(server))
            #expect(result.status == 0, "\(result.stderr)")
            let plans = requests(server, "plan")
            #expect(plans.count == 2)
            #expect(plans[1].arrival - plans[0].arrival >= .seconds(1))
        }
    }

    @Test func aStageThatKeepsFailingExitsOneNamingTheStageAndTheError() async throws {
        try await withServer({ request in
            Self.stage(of: request) == "draft" ? .error(status: 400, message: "bad schema", type: "invalid_request_error") : Self.happy(request)
        }) { server in
            let result = try await runPipe(["run", Self.chain], stdin: #"{"topic": "tides"}"#, environment: environment(server))
            #expect(result.status == 1)
            #expect(result.stderr.contains("stage `draft` failed after 1 attempt: gpt (gpt-test): 400 from openai"))
            #expect(result.stdout.isEmpty)
            #expect(requests(server, "left").isEmpty)
        }
    }

    @Test func aRejectedKeyNeverShowsUpAnywhere() async throws {
        try await withServer({ _ in .error(status: 401, message: "invalid x-api-key", type: "authentication_error") }) { server in
            let result = try await runPipe(["run", Self.chain], stdin: #"{"topic": "tides"}"#, environment: environment(server))
            #expect(result.status == 1)
            #expect(result.stderr.contains("401 from anthropic: check ANTHROPIC_API_KEY"))
            #expect(!result.stderr.contains("TESTSECRET") && !result.stdout.contains("TESTSECRET"))
            #expect(server.log.first?.request.header("x-api-key") == Self.secret)
        }
    }

    @Test func theBudgetStopsTheRunBeforeTheCallThatWouldPassIt() async throws {
        let spec = try String(contentsOfFile: Self.chain, encoding: .utf8)
            .replacingOccurrences(of: "defaults:", with: "budget: { max_tokens: 400 }\ndefaults:")
        let folder = try TemporaryFolder("pipe-budget")
        let file = folder.url.appendingPathComponent("chain.yaml")
        try spec.write(to: file, atomically: true, encoding: .utf8)
        try await withServer(Self.happy) { server in
            let result = try await runPipe(["run", file.path], stdin: #"{"topic": "tides"}"#, environment: environment(server))
            #expect(result.status == 4, "\(result.stderr)")
            #expect(result.stderr.contains("budget.max_tokens (400)"))
            #expect(server.log.count < 5)
        }
    }

    @Test func aBadInputExitsThreeAndCallsNothing() async throws {
        try await withServer(Self.happy) { server in
            let result = try await runPipe(["run", Self.chain], stdin: #"{"subject": "tides"}"#, environment: environment(server))
            #expect(result.status == 3)
            #expect(result.stderr.contains(#"missing required property "topic""#))
            #expect(server.log.isEmpty)
        }
    }

    @Test func ctrlCCancelsTheCallsInFlightAndExits130() async throws {
        try await withServer({ request in Self.stage(of: request) == "left" ? .hang : Self.happy(request) }) { server in
            let process = Process()
            process.executableURL = Paths.pipeExecutable
            process.arguments = ["run", Self.chain]
            process.environment = environment(server)
            let input = Pipe(), errors = Pipe()
            process.standardInput = input
            process.standardOutput = FileHandle.nullDevice
            process.standardError = errors
            try process.runUnblocked()
            input.fileHandleForWriting.write(Data(#"{"topic": "tides"}"#.utf8))
            try input.fileHandleForWriting.close()
            let start = ContinuousClock.now
            while requests(server, "left").isEmpty, ContinuousClock.now - start < .seconds(20) {
                try await Task.sleep(for: .milliseconds(20))
            }
            process.interrupt()
            let stderr = await onOwnThread {
                defer { process.waitUntilExit() }
                return errors.fileHandleForReading.readDataToEndOfFile()
            }
            #expect(process.terminationStatus == 130)
            let text = String(decoding: stderr, as: UTF8.self)
            #expect(text.contains("interrupted; finished stages: plan, draft"))
        }
    }
}

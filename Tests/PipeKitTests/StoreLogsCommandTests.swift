import Foundation
import Testing
@testable import PipeKit

/// `pipe logs` as a user runs it, on a store the test fills through the library.
@Suite struct StoreLogsCommandTests {
    /// A store with a succeeded run of `report.yaml` and a failed run of `other.yaml`.
    struct Filled: ~Copyable {
        let folder: TemporaryFolder
        let succeeded: String
        let failed: String
        var path: String { folder.storePath }
        var spec: String { folder.url.appendingPathComponent("report.yaml").path }
    }

    static func filled() async throws -> Filled {
        let folder = try TemporaryFolder()
        let store = try RunStore(path: folder.storePath)
        let spec = folder.url.appendingPathComponent("report.yaml").path
        let succeeded = try await store.startRun(StoreSamples.newRun(spec: spec))
        var journal = store.journal(runID: succeeded, reusingFrom: nil)
        await journal.record(StoreSamples.call(stage: "facts", reply: #"{"text": "moon"}"#))
        await journal.record(StoreSamples.stage("facts", output: ["text": "moon"]))
        await journal.record(StoreSamples.call(stage: "summary", reply: "The moon pulls the sea."))
        await journal.record(StoreSamples.stage("summary", output: "The moon pulls the sea.\nTwice a day."))
        try await store.finishRun(succeeded, RunEnd(
            status: .succeeded, usage: TokenUsage(input: 1200, output: 340), costUSD: 0.0123, wall: .milliseconds(12300),
            output: ["summary": "The moon pulls the sea."]))

        let failed = try await store.startRun(StoreSamples.newRun(spec: folder.url.appendingPathComponent("other.yaml").path))
        journal = store.journal(runID: failed, reusingFrom: nil)
        await journal.record(StoreSamples.call(stage: "facts", status: .failed, reply: nil, problems: ["HTTP 400: bad request"]))
        await journal.record(StoreSamples.stage("facts", status: .failed, output: nil, error: "HTTP 400: bad request"))
        try await store.finishRun(failed, RunEnd(
            status: .failed, usage: .zero, costUSD: nil, wall: .milliseconds(800),
            error: "stage `facts` failed after 1 attempt: HTTP 400: bad request"))
        return Filled(folder: folder, succeeded: succeeded, failed: failed)
    }

    func logs(_ arguments: [String], in folder: URL, environment: [String: String] = [:]) async throws -> CommandResult {
        try await runPipe(["logs"] + arguments, directory: folder, environment: ["TZ": "UTC", "PATH": "/usr/bin:/bin"].merging(environment) { $1 })
    }

    @Test func theListShowsRecentRunsNewestFirstAsATable() async throws {
        let store = try await Self.filled()
        let result = try await logs(["--store", store.path], in: store.folder.url)
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 3)
        #expect(lines[0].hasPrefix("run "))
        for column in ["spec", "status", "started", "duration", "in", "out", "cost"] {
            #expect(lines[0].contains(column))
        }
        #expect(lines[1].hasPrefix(store.failed))
        #expect(lines[1].contains(" other.yaml ") && lines[1].contains(" failed "))
        #expect(lines[2].hasPrefix(store.succeeded))
        #expect(lines[2].contains(" report.yaml ") && lines[2].contains(" succeeded "))
        #expect(lines[2].contains("12.3s") && lines[2].contains("1200") && lines[2].contains("340"))
        #expect(lines[2].hasSuffix("$0.01"))
        // Columns line up: every row has its status where the header has "status".
        let column = lines[0].range(of: "status")!.lowerBound.utf16Offset(in: lines[0])
        #expect(lines[1].dropFirst(column).hasPrefix("failed"))
        #expect(lines[2].dropFirst(column).hasPrefix("succeeded"))
    }

    @Test func theStoreIsFoundThroughPipeStoreTheSpecOrTheCurrentFolder() async throws {
        let store = try await Self.filled()
        let viaVariable = try await logs([], in: URL(fileURLWithPath: "/"), environment: ["PIPE_STORE": store.path])
        #expect(viaVariable.status == 0 && viaVariable.stdout.contains(store.succeeded), "\(viaVariable.stderr)")
        // Beside the spec: and only that spec's runs.
        let viaSpec = try await logs(["--spec", store.spec], in: URL(fileURLWithPath: "/"))
        #expect(viaSpec.status == 0, "\(viaSpec.stderr)")
        #expect(viaSpec.stdout.contains(store.succeeded) && !viaSpec.stdout.contains(store.failed))
        let here = try await logs([], in: store.folder.url)
        #expect(here.status == 0 && here.stdout.contains(store.failed), "\(here.stderr)")
        let limited = try await logs(["--limit", "1"], in: store.folder.url)
        #expect(limited.stdout.split(separator: "\n").count == 2)
    }

    @Test func aRunShowsItsStagesCallsAndOutputs() async throws {
        let store = try await Self.filled()
        let result = try await logs(["--store", store.path, store.succeeded], in: store.folder.url)
        #expect(result.status == 0, "\(result.stderr)")
        let text = result.stdout
        #expect(text.contains("run      \(store.succeeded)"))
        #expect(text.contains("report.yaml (report)"))
        #expect(text.contains("status   succeeded"))
        #expect(text.contains("took 12.3s"))
        #expect(text.contains("1200 in, 340 out"))
        let facts = try #require(text.split(separator: "\n").first { $0.hasPrefix("facts ") })
        #expect(facts.contains("succeeded") && facts.contains("fast (claude-test)") && facts.contains("900ms"))
        #expect(text.contains("output of summary:\n  The moon pulls the sea.\n  Twice a day.\n"))
        #expect(text.contains("output of facts:\n  {\n    \"text\": \"moon\"\n  }\n"))

        let failed = try await logs(["--store", store.path, "last"], in: store.folder.url)
        #expect(failed.stdout.contains("run      \(store.failed)"), "\(failed.stderr)")
        #expect(failed.stdout.contains("error    stage `facts` failed after 1 attempt: HTTP 400: bad request"))
        #expect(failed.stdout.contains("HTTP 400: bad request"))
        // `last` of one spec.
        let lastOfSpec = try await logs(["--store", store.path, "--spec", store.spec, "last"], in: store.folder.url)
        #expect(lastOfSpec.stdout.contains("run      \(store.succeeded)"))
        // A unique prefix works like the id.
        let prefix = String(store.succeeded.dropLast())
        if !store.failed.hasPrefix(prefix) {
            let byPrefix = try await logs(["--store", store.path, prefix], in: store.folder.url)
            #expect(byPrefix.stdout.contains("run      \(store.succeeded)"))
        }
    }

    @Test func stagePrintsOneStagesOutputForScripts() async throws {
        let store = try await Self.filled()
        let text = try await logs(["--store", store.path, store.succeeded, "--stage", "summary"], in: store.folder.url)
        #expect(text.status == 0)
        #expect(text.stdout == "The moon pulls the sea.\nTwice a day.\n")
        let json = try await logs(["--store", store.path, store.succeeded, "--stage", "facts"], in: store.folder.url)
        #expect(try JSONParser.parse(json.stdout) == ["text": "moon"])
        let quoted = try await logs(["--store", store.path, store.succeeded, "--stage", "summary", "--json"], in: store.folder.url)
        #expect(try JSONParser.parse(quoted.stdout) == "The moon pulls the sea.\nTwice a day.")

        let unknown = try await logs(["--store", store.path, store.succeeded, "--stage", "nope"], in: store.folder.url)
        #expect(unknown.status == 2)
        #expect(unknown.stderr.contains("has no stage `nope`; its stages: facts, summary"))
        let noOutput = try await logs(["--store", store.path, store.failed, "--stage", "facts"], in: store.folder.url)
        #expect(noOutput.status == 1)
        #expect(noOutput.stderr.contains("stage `facts` of run \(store.failed) has no output: it failed: HTTP 400"))
        #expect(noOutput.stdout.isEmpty)
    }

    @Test func jsonIsForScripts() async throws {
        let store = try await Self.filled()
        let list = try JSONParser.parse(try await logs(["--store", store.path, "--json"], in: store.folder.url).stdout)
        #expect(list.arrayValue?.count == 2)
        #expect(list[0]?["id"] == .string(store.failed))
        #expect(list[0]?["status"] == "failed")
        #expect(list[1]?["tokens_in"] == 1200)
        #expect(list[1]?["duration_ms"] == 12300)

        let run = try JSONParser.parse(try await logs(["--store", store.path, "--json", store.succeeded], in: store.folder.url).stdout)
        #expect(run["id"] == .string(store.succeeded))
        #expect(run["input"] == ["topic": "tides"])
        #expect(run["output"] == ["summary": "The moon pulls the sea."])
        #expect(run["stages"]?.arrayValue?.map { $0["stage"] } == ["facts", "summary"])
        #expect(run["calls"]?[1]?["reply"] == "The moon pulls the sea.")
        #expect(run["calls"]?[1]?["request"]?["messages"]?[0]?["role"] == "user")
    }

    @Test func aMissingStoreOrAnUnknownRunExits2WithAHint() async throws {
        let store = try await Self.filled()
        let missing = try await logs(["--store", store.folder.url.appendingPathComponent("none.db").path], in: store.folder.url)
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("no run store at") && missing.stderr.contains("--store or PIPE_STORE"))
        #expect(!FileManager.default.fileExists(atPath: store.folder.url.appendingPathComponent("none.db").path))

        let unknown = try await logs(["--store", store.path, "20990101"], in: store.folder.url)
        #expect(unknown.status == 2)
        #expect(unknown.stderr.contains("no run `20990101`") && unknown.stderr.contains("`pipe logs` lists the recent runs"))

        let usage = try await logs(["--store", store.path, "--stage", "facts"], in: store.folder.url)
        #expect(usage.status == 2)
        #expect(usage.stderr.contains("--stage needs a run id"))

        let empty = try TemporaryFolder()
        _ = try RunStore(path: empty.storePath)
        let none = try await logs(["last"], in: empty.url)
        #expect(none.status == 2 && none.stderr.contains("no runs recorded"), "\(none.stderr)")
        let emptyList = try await logs([], in: empty.url)
        #expect(emptyList.status == 0 && emptyList.stdout.isEmpty && emptyList.stderr.contains("no runs recorded"))
    }

    @Test func helpTeachesTheCommand() async throws {
        let help = try await runPipe(["help", "logs"])
        #expect(help.status == 0)
        for text in ["PIPE_STORE", "--store", "--spec", "--stage", "--json", "pipe logs last", "Exit status"] {
            #expect(help.stdout.contains(text), "\(text)")
        }
    }
}

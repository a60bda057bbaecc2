import Foundation
import Testing
@testable import PipeKit

/// `pipe help COMMAND` teaches each command: what it does, an example, every option.
@Suite struct HelpTests {
    static let commands = ["run", "batch", "eval", "worker", "approve", "reject", "logs", "report", "lint", "test", "tools", "graph", "check-json", "schema"]

    /// Every command and its arguments as ArgumentParser declares them (asked once).
    static let declared = Task {
        let dump = try await runPipe(["--experimental-dump-help"])
        let commands = try JSONParser.parse(dump.stdout)["command"]?["subcommands"]?.arrayValue ?? []
        return commands.filter { $0["commandName"]?.stringValue != "help" }
    }

    /// Whitespace runs as one space: help text is wrapped to the terminal's width.
    static func flattened(_ text: String) -> String {
        text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }

    @Test func everyCommandIsTaught() async throws {
        let declared = try await Self.declared.value.compactMap { $0["commandName"]?.stringValue }
        #expect(declared.sorted() == Self.commands.sorted())
        let overview = try await runPipe(["help"])
        #expect(overview.status == 0)
        for command in Self.commands { #expect(overview.stdout.contains("  \(command)"), "`pipe help` does not list \(command)") }
    }

    /// `pipe` parses its arguments without ArgumentParser's look for a completion script
    /// request unless an argument asks for one (`Pipe.parsedArguments`): help and usage, made
    /// after the parse, name the commands as typed.
    @Test func helpAndUsageNameTheCommandsAsTyped() async throws {
        let overview = try await runPipe(["--help"])
        #expect(overview.stdout.contains("\nUSAGE: pipe <subcommand>\n"))
        #expect(overview.stdout.contains("See 'pipe help <subcommand>' for detailed help."))
        let run = try await runPipe(["help", "run"])
        #expect(run.stdout.contains("\nUSAGE: pipe run [<options>] <spec>\n"))
        let missing = try await runPipe(["run"])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("\nUsage: pipe run [<options>] <spec>\n"))
    }

    /// ... and a completion script is made when asked for, for the whole of `pipe`.
    @Test(arguments: [["--generate-completion-script", "bash"], ["--generate-completion-script=zsh"], ["run", "--generate-completion-script", "fish"]])
    func completionScripts(_ arguments: [String]) async throws {
        let script = try await runPipe(arguments)
        #expect(script.status == 0)
        for word in ["check-json", "no-store", "max-input"] { #expect(script.stdout.contains(word), "no \(word) in the script") }
    }

    /// `pipe batch`'s subcommands, `run` (the default) with its options.
    static let subcommands = [["batch", "run"], ["batch", "status"], ["batch", "results"], ["batch", "cancel"]]

    @Test func batchHelpTeachesProviderBatches() async throws {
        let help = Self.flattened(try await runPipe(["help", "batch"]).stdout)
        for phrase in ["--provider-batch", "`batch: true`", "--batch-fallback realtime", "price.batch_input", "pipe batch cancel", "re-attaches"] {
            #expect(help.contains(phrase), "`pipe help batch` does not teach \(phrase)")
        }
    }

    @Test func batchHelpTeachesThatItemsStartWhileTheInputIsRead() async throws {
        let help = Self.flattened(try await runPipe(["help", "batch"]).stdout)
        for phrase in ["Items start while the input is read", "first --concurrency items start", "Stdin, a pipe or a FIFO",
            "stops the reading: --resume then runs the items queued by then"] {
            #expect(help.contains(phrase), "`pipe help batch` does not teach \(phrase)")
        }
    }

    @Test func providerBatchesOnAQueueAreTaught() async throws {
        let batch = Self.flattened(try await runPipe(["help", "batch"]).stdout)
        for phrase in ["--queue URL --provider-batch", "advisory lock", "re-attaches to the batches in flight", "live line", "errored and expired"] {
            #expect(batch.contains(phrase), "`pipe help batch` does not teach \(phrase)")
        }
        let worker = Self.flattened(try await runPipe(["help", "worker"]).stdout)
        for phrase in ["--provider-batch", "advisory lock", "never submitting them again"] {
            #expect(worker.contains(phrase), "`pipe help worker` does not teach \(phrase)")
        }
        let cancel = Self.flattened(try await runPipe(["help", "batch", "cancel"]).stdout)
        #expect(cancel.contains("--queue (or PIPE_QUEUE)"))
    }

    @Test(arguments: commands)
    func helpHasAnAbstractAnExampleAndEveryOption(_ name: String) async throws {
        try await checkHelp([name])
    }

    @Test(arguments: subcommands)
    func subcommandHelpHasAnAbstractAnExampleAndEveryOption(_ path: [String]) async throws {
        try await checkHelp(path)
    }

    func checkHelp(_ path: [String]) async throws {
        let name = path.joined(separator: " ")
        let help = try await runPipe(["help"] + path)
        #expect(help.status == 0, "\(help.stderr)")
        let text = help.stdout
        let abstract = text.split(separator: "\n").first.map(String.init) ?? ""
        #expect(abstract.hasPrefix("OVERVIEW: ") && abstract.count > "OVERVIEW: ".count + 10, "no abstract: \(abstract)")
        // The discussion, between the abstract and the usage, shows the command at work.
        let discussion = text.components(separatedBy: "\nUSAGE:").first?.split(separator: "\n").dropFirst() ?? []
        #expect(discussion.contains { $0.trimmingSpaces.hasPrefix("pipe \(name)") }, "no example line `pipe \(name) ...`")
        var command = try #require(try await Self.declared.value.first { $0["commandName"]?.stringValue == path[0] })
        for sub in path.dropFirst() {
            command = try #require(command["subcommands"]?.arrayValue?.first { $0["commandName"]?.stringValue == sub })
        }
        for argument in command["arguments"]?.arrayValue ?? [] {
            let names = (argument["names"]?.arrayValue ?? []).compactMap { name in
                name["name"]?.stringValue.map { (name["kind"]?.stringValue == "short" ? "-" : "--") + $0 }
            }
            if names.contains("--help") || names.contains("--version") { continue }
            let label = names.first ?? argument["valueName"]?.stringValue ?? "?"
            let documentation = argument["abstract"]?.stringValue ?? ""
            #expect(!documentation.isEmpty, "\(label) has no help")
            #expect(Self.flattened(text).contains(Self.flattened(documentation)), "\(label)'s help is not shown")
            for option in names { #expect(text.contains(option), "\(option) is not shown") }
        }
    }

    @Test func evalHelpTeachesTheTestFileEvaluatorsAndExitCodes() async throws {
        let help = Self.flattened(try await runPipe(["help", "eval"]).stdout)
        for taught in [
            #"{"input": ..., "expected": ...}"#, "NAME.test.yaml", "evals:", "check: { path: output.summary", "judge:", "pass: score >= 7",
            "min_pass_rate:", "--compare EVAL_ID", "--resume EVAL_ID", "--format junit", "pipe logs", "1 one is not",
            "4 --max-cost-usd reached",
        ] {
            #expect(help.contains(Self.flattened(taught)), "`pipe help eval` does not teach \(taught)")
        }
    }

    @Test func runHelpNamesEveryProvidersVariables() async throws {
        let help = Self.flattened(try await runPipe(["help", "run"]).stdout)
        for variable in ProviderRegistry.apiKeyVariables + ProviderRegistry.baseURLVariables {
            #expect(help.contains(variable), "\(variable) is not in `pipe help run`")
        }
    }

    @Test func runHelpTeachesDegradingAndStrictErrors() async throws {
        let help = Self.flattened(try await runPipe(["help", "run"]).stdout)
        for text in ["on_error: skip", "on_error: { default: VALUE }", "failed → skipped", "--strict-errors", "PIPE_STRICT_ERRORS=1",
            "circuit_breaker ({ failures: N, cool_down: 60s })"] {
            #expect(help.contains(text), "`pipe help run` does not teach \(text)")
        }
    }
}

extension HelpTests {
    @Test(arguments: ["run", "batch", "worker", "eval"])
    func helpTeachesHashedRecords(_ command: String) async throws {
        let help = Self.flattened(try await runPipe(["help", command]).stdout)
        for text in ["--record-prompts", "--record-outputs", "PIPE_RECORD_PROMPTS", "PIPE_RECORD_OUTPUTS"] {
            #expect(help.contains(text), "`pipe help \(command)` does not teach \(text)")
        }
        if command == "run" {
            for text in ["record: { prompts: hash, outputs: hash }", "sha256:HEX (N bytes)", "give the input again"] {
                #expect(help.contains(text), "`pipe help run` does not teach \(text)")
            }
        }
    }

    @Test func runHelpTeachesPipelineStages() async throws {
        let help = Self.flattened(try await runPipe(["help", "run"]).stdout)
        for text in ["pipeline: teams/research.yaml", "`team/researcher`", "`team[2]/researcher`", "count against this run's budget"] {
            #expect(help.contains(text), "`pipe help run` does not teach \(text)")
        }
    }

    @Test func runHelpTeachesOneStageRunsAndRecordReplay() async throws {
        let help = Self.flattened(try await runPipe(["help", "run"]).stdout)
        for option in ["--stage", "--given", "--record", "--replay"] { #expect(help.contains(option)) }
        #expect(help.contains("--stage NAME runs only that stage"))
        #expect(help.contains("never a key"))
        // Tool-using stages and failed calls replay from the cassette.
        for text in ["each tool list and tool call of a stage with `tools:`", "failed calls fail again", "no tool server started"] {
            #expect(help.contains(Self.flattened(text)), "`pipe help run` does not teach \(text)")
        }
    }

    @Test func evalHelpTeachesThatTheBudgetCountsTheJudges() async throws {
        let help = Self.flattened(try await runPipe(["help", "eval"]).stdout)
        #expect(help.contains(Self.flattened("--max-cost-usd counts the judges' calls with the pipeline's")))
    }

    @Test func testHelpShowsATestFileAndItsMatchers() async throws {
        let help = try await runPipe(["help", "test"]).stdout
        for word in ["mocks:", "{ error: 500, times: 3 }", "contains", "--format junit", "Exit status: 0", "a stage with `tools:` replays every turn"] {
            #expect(Self.flattened(help).contains(Self.flattened(word)), "`pipe help test` does not mention \(word)")
        }
    }

    @Test func runBatchAndWorkerHelpNameTheOpenTelemetryVariables() async throws {
        for command in ["run", "batch", "worker"] {
            let help = Self.flattened(try await runPipe(["help", command]).stdout)
            for variable in [
                "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_PROTOCOL",
                "OTEL_EXPORTER_OTLP_HEADERS", "OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES", "OTEL_SDK_DISABLED",
                "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "TRACEPARENT",
            ] {
                #expect(help.contains(variable), "\(variable) is not in `pipe help \(command)`")
            }
        }
    }
}

import ArgumentParser
import Foundation
import PipeKit

/// `--record-prompts` and `--record-outputs` (`full` or `hash`), also `PIPE_RECORD_PROMPTS` and
/// `PIPE_RECORD_OUTPUTS`: over the spec's `record:`, how prompts and outputs are kept in the
/// run store, traces, the OpenTelemetry export and cassettes.
struct RecordOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "`hash`: keep the input, the prompts and the tool results sent to models only as SHA-256 and size in the run store, "
            + "traces, exports and cassettes (`full` keeps the text); over the spec's `record.prompts`; also PIPE_RECORD_PROMPTS.",
        valueName: "full|hash"))
    var recordPrompts: RecordPolicy.Mode?

    @Option(name: .long, help: ArgumentHelp(
        "`hash`: keep replies, stage values, the output and tool arguments only as SHA-256 and size (stdout stays full; "
            + "such stages are not reused by --resume or --cache); over the spec's `record.outputs`; also PIPE_RECORD_OUTPUTS.",
        valueName: "full|hash"))
    var recordOutputs: RecordPolicy.Mode?

    /// The command line's (then the environment's) choices.
    func choice() throws -> RecordChoice {
        let environment = ProcessInfo.processInfo.environment
        return RecordChoice(
            prompts: try recordPrompts ?? Self.mode(environment, "PIPE_RECORD_PROMPTS"),
            outputs: try recordOutputs ?? Self.mode(environment, "PIPE_RECORD_OUTPUTS"))
    }

    /// The spec's `record:` with the command line's (then the environment's) choices over it.
    func apply(to pipeline: inout CompiledPipeline) throws {
        try choice().apply(to: &pipeline)
    }

    private static func mode(_ environment: [String: String], _ name: String) throws -> RecordPolicy.Mode? {
        guard let text = environment[name], !text.isEmpty else { return nil }
        guard let mode = RecordPolicy.Mode(rawValue: text.lowercased()) else {
            try Terminal.writeError("pipe: \(name) must be `full` or `hash`, found `\(text)`\n")
            throw ExitCodeError(code: 2)
        }
        return mode
    }
}

/// What `--record-prompts`/`--record-outputs` chose (nil: the spec's `record:`).
struct RecordChoice {
    var prompts: RecordPolicy.Mode?
    var outputs: RecordPolicy.Mode?

    func apply(to pipeline: inout CompiledPipeline) {
        pipeline.record = policy(over: pipeline.record)
    }

    /// The spec's `record:` with these choices over it.
    func policy(over spec: RecordPolicy) -> RecordPolicy {
        spec.overridden(prompts: prompts, outputs: outputs)
    }
}

extension RecordPolicy.Mode: ExpressibleByArgument {}

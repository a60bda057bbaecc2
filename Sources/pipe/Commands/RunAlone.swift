import Foundation
import PipeKit

/// `pipe run --stage NAME --given STAGE=FILE`: the pipeline of one stage, and the values of
/// the stages it reads, read from their files and checked against their schemas (exit 2).
enum StageAlone {
    static func prepare(
        _ pipeline: CompiledPipeline, stage: String?, given entries: [String]
    ) throws -> (pipeline: CompiledPipeline, given: [String: JSONValue]) {
        guard let stage else { return (pipeline, [:]) }
        guard let alone = pipeline.only(stage) else {
            let names = pipeline.stages.map(\.name)
            try Terminal.writeError("pipe: --stage: the spec has no stage `\(stage)`"
                + (Suggestions.hint(for: stage, in: names, kind: "its stages").map { "; \($0)" } ?? "") + "\n")
            throw ExitCodeError(code: 2)
        }
        var given: [String: JSONValue] = [:]
        for entry in entries {
            let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
            let (name, path) = (parts[0], parts.count > 1 ? parts[1] : "")
            guard let upstream = pipeline.stage(named: name) else {
                try Terminal.writeError("pipe: --given \(entry): the spec has no stage `\(name)`\n")
                throw ExitCodeError(code: 2)
            }
            let value: JSONValue
            do {
                value = try JSONParser.parse(BoundedRead.file(path, limit: ReadLimits.document))
            } catch {
                try Terminal.writeError("pipe: --given \(entry): cannot read \(path) as JSON: \(error)\n")
                throw ExitCodeError(code: 2)
            }
            let items = upstream.forEach == nil ? [value] : (value.arrayValue ?? [value])
            if let schema = upstream.outputSchema, let validator = try? JSONSchema(compiling: schema),
                let problem = items.lazy.compactMap({ validator.validate($0, maxErrors: 1).first }).first
            {
                try Terminal.writeError("pipe: --given \(entry): the value does not match the output schema of `\(name)`: \(problem)\n")
                throw ExitCodeError(code: 2)
            }
            given[name] = value
        }
        let missing = pipeline.upstream(of: stage).filter { given[$0] == nil }
        if !missing.isEmpty {
            try Terminal.writeError("pipe: --stage \(stage) reads \(missing.map { "`\($0)`" }.joined(separator: ", ")): give "
                + missing.map { "--given \($0)=FILE.json" }.joined(separator: " ") + "\n")
            throw ExitCodeError(code: 2)
        }
        return (alone, given)
    }
}

/// `--record` and `--replay`: the cassette files, opened before the run (exit 2 when they cannot be).
enum Cassettes {
    static func replay(_ path: String?) throws -> ReplayProvider? {
        guard let path else { return nil }
        do {
            return try ReplayProvider(reading: path)
        } catch {
            try Terminal.writeError("pipe: --replay: \(error)\n")
            throw ExitCodeError(code: 2)
        }
    }

    /// The provider of a model's calls: the cassette under --replay (nothing is called), else
    /// `make()`'s, every exchange written to the cassette under --record, hashed as the run's
    /// `record:` (`policy`) says.
    static func provider(
        replay: ReplayProvider?, recorder: CassetteRecorder?, policy: RecordPolicy,
        _ make: () throws(ProviderError) -> any ModelProvider
    ) throws(ProviderError) -> any ModelProvider {
        if let replay { return replay }
        let provider = try make()
        return recorder.map { RecordingProvider(provider, recorder: $0, policy: policy) } ?? provider
    }

    /// The tool servers of a run: the cassette's under --replay (no server is started, every
    /// list and result comes from it), else the spec's MCP servers, every tool list and call
    /// written to the cassette under --record, hashed as `policy` says.
    static func toolServers(
        replay: ReplayProvider?, recorder: CassetteRecorder?, policy: RecordPolicy
    ) -> PipelineRunner.ToolServersFactory? {
        if let replay { return { [tools = replay.tools] _ in tools } }
        guard let factory = ToolServersSetup.factory, let recorder else { return ToolServersSetup.factory }
        return { RecordingToolServers(factory($0), recorder: recorder, policy: policy) }
    }

    static func recorder(_ path: String?) throws -> CassetteRecorder? {
        guard let path else { return nil }
        do {
            return try CassetteRecorder(creating: path)
        } catch {
            try Terminal.writeError("pipe: --record: \(error)\n")
            throw ExitCodeError(code: 2)
        }
    }

    /// Closes the cassette; one that could not be written to the end is exit 74.
    static func finish(_ recorder: CassetteRecorder?) throws {
        do {
            try recorder?.finish()
        } catch {
            try Terminal.writeError("pipe: --record: \(error)\n")
            throw ExitCodeError(code: PipeExit.writeFailed)
        }
    }
}

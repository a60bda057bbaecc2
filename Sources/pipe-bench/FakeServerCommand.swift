import FakeLLM
import Foundation
import PipeKit

/// `pipe-bench fake-server`: runs the fake LLM server standalone, for benchmarks that
/// point `pipe run` at it through `ANTHROPIC_BASE_URL` / `OPENAI_BASE_URL`.
enum FakeServerCommand {
    static let command = BenchCommand(
        name: "fake-server",
        summary: "run the fake Anthropic/OpenAI server: --port N --latency-ms N [--event-delay-ms N] [--batch-turnaround-ms N] [--reply TEXT | --spec FILE]",
        usage: """
            usage: pipe-bench fake-server [--port N] [--latency-ms N] [--event-delay-ms N] [--batch-turnaround-ms N] [--reply TEXT | --spec FILE]

            Serves POST /v1/messages (Anthropic) and POST /v1/chat/completions (OpenAI) on
            127.0.0.1 until killed. Every reply waits --latency-ms first (default 0); streamed
            replies wait --event-delay-ms between events (default 0). The reply is --reply, or
            by default a minimal JSON value matching the schema the request asks for. With
            --spec, each request is matched to the spec's stage whose prompt it starts with, and
            answered with the mock provider's schema-valid value for that stage.
            The batch APIs (Anthropic /v1/messages/batches, OpenAI /v1/files and /v1/batches)
            answer the same way; a batch ends --batch-turnaround-ms after its creation (default 0).
            Prints the base URL on the first line of stdout. --port 0 (the default) picks a free port.
            """,
        valued: ["--port", "--latency-ms", "--event-delay-ms", "--batch-turnaround-ms", "--reply", "--spec"], run: run)

    @Sendable static func run(_ options: BenchOptions) async throws(BenchOptions.Exit) -> Int32 {
        let port = try options.number("--port", default: 0, in: 0...65535)
        let latency = try options.number("--latency-ms", default: 0, in: 0...Int.max)
        let eventDelay = try options.number("--event-delay-ms", default: 0, in: 0...Int.max)
        let turnaround = try options.number("--batch-turnaround-ms", default: 0, in: 0...Int.max)
        let stages = try options.text("--spec").map { path throws(BenchOptions.Exit) in
            guard let stages = SpecReplies(path: path) else { throw options.invalid("--spec", path) }
            return stages
        }
        let delay = Duration.milliseconds(latency)
        let between = Duration.milliseconds(eventDelay)
        let fixed = options.text("--reply")
        let server = FakeLLMServer { request in
            let reply = fixed.map { FakeReply.text($0) } ?? stages?.reply(to: request.prompt).map { FakeReply.text($0) }
                ?? FakeLLMServer.defaultReply(request)
            return reply.delayed(by: delay).streamed(every: between)
        }
        server.setBatchOptions(FakeBatchOptions(turnaround: .milliseconds(turnaround)))
        do {
            let actual = try server.start(port: port)
            FileHandle.standardOutput.write(Data("http://127.0.0.1:\(actual)\n".utf8))
        } catch {
            FileHandle.standardError.write(Data("fake-server: cannot listen on port \(port): \(error)\n".utf8))
            return 1
        }
        // Serve until the process is killed.
        while true { sleep(3600) }
    }
}

/// Schema-valid replies for the stages of a spec, chosen by the text each prompt starts with.
struct SpecReplies: Sendable {
    /// (the prompt's text before its first reference, the reply), longest first: a request
    /// holds the system prompt too, so the stage is the one whose text it contains.
    let replies: [(prefix: String, reply: String)]

    init?(path: String) {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        let directory = (path as NSString).deletingLastPathComponent
        let result = Compiler.compile(SourceFile(path: path, bytes: [UInt8](data)), directory: directory.isEmpty ? "." : directory)
        guard let pipeline = result.pipeline else { return nil }
        replies = pipeline.stages.map { stage in
            var prefix = ""
            switch stage.kind {
            case .model(let model): if case .text(let text) = model.prompt.parts.first { prefix = text }
            case .command, .pipeline: break
            }
            let reply = stage.outputSchema.map { MockValueGenerator(schema: $0).value().serialized() } ?? "Text of stage \(stage.name)."
            return (prefix, reply)
        }.sorted { $0.prefix.count > $1.prefix.count }
    }

    func reply(to prompt: String) -> String? {
        replies.first { prompt.contains($0.prefix) }?.reply
    }
}

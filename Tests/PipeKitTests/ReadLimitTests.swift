import Foundation
import Testing
@testable import PipeKit

/// Every file `pipe` reads stops at a stated limit, and pipes, FIFOs and devices are read like
/// files: an endless stream fails fast, a huge file is refused by its size without being
/// read, and an unreadable file says why.
@Suite final class ReadLimitTests: Sendable {
    /// A spec with no schema file and no input schema: any text input runs.
    static let spec = """
        version: 1
        models: { m: { provider: mock } }
        defaults: { model: m }
        stages:
          echo: { prompt: "Say {{ input }}", mock: ["said"] }
        output: { said: "{{ echo }}" }

        """

    let folder: TemporaryFolder
    var specPath: String { folder.url.appendingPathComponent("spec.yaml").path }

    init() throws {
        folder = try TemporaryFolder("pipe-limits")
        try Self.spec.write(toFile: specPath, atomically: true, encoding: .utf8)
    }

    func path(_ name: String) -> String { folder.url.appendingPathComponent(name).path }

    // MARK: - Limits

    @Test func anEndlessSpecOnStdinStopsAtTheSpecLimit() async throws {
        let zeros = try await runPipe(["lint", "-"], stdinFile: "/dev/zero")
        #expect(zeros.status == 2)
        #expect(zeros.stderr == "pipe: cannot read <stdin>: it is over the 4 MiB limit for a spec\n")
        let yes = try await runShell(#"yes 'x-a: 1' | "$PIPE" lint -"#)
        #expect(yes.status == 2)
        #expect(yes.stderr == "pipe: cannot read <stdin>: it is over the 4 MiB limit for a spec\n")
    }

    @Test func aHugeSpecFileIsRefusedByItsSizeBeforeAnyOfItIsRead() async throws {
        #expect(try sparseFile(path("huge.yaml"), size: 5 << 30) == 5 << 30)
        // Only the file's size (fstat) can say "5 GiB": reading would stop after 4 MiB.
        for command in [["lint"], ["run", "--mock"], ["graph"]] {
            let result = try await runPipe(command + [path("huge.yaml")])
            #expect(result.status == 2)
            #expect(result.stderr.contains("pipe: cannot read \(path("huge.yaml")): it is 5 GiB, over the 4 MiB limit for a spec\n"))
        }
    }

    @Test func aHugeSchemaFileIsASchemaFileErrorAtItsReference() async throws {
        #expect(try sparseFile(path("big.schema.json"), size: 3 << 30) == 3 << 30)
        let spec = Self.spec.replacingOccurrences(of: #"mock: ["said"] }"#, with: #"mock: ["said"], output: { schema: big.schema.json } }"#)
        try spec.write(toFile: specPath, atomically: true, encoding: .utf8)
        let result = try await runPipe(["lint", specPath])
        #expect(result.status == 1)
        #expect(result.stdout.contains(
            "spec.yaml:5:72: error: schema file `big.schema.json` cannot be read: it is 3 GiB, over the 4 MiB limit [schema-file]"))
    }

    @Test func checkJSONStopsAtItsDocumentAndSchemaLimits() async throws {
        try #"{"type": "object"}"#.write(toFile: path("schema.json"), atomically: true, encoding: .utf8)
        let zeros = try await runPipe(["check-json", "--schema", path("schema.json"), "/dev/zero"])
        #expect(zeros.status == 2)
        #expect(zeros.stderr == "/dev/zero: cannot read: it is over the 64 MiB limit\n")
        let stdin = try await runPipe(["check-json", "--schema", path("schema.json")], stdinFile: "/dev/zero")
        #expect(stdin.stderr == "<stdin>: cannot read: it is over the 64 MiB limit\n")

        #expect(try sparseFile(path("huge.json"), size: 5 << 30) == 5 << 30)
        let schema = try await runPipe(["check-json", "--schema", path("huge.json"), path("schema.json")])
        #expect(schema.status == 2)
        #expect(schema.stderr == "\(path("huge.json")): cannot read: it is 5 GiB, over the 4 MiB limit\n")
        let document = try await runPipe(["check-json", "--schema", path("schema.json"), path("huge.json")])
        #expect(document.status == 2)
        #expect(document.stderr == "\(path("huge.json")): cannot read: it is 5 GiB, over the 64 MiB limit\n")
    }

    @Test func theRunInputStopsAtMaxInputAndExitsThree() async throws {
        let zeros = try await runPipe(["run", "--mock", "--no-store", "--max-input", "1M", specPath], stdinFile: "/dev/zero")
        #expect(zeros.status == 3)
        #expect(zeros.stderr == "pipe: the input on stdin is too large: it is over the 1 MiB limit; --max-input SIZE raises the limit\n")

        try String(repeating: "x", count: 2048).write(toFile: path("in.txt"), atomically: true, encoding: .utf8)
        let over = try await runPipe(["run", "--mock", "--no-store", "--max-input", "1K", specPath, "--input", path("in.txt")])
        #expect(over.status == 3)
        #expect(over.stderr.contains("the input file \(path("in.txt")) is too large: it is 2 KiB, over the 1 KiB limit"))
        #expect(over.stdout.isEmpty)
        let within = try await runPipe(["run", "--mock", "--no-store", "--quiet", "--max-input", "2K", specPath, "--input", path("in.txt")])
        #expect(within.status == 0, "\(within.stderr)")
        #expect(within.stdout.contains("said"))

        #expect(try sparseFile(path("huge.txt"), size: 5 << 30) == 5 << 30)
        let huge = try await runPipe(["run", "--mock", "--no-store", specPath, "--input", path("huge.txt")])
        #expect(huge.status == 3)
        #expect(huge.stderr.contains("it is 5 GiB, over the 64 MiB limit; --max-input SIZE raises the limit"))

        let bad = try await runPipe(["run", "--mock", "--max-input", "lots", specPath])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("--max-input"))
    }

    // MARK: - Special files

    @Test func aFIFOIsReadLikeAFile() async throws {
        let fifos = ["lint.fifo", "run.fifo", "input.fifo"].map(path)
        for fifo in fifos { #expect(mkfifo(fifo, 0o600) == 0) }
        // The writer opens each FIFO in turn, and blocks until its reader does, as `<(cmd)` does.
        let writer = Process()
        writer.executableURL = URL(fileURLWithPath: "/bin/sh")
        writer.arguments = ["-c", #"cat "$1" > "$2" && cat "$1" > "$3" && echo tides > "$4""#, "sh", specPath] + fifos
        try writer.runUnblocked()
        defer { if writer.isRunning { kill(writer.processIdentifier, SIGKILL) } }
        let lint = try await runPipe(["lint", fifos[0]])
        #expect(lint.status == 0, "\(lint.stderr)")
        let run = try await runPipe(["run", "--mock", "--no-store", "--quiet", "--json", fifos[1], "--input", fifos[2]])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try JSONParser.parse(run.stdout) == ["said": "said"])

        let substituted = try await runShell(
            #""$PIPE" lint <(cat "\#(specPath)") && "$PIPE" check-json --schema <(echo '{"type": "object"}') <(echo '{}')"#)
        #expect(substituted.status == 0, "\(substituted.stderr)")
    }

    @Test func devNullIsAnEmptyInputNotAnUnreadableOne() async throws {
        let result = try await runPipe(["run", "--mock", "--no-store", "--quiet", "--json", specPath, "--input", "/dev/null"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try JSONParser.parse(result.stdout) == ["said": "said"])
    }

    @Test func anUnreadableFileSaysWhy() async throws {
        let directory = folder.url.path
        let lint = try await runPipe(["lint", directory, path("missing.yaml")])
        #expect(lint.status == 2)
        #expect(lint.stderr.contains("pipe: cannot read \(directory): it is a directory; name the spec files\n"))
        #expect(lint.stderr.contains("pipe: cannot read \(path("missing.yaml")): no such file or directory\n"))
        let input = try await runPipe(["run", "--mock", "--no-store", specPath, "--input", directory])
        #expect(input.status == 2)
        #expect(input.stderr == "pipe: cannot read the input file \(directory): it is a directory\n")
        let check = try await runPipe(["check-json", "--schema", directory])
        #expect(check.status == 2)
        #expect(check.stderr == "\(directory): cannot read: it is a directory\n")
    }

    // MARK: - The reader

    @Test func sizesAreReadAndWrittenAsPeopleWriteThem() {
        #expect(ByteSize.parse("64M") == 64 << 20)
        #expect(ByteSize.parse("512k") == 512 << 10)
        #expect(ByteSize.parse("1 GiB") == 1 << 30)
        #expect(ByteSize.parse("1000") == 1000)
        #expect(ByteSize.parse("1T") == nil && ByteSize.parse("M") == nil && ByteSize.parse("-1") == nil)
        #expect(ByteSize.parse("99999999999999999999G") == nil)
        #expect(ByteSize.text(4 << 20) == "4 MiB")
        #expect(ByteSize.text(3 << 29) == "1.5 GiB")
        #expect(ByteSize.text(900) == "900 bytes")
    }
}

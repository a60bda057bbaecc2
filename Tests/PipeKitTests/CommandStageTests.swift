import Foundation
import Testing
@testable import PipeKit

/// Command stages (`run:`) as a user runs them with `pipe run`: real programs (python3,
/// /bin/sh, /usr/bin/env), stdout as the stage's value, retries, timeouts that end the whole
/// process group, a clean environment, `for_each`, `--resume` and `--mock`.
@Suite struct CommandStageTests {
    /// pipe's own environment in these runs: API keys set, which no command may see.
    static let environment = [
        "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "ANTHROPIC_API_KEY": "sk-ant-secret",
        "OPENAI_API_KEY": "sk-openai-secret", "GREETING_SOURCE": "hello",
    ]

    /// Writes `files` (the spec as `spec.yaml`) into a new folder and runs `pipe arguments` there.
    final class Setup {
        let folder: TemporaryFolder

        init(spec: String, files: [String: String] = [:]) throws {
            folder = try TemporaryFolder("pipe-command")
            try ("version: 1\n" + spec).write(to: folder.url.appendingPathComponent("spec.yaml"), atomically: true, encoding: .utf8)
            for (name, text) in files {
                try text.write(to: folder.url.appendingPathComponent(name), atomically: true, encoding: .utf8)
            }
        }

        var spec: String { folder.url.appendingPathComponent("spec.yaml").path }

        func path(_ name: String) -> String { folder.url.appendingPathComponent(name).path }

        func run(_ extra: [String] = [], stdin: String = "") async throws -> CommandResult {
            try await runPipe(["run", spec, "--store", folder.storePath] + extra, stdin: stdin, environment: CommandStageTests.environment)
        }
    }

    static let echo = """
        import json, sys
        print(json.dumps({"args": sys.argv[1:], "stdin": sys.stdin.read()}))
        """

    @Test func argumentsAndStdinAreRenderedAndStdoutIsTheValue() async throws {
        let setup = try Setup(spec: """
            input: { schema: { type: object, properties: { address: { type: string } } } }
            stages:
              listings:
                run: [python3, echo.py, "{{ input.address }}", "{{ input }}"]
                stdin: "Address: {{ input.address }}"
                output: { schema: { type: object, required: [args, stdin], properties: { args: { type: array }, stdin: { type: string } } } }
              shout:
                run: "printf '%s\\\\n' '{{ listings.args[0] }}' | tr a-z A-Z"
                shell: true
            output: { listings: "{{ listings }}", shout: "{{ shout }}" }
            """, files: ["echo.py": Self.echo])
        let result = try await setup.run(["--quiet"], stdin: #"{"address": "12 High St"}"#)
        #expect(result.status == 0, "\(result.stderr)")
        let output = try JSONParser.parse(result.stdout)
        // A string argument is inserted as it is, any other value as JSON.
        #expect(output["listings"]?["args"] == ["12 High St", #"{"address":"12 High St"}"#])
        #expect(output["listings"]?["stdin"] == "Address: 12 High St")
        // Without a schema, the value is stdout less its one trailing newline.
        #expect(output["shout"] == "12 HIGH ST")
    }

    @Test func aProgramThatLeavesItsStdinUnreadEndsAsUsual() async throws {
        let setup = try Setup(spec: """
            stages:
              ignore: { run: [/bin/echo, done], stdin: "{{ input }}" }
            output: "{{ ignore }}"
            """)
        let result = try await setup.run(["--quiet"], stdin: String(repeating: "a", count: 3_000_000))
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "done\n")
    }

    @Test func theEnvironmentHoldsOnlyTheDeclaredVariables() async throws {
        let setup = try Setup(spec: """
            stages:
              show:
                run: [/usr/bin/env]
                env: { GREETING: "${GREETING_SOURCE}", FIXED: "a literal" }
            output: "{{ show }}"
            """)
        let result = try await setup.run(["--quiet"], stdin: "x")
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init).sorted()
        #expect(lines == ["FIXED=a literal", "GREETING=hello"])
        #expect(!result.stdout.contains("secret"))
    }

    @Test func anUnsetVariableInEnvFailsTheStageByName() async throws {
        let setup = try Setup(spec: """
            stages:
              show: { run: [/usr/bin/env], env: { TOKEN: "${PIPE_TEST_NOT_SET}" } }
            """)
        let result = try await setup.run(stdin: "x")
        #expect(result.status == 1)
        #expect(result.stderr.contains("`env` of stage `show` passes `${PIPE_TEST_NOT_SET}`, which is not set"), "\(result.stderr)")
    }

    /// The script prints an invalid value on its first two runs (it counts them in a file).
    static let flaky = """
        import json, os
        runs = open("runs.txt", "a+"); runs.seek(0); n = len(runs.read()); runs.write("x"); runs.close()
        print(json.dumps({"count": "many"} if n < 2 else {"count": n + 1}))
        """

    @Test func schemaInvalidStdoutIsRunAgainWhileRetriesLast() async throws {
        let spec = { (retries: Int) in """
            stages:
              counter:
                run: [python3, flaky.py]
                retries: \(retries)
                output: { schema: { type: object, required: [count], properties: { count: { type: integer } } } }
            output: "{{ counter }}"
            """ }
        let enough = try Setup(spec: spec(2), files: ["flaky.py": Self.flaky])
        let result = try await enough.run(["--json"], stdin: "x")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try JSONParser.parse(result.stdout) == ["count": 3])
        #expect(try String(contentsOfFile: enough.path("runs.txt"), encoding: .utf8) == "xxx")
        #expect(result.stderr.contains("retrying"))

        let tooFew = try Setup(spec: spec(1), files: ["flaky.py": Self.flaky])
        let failed = try await tooFew.run(stdin: "x")
        #expect(failed.status == 1)
        #expect(try String(contentsOfFile: tooFew.path("runs.txt"), encoding: .utf8) == "xx")
        #expect(failed.stderr.contains("stdout does not match the output schema"), "\(failed.stderr)")
    }

    @Test(arguments: [
        ("echo 'no such listing' >&2; exit 3", "command: exit 3; stderr: no such listing"),
        ("kill -SEGV $$", "command: killed by SIGSEGV"),
    ])
    func aNonZeroExitOrASignalFailsTheAttemptWithStderrsEnd(_ line: String, _ message: String) async throws {
        let setup = try Setup(spec: """
            stages:
              broken: { run: "\(line)", shell: true, retries: 0 }
            """)
        let result = try await setup.run(stdin: "x")
        #expect(result.status == 1)
        #expect(result.stderr.contains(message), "\(result.stderr)")
    }

    @Test func stdoutPastItsLimitEndsTheAttempt() async throws {
        let setup = try Setup(spec: """
            stages:
              flood: { run: [head, -c, "17000000", /dev/zero], retries: 0 }
            """)
        let result = try await setup.run(stdin: "x")
        #expect(result.status == 1)
        #expect(result.stderr.contains("stdout is longer than 16 MiB"), "\(result.stderr)")
    }

    /// A command that leaves a sleeping child: its pid is written to `child.pid`.
    static let parent = "sleep 300 & echo $! > child.pid; wait"

    @Test func aTimeoutKillsTheWholeProcessGroup() async throws {
        let setup = try Setup(spec: """
            stages:
              slow: { run: "\(Self.parent)", shell: true, timeout: 1s, retries: 0 }
            """)
        let result = try await setup.run(stdin: "x")
        #expect(result.status == 1)
        #expect(result.stderr.contains("command: timed out after 1.0s; its process group was killed"), "\(result.stderr)")
        let child = try #require(Int32(String(contentsOfFile: setup.path("child.pid"), encoding: .utf8).trimmingSpaces))
        #expect(await Self.ends(child), "the sleeping child \(child) outlived its command")
    }

    @Test func ctrlCKillsTheRunningCommandsProcessGroup() async throws {
        let setup = try Setup(spec: """
            stages:
              slow: { run: "\(Self.parent)", shell: true, timeout: 5m }
            """)
        let pipe = try LivePipe(["run", setup.spec, "--store", setup.folder.storePath], stdin: "x", environment: Self.environment)
        #expect(try await pipe.waitForStderr("slow: started"))
        // The child is running once its pid is written.
        var pidText = ""
        for _ in 0..<3000 where pidText.isEmpty {
            pidText = (try? String(contentsOfFile: setup.path("child.pid"), encoding: .utf8))?.trimmingSpaces ?? ""
            if pidText.isEmpty { try await Task.sleep(for: .milliseconds(10)) }
        }
        let child = try #require(Int32(pidText))
        pipe.send(SIGINT)
        let result = await pipe.finish()
        #expect(result.status == 130, "\(result.stderr)")
        #expect(await Self.ends(child), "the sleeping child \(child) outlived pipe")
    }

    @Test func forEachRunsTheCommandOncePerItem() async throws {
        let setup = try Setup(spec: """
            stages:
              plan:
                run: [python3, -c, "import json; print(json.dumps(['tide', 'moon', 'sea']))"]
                output: { schema: { type: array, items: { type: string } } }
              shout:
                for_each: plan
                as: word
                run: [python3, -c, "import sys; print(sys.argv[1].upper())", "{{ word }}"]
            output: "{{ shout }}"
            """)
        let result = try await setup.run(["--quiet"], stdin: "x")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try JSONParser.parse(result.stdout) == ["TIDE", "MOON", "SEA"])
    }

    @Test func resumeReusesAFinishedCommandStage() async throws {
        let setup = try Setup(spec: """
            stages:
              first: { run: "echo run >> first.log; echo one", shell: true }
              second: { run: "test -f ready && echo '{{ first }} two'", shell: true, retries: 0 }
            output: "{{ second }}"
            """)
        let failed = try await setup.run(stdin: "x")
        #expect(failed.status == 1)
        try Data().write(to: URL(fileURLWithPath: setup.path("ready")))
        let resumed = try await setup.run(["--resume", "last"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stdout == "one two\n")
        #expect(resumed.stderr.contains("first: reused"), "\(resumed.stderr)")
        // `first` ran once, in the first run.
        #expect(try String(contentsOfFile: setup.path("first.log"), encoding: .utf8) == "run\n")
        let logs = try await runPipe(["logs", "last", "--store", setup.folder.storePath])
        #expect(logs.stdout.contains("first   reused     command"), "\(logs.stdout)")
    }

    @Test func cacheReusesTheValueOfAnEarlierRunWithTheSameArguments() async throws {
        let setup = try Setup(spec: """
            stages:
              fetch: { run: "echo run >> fetch.log; echo 'listings for {{ input }}'", shell: true }
            output: "{{ fetch }}"
            """)
        let first = try await setup.run(["--cache"], stdin: "Old Town")
        let second = try await setup.run(["--cache"], stdin: "Old Town")
        #expect(first.status == 0 && second.status == 0, "\(second.stderr)")
        #expect(second.stdout == "listings for Old Town\n")
        #expect(second.stderr.contains("fetch: reused"), "\(second.stderr)")
        // Other arguments, or no --cache: the program runs.
        _ = try await setup.run(["--cache"], stdin: "Harbourside")
        _ = try await setup.run(stdin: "Old Town")
        #expect(try String(contentsOfFile: setup.path("fetch.log"), encoding: .utf8) == "run\nrun\nrun\n")
    }

    @Test func underMockMockValuesAnswerInsteadOfTheProgram() async throws {
        let setup = try Setup(spec: """
            stages:
              fake: { run: [/bin/false], mock: ["from mock"] }
              real: { run: [/bin/echo, "{{ fake }} then real"] }
            output: "{{ real }}"
            """)
        let result = try await setup.run(["--mock", "--quiet"], stdin: "x")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "from mock then real\n")
    }

    @Test func lintPlacesEachCommandProblem() async throws {
        let setup = try Setup(spec: """
            models: { m: { provider: mock } }
            stages:
              empty: { run: [] }
              line: { run: "echo hi" }
              mixed: { run: [echo], prompt: "hi", model: m }
              reads: { run: [echo, "{{ nowhere.x }}"], stdin: "{{ empty.missing }}" }
              acting: { run: [echo], tools: [clock], max_turns: 3 }
            tools:
              clock: { mcp: { command: [python3, -m, mcp_server_time] } }
            """)
        let result = try await runPipe(["lint", setup.spec])
        #expect(result.status == 1)
        let found = result.stdout.split(separator: "\n").filter { $0.contains(": error: ") }.map { line in
            String(line.split(separator: "/").last ?? "")
        }
        #expect(found == [
            "spec.yaml:4:12: error: `run` of stage `empty` is empty: it names no program [command-stage]",
            "spec.yaml:5:11: error: `run` of stage `line` is a list of arguments (an argv), found one string [command-stage]",
            "spec.yaml:6:33: error: stage `mixed` runs a command (`run:`): `prompt` does not apply to it [command-stage]",
            "spec.yaml:6:46: error: stage `mixed` runs a command (`run:`): `model` does not apply to it [command-stage]",
            // The templates of arguments and stdin are checked as a prompt's are.
            "spec.yaml:7:28: error: `nowhere` is neither `input` nor a stage [unknown-reference]",
            "spec.yaml:7:61: error: `empty` is a string, so it has no field `missing` [reference-type]",
            // Tools are a model's: a command stage cannot offer them.
            "spec.yaml:8:34: error: stage `acting` runs a command (`run:`): `tools` does not apply to it [command-stage]",
            "spec.yaml:8:53: error: stage `acting` runs a command (`run:`): `max_turns` does not apply to it [command-stage]",
        ], "\(result.stdout)")
    }

    /// Whether process `pid` ends (or is a zombie) within a generous while.
    static func ends(_ pid: Int32) async -> Bool {
        for _ in 0..<1000 {
            if kill(pid, 0) != 0 { return true }
            let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
            if let close = stat.lastIndex(of: ")"), stat[stat.index(close, offsetBy: 2)] == "Z" { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return false
    }
}

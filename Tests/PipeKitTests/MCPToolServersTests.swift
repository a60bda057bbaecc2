import Foundation
import Testing

@testable import PipeKit

/// The MCP client against real servers: the test server written with the official Python
/// `mcp` package (`Tests/testdata/mcp/server.py`: the failure cases) over stdio and over
/// Streamable HTTP, and the reference servers `mcp-server-time` and `mcp-server-git`.
@Suite("MCP tool servers", .serialized)
struct MCPToolServersTests {
    static let script = Paths.testdata.appendingPathComponent("mcp/server.py").path
    /// The Python interpreter itself: `python3` may be a shim (pyenv's) that adds variables
    /// of its own to the environment the server sees.
    static let python: String = {
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        probe.arguments = ["python3", "-c", "import sys; print(sys.executable)"]
        let output = Pipe()
        probe.standardOutput = output
        try? probe.run()
        let path = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        probe.waitUntilExit()
        return path.trimmingCharacters(in: .whitespacesAndNewlines)
    }()

    static func stdio(
        _ command: [String] = [python, script], environment: [String: String] = [:],
        workingDirectory: String = FileManager.default.temporaryDirectory.path,
        maxResultCharacters: Int = ToolServerConfig.defaultMaxResultCharacters
    ) -> MCPToolServers {
        MCPToolServers([
            "test": ToolServerConfig(
                name: "test", transport: .stdio(command: command), environment: environment,
                workingDirectory: workingDirectory, maxResultCharacters: maxResultCharacters)
        ])
    }

    @Test func listsToolsAndCallsThemConcurrentlyOnOneProcess() async throws {
        let servers = Self.stdio()
        let tools = try await servers.tools(of: "test")
        let echo = try #require(tools.first { $0.name == "echo" })
        #expect(echo.description == "Returns its text.")
        #expect(echo.inputSchema["properties"]?["text"]?["type"] == "string")
        #expect(Set(tools.map(\.name)).isSuperset(of: ["fail", "crash", "hang", "garbage", "huge", "environment", "cwd"]))

        let replies = try await withThrowingTaskGroup(of: (Int, ToolOutcome).self) { group in
            for index in 0..<8 {
                group.addTask {
                    (index, try await servers.call(server: "test", tool: "echo", arguments: ["text": .string("call \(index)")], timeout: .seconds(60)))
                }
            }
            return try await group.reduce(into: [Int: ToolOutcome]()) { $0[$1.0] = $1.1 }
        }
        for index in 0..<8 {
            #expect(replies[index] == ToolOutcome(content: "call \(index)", isError: false))
        }
        let first = try await Self.process(servers)
        let second = try await Self.process(servers)
        #expect(first == second, "one process per server, however many calls")
        await servers.shutdown()
    }

    @Test func aToolErrorIsAnOutcomeTheModelReads() async throws {
        let servers = Self.stdio()
        let outcome = try await servers.call(server: "test", tool: "fail", arguments: ["message": "no such file: a.txt"], timeout: .seconds(60))
        #expect(outcome.isError)
        #expect(outcome.content.contains("no such file: a.txt"))
        let again = try await servers.call(server: "test", tool: "echo", arguments: ["text": "still here"], timeout: .seconds(60))
        #expect(again.content == "still here")
        await servers.shutdown()
    }

    @Test func anUnknownServerOrToolFails() async throws {
        let servers = Self.stdio()
        await #expect(throws: ToolFailure.unknownServer("nope")) {
            try await servers.tools(of: "nope")
        }
        let failure = await Self.failure { try await servers.call(server: "test", tool: "nope", arguments: [:], timeout: .seconds(60)) }
        // The Python SDK's MCPServer answers an unknown tool with an error result.
        if case .serverError = failure {} else { #expect(failure == nil) }
        await servers.shutdown()
    }

    @Test func aResultLongerThanTheLimitIsCutWithANote() async throws {
        let servers = Self.stdio(maxResultCharacters: 1000)
        let outcome = try await servers.call(server: "test", tool: "huge", arguments: ["size": 5000], timeout: .seconds(60))
        #expect(outcome.fullLength == 5000)
        #expect(outcome.content.hasPrefix(String(repeating: "0123456789", count: 100) + "\n"))
        #expect(outcome.content.hasSuffix("[result cut: the first 1000 of its 5000 characters are shown]"))
        let short = try await servers.call(server: "test", tool: "huge", arguments: ["size": 1000], timeout: .seconds(60))
        #expect(short.content.count == 1000)
        #expect(short.fullLength == 1000)
        await servers.shutdown()
    }

    @Test func aServerSeesOnlyTheDeclaredEnvironmentAndTheSpecsDirectory() async throws {
        setenv("ANTHROPIC_API_KEY", "sk-ant-test-secret", 1)
        setenv("OPENAI_API_KEY", "sk-test-secret", 1)
        defer {
            unsetenv("ANTHROPIC_API_KEY")
            unsetenv("OPENAI_API_KEY")
        }
        let folder = try TemporaryFolder("mcp-cwd")
        let servers = Self.stdio(environment: ["GIT_DIR": "/srv/repo.git"], workingDirectory: folder.url.path)
        let text = try await servers.call(server: "test", tool: "environment", arguments: [:], timeout: .seconds(60)).content
        let environment = try #require(try JSONParser.parse(text).objectValue)
        #expect(environment["GIT_DIR"] == "/srv/repo.git")
        #expect(environment["PATH"]?.stringValue == ProcessInfo.processInfo.environment["PATH"], "PATH, to find programs")
        #expect(!text.contains("secret"))
        // Python itself may add LC_CTYPE (PEP 538); nothing else is there.
        #expect(Set(environment.keys).subtracting(["GIT_DIR", "PATH", "LC_CTYPE"]).isEmpty, "\(environment.keys)")
        let cwd = try await servers.call(server: "test", tool: "cwd", arguments: [:], timeout: .seconds(60)).content
        #expect(cwd == folder.url.resolvingSymlinksInPath().path)
        await servers.shutdown()
    }

    @Test func aCrashFailsTheCallWithItsStatusAndStderrAndLaterCallsAtOnce() async throws {
        let servers = Self.stdio()
        let process = try await Self.process(servers)
        let child = try await Self.spawnChild(servers)
        let failure = await Self.failure { try await servers.call(server: "test", tool: "crash", arguments: ["status": 3], timeout: .seconds(60)) }
        guard case .crashed(let server, let detail) = failure else {
            Issue.record("expected a crash, got \(String(describing: failure))")
            return
        }
        #expect(server == "test")
        #expect(detail.contains("exited with status 3"))
        #expect(detail.contains("crashing on purpose"))
        #expect(!Self.isAlive(process.pid))
        let later = await Self.failure { try await servers.call(server: "test", tool: "echo", arguments: ["text": "x"], timeout: .seconds(60)) }
        #expect(later == failure)
        await servers.shutdown()
        #expect(await Self.ends(child), "the crashed server's child is ended by shutdown")
    }

    @Test func aHungToolTimesOutAndIsCancelledOnTheServer() async throws {
        let folder = try TemporaryFolder("mcp-hang")
        let marker = folder.url.appendingPathComponent("cancelled").path
        let servers = Self.stdio()
        let failure = await Self.failure { try await servers.call(server: "test", tool: "hang", arguments: ["marker": .string(marker)], timeout: .seconds(1)) }
        #expect(failure == .timedOut(server: "test", tool: "hang", after: .seconds(1)))
        #expect(await Self.eventually { (try? String(contentsOfFile: marker, encoding: .utf8)) == "cancelled" }, "notifications/cancelled reached the server")
        let after = try await servers.call(server: "test", tool: "echo", arguments: ["text": "after"], timeout: .seconds(60))
        #expect(after.content == "after")
        await servers.shutdown()
    }

    @Test func garbageOnStdoutBreaksTheServerWithAClearMessage() async throws {
        let servers = Self.stdio()
        let failure = await Self.failure { try await servers.call(server: "test", tool: "garbage", arguments: [:], timeout: .seconds(60)) }
        guard case .protocolViolation(_, let detail) = failure else {
            Issue.record("expected a protocol violation, got \(String(describing: failure))")
            return
        }
        #expect(detail.contains("this is not JSON-RPC"))
        let later = await Self.failure { try await servers.call(server: "test", tool: "echo", arguments: ["text": "x"], timeout: .seconds(60)) }
        #expect(later == failure)
        await servers.shutdown()
    }

    @Test func aServerThatCannotStartSaysWhy() async throws {
        let servers = Self.stdio(["/nonexistent/mcp-server"])
        let failure = await Self.failure { try await servers.tools(of: "test") }
        guard case .couldNotStart(let server, _) = failure else {
            Issue.record("expected couldNotStart, got \(String(describing: failure))")
            return
        }
        #expect(server == "test")
        await servers.shutdown()
    }

    @Test func shutdownLeavesNoProcessInTheServersGroup() async throws {
        let servers = Self.stdio()
        let process = try await Self.process(servers)
        #expect(process.pgid == process.pid, "the server leads a process group of its own")
        let child = try await Self.spawnChild(servers)
        #expect(Self.isAlive(process.pid) && Self.isAlive(child))
        await servers.shutdown()
        #expect(!Self.isAlive(process.pid))
        #expect(await Self.ends(child))
        let later = await Self.failure { try await servers.tools(of: "test") }
        if case .crashed = later {} else { Issue.record("a call after shutdown fails, got \(String(describing: later))") }
    }

    @Test func aCancelledCallerLeavesNothingBehind() async throws {
        let folder = try TemporaryFolder("mcp-cancel")
        let servers = Self.stdio()
        let process = try await Self.process(servers)
        let caller = Task {
            try await servers.call(server: "test", tool: "hang", arguments: ["marker": .string(folder.url.appendingPathComponent("m").path)], timeout: .seconds(600))
        }
        try await Task.sleep(for: .milliseconds(200))
        caller.cancel()
        await #expect(throws: ToolFailure.self) { try await caller.value }
        // The run's end stops the servers from a cancelled task too.
        await Task {
            withUnsafeCurrentTask { $0?.cancel() }
            await servers.shutdown()
        }.value
        #expect(!Self.isAlive(process.pid))
    }

    @Test func serversDroppedWithoutShutdownAreKilled() async throws {
        var servers: MCPToolServers? = Self.stdio()
        let process = try await Self.process(try #require(servers))
        servers = nil
        #expect(await Self.ends(process.pid))
    }

    @Test func theReferenceTimeServer() async throws {
        let servers = Self.stdio(["python3", "-m", "mcp_server_time"])
        let tools = try await servers.tools(of: "test")
        #expect(tools.contains { $0.name == "get_current_time" })
        let outcome = try await servers.call(
            server: "test", tool: "get_current_time", arguments: ["timezone": "Europe/Paris"], timeout: .seconds(60))
        #expect(!outcome.isError)
        #expect(outcome.content.contains("Europe/Paris"))
        let unknown = await Self.failure { try await servers.call(server: "test", tool: "get_time", arguments: [:], timeout: .seconds(60)) }
        if case .serverError(_, let code, let message) = unknown {
            #expect(code == -32602)
            #expect(message.contains("get_time"))
        } else {
            Issue.record("an unknown tool is a JSON-RPC error, got \(String(describing: unknown))")
        }
        await servers.shutdown()
    }

    @Test func theReferenceGitServer() async throws {
        let folder = try TemporaryFolder("mcp-git")
        let repo = folder.url.path
        for arguments in [
            ["init", "-q", "-b", "main"], ["add", "notes.txt"],
            ["-c", "user.name=Test", "-c", "user.email=test@example.com", "commit", "-q", "-m", "First notes"],
        ] {
            if arguments.contains("add") { try "hello\n".write(toFile: repo + "/notes.txt", atomically: true, encoding: .utf8) }
            let git = Process()
            git.executableURL = URL(fileURLWithPath: "/usr/bin/git")
            git.arguments = ["-C", repo] + arguments
            try git.run()
            git.waitUntilExit()
            #expect(git.terminationStatus == 0)
        }
        try "changed\n".write(toFile: repo + "/notes.txt", atomically: true, encoding: .utf8)
        let servers = Self.stdio(["python3", "-m", "mcp_server_git", "--repository", repo], workingDirectory: repo)
        let names = try await servers.tools(of: "test").map(\.name)
        #expect(names.contains("git_log") && names.contains("git_status"))
        let log = try await servers.call(server: "test", tool: "git_log", arguments: ["repo_path": .string(repo)], timeout: .seconds(60))
        #expect(!log.isError)
        #expect(log.content.contains("First notes"))
        let status = try await servers.call(server: "test", tool: "git_status", arguments: ["repo_path": .string(repo)], timeout: .seconds(60))
        #expect(status.content.contains("notes.txt"))
        await servers.shutdown()
    }

    @Test func overStreamableHTTP() async throws {
        let server = try HTTPTestServer()
        defer { server.stop() }
        #expect(await server.waitUntilListening())
        let servers = MCPToolServers([
            "web": ToolServerConfig(
                name: "web", transport: .http(url: server.url, headers: ["X-Test-Token": "t-1"]),
                workingDirectory: FileManager.default.temporaryDirectory.path, maxResultCharacters: 100)
        ])
        let tools = try await servers.tools(of: "web")
        #expect(tools.contains { $0.name == "echo" && $0.description == "Returns its text." })
        let replies = try await withThrowingTaskGroup(of: String.self) { group in
            for index in 0..<4 {
                group.addTask {
                    try await servers.call(server: "web", tool: "echo", arguments: ["text": .string("web \(index)")], timeout: .seconds(60)).content
                }
            }
            return try await group.reduce(into: Set<String>()) { $0.insert($1) }
        }
        #expect(replies == ["web 0", "web 1", "web 2", "web 3"])
        let error = try await servers.call(server: "web", tool: "fail", arguments: ["message": "over http"], timeout: .seconds(60))
        #expect(error.isError && error.content.contains("over http"))
        let huge = try await servers.call(server: "web", tool: "huge", arguments: ["size": 250], timeout: .seconds(60))
        #expect(huge.fullLength == 250)
        #expect(huge.content.hasSuffix("[result cut: the first 100 of its 250 characters are shown]"))

        let folder = try TemporaryFolder("mcp-http-hang")
        let marker = folder.url.appendingPathComponent("cancelled").path
        let failure = await Self.failure { try await servers.call(server: "web", tool: "hang", arguments: ["marker": .string(marker)], timeout: .seconds(1)) }
        #expect(failure == .timedOut(server: "web", tool: "hang", after: .seconds(1)))
        #expect(await Self.eventually { (try? String(contentsOfFile: marker, encoding: .utf8)) == "cancelled" }, "notifications/cancelled reached the server")
        await servers.shutdown()
    }

    @Test func anHTTPServerThatIsNotThereCannotStart() async throws {
        let port = try PostgresServer.freePort()
        let servers = MCPToolServers([
            "web": ToolServerConfig(name: "web", transport: .http(url: "http://127.0.0.1:\(port)/mcp", headers: [:]), workingDirectory: "/")
        ])
        let failure = await Self.failure { try await servers.tools(of: "web") }
        if case .couldNotStart(let server, _) = failure { #expect(server == "web") } else { Issue.record("got \(String(describing: failure))") }
        await servers.shutdown()
    }

    /// The test server over Streamable HTTP on a free port of 127.0.0.1.
    final class HTTPTestServer {
        let process = Process()
        let url: String

        init() throws {
            let port = try PostgresServer.freePort()
            url = "http://127.0.0.1:\(port)/mcp"
            process.executableURL = URL(fileURLWithPath: MCPToolServersTests.python)
            process.arguments = [MCPToolServersTests.script, "--http", "\(port)"]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.runUnblocked()
        }

        /// Whether it answers HTTP within the bound (a busy machine starts Python slowly).
        func waitUntilListening() async -> Bool {
            for _ in 0..<600 {
                if (try? await HTTPClient.shared.send(HTTPRequest(url: url, method: "GET", timeout: .seconds(5)))) != nil { return true }
                try? await Task.sleep(for: .milliseconds(50))
            }
            return false
        }

        /// Killed: uvicorn's graceful stop waits for the client's kept-alive connections.
        func stop() {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    // MARK: - Helpers

    struct ServerProcess: Equatable {
        var pid: pid_t
        var pgid: pid_t
    }

    static func process(_ servers: MCPToolServers) async throws -> ServerProcess {
        let text = try await servers.call(server: "test", tool: "process", arguments: [:], timeout: .seconds(60)).content
        let object = try JSONParser.parse(text)
        return ServerProcess(
            pid: pid_t(try #require(object["pid"]?.numberValue?.intValue)), pgid: pid_t(try #require(object["pgid"]?.numberValue?.intValue)))
    }

    static func spawnChild(_ servers: MCPToolServers) async throws -> pid_t {
        let text = try await servers.call(server: "test", tool: "spawn_child", arguments: [:], timeout: .seconds(60)).content
        return try #require(pid_t(text))
    }

    /// What `body` failed with (nil when it did not fail, or not with a `ToolFailure`).
    static func failure(_ body: () async throws -> some Any) async -> ToolFailure? {
        do {
            _ = try await body()
            return nil
        } catch {
            return error as? ToolFailure
        }
    }

    /// Whether a process runs (a zombie, ended and not yet reaped by its parent, does not).
    static func isAlive(_ pid: pid_t) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return false }
        return !stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).hasPrefix("Z")
    }

    /// Whether `pid` ends within a generous bound (a busy machine is slow, never this slow).
    static func ends(_ pid: pid_t) async -> Bool {
        await eventually { !isAlive(pid) }
    }

    static func eventually(_ condition: () -> Bool) async -> Bool {
        for _ in 0..<600 {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return condition()
    }
}

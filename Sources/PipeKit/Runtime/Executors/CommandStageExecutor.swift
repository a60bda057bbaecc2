import Foundation

/// Runs a command stage (`run:`): renders its arguments and `stdin`, runs the program
/// (`ChildProcess`: its own process group, only the `env:` variables, in the spec's
/// directory), and reads its stdout as the stage's value: JSON validated against the output
/// schema, or text without one. A non-zero exit, a signal, a timeout or invalid output is a
/// failed attempt, run again after a backoff while `retries` last. No model, no tokens.
struct CommandStageExecutor: StageExecutor {
    let stage: CommandStage

    /// stdout past this ends the attempt (the value of a stage is held in memory, and read by
    /// the stages after it).
    static let stdoutLimit = 16 << 20

    func run(_ context: StageContext) async -> (StageOutcome, StageReport) {
        let start = ContinuousClock.now
        let events = context.events
        let unit = context.unit
        events(.stageStarted(unit: unit))
        let arguments = stage.arguments.map(context.renderer.render)
        let stdin = stage.stdin.map(context.renderer.render)
        // The names of `env:` count, not the values: a secret never reaches the store.
        let fingerprint = context.journal == nil ? "" : Fingerprint.stage(
            context.planned.fingerprintParts, rendered: arguments + [stdin ?? "-", stage.environment.map(\.name).joined(separator: ",")])
        var attempts = 0
        var reused = false
        let outcome: StageOutcome
        if let earlier = await context.earlierOutput(fingerprint: fingerprint, cache: stage.cache),
            await offHTTPThread({ context.validator?.isValid(earlier) ?? (earlier.stringValue != nil) })
        {
            reused = true
            outcome = .value(earlier)
        } else if context.mockCommands, !stage.mockReplies.isEmpty {
            // `--mock` with `mock:` values: they answer in turn (an item takes its index's).
            let position = unit.item ?? (unit.iteration ?? 1) - 1
            outcome = .value(stage.mockReplies[min(position, stage.mockReplies.count - 1)])
        } else {
            outcome = await attempt(arguments: arguments, stdin: stdin, context: context, attempts: &attempts)
        }
        return await context.end(
            outcome, reused: reused, model: nil, attempts: attempts, since: start, fingerprint: .made(fingerprint))
    }

    func pending(_ context: StageContext) -> PendingApproval {
        let command = stage.arguments.map(context.renderer.render).joined(separator: " ")
        return PendingApproval(stage: context.stage.name, system: nil, prompt: "run: " + command)
    }

    /// Runs the program until an attempt gives a value or the retries are spent.
    private func attempt(
        arguments: [String], stdin: String?, context: StageContext, attempts: inout Int
    ) async -> StageOutcome {
        let environment: [String: String]
        switch Self.environment(stage.environment, from: ProcessInfo.processInfo.environment) {
        case .success(let values): environment = values
        case .failure(let unset): return .failed(.command(.unsetVariable(name: unset.name, stage: context.stage.name)))
        }
        let argv = stage.shell ? ["/bin/sh", "-c", arguments.first ?? ""] : arguments
        guard let program = argv.first, !program.isEmpty else {
            return .failed(.command(.spawn("`run` renders an empty program name")))
        }
        var lastError = StageFailure.noAttempt
        for retry in 0...stage.retries {
            if Task.isCancelled { return .cancelled }
            var timeout = stage.timeout
            if let deadline = context.deadline {
                let left = deadline - ContinuousClock.now
                guard left > .zero else { return .failed(.timeBudget(unit: context.unit)) }
                timeout = min(timeout, left)
            }
            attempts += 1
            let child = ChildProcess(
                program: program, arguments: Array(argv.dropFirst()), environment: environment,
                workingDirectory: stage.workingDirectory, stdin: stdin, timeout: timeout, stdoutLimit: Self.stdoutLimit)
            let ended: ChildProcess.Ended
            do {
                ended = try await child.run()
            } catch {
                // Not found, not executable: running it again will not help.
                return .failed(.command(.spawn(error.description)))
            }
            if Task.isCancelled { return .cancelled }
            switch await check(ended, timeout: timeout, context: context) {
            case .success(let value): return .value(value)
            case .failure(let failure): lastError = .command(failure)
            }
            if retry < stage.retries {
                let delay = context.retryPolicy.delay(retry: retry + 1, retryAfter: nil)
                context.events(.retrying(unit: context.unit, attempt: attempts, reason: lastError, delay: delay))
                do { try await Task.sleep(for: delay) } catch { return .cancelled }
            }
        }
        return .failed(lastError)
    }

    /// How the program ended, as the stage's value or the attempt's failure.
    private func check(_ ended: ChildProcess.Ended, timeout: Duration, context: StageContext) async -> Result<JSONValue, CommandFailure> {
        if ended.timedOut { return .failure(.timedOut(after: timeout, stderr: ended.stderr)) }
        if ended.stdoutOverflowed { return .failure(.stdoutTooLong(limit: Self.stdoutLimit)) }
        switch ended.status {
        case .exited(0): break
        case .exited(let code): return .failure(.exited(code: code, stderr: ended.stderr))
        case .signalled(let signal): return .failure(.signalled(name: Self.signalName(signal), stderr: ended.stderr))
        }
        guard context.stage.outputSchema != nil else {
            var text = String(decoding: ended.stdout, as: UTF8.self)
            if text.hasSuffix("\n") { text.removeLast() }
            return .success(.string(text))
        }
        return await offHTTPThread { () -> Result<JSONValue, CommandFailure> in
            let value: JSONValue
            do throws(JSONParseError) {
                value = try JSONParser.parse(ended.stdout)
            } catch {
                return .failure(.notJSON(problem: error.description))
            }
            let errors = context.validator?.validate(value, maxErrors: 20) ?? []
            return errors.isEmpty ? .success(value) : .failure(.schemaMismatch(errors: errors))
        }
    }

    /// The program's environment: each `env:` entry, a variable read from pipe's environment
    /// or a literal; the failure is the name of a variable that is not set.
    static func environment(
        _ entries: [(name: String, value: EnvironmentValue)], from own: [String: String]
    ) -> Result<[String: String], UnsetVariable> {
        var values: [String: String] = [:]
        for (name, value) in entries {
            switch value {
            case .literal(let text): values[name] = text
            case .variable(let variable):
                guard let text = own[variable] else { return .failure(UnsetVariable(name: variable)) }
                values[name] = text
            }
        }
        return .success(values)
    }

    struct UnsetVariable: Error {
        var name: String
    }

    static func signalName(_ signal: Int32) -> String {
        let names: [Int32: String] = [
            SIGHUP: "SIGHUP", SIGINT: "SIGINT", SIGQUIT: "SIGQUIT", SIGILL: "SIGILL", SIGABRT: "SIGABRT", SIGBUS: "SIGBUS",
            SIGFPE: "SIGFPE", SIGKILL: "SIGKILL", SIGSEGV: "SIGSEGV", SIGPIPE: "SIGPIPE", SIGTERM: "SIGTERM",
        ]
        return names[signal] ?? "signal \(signal)"
    }
}

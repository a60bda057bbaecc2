// Rule `command-stage`: a command stage (`run:`) names a program (a non-empty argv, or one
// command line with `shell: true`) and has none of the keys only a model reads.
struct CommandRules: Rule {
    let ids: [RuleID] = [.commandStage]

    func check(_ resolved: ResolvedPipeline, into diagnostics: inout DiagnosticSink) {
        for stage in resolved.stages {
            guard let command = stage.spec.command else { continue }
            let shell = command.shell?.value ?? false
            if command.isList && command.arguments.isEmpty {
                diagnostics.report(
                    .commandStage, at: command.span, "`run` of stage `\(stage.name)` is empty: it names no program",
                    hint: "name the program and its arguments: `run: [python3, scripts/fetch.py]`")
            } else if shell && command.isList {
                diagnostics.report(
                    .commandStage, at: command.span,
                    "with `shell: true`, `run` of stage `\(stage.name)` is one command line, found a list",
                    hint: "write `run: \"program arguments...\"`, or remove `shell: true` to run the list as an argv")
            } else if !shell && !command.isList {
                diagnostics.report(
                    .commandStage, at: command.span,
                    "`run` of stage `\(stage.name)` is a list of arguments (an argv), found one string",
                    hint: "write `run: [program, argument, ...]`, or add `shell: true` to run it with /bin/sh -c")
            }
            for (key, span) in modelKeys(of: stage.spec) {
                diagnostics.report(
                    .commandStage, at: span, "stage `\(stage.name)` runs a command (`run:`): `\(key)` does not apply to it",
                    hint: "remove `\(key)`, or remove `run` to make the stage call a model")
            }
        }
    }

    /// The keys only a model reads that the stage sets itself, where each is written.
    private func modelKeys(of stage: StageSpec) -> [(String, Span)] {
        let settings = stage.settings
        let written: [(String, Span?)] = [
            ("prompt", stage.prompt?.span), ("model", settings.model?.span), ("fallback", settings.fallback?.first?.span),
            ("system", settings.system?.span), ("max_tokens", settings.maxTokens?.span),
            ("temperature", settings.temperature?.span), ("tools", stage.tools?.first?.span),
            ("max_turns", settings.maxTurns?.span),
        ]
        assert(written.map(\.0) == SpecKeys.modelOnly)
        return written.compactMap { key, span in span.map { (key, $0) } }
    }
}

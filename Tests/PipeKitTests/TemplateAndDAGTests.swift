import Testing
@testable import PipeKit

@Suite struct TemplateParserTests {
    func parse(_ text: String) -> (Template?, [Diagnostic]) {
        var sink = DiagnosticSink()
        let parser = TemplateParser(file: "t", openings: [], fallback: SourcePosition(line: 1, column: 1))
        let template = parser.parse(text, span: .fileStart("t"), diagnostics: &sink)
        return (template, sink.diagnostics)
    }

    @Test func pathsWithFieldsIndexesAndQuotedKeys() {
        let (template, problems) = parse("A {{ researcher.key_findings[2].claim }} B {{input}} {{ x[\"odd key\"] }}")
        #expect(problems.isEmpty)
        #expect(template?.references.map(\.description) == ["researcher.key_findings[2].claim", "input", "x[\"odd key\"]"])
        #expect(template?.parts.count == 6)
        #expect(template?.singleReference == nil)
    }

    @Test func singleReferenceKeepsItsType() {
        #expect(parse("{{ editor.text }}").0?.singleReference?.description == "editor.text")
        #expect(parse(" {{ editor.text }}").0?.singleReference == nil)
    }

    @Test func hyphenatedStageNames() {
        #expect(parse("{{ fact-checker.verified }}").0?.references.first?.root.value == "fact-checker")
    }

    @Test func textWithoutReferencesAndSingleBraces() {
        let (template, problems) = parse("JSON like {\"a\": 1} is fine")
        #expect(problems.isEmpty)
        #expect(template?.references.isEmpty == true)
        guard case .text(let text)? = template?.parts.first else {
            Issue.record("expected text")
            return
        }
        #expect(text == "JSON like {\"a\": 1} is fine")
    }

    @Test func textAroundReferencesKeepsEveryCharacter() {
        let (template, problems) = parse("café — {{ input }} naïve 🌊{x} {{ a.b }}ü")
        #expect(problems.isEmpty)
        let texts = template?.parts.compactMap { part -> String? in
            if case .text(let text) = part { return text }
            return nil
        }
        #expect(texts == ["café — ", " naïve 🌊{x} ", "ü"])
        #expect(template?.references.map(\.description) == ["input", "a.b"])
    }

    @Test func errorsPointAtTheOffendingCharacter() {
        let (_, problems) = parse("ok {{ a. }} {{ b[x] }} {{ c d }} {{ }} {{ e")
        #expect(problems.map(\.rule) == Array(repeating: .templateSyntax, count: 5))
        #expect(problems.map(\.span.start.column) == [9, 18, 29, 34, 40])
    }
}

@Suite struct DAGTests {
    func edge(_ stage: String, _ dependency: String) -> DAG.Edge {
        DAG.Edge(stage: stage, dependency: dependency, span: .fileStart("t"))
    }

    @Test func topologicalOrderFollowsDeclarationOnTies() {
        let (dag, cycles) = DAG.build(
            stages: ["editor", "writer", "researcher", "critic", "checker"],
            edges: [edge("writer", "researcher"), edge("editor", "writer"), edge("critic", "editor"), edge("checker", "editor"),
                    edge("checker", "researcher")])
        #expect(cycles.isEmpty)
        #expect(dag.order == ["researcher", "writer", "editor", "critic", "checker"])
        #expect(dag.dependencies["checker"] == ["editor", "researcher"])
        #expect(dag.sinks == ["critic", "checker"])
        #expect(dag.levels == [["researcher"], ["writer"], ["editor"], ["critic", "checker"]])
        #expect(dag.ancestors(of: "critic") == ["editor", "writer", "researcher"])
    }

    @Test func cyclesAreReportedOnceWithTheirFullPath() {
        let (_, cycles) = DAG.build(
            stages: ["a", "b", "c", "d"],
            edges: [edge("b", "a"), edge("c", "b"), edge("a", "c"), edge("d", "d")])
        #expect(cycles.map { $0.path.joined(separator: " -> ") } == ["b -> c -> a -> b", "d -> d"])
    }

    @Test func repeatedAndUnknownEdgesAreIgnoredAndACycleClosesAtItsFirstEdge() {
        func written(_ stage: String, _ dependency: String, line: Int) -> DAG.Edge {
            DAG.Edge(
                stage: stage, dependency: dependency,
                span: Span(file: "t", start: SourcePosition(line: line, column: 1), end: SourcePosition(line: line, column: 2)))
        }
        // The cycle closes at b -> a, the first time it is written (line 3), not the second (line 9).
        let (_, cycles) = DAG.build(
            stages: ["a", "b"], edges: [written("a", "b", line: 1), written("b", "a", line: 3), written("b", "a", line: 9), written("a", "nowhere", line: 12)])
        #expect(cycles.map(\.path) == [["b", "a", "b"]])
        #expect(cycles.map(\.closingEdge.span.start.line) == [3])
        let (dag, none) = DAG.build(
            stages: ["c", "a", "b"], edges: [edge("a", "c"), edge("b", "c"), edge("b", "a"), edge("b", "a"), edge("x", "c")])
        #expect(none.isEmpty)
        #expect(dag.dependencies == ["a": ["c"], "b": ["c", "a"], "c": []])
        #expect(dag.dependents == ["a": ["b"], "b": [], "c": ["a", "b"]])
        #expect(dag.order == ["c", "a", "b"])
    }

    @Test func independentStagesAreOneLevel() {
        let names = (0..<500).map { "s\($0)" }
        let (dag, _) = DAG.build(stages: names, edges: [])
        #expect(dag.levels.count == 1)
        #expect(dag.order == names)
    }
}

@Suite struct SuggestionTests {
    @Test func closeNamesAreSuggestedFarOnesAreNot() {
        #expect(Suggestions.closest(to: "key_finding", in: ["key_findings", "sources"]) == "key_findings")
        #expect(Suggestions.closest(to: "promt", in: ["prompt", "model"]) == "prompt")
        #expect(Suggestions.closest(to: "strnog", in: ["strong", "fast"]) == "strong")
        #expect(Suggestions.closest(to: "editor", in: ["writer"]) == nil)
        #expect(Suggestions.closest(to: "zzz", in: ["prompt"]) == nil)
    }
}

@Suite struct DurationTests {
    @Test func durations() {
        #expect(DurationParser.parse("500ms") == .milliseconds(500))
        #expect(DurationParser.parse("60s") == .seconds(60))
        #expect(DurationParser.parse("5m") == .seconds(300))
        #expect(DurationParser.parse("1h30m") == .seconds(5400))
        #expect(DurationParser.parse("90") == .seconds(90))
        #expect(DurationParser.parse("10 minutes") == nil)
        #expect(DurationParser.parse("5x") == nil)
        #expect(DurationParser.parse("") == nil)
    }

    /// The written form a spec's string durations must have (the spec schema's pattern).
    @Test func durationsWithUnits() {
        for good in ["500ms", "60s", "1.5s", "1h30m", "2m0.5s", "0s"] { #expect(DurationParser.hasUnits(good), "\(good)") }
        for bad in ["90", "", " 30s", "30 s", "1.s", ".5s", "5x", "s", "1h30", "1e3s", "３0s"] { #expect(!DurationParser.hasUnits(bad), "\(bad)") }
    }
}

/// `pipe graph`'s output formats.
public enum GraphFormat: String, Sendable, CaseIterable {
    case mermaid, dot
}

/// Draws a compiled pipeline: the input, each stage with its model, and the output.
public struct GraphRenderer: Sendable {
    public let pipeline: CompiledPipeline

    public init(pipeline: CompiledPipeline) {
        self.pipeline = pipeline
    }

    public func render(_ format: GraphFormat) -> String {
        switch format {
        case .mermaid: mermaid()
        case .dot: dot()
        }
    }

    /// Stages that read the input, and stages the output reads (`pipe report` draws them too).
    var inputReaders: [String] {
        pipeline.stages.filter { $0.references.contains { $0.root.value == "input" } }.map(\.name)
    }

    var outputSources: [String] {
        let names: [String]
        switch pipeline.output {
        case .sinks(let sinks): names = sinks
        case .single(let template): names = template.references.map(\.root.value)
        case .fields(let fields): names = fields.flatMap { $0.template.references.map(\.root.value) }
        }
        var seen = Set<String>()
        return names.filter { $0 == "input" || pipeline.stage(named: $0) != nil }.filter { seen.insert($0).inserted }
    }

    private func mermaid() -> String {
        var lines = ["flowchart TD", "    input([input])"]
        for stage in pipeline.stages {
            let notes = self.notes(stage).map { "<br/><small>\($0.replacingOccurrences(of: "\"", with: "#quot;"))</small>" }.joined()
            lines.append("    \(id(stage.name))[\"\(stage.name)<br/><small>\(what(stage))</small>\(notes)\"]")
        }
        lines.append("    output([output])")
        for reader in inputReaders { lines.append("    input --> \(id(reader))") }
        for stage in pipeline.stages {
            for dependency in stage.dependencies { lines.append("    \(id(dependency)) --> \(id(stage.name))") }
        }
        for source in outputSources { lines.append("    \(source == "input" ? "input" : id(source)) --> output") }
        for loop in pipeline.loops {
            lines.append("    \(id(loop.end)) -. \"\(loopLabel(loop))\" .-> \(id(loop.from))")
        }
        for stage in pipeline.stages {
            guard case .pipeline(let child) = stage.kind else { continue }
            lines += GraphRenderer(pipeline: child.child).mermaidSubgraph(of: stage.name, id: id(stage.name), path: child.path)
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A `pipeline:` stage's child as a subgraph, `stage` drawn into it by a dotted arrow; its
    /// own children nested, each id under its stage's (`s1_0`).
    private func mermaidSubgraph(of stage: String, id parent: String, path: String, depth: Int = 1) -> [String] {
        let indent = String(repeating: "    ", count: depth + 1)
        var lines = ["\(indent.dropLast(4))subgraph \(parent)_child[\"\(stage): \(path)\"]"]
        for child in pipeline.stages {
            lines.append("\(indent)\(parent)_\(id(child.name).dropFirst())[\"\(child.name)<br/><small>\(what(child))</small>\"]")
        }
        for child in pipeline.stages {
            for dependency in child.dependencies {
                lines.append("\(indent)\(parent)_\(id(dependency).dropFirst()) --> \(parent)_\(id(child.name).dropFirst())")
            }
        }
        for child in pipeline.stages {
            guard case .pipeline(let grandchild) = child.kind else { continue }
            lines += GraphRenderer(pipeline: grandchild.child).mermaidSubgraph(
                of: child.name, id: "\(parent)_\(id(child.name).dropFirst())", path: grandchild.path, depth: depth + 1)
        }
        lines.append("\(indent.dropLast(4))end")
        if depth == 1 { lines.append("    \(parent) -.-> \(parent)_child") }
        return lines
    }

    /// The same in dot: a cluster of the child's stages, named `stage/child`.
    private func dotCluster(of stage: String, path: String) -> [String] {
        var lines = ["    subgraph \(quoted("cluster_" + stage)) {", "        label=\(quoted(stage + ": " + path));"]
        for child in pipeline.stages {
            lines.append("        \(quoted(stage + "/" + child.name)) [label=\(quoted(([child.name, what(child)] + notes(child)).joined(separator: "\n")))];")
            for dependency in child.dependencies {
                lines.append("        \(quoted(stage + "/" + dependency)) -> \(quoted(stage + "/" + child.name));")
            }
        }
        for child in pipeline.stages {
            guard case .pipeline(let grandchild) = child.kind else { continue }
            lines += GraphRenderer(pipeline: grandchild.child).dotCluster(of: stage + "/" + child.name, path: grandchild.path)
        }
        lines.append("    }")
        for child in pipeline.stages where child.dependencies.isEmpty {
            lines.append("    \(quoted(stage)) -> \(quoted(stage + "/" + child.name)) [style=dotted];")
        }
        return lines
    }

    private func dot() -> String {
        var lines = [
            "digraph \(quoted(pipeline.name)) {", "    rankdir=LR;", "    node [shape=box, style=rounded];",
            "    \"input\" [shape=ellipse];", "    \"output\" [shape=ellipse];",
        ]
        for stage in pipeline.stages {
            let label = ([stage.name, what(stage)] + notes(stage)).joined(separator: "\n")
            lines.append("    \(quoted(stage.name)) [label=\(quoted(label))];")
        }
        for reader in inputReaders { lines.append("    \"input\" -> \(quoted(reader));") }
        for stage in pipeline.stages {
            for dependency in stage.dependencies { lines.append("    \(quoted(dependency)) -> \(quoted(stage.name));") }
        }
        for source in outputSources { lines.append("    \(quoted(source)) -> \"output\";") }
        for loop in pipeline.loops {
            lines.append("    \(quoted(loop.end)) -> \(quoted(loop.from)) [style=dashed, label=\(quoted(loopLabel(loop)))];")
        }
        for stage in pipeline.stages {
            guard case .pipeline(let child) = stage.kind else { continue }
            lines += GraphRenderer(pipeline: child.child).dotCluster(of: stage.name, path: child.path)
        }
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }

    /// What a stage does, under its name: `fast: claude-haiku-4-5`.
    func what(_ stage: CompiledStage) -> String {
        switch stage.kind {
        case .model(let model): "\(model.model.name): \(model.model.model)"
        case .command(let command): "command: \(command.program)"
        case .pipeline(let child): "pipeline: \(child.path)"
        }
    }

    /// What else a stage does: `for each planner.questions`, `when ...`, `approval`.
    func notes(_ stage: CompiledStage) -> [String] {
        var notes: [String] = []
        if let forEach = stage.forEach { notes.append("for each \(forEach.reference)") }
        if let condition = stage.when { notes.append("when \(condition)") }
        if stage.approve { notes.append("needs approval") }
        return notes
    }

    /// `until critic.score >= 8, at most 3×`
    private func loopLabel(_ loop: CompiledLoop) -> String {
        (loop.until.map { "until \($0), " } ?? "") + "at most \(loop.maxIterations)×"
    }

    /// Mermaid ids cannot hold every character a stage name can, and some names are
    /// keywords (`end`): stages are numbered in topological order instead.
    private func id(_ name: String) -> String {
        "s\(pipeline.stages.firstIndex { $0.name == name } ?? 0)"
    }

    private func quoted(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n") + "\""
    }
}

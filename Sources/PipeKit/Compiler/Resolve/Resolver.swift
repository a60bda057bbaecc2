/// The compiler's one resolution pass: turns a decoded spec into a `ResolvedPipeline`, in
/// this order: schemas, settings and models, the stages' references (with the `for_each`
/// lists), `output`, the `when` conditions, the loops (with their `until`), `needs`, and
/// the DAG. It reports nothing: problems are kept in the model for the rules to report.
struct Resolver {
    private let spec: PipelineSpec
    /// The stages' names; the models by name (the first of duplicates, which YAML already
    /// reports). A set of names, not the stages by name: a dictionary of `StageSpec` values
    /// copied every stage once more.
    private let stageNames: Set<String>
    private let declaredModels: [String: ModelSpec]
    /// The declared models whose provider is known, by name (the last of duplicates).
    private let usableModels: [String: ResolvedModel]
    /// The shape of `{{ input }}` and of each stage's value, by name.
    private var inputShape: SchemaShape?
    private var valueShapes: [String: SchemaShape?] = [:]
    private var edges: [DAG.Edge] = []
    /// The child specs of the `pipeline:` stages, by stage name.
    private let children: [String: ChildSpec]

    static func resolve(_ spec: PipelineSpec, files: SchemaFiles, children: [String: ChildSpec] = [:]) -> ResolvedPipeline {
        var resolver = Resolver(spec: spec, children: children)
        return resolver.run(files: files)
    }

    private init(spec: PipelineSpec, children: [String: ChildSpec]) {
        self.spec = spec
        self.children = children
        stageNames = Set(spec.stages.lazy.map(\.name.value))
        declaredModels = Dictionary(spec.models.map { ($0.name.value, $0) }, uniquingKeysWith: { first, _ in first })
        var usable: [String: ResolvedModel] = [:]
        for model in spec.models {
            guard let providerName = model.provider?.value, let provider = ProviderRegistry.named(providerName) else { continue }
            usable[model.name.value] = ResolvedModel(
                name: model.name.value, provider: provider, model: model.model?.value ?? model.name.value,
                baseURL: model.baseURL?.value, apiKeyEnv: model.apiKeyEnv?.value, price: model.price,
                rateLimit: model.rateLimit, batch: model.batch?.value ?? false, circuitBreaker: model.circuitBreaker)
        }
        usableModels = usable
    }

    private mutating func run(files: SchemaFiles) -> ResolvedPipeline {
        // Schemas: the input's, then each stage's (a stage name written twice shares the last that loads).
        var loader = SchemaLoader(files: files)
        let input = loader.load(spec.input.schema, for: .input)
        let ownOutputs = spec.stages.map { stage -> ResolvedSchema in
            // A `pipeline:` stage's value is its child's output.
            if stage.pipeline != nil {
                return children[stage.name.value]?.child.map { .loaded($0.outputSchema) } ?? .broken
            }
            return loader.load(stage.outputSchema, for: .stage(stage.name.value))
        }
        var loadedByName: [String: JSONValue] = [:]
        for (stage, output) in zip(spec.stages, ownOutputs) {
            if let schema = output.schema { loadedByName[stage.name.value] = schema }
        }
        let outputs = zip(spec.stages, ownOutputs).map { stage, own in
            loadedByName[stage.name.value].map { ResolvedSchema.loaded($0) } ?? own
        }
        inputShape = Self.shape(of: input, list: false)
        var shaped = Set<String>()
        for (stage, output) in zip(spec.stages, outputs) where shaped.insert(stage.name.value).inserted {
            valueShapes[stage.name.value] = Self.shape(of: output, list: stage.forEach != nil)
        }

        // The stages' references, with their `for_each` lists; then `output` and the `when`s.
        var forEaches: [ResolvedForEach?] = []
        var references: [[ResolvedReference]] = []
        forEaches.reserveCapacity(spec.stages.count)
        references.reserveCapacity(spec.stages.count)
        for stage in spec.stages {
            let forEach = stage.forEach.map { resolveForEach($0, of: stage) }
            let item = forEach.map { (name: $0.spec.itemName.value, shape: $0.itemShape) }
            var resolved: [ResolvedReference] = []
            for reference in templates(of: stage).flatMap(\.references) {
                let reference = resolve(reference, item: item)
                let root = reference.root
                if root != "input", root != item?.name, stageNames.contains(root) {
                    edges.append(DAG.Edge(stage: stage.name.value, dependency: root, span: reference.reference.root.span))
                }
                resolved.append(reference)
            }
            forEaches.append(forEach)
            references.append(resolved)
        }
        let outputReferences = (spec.output?.templates ?? []).flatMap(\.references).map { resolve($0, item: nil) }
        var conditions: [ResolvedCondition] = []
        for stage in spec.stages {
            guard let condition = stage.when else { continue }
            conditions.append(resolveCondition(condition, key: "when", on: stage.name.value))
        }

        let (loops, loopProblems, untils) = resolveLoops()
        conditions += untils

        // `needs`, then the graph.
        let names = spec.stages.map(\.name.value)
        var unknownNeeds: [(stage: String, need: Located<String>)] = []
        for stage in spec.stages {
            for need in stage.needs {
                guard stageNames.contains(need.value) else {
                    unknownNeeds.append((stage.name.value, need))
                    continue
                }
                edges.append(DAG.Edge(stage: stage.name.value, dependency: need.value, span: need.span))
            }
        }
        let (graph, cycles) = DAG.build(stages: names, edges: edges)

        var stages: [ResolvedStage] = []
        stages.reserveCapacity(spec.stages.count)
        for (index, stage) in spec.stages.enumerated() {
            let name = stage.name.value
            // A command stage calls no model (a model key on it is reported by `command-stage`).
            let modelName = stage.callsModel ? stage.settings.model ?? spec.defaults.model : nil
            // Closures, not the method (`map(lookup)`): a method as a value copied the resolver.
            let model = modelName.map { lookup($0) }
            let fallbackNames = model == nil ? [] : stage.settings.fallback ?? spec.defaults.fallback ?? []
            var maxRuns = loops.first { $0.members.contains(name) }?.maxIterations ?? 1
            if let items = forEaches[index]?.maxItems { maxRuns *= items }
            let fromModel = modelSettings(of: stage)
            stages.append(
                ResolvedStage(
                    spec: stage, system: stage.callsModel ? setting(stage, fromModel, \.system) : nil,
                    maxTokens: setting(stage, fromModel, \.maxTokens), temperature: setting(stage, fromModel, \.temperature),
                    retries: setting(stage, fromModel, \.retries), timeout: setting(stage, fromModel, \.timeout),
                    cache: setting(stage, fromModel, \.cache), output: outputs[index],
                    valueShape: valueShapes[name] ?? nil, model: model, fallbacks: fallbackNames.map { lookup($0) },
                    forEach: forEaches[index], references: references[index], maxRuns: maxRuns,
                    maxTurns: setting(stage, fromModel, \.maxTurns), child: children[name]))
        }
        return ResolvedPipeline(
            spec: spec, input: input, inputShape: inputShape, stages: stages, schemaProblems: loader.problems,
            outputReferences: outputReferences, conditions: conditions, loops: loops, loopProblems: loopProblems,
            unknownNeeds: unknownNeeds, edges: edges, graph: graph, cycles: cycles, schemaFiles: loader.texts)
    }

    // MARK: Settings and models

    /// A stage setting by precedence: the stage's own, then its model's, then `defaults`.
    /// Called with a key path literal (`setting(stage, model, \.retries)`), which becomes a closure:
    /// reading through a `KeyPath` value copied the whole `StageSettings` at each step.
    /// `model`: the settings of the model the stage calls (`modelSettings(of:)`), looked up
    /// once a stage rather than once a setting.
    private func setting<T>(_ stage: StageSpec, _ model: StageSettings?, _ field: (StageSettings) -> T?) -> T? {
        if let own = field(stage.settings) { return own }
        if let model, let fromModel = field(model) { return fromModel }
        return field(spec.defaults)
    }

    /// The settings of the declared model a model stage calls (its own or `defaults`'); nil
    /// for a stage that calls none, or names no declared model.
    private func modelSettings(of stage: StageSpec) -> StageSettings? {
        guard stage.callsModel, let modelName = (stage.settings.model ?? spec.defaults.model)?.value else { return nil }
        return declaredModels[modelName]?.settings
    }

    /// Every template of a stage: its `system` (by precedence), then its `prompt`; a command
    /// stage's arguments, then its `stdin`.
    private func templates(of stage: StageSpec) -> [Template] {
        if let command = stage.command { return command.templates }
        if let child = stage.pipeline { return child.input?.templates ?? [] }
        return ResolvedStage.templates(system: setting(stage, modelSettings(of: stage), \.system), prompt: stage.prompt)
    }

    private func lookup(_ name: Located<String>) -> ModelLookup {
        if let model = usableModels[name.value] { return .found(model) }
        return declaredModels[name.value] == nil ? .undeclared(name) : .unusable(name)
    }

    // MARK: References

    /// The shape of a value of `schema` (a list of them for a `for_each` stage); nil when the
    /// schema failed to load.
    private static func shape(of schema: ResolvedSchema, list: Bool) -> SchemaShape? {
        switch schema {
        case .text: list ? .stringList : .string
        case .loaded(let schema): list ? SchemaShape(listOf: schema) : SchemaShape(schema)
        case .broken: nil
        }
    }

    /// Resolves a reference: its root (`input`, a stage or the item in scope), then its path
    /// through the root's shape.
    private func resolve(_ reference: TemplateReference, item: (name: String, shape: SchemaShape?)?) -> ResolvedReference {
        let root = reference.root.value
        let rootShape: SchemaShape?
        if let item, root == item.name {
            rootShape = item.shape
        } else if root == "input" {
            rootShape = inputShape
        } else if stageNames.contains(root) {
            rootShape = valueShapes[root] ?? nil
        } else {
            return ResolvedReference(reference: reference, item: item?.name, resolution: .unknownRoot)
        }
        let resolution: ResolvedReference.Resolution = rootShape.map { .walked($0.walk(reference.path)) } ?? .unchecked
        return ResolvedReference(reference: reference, item: item?.name, resolution: resolution)
    }

    /// A `for_each`: the list, and the shape of one item. A list that resolves is an edge.
    private mutating func resolveForEach(_ forEach: ForEachSpec, of stage: StageSpec) -> ResolvedForEach {
        let list = resolve(forEach.reference, item: nil)
        var itemShape: SchemaShape?
        var notAList: String?
        var maxItems: Int?
        if let shape = list.reached?.shape {
            if stageNames.contains(list.root) {
                edges.append(DAG.Edge(stage: stage.name.value, dependency: list.root, span: forEach.reference.root.span))
            }
            switch shape.index(0) {
            case .success(let item): itemShape = item
            case .failure(.indexOutOfRange): itemShape = SchemaShape(true)
            case .failure: notAList = shape.typeDescription
            }
            let bounds = shape.schemas.map { $0.objectValue?["maxItems"]?.numberValue?.intValue }
            if !bounds.isEmpty, !bounds.contains(where: { $0 == nil }) { maxItems = bounds.compactMap { $0 }.max() }
        }
        return ResolvedForEach(
            spec: forEach, list: list, itemShape: itemShape, notAList: notAList,
            hidesStage: stageNames.contains(forEach.itemName.value), maxItems: maxItems)
    }

    /// A condition's references; each that resolves to another stage is an edge.
    private mutating func resolveCondition(_ condition: Expression, key: String, on stage: String) -> ResolvedCondition {
        let references = condition.references.map { resolve($0, item: nil) }
        for reference in references where reference.reached != nil && reference.root != "input" && reference.root != stage {
            edges.append(DAG.Edge(stage: stage, dependency: reference.root, span: reference.reference.root.span))
        }
        return ResolvedCondition(expression: condition, key: key, stage: stage, references: references)
    }

    // MARK: Loops

    /// The loops: a `loop:` holds when `from` is upstream of its stage and it shares no stage
    /// with an earlier loop. Its members are `from`, its stage and every stage between them.
    /// Then the back references inside each loop (a stage reading itself, or the loop's last
    /// stage) stop being edges: `max_iterations` bounds them.
    private mutating func resolveLoops() -> ([CompiledLoop], [LoopProblem], [ResolvedCondition]) {
        let ends = spec.stages.filter { $0.loop != nil }
        guard !ends.isEmpty else { return ([], [], []) }
        let names = spec.stages.map(\.name.value)
        let endNames = Set(ends.map(\.name.value))
        // The graph without the edges a loop may close: a stage reading itself, or reading a
        // loop's end; with the `needs` of the loops' ends.
        var forward: [String: Set<String>] = [:]
        for edge in edges where edge.stage != edge.dependency && !endNames.contains(edge.dependency) {
            forward[edge.stage, default: []].insert(edge.dependency)
        }
        for end in ends { forward[end.name.value, default: []].formUnion(end.needs.map(\.value)) }
        var loops: [CompiledLoop] = []
        var problems: [LoopProblem] = []
        var untils: [ResolvedCondition] = []
        var owner: [String: String] = [:]
        for end in ends {
            guard let loop = end.loop else { continue }
            let name = end.name.value
            guard stageNames.contains(loop.from.value) else {
                problems.append(.unknownFrom(loop.from))
                continue
            }
            let ancestors = Self.closure(of: name, in: forward)
            guard loop.from.value == name || ancestors.contains(loop.from.value) else {
                problems.append(.notUpstream(end: name, from: loop.from))
                continue
            }
            var members: Set<String> = [name, loop.from.value]
            for candidate in ancestors where Self.closure(of: candidate, in: forward).contains(loop.from.value) {
                members.insert(candidate)
            }
            let ordered = names.filter(members.contains)
            var overlapping = false
            var seen = Set<String>()
            for member in ordered where seen.insert(member).inserted {
                if let other = owner[member] {
                    problems.append(.overlap(member: member, other: other, end: name, at: loop.span))
                    overlapping = true
                }
            }
            if overlapping { continue }
            for member in members { owner[member] = name }
            loops.append(
                CompiledLoop(end: name, from: loop.from.value, members: ordered, until: loop.until, maxIterations: loop.maxIterations.value))
            if let until = loop.until { untils.append(resolveCondition(until, key: "until", on: name)) }
        }
        edges.removeAll { edge in
            guard let loop = owner[edge.stage] else { return false }
            return edge.dependency == edge.stage || (edge.dependency == loop && owner[edge.dependency] == loop)
        }
        return (loops, problems, untils)
    }

    /// Every stage `name` depends on, directly or not.
    private static func closure(of name: String, in graph: [String: Set<String>]) -> Set<String> {
        var seen = Set<String>()
        var queue = Array(graph[name] ?? [])
        while let next = queue.popLast() {
            if seen.insert(next).inserted { queue += graph[next] ?? [] }
        }
        return seen
    }
}

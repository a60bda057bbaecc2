/// Decodes a spec's YAML tree into a `PipelineSpec`, reporting every shape problem
/// (unknown keys, wrong types, missing keys, bad values) at its exact span, in one pass.
public struct SpecDecoder {
    let source: SourceFile
    var diagnostics: DiagnosticSink

    public init(source: SourceFile, diagnostics: DiagnosticSink = DiagnosticSink()) {
        self.source = source
        self.diagnostics = diagnostics
    }

    /// Decodes the document; problems go to `diagnostics`.
    public mutating func decode(_ root: YAMLNode) -> PipelineSpec {
        var spec = PipelineSpec(source: source)
        guard let pairs = mapping(root, what: "a spec") else { return spec }
        checkKeys(pairs, allowed: SpecKeys.topLevel, in: "the spec")
        for pair in pairs {
            guard let key = pair.key.scalar else { continue }
            let value = pair.value
            switch key {
            case "version":
                spec.version = integer(value, key: key)
                if let version = spec.version, version.value != 1 {
                    report(.invalidValue, at: version.span, "unsupported spec version \(version.value); this pipe reads version 1",
                        hint: "set `version: 1`")
                }
            case "name": spec.name = nonEmptyString(value, key: key)
            case "description": spec.description = string(value, key: key)
            case "input": spec.input = input(value)
            case "models": spec.models = models(value)
            case "defaults":
                if let pairs = mapping(value, what: "`defaults`") {
                    checkKeys(pairs, allowed: SpecKeys.settings, in: "`defaults`")
                    spec.defaults = settings(pairs)
                }
            case "budget": spec.budget = budget(value)
            case "tools": spec.tools = toolServers(value)
            case "stages": spec.stages = stages(value)
            case "output": spec.output = output(value)
            case "record": spec.record = record(value)
            default: break
            }
        }
        if spec.version == nil, root.mapping?.contains(where: { $0.key.scalar == "version" }) != true {
            report(.missingKey, at: Span(file: source.path, start: root.span.start, end: root.span.start),
                "the spec has no `version`", hint: "add `version: 1` at the top")
        }
        if root["stages"] == nil {
            report(.missingKey, at: Span(file: source.path, start: root.span.start, end: root.span.start),
                "the spec has no `stages`", hint: "declare at least one stage under `stages:`")
        }
        return spec
    }

    // MARK: Sections

    mutating func input(_ node: YAMLNode) -> InputSpec {
        var input = InputSpec()
        guard let pairs = mapping(node, what: "`input`") else { return input }
        checkKeys(pairs, allowed: SpecKeys.input, in: "`input`")
        if let schema = node["schema"] {
            input.schema = schemaSource(schema)
        } else {
            report(.missingKey, at: node.span, "`input` has no `schema`",
                hint: "add `schema: { type: string }` for raw text, or remove `input`")
        }
        return input
    }

    mutating func models(_ node: YAMLNode) -> [ModelSpec] {
        guard let pairs = mapping(node, what: "`models`") else { return [] }
        var models: [ModelSpec] = []
        for pair in pairs {
            guard let name = key(pair) else { continue }
            if name.value.isEmpty {
                report(.invalidValue, at: name.span, "a model name must not be empty", hint: "name it, as in `fast:`")
                continue
            }
            guard let fields = mapping(pair.value, what: "model `\(name.value)`") else { continue }
            checkKeys(fields, allowed: SpecKeys.model, in: "model `\(name.value)`")
            var model = ModelSpec(name: name, span: pair.value.span)
            // A model's `model` is the provider's model id, read below, not a model name.
            model.settings = settings(fields.filter { $0.key.scalar != "model" })
            for field in fields {
                switch field.key.scalar {
                case "provider":
                    model.provider = string(field.value, key: "provider")
                    if let provider = model.provider, ProviderRegistry.named(provider.value) == nil {
                        report(.unknownProvider, at: provider.span,
                            "unknown provider `\(provider.value)` for model `\(name.value)`",
                            hint: Suggestions.hint(for: provider.value, in: ProviderRegistry.names, kind: "known providers"))
                    }
                case "model": model.model = nonEmptyString(field.value, key: "model")
                case "base_url":
                    model.baseURL = string(field.value, key: "base_url")
                    if let url = model.baseURL, !(url.value.hasPrefix("http://") || url.value.hasPrefix("https://")) {
                        report(.invalidValue, at: url.span, "`base_url` must be an http:// or https:// URL",
                            hint: "for example `http://localhost:11434/v1`")
                    }
                case "api_key_env":
                    model.apiKeyEnv = string(field.value, key: "api_key_env")
                    if let name = model.apiKeyEnv, !Self.isEnvironmentName(name.value) {
                        report(.invalidValue, at: name.span,
                            "`api_key_env` must be the name of an environment variable ([A-Za-z_][A-Za-z0-9_]*), found `\(name.value)`",
                            hint: "for example `OPENROUTER_API_KEY`; the key itself never belongs in the spec")
                    }
                case "price": model.price = price(field.value)
                case "rate_limit": model.rateLimit = rateLimit(field.value)
                case "batch": model.batch = boolean(field.value, key: "batch")
                case "circuit_breaker": model.circuitBreaker = circuitBreaker(field.value)
                default: break
                }
            }
            let provider = model.provider.flatMap { ProviderRegistry.named($0.value) }
            if let provider, let maximum = provider.maxTemperature, let t = model.settings.temperature, t.value > maximum {
                report(.invalidValue, at: t.span,
                    "`temperature` for an \(provider.name) model must be between 0 and \(maximum.formatted), found \(t.value.formatted)")
            }
            if model.provider == nil, pair.value["provider"] == nil {
                report(.missingKey, at: name.span, "model `\(name.value)` has no `provider`",
                    hint: "add " + ProviderRegistry.names.enumerated().map { $0 == 0 ? "`provider: \($1)`" : "`\($1)`" }.alternatives)
            }
            // Every provider but one that calls nothing (the mock) needs a model id.
            if model.model == nil, pair.value["model"] == nil, provider.map({ $0.api != nil }) ?? true {
                report(.missingKey, at: name.span, "model `\(name.value)` has no `model` (the provider's model id)",
                    hint: "add for example `model: claude-haiku-4-5`")
            }
            models.append(model)
        }
        return models
    }

    mutating func price(_ node: YAMLNode) -> ModelSpec.Price? {
        guard let pairs = mapping(node, what: "`price`") else { return nil }
        checkKeys(pairs, allowed: SpecKeys.price, in: "`price`")
        let input = nonNegative(node["input"], key: "input")
        let output = nonNegative(node["output"], key: "output")
        for needed in ["input", "output"] where node[needed] == nil {
            report(.missingKey, at: node.span, "`price` has no `\(needed)` (USD per million \(needed) tokens)",
                hint: "add `\(needed): 1.00`")
        }
        let batchInput = node["batch_input"].flatMap { nonNegative($0, key: "batch_input") }
        let batchOutput = node["batch_output"].flatMap { nonNegative($0, key: "batch_output") }
        guard let input, let output else { return nil }
        return ModelSpec.Price(input: input.value, output: output.value, batchInput: batchInput?.value, batchOutput: batchOutput?.value)
    }

    mutating func rateLimit(_ node: YAMLNode) -> ModelSpec.RateLimit? {
        guard let pairs = mapping(node, what: "`rate_limit`") else { return nil }
        checkKeys(pairs, allowed: SpecKeys.rateLimit, in: "`rate_limit`")
        let hint = "a whole number above 0, as your API tier allows; remove the key for no limit"
        let limit = ModelSpec.RateLimit(
            requestsPerMinute: positiveInteger(node["requests_per_minute"], key: "requests_per_minute", hint: hint)?.value,
            tokensPerMinute: positiveInteger(node["tokens_per_minute"], key: "tokens_per_minute", hint: hint)?.value)
        if pairs.isEmpty {
            report(.missingKey, at: node.span, "`rate_limit` sets no limit",
                hint: "add `requests_per_minute: 50`, `tokens_per_minute: 40000` or both, or remove `rate_limit`")
        }
        guard limit.requestsPerMinute != nil || limit.tokensPerMinute != nil else { return nil }
        return limit
    }

    mutating func budget(_ node: YAMLNode) -> BudgetSpec {
        var budget = BudgetSpec()
        guard let pairs = mapping(node, what: "`budget`") else { return budget }
        checkKeys(pairs, allowed: SpecKeys.budget, in: "`budget`")
        budget.maxTokens = positiveInteger(node["max_tokens"], key: "max_tokens")
        budget.maxCostUSD = number(node["max_cost_usd"], key: "max_cost_usd")
        if let cost = budget.maxCostUSD, cost.value <= 0 {
            report(.invalidValue, at: cost.span, "`max_cost_usd` must be greater than 0, found \(cost.value.formatted)",
                hint: "remove it for no cost limit")
            budget.maxCostUSD = nil
        }
        budget.maxDuration = duration(node["max_duration"], key: "max_duration")
        return budget
    }

    mutating func settings(_ pairs: [YAMLPair]) -> StageSettings {
        var settings = StageSettings()
        for pair in pairs {
            let value = pair.value
            switch pair.key.scalar {
            case "model": settings.model = nonEmptyString(value, key: "model")
            case "fallback":
                settings.fallback = stringList(value, key: "fallback")?.filter { name in
                    if name.value.isEmpty { report(.invalidValue, at: name.span, "a model name in `fallback` must not be empty") }
                    return !name.value.isEmpty
                }
            case "system": settings.system = template(value, key: "system")
            case "max_tokens": settings.maxTokens = positiveInteger(value, key: "max_tokens")
            case "temperature":
                settings.temperature = number(value, key: "temperature")
                if let t = settings.temperature, !(0...2).contains(t.value) {
                    report(.invalidValue, at: t.span, "`temperature` must be between 0 and 2, found \(t.value.formatted)")
                }
            case "retries":
                settings.retries = integer(value, key: "retries")
                if let r = settings.retries, !(0...20).contains(r.value) {
                    report(.invalidValue, at: r.span, "`retries` must be between 0 and 20, found \(r.value)")
                }
            case "timeout": settings.timeout = duration(value, key: "timeout")
            case "cache": settings.cache = boolean(value, key: "cache")
            case "max_turns":
                settings.maxTurns = positiveInteger(value, key: "max_turns", hint: "the model turns a tool-using stage may take; 8 unless set")
            default: break
            }
        }
        return settings
    }

    mutating func stages(_ node: YAMLNode) -> [StageSpec] {
        guard let pairs = mapping(node, what: "`stages`") else { return [] }
        if pairs.isEmpty {
            report(.missingKey, at: node.span, "`stages` is empty", hint: "declare at least one stage")
        }
        var stages: [StageSpec] = []
        stages.reserveCapacity(pairs.count)
        for pair in pairs {
            guard let name = key(pair) else { continue }
            if !StageNames.isValid(name.value) {
                report(.stageName, at: name.span,
                    "stage name `\(name.value)` must match [a-z][a-z0-9_-]*",
                    hint: "rename it `\(StageNames.suggestion(for: name.value))`")
            }
            guard let fields = mapping(pair.value, what: "stage `\(name.value)`") else { continue }
            checkKeys(fields, allowed: SpecKeys.stage, in: "stage `\(name.value)`")
            var stage = StageSpec(name: name, span: pair.value.span)
            stage.settings = settings(fields)
            for field in fields {
                switch field.key.scalar {
                case "prompt":
                    if field.value.scalar?.isEmpty == true, case .string = YAMLScalarValue(field.value) {
                        report(.invalidValue, at: field.value.span, "`prompt` of stage `\(name.value)` is empty",
                            hint: "say what the model should do")
                    } else {
                        stage.prompt = template(field.value, key: "prompt")
                    }
                case "needs": stage.needs = stringList(field.value, key: "needs") ?? []
                case "tools": stage.tools = stringList(field.value, key: "tools") ?? []
                case "for_each": stage.forEach = forEach(field.value, in: pair.value)
                case "approve": stage.approve = boolean(field.value, key: "approve")
                case "when": stage.when = condition(field.value, key: "when")
                case "loop": stage.loop = loop(field.value, at: field.key.span)
                case "mock": stage.mock = (field.value.sequence ?? [field.value]).map { ($0.json, $0) }
                case "on_error": stage.onError = onError(field.value, stage: name.value)
                case "output":
                    guard let output = mapping(field.value, what: "`output` of stage `\(name.value)`") else { break }
                    checkKeys(output, allowed: SpecKeys.stageOutput, in: "`output` of stage `\(name.value)`")
                    if let schema = field.value["schema"] {
                        stage.outputSchema = schemaSource(schema)
                    } else {
                        report(.missingKey, at: field.key.span, "`output` of stage `\(name.value)` has no `schema`",
                            hint: "add `schema:` (a JSON Schema or a path), or remove `output` for a text stage")
                    }
                default: break
                }
            }
            if stage.forEach == nil {
                for key in ["as", "concurrency", "on_item_error"] {
                    if let field = fields.first(where: { $0.key.scalar == key }) {
                        report(.invalidValue, at: field.key.span, "`\(key)` only applies to a stage with `for_each`",
                            hint: "add `for_each: stage.list`, or remove `\(key)`")
                    }
                }
            }
            stage.command = command(fields, stage: name.value)
            stage.pipeline = childPipeline(fields, stage: name.value)
            if pair.value["prompt"] == nil, pair.value["run"] == nil, pair.value["pipeline"] == nil {
                report(.missingKey, at: name.span, "stage `\(name.value)` has no `prompt`",
                    hint: "add `prompt:` with what the model should do, `run:` with a command to run, or `pipeline:` with a spec to run")
            }
            stages.append(stage)
        }
        return stages
    }

    /// `run:` with `shell`, `stdin` and `env`: a command stage; nil without `run:` (its
    /// companions alone are reported).
    mutating func command(_ fields: [YAMLPair], stage: String) -> CommandSpec? {
        let field = { (key: String) in fields.first { $0.key.scalar == key } }
        guard let run = field("run") else {
            for key in ["shell", "stdin", "env"] {
                if let companion = field(key) {
                    report(.invalidValue, at: companion.key.span, "`\(key)` only applies to a command stage (`run:`)",
                        hint: "add `run: [program, arguments...]`, or remove `\(key)`")
                }
            }
            return nil
        }
        var command = CommandSpec(arguments: [], span: run.key.span, isList: run.value.sequence != nil)
        if let items = run.value.sequence {
            command.arguments = items.compactMap { template($0, key: "run") }
        } else if let line = template(run.value, key: "run") {
            command.arguments = [line]
        }
        command.shell = field("shell").flatMap { boolean($0.value, key: "shell") }
        command.stdin = field("stdin").flatMap { template($0.value, key: "stdin") }
        if let env = field("env"), let pairs = mapping(env.value, what: "`env` of stage `\(stage)`") {
            for pair in pairs {
                guard let name = key(pair) else { continue }
                if !Self.isEnvironmentName(name.value) {
                    report(.invalidValue, at: name.span,
                        "`env` names environment variables ([A-Za-z_][A-Za-z0-9_]*), found `\(name.value)`")
                    continue
                }
                guard let text = string(pair.value, key: name.value) else { continue }
                if text.value.hasPrefix("${"), text.value.hasSuffix("}"), Self.isEnvironmentName(String(text.value.dropFirst(2).dropLast())) {
                    command.environment.append((name, .variable(String(text.value.dropFirst(2).dropLast()))))
                } else if text.value.contains("${") {
                    report(.invalidValue, at: text.span,
                        "an `env` value is a variable of pipe's environment, `\"${NAME}\"`, alone, or a literal without `${`",
                        hint: "pass the variable by name: `\(name.value): \"${\(name.value)}\"`")
                } else {
                    command.environment.append((name, .literal(text.value)))
                }
            }
        }
        return command
    }

    /// `tools:`: server name → `{ mcp: { command: [...] } | { url: ..., headers: {...} }, env, max_result_chars }`.
    mutating func toolServers(_ node: YAMLNode) -> [ToolServerSpec] {
        guard let pairs = mapping(node, what: "`tools`") else { return [] }
        var servers: [ToolServerSpec] = []
        for pair in pairs {
            guard let name = key(pair) else { continue }
            if !StageNames.isValid(name.value) {
                report(.invalidValue, at: name.span, "tool server name `\(name.value)` must match [a-z][a-z0-9_-]*",
                    hint: "rename it `\(StageNames.suggestion(for: name.value))`")
            }
            guard let fields = mapping(pair.value, what: "tool server `\(name.value)`") else { continue }
            checkKeys(fields, allowed: SpecKeys.toolServer, in: "tool server `\(name.value)`")
            var server = ToolServerSpec(name: name, span: pair.value.span)
            if let mcp = pair.value["mcp"] {
                server.transport = mcpTransport(mcp, server: name.value)
            } else {
                report(.missingKey, at: name.span, "tool server `\(name.value)` has no `mcp`",
                    hint: "add `mcp: { command: [python3, -m, mcp_server_git] }` or `mcp: { url: \"http://127.0.0.1:8931/mcp\" }`")
            }
            if let env = pair.value["env"], let variables = mapping(env, what: "`env`") {
                for variable in variables {
                    guard let variableName = key(variable), let value = string(variable.value, key: variableName.value) else { continue }
                    if !Self.isEnvironmentName(variableName.value) {
                        report(.invalidValue, at: variableName.span,
                            "`\(variableName.value)` is not the name of an environment variable ([A-Za-z_][A-Za-z0-9_]*)")
                        continue
                    }
                    server.environment.append((variableName, value))
                }
            }
            server.maxResultCharacters = positiveInteger(pair.value["max_result_chars"], key: "max_result_chars")
            servers.append(server)
        }
        return servers
    }

    mutating func mcpTransport(_ node: YAMLNode, server: String) -> ToolServerSpec.Transport? {
        guard let pairs = mapping(node, what: "`mcp` of tool server `\(server)`") else { return nil }
        checkKeys(pairs, allowed: SpecKeys.mcp, in: "`mcp` of tool server `\(server)`")
        let example = "write `command: [python3, -m, mcp_server_time]` (argv, no shell) or `url: \"http://127.0.0.1:8931/mcp\"`"
        switch (node["command"], node["url"]) {
        case (let command?, nil):
            if let header = node["headers"] {
                report(.invalidValue, at: header.span, "`headers` only applies to an `url` server", hint: "remove `headers`")
            }
            guard let items = command.sequence else {
                typeMismatch(command, key: "command", expected: "a list of arguments (argv)", hint: example)
                return nil
            }
            let argv = items.compactMap { string($0, key: "command") }
            if items.isEmpty || argv.first?.value.isEmpty == true {
                report(.invalidValue, at: command.span, "the `command` of tool server `\(server)` is empty", hint: example)
                return nil
            }
            return argv.count == items.count ? .stdio(command: argv) : nil
        case (nil, let url?):
            guard let url = string(url, key: "url") else { return nil }
            guard url.value.hasPrefix("http://") || url.value.hasPrefix("https://") else {
                report(.invalidValue, at: url.span, "`url` must be an http:// or https:// URL", hint: "for example `http://127.0.0.1:8931/mcp`")
                return nil
            }
            var headers: [(name: String, value: Located<String>)] = []
            if let node = node["headers"], let pairs = mapping(node, what: "`headers`") {
                for pair in pairs {
                    guard let name = key(pair), let value = string(pair.value, key: name.value) else { continue }
                    headers.append((name.value, value))
                }
            }
            return .http(url: url, headers: headers)
        case (.some, .some):
            report(.invalidValue, at: node.span, "`mcp` of tool server `\(server)` has both `command` and `url`",
                hint: "keep one: a spawned server (`command`) or a running one (`url`)")
        case (nil, nil):
            report(.missingKey, at: node.span, "`mcp` of tool server `\(server)` has no `command` or `url`", hint: example)
        }
        return nil
    }

    mutating func loop(_ node: YAMLNode, at key: Span) -> LoopSpec? {
        guard let pairs = mapping(node, what: "`loop`") else { return nil }
        checkKeys(pairs, allowed: SpecKeys.loop, in: "`loop`")
        let from = node["from"].flatMap { string($0, key: "from") }
        let until = node["until"].flatMap { condition($0, key: "until") }
        let maxIterations = integer(node["max_iterations"], key: "max_iterations")
        if let max = maxIterations, !(1...100).contains(max.value) {
            report(.invalidValue, at: max.span, "`max_iterations` must be between 1 and 100, found \(max.value)")
        }
        for (name, value) in [("from", node["from"]), ("max_iterations", node["max_iterations"])] where value == nil {
            report(.missingKey, at: key, "`loop` has no `\(name)`",
                hint: name == "from" ? "name the first stage of the loop: `from: writer`"
                    : "bound the loop: `max_iterations: 3` (a loop always ends)")
        }
        guard let from, let maxIterations else { return nil }
        return LoopSpec(from: from, until: until, maxIterations: maxIterations, span: node.span)
    }

    /// A condition (`when:`, `until:`), parsed where it is written.
    mutating func condition(_ node: YAMLNode, key: String) -> Expression? {
        guard let text = string(node, key: key) else { return nil }
        var quoted = false
        if case .scalar(_, let style) = node.kind { quoted = style == .singleQuoted || style == .doubleQuoted }
        return ExpressionParser.parse(
            text.value, file: source.path, start: node.span.start.advanced(by: quoted ? 1 : 0), diagnostics: &diagnostics)
    }

    /// `for_each: planner.questions` (or `"{{ planner.questions }}"`) and its companions.
    mutating func forEach(_ node: YAMLNode, in stage: YAMLNode) -> ForEachSpec? {
        guard let text = string(node, key: "for_each") else { return nil }
        let trimmed = text.value.trimmingSpaces
        let template: Template?
        if trimmed.hasPrefix("{{") {
            template = TemplateLocator.template(from: node, text: trimmed, in: source, diagnostics: &diagnostics)
        } else {
            // A bare path: parsed as if it were written `{{ path }}` three columns earlier.
            var quoted = false
            if case .scalar(_, let style) = node.kind { quoted = style == .singleQuoted || style == .doubleQuoted }
            let start = node.span.start.advanced(by: quoted ? 1 : 0)
            let parser = TemplateParser(file: source.path, openings: [start.advanced(by: -3)], fallback: start)
            template = parser.parse("{{ \(trimmed) }}", span: node.span, diagnostics: &diagnostics)
        }
        guard let template else { return nil }
        guard let reference = template.singleReference else {
            report(.typeMismatch, at: node.span, "`for_each` must name one list, such as `planner.questions`",
                hint: "write the path of an array: `for_each: stage.field`")
            return nil
        }
        var itemName = Located("item", at: node.span)
        if let name = stage["as"], let value = string(name, key: "as") {
            if StageNames.isValid(value.value) && value.value != "input" {
                itemName = value
            } else {
                report(.invalidValue, at: value.span, "`as` must be a name like `question` ([a-z][a-z0-9_-]*, not `input`)")
            }
        }
        let concurrency = positiveInteger(stage["concurrency"], key: "concurrency")
        var policy = Located(ForEachSpec.ItemErrorPolicy.fail, at: node.span)
        if let value = stage["on_item_error"], let text = string(value, key: "on_item_error") {
            if let parsed = ForEachSpec.ItemErrorPolicy(rawValue: text.value) {
                policy = Located(parsed, at: text.span)
            } else {
                report(.invalidValue, at: text.span, "`on_item_error` must be `fail` or `skip`, found `\(text.value)`")
            }
        }
        return ForEachSpec(reference: reference, itemName: itemName, concurrency: concurrency, onItemError: policy)
    }

    mutating func output(_ node: YAMLNode) -> OutputSpec? {
        switch node.kind {
        case .scalar:
            guard let template = template(node, key: "output") else { return nil }
            return .single(template)
        case .mapping(let pairs):
            if pairs.isEmpty {
                report(.invalidValue, at: node.span, "`output` is empty",
                    hint: "name at least one value, or remove `output` to get the outputs of the final stages")
                return nil
            }
            var fields: [(name: Located<String>, template: Template)] = []
            for pair in pairs {
                guard let name = key(pair) else { continue }
                if name.value.isEmpty {
                    report(.invalidValue, at: name.span, "an output name must not be empty", hint: "name it, as in `article:`")
                    continue
                }
                guard let template = template(pair.value, key: name.value) else { continue }
                fields.append((name, template))
            }
            return .fields(fields)
        case .sequence:
            report(.typeMismatch, at: node.span, "`output` must be a template or a mapping of names to templates, found a list",
                hint: "write `output: \"{{ stage }}\"` or `output: { name: \"{{ stage.field }}\" }`")
            return nil
        }
    }

    mutating func schemaSource(_ node: YAMLNode) -> SchemaSource? {
        switch node.kind {
        case .mapping:
            return .inline(node.json, node)
        case .scalar(let text, _):
            if case .bool = YAMLScalarValue(node) { return .inline(node.json, node) }
            guard case .string = YAMLScalarValue(node), !text.isEmpty else { break }
            return .file(Located(text, at: node.span))
        case .sequence:
            break
        }
        report(.typeMismatch, at: node.span,
            "`schema` must be a JSON Schema (a mapping) or the path of a schema file, found \(node.kindDescription)",
            hint: "for example `schema: { type: object }` or `schema: schemas/result.schema.json`")
        return nil
    }

    // MARK: Typed values

    /// `what` is built only when reported (a stage's name in it cost a string a stage).
    mutating func mapping(_ node: YAMLNode, what: @autoclosure () -> String) -> [YAMLPair]? {
        if let pairs = node.mapping { return pairs }
        report(.typeMismatch, at: node.span, "\(what()) must be a mapping, found \(node.kindDescription)",
            hint: node.isNull ? "give it its entries, or remove it" : nil)
        return nil
    }

    /// A mapping key as a name, reporting keys that are not plain strings.
    mutating func key(_ pair: YAMLPair) -> Located<String>? {
        guard let text = pair.key.scalar else {
            report(.typeMismatch, at: pair.key.span, "a key must be a name, found \(pair.key.kindDescription)")
            return nil
        }
        return Located(text, at: pair.key.span)
    }

    /// `context` is built only when a key is reported.
    mutating func checkKeys(_ pairs: [YAMLPair], allowed: [String], in context: @autoclosure () -> String) {
        for pair in pairs {
            guard let key = pair.key.scalar, !allowed.contains(key) else { continue }
            let context = context()
            // `x-` keys at the top level hold YAML anchors for the rest of the file.
            if context == "the spec", key.hasPrefix("x-") { continue }
            report(.unknownKey, at: pair.key.span, "unknown key `\(key)` in \(context)",
                hint: Suggestions.hint(for: key, in: allowed, kind: "keys allowed here"))
        }
    }

    /// A string: a scalar that YAML reads as one (`42`, `true` and `~` are not; `"42"` is).
    mutating func string(_ node: YAMLNode?, key: String) -> Located<String>? {
        guard let node else { return nil }
        guard case .scalar(let text, _) = node.kind, case .string = YAMLScalarValue(node) else {
            let quotable = node.scalar.map { !$0.isEmpty && !node.isNull } ?? false
            report(.typeMismatch, at: node.span, "`\(key)` must be a string, found \(node.kindDescription)",
                hint: quotable ? "quote it: `\(key): \"\(node.scalar ?? "")\"`" : nil)
            return nil
        }
        return Located(text, at: node.span)
    }

    /// A string that is not empty (a name, a model id).
    mutating func nonEmptyString(_ node: YAMLNode?, key: String) -> Located<String>? {
        guard let value = string(node, key: key) else { return nil }
        if value.value.isEmpty {
            report(.invalidValue, at: value.span, "`\(key)` must not be empty")
            return nil
        }
        return value
    }

    static func isEnvironmentName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first == "_" || ("A"..."Z").contains(first) || ("a"..."z").contains(first) else { return false }
        return name.unicodeScalars.allSatisfy { $0 == "_" || ("A"..."Z").contains($0) || ("a"..."z").contains($0) || ("0"..."9").contains($0) }
    }

    mutating func template(_ node: YAMLNode, key: String) -> Template? {
        if node.mapping != nil,
            source.bytes[source.offset(line: node.span.start.line, column: node.span.start.column)...].starts(with: "{{".utf8)
        {
            report(.typeMismatch, at: node.span,
                "`\(key)` starts with `{{`, which YAML reads as a mapping, not a template",
                hint: "quote the value: `\(key): \"{{ ... }}\"`")
            return nil
        }
        guard let text = string(node, key: key) else { return nil }
        return TemplateLocator.template(from: node, text: text.value, in: source, diagnostics: &diagnostics)
    }

    /// A list of names, or one name alone; each name once.
    mutating func stringList(_ node: YAMLNode, key: String) -> [Located<String>]? {
        if case .string = YAMLScalarValue(node), node.scalar != nil, let single = string(node, key: key) { return [single] }
        guard let items = node.sequence else {
            typeMismatch(node, key: key, expected: "a list of names")
            return nil
        }
        var names: [Located<String>] = []
        for item in items {
            guard let name = string(item, key: key) else { continue }
            if names.contains(where: { $0.value == name.value }) {
                report(.invalidValue, at: name.span, "`\(key)` names `\(name.value)` twice", hint: "remove the second one")
                continue
            }
            names.append(name)
        }
        return names
    }

    mutating func integer(_ node: YAMLNode?, key: String, hint: String? = nil) -> Located<Int>? {
        guard let node else { return nil }
        guard case .int(let value) = YAMLScalarValue(node), node.scalar != nil else {
            typeMismatch(node, key: key, expected: "an integer", hint: hint)
            return nil
        }
        return Located(value, at: node.span)
    }

    mutating func positiveInteger(_ node: YAMLNode?, key: String, hint: String? = nil) -> Located<Int>? {
        guard let value = integer(node, key: key, hint: hint) else { return nil }
        if value.value <= 0 {
            report(.invalidValue, at: value.span, "`\(key)` must be a positive integer, found \(value.value)", hint: hint)
            return nil
        }
        return value
    }

    mutating func boolean(_ node: YAMLNode?, key: String) -> Located<Bool>? {
        guard let node else { return nil }
        guard case .bool(let value) = YAMLScalarValue(node), node.scalar != nil else {
            typeMismatch(node, key: key, expected: "`true` or `false`")
            return nil
        }
        return Located(value, at: node.span)
    }

    mutating func number(_ node: YAMLNode?, key: String) -> Located<Double>? {
        guard let node else { return nil }
        switch YAMLScalarValue(node) {
        case .int(let value) where node.scalar != nil: return Located(Double(value), at: node.span)
        case .float(let value) where node.scalar != nil:
            guard value.isFinite else {
                report(.invalidValue, at: node.span, "`\(key)` must be a finite number, found `\(node.scalar ?? "")`")
                return nil
            }
            return Located(value, at: node.span)
        default:
            typeMismatch(node, key: key, expected: "a number")
            return nil
        }
    }

    mutating func nonNegative(_ node: YAMLNode?, key: String) -> Located<Double>? {
        guard let value = number(node, key: key) else { return nil }
        if value.value < 0 {
            report(.invalidValue, at: value.span, "`\(key)` must not be negative, found \(value.value)")
            return nil
        }
        return value
    }

    /// A duration: a positive integer of seconds, or numbers with units (`500ms`, `1.5s`, `1h30m`).
    mutating func duration(_ node: YAMLNode?, key: String) -> Located<Duration>? {
        guard let node else { return nil }
        guard let text = node.scalar, !node.isNull, node.mapping == nil else {
            typeMismatch(node, key: key, expected: "a duration such as `30s`")
            return nil
        }
        let wellFormed: Bool
        switch YAMLScalarValue(node) {
        case .int: wellFormed = true
        case .string: wellFormed = DurationParser.hasUnits(text)
        default: wellFormed = false
        }
        if wellFormed, DurationParser.parse(text) == .zero {
            report(.invalidValue, at: node.span, "`\(key)` must be longer than 0, found `\(text)`")
            return nil
        }
        guard wellFormed, let duration = DurationParser.parse(text), duration > .zero else {
            report(.invalidValue, at: node.span, "`\(key)` is not a duration: `\(text)`",
                hint: "write a number with a unit: `500ms`, `30s`, `5m`, `1h`")
            return nil
        }
        return Located(duration, at: node.span)
    }

    mutating func typeMismatch(_ node: YAMLNode, key: String, expected: String, hint: String? = nil) {
        report(.typeMismatch, at: node.span, "`\(key)` must be \(expected), found \(node.kindDescription)", hint: hint)
    }

    mutating func report(_ rule: RuleID, at span: Span, _ message: String, hint: String? = nil) {
        diagnostics.report(rule, at: span, message, hint: hint)
    }
}

/// Stage names: `[a-z][a-z0-9_-]*`.
public enum StageNames {
    public static func isValid(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, ("a"..."z").contains(first) else { return false }
        return name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" || $0 == "-" }
    }

    /// A valid name close to an invalid one (`Fact Checker` → `fact-checker`).
    public static func suggestion(for name: String) -> String {
        if let first = name.unicodeScalars.first, ("0"..."9").contains(first) { return suggestion(for: "stage-" + name) }
        var result = ""
        for scalar in name.lowercased().unicodeScalars {
            if ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar) || scalar == "_" || scalar == "-" {
                result.unicodeScalars.append(scalar)
            } else if !result.hasSuffix("-") {
                result += "-"
            }
        }
        while let first = result.unicodeScalars.first, !("a"..."z").contains(first) { result.removeFirst() }
        return result.isEmpty ? "stage" : result
    }
}

extension Double {
    /// `3` rather than `3.0` for whole numbers, as a user wrote them.
    var formatted: String {
        self == rounded() && abs(self) < 1e15 ? String(Int(self)) : String(self)
    }
}

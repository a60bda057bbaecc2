/// Every rule `pipe lint` enforces. The raw value is the stable id printed in brackets
/// (`[unknown-field]`), used by `--format sarif` and in tests; never rename one.
public enum RuleID: String, Sendable, Hashable, CaseIterable {
    // The file and its YAML.
    case emptySpec = "empty-spec"
    case yamlSyntax = "yaml-syntax"
    case yamlDuplicateKey = "yaml-duplicate-key"
    case yamlLimit = "yaml-limit"
    // The shape of the spec.
    case unknownKey = "unknown-key"
    case missingKey = "missing-key"
    case typeMismatch = "type-mismatch"
    case invalidValue = "invalid-value"
    case stageName = "stage-name"
    // Models.
    case unknownModel = "unknown-model"
    case unknownProvider = "unknown-provider"
    // Templates and the DAG.
    case templateSyntax = "template-syntax"
    case unknownReference = "unknown-reference"
    case unknownField = "unknown-field"
    case referenceType = "reference-type"
    case unknownNeed = "unknown-need"
    case cycle = "cycle"
    // Conditions (`when:`, `until:`).
    case expressionSyntax = "expression-syntax"
    case expressionType = "expression-type"
    // Schemas.
    case schemaFile = "schema-file"
    case invalidSchema = "invalid-schema"
    // Budgets and output.
    case stageBudget = "stage-budget"
    case worstCaseBudget = "worst-case-budget"
    case unusedStage = "unused-stage"
    case mockValue = "mock-value"
    case maybeAbsent = "maybe-absent"
    case invalidLoop = "invalid-loop"
    // Command stages (`run:`).
    case commandStage = "command-stage"

    // Tools.
    case unknownToolServer = "unknown-tool-server"
    case toolReference = "tool-reference"
    case unknownTool = "unknown-tool"
    case toolServer = "tool-server"
    // Graceful degradation (`on_error`).
    case onErrorDefault = "on-error-default"
    // Hashed records (`record:`).
    case cacheHashedOutputs = "cache-hashed-outputs"
    // Pipelines inside pipelines (`pipeline:`).
    case pipelineStage = "pipeline-stage"
    case childInput = "child-input"

    /// The rules only `pipe tools` and `pipe lint --tools` check: they start the tool servers.
    public static let startingToolServers: Set<RuleID> = [.toolServer]

    public var defaultSeverity: Severity {
        switch self {
        case .worstCaseBudget, .unusedStage, .cacheHashedOutputs: .warning
        default: .error
        }
    }

    /// One line saying what the rule checks (SARIF's `shortDescription` of the rule).
    public var summary: String {
        switch self {
        case .emptySpec: "The spec file is not empty."
        case .yamlSyntax: "The file is well-formed YAML."
        case .yamlDuplicateKey: "A mapping does not repeat a key."
        case .yamlLimit: "Aliases, nesting and size stay within limits (no \"billion laughs\")."
        case .unknownKey: "Every key is one the spec format knows."
        case .missingKey: "Required keys are present."
        case .typeMismatch: "Every value has the type its key expects."
        case .invalidValue: "Values are in range: version, durations, token counts, prices."
        case .stageName: "Stage names match [a-z][a-z0-9_-]*."
        case .unknownModel: "A stage's model and fallbacks are declared under `models`."
        case .unknownProvider: "A model's provider is \(ProviderRegistry.names.alternatives)."
        case .templateSyntax: "Templates are {{ path }} with a well-formed path."
        case .unknownReference: "A template refers to `input` or to a declared stage."
        case .unknownField: "A referenced field exists in the JSON Schema of what it points into."
        case .referenceType: "Fields are read from objects and indexes from arrays only."
        case .unknownNeed: "`needs` names declared stages."
        case .cycle: "The stages form a DAG: no stage depends on itself."
        case .expressionSyntax: "Conditions (`when`, `until`) are well-formed expressions."
        case .expressionType: "Conditions are true or false, and their operators get values of the types they take."
        case .schemaFile: "Schema files exist, are JSON, and stay inside the spec's directory tree."
        case .invalidSchema: "Input and output schemas are valid JSON Schema."
        case .stageBudget: "No stage's max_tokens exceeds the run's budget.max_tokens."
        case .worstCaseBudget: "The worst case (every stage at max_tokens, retries included) fits the budget."
        case .unusedStage: "Every stage contributes to the pipeline's output."
        case .mockValue: "A stage's `mock:` values match its output schema."
        case .invalidLoop: "A `loop:` starts at a stage upstream of it; loops do not overlap."
        case .commandStage: "A command stage's `run` is a non-empty argv (or one line with `shell: true`), with no model keys."
        case .unknownToolServer: "A stage's `tools` name servers declared under `tools:`."
        case .toolReference: "A stage's `tools` entry is `server.tool` or `server`."
        case .unknownTool: "A named tool is one the stage offers (`mock:` scripts) and one its server lists (`pipe tools`, `lint --tools`)."
        case .toolServer: "Each tool server starts and lists its tools (`pipe tools`, `lint --tools`)."
        case .onErrorDefault: "A stage's `on_error: { default: VALUE }` value matches its output schema (a list of them for a `for_each`)."
        case .cacheHashedOutputs: "`cache: true` is not written where `record.outputs: hash` keeps no output to reuse."
        case .pipelineStage: "A `pipeline:` stage names a spec inside the spec's directory tree, without a cycle of specs, and no model or command keys."
        case .childInput: "What a `pipeline:` stage passes as `input` fits the child spec's input schema."
        case .maybeAbsent: "A reference to a stage that may be skipped (or not yet run, in a loop) says what to use instead, with `??`."
        }
    }
}

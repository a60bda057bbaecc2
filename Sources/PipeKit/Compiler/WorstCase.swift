/// The most a pipeline can spend: every call at its stage's `max_tokens`, every turn, every
/// retry and every fallback used. One computation for the run's reservations (`BudgetLedger`), the
/// `worst-case-budget` lint rule and `pipe run --dry-run`, so the three agree.
public enum WorstCase {
    /// The input tokens a call is counted for before it is made: the characters sent (system
    /// prompt and messages) plus its output schema, which providers send as a tool or a
    /// response format; about 4 characters a token.
    public static func inputTokens(characters: Int, schemaCharacters: Int) -> Int {
        TokenEstimate.tokens(forCharacters: characters + schemaCharacters)
    }

    /// The characters an output schema adds to every call of its stage.
    public static func schemaCharacters(_ schema: JSONValue?) -> Int {
        schema?.serialized().utf8.count ?? 0
    }

    /// Input tokens of a stage's first call, at most, before its templates are rendered: the
    /// templates' text, `inputCharacters` for each reference to the input, and the output
    /// schema, as `inputTokens` counts them; plus, for each stage it reads, that stage's
    /// max_tokens (a value never exceeds what its stage may write). For a stage that reads
    /// no other stage, this is exactly what the run reserves.
    public static func promptTokens(
        _ templates: [Template], outputSchema: JSONValue?, inputCharacters: Int = 0, maxTokens: (String) -> Int?
    ) -> Int {
        var characters = 0
        var tokens = 0
        for template in templates {
            for part in template.parts {
                switch part {
                case .text(let text): characters += text.utf8.count
                case .reference(let reference):
                    if reference.root.value == "input" {
                        characters += inputCharacters
                    } else {
                        tokens += maxTokens(reference.root.value) ?? 0
                    }
                }
            }
        }
        return tokens + inputTokens(characters: characters, schemaCharacters: schemaCharacters(outputSchema))
    }

    /// One stage's worst case over all its models: tokens, and cost when every model is priced.
    /// Each model may be called `calls(maxTurns:retries:)` times, each call at `promptTokens`
    /// in and `maxTokens` out. `maxTurns`: the calls one attempt makes (a model stage makes
    /// one; a stage with tools, one a turn), each turn's input larger than the last by the
    /// previous reply (`maxTokens`) and its tool results (`resultTokensPerTurn`).
    public static func stage(
        promptTokens: Int, maxTokens: Int, retries: Int, maxTurns: Int = 1, resultTokensPerTurn: Int = 0,
        models: [ResolvedModel]
    ) -> (tokens: Int, costUSD: Double?) {
        let turns = max(1, maxTurns)
        let attempts = 1 + retries
        // Turn k (from 0) sends the prompt and k earlier turns, each a reply and its results.
        let input = attempts * (turns * promptTokens + (maxTokens + resultTokensPerTurn) * turns * (turns - 1) / 2)
        let output = attempts * turns * maxTokens
        var tokens = 0
        var cost: Double? = 0
        for model in models {
            tokens += input + output
            if let price = model.price, let sum = cost {
                cost = sum + (Double(input) * price.input + Double(output) * price.output) / 1_000_000
            } else {
                cost = nil
            }
        }
        return (tokens, cost)
    }

    /// The tool results a turn of a stage may add, in tokens: each tool it names (all of a
    /// server's for a server) called once, its result at its server's `max_result_chars`.
    public static func resultTokensPerTurn(_ tools: [ToolReference], servers: [ToolServerDeclaration]) -> Int {
        TokenEstimate.tokens(forCharacters: tools.reduce(0) { sum, tool in
            sum + (servers.first { $0.name == tool.server }?.maxResultCharacters ?? ToolServerConfig.defaultMaxResultCharacters)
        })
    }

    /// The calls one model of a stage may make: every turn of every attempt.
    public static func calls(maxTurns: Int, retries: Int) -> Int {
        max(1, maxTurns) * (1 + retries)
    }
}

/// A rough, conservative token count for text whose tokenizer we do not run.
public enum TokenEstimate {
    /// About 4 characters per token for English prose; rounded up.
    public static func tokens(forCharacters characters: Int) -> Int { (characters + 3) / 4 }
    public static func tokens(for text: String) -> Int { tokens(forCharacters: text.utf8.count) }
}

extension ModelRequest {
    /// Input tokens of the request, estimated before the call (by the budget and the rate
    /// limiter): the text sent, and the schema (providers send it as a tool or a response format).
    func inputTokenEstimate(schemaCharacters: Int) -> Int {
        let characters = messages.reduce(system?.utf8.count ?? 0) { $0 + $1.characters }
        return WorstCase.inputTokens(characters: characters, schemaCharacters: schemaCharacters)
    }
}

/// The most a pipeline can spend: every call at its stage's `max_tokens`, every retry and
/// every fallback used. Used by the `worst-case-budget` lint rule and `pipe run --dry-run`.
public enum WorstCase {
    /// Input tokens of a stage's first call, at most: the template's text plus, for each
    /// stage it reads, that stage's max_tokens (a value never exceeds what its stage may
    /// write), plus `inputTokens` for each reference to the input.
    public static func promptTokens(_ templates: [Template], inputTokens: Int = 0, maxTokens: (String) -> Int?) -> Int {
        var characters = 0
        var tokens = 0
        for template in templates {
            for part in template.parts {
                switch part {
                case .text(let text): characters += text.utf8.count
                case .reference(let reference):
                    tokens += reference.root.value == "input" ? inputTokens : maxTokens(reference.root.value) ?? 0
                }
            }
        }
        return tokens + TokenEstimate.tokens(forCharacters: characters)
    }

    /// One stage's worst case over all its models: tokens, and cost when every model is priced.
    public static func stage(
        promptTokens: Int, maxTokens: Int, retries: Int, models: [ResolvedModel]
    ) -> (tokens: Int, costUSD: Double?) {
        var tokens = 0
        var cost: Double? = 0
        for model in models {
            tokens += (1 + retries) * (promptTokens + maxTokens)
            if let price = model.price, let sum = cost {
                cost = sum + Double(1 + retries) * (Double(promptTokens) * price.input + Double(maxTokens) * price.output) / 1_000_000
            } else {
                cost = nil
            }
        }
        return (tokens, cost)
    }
}

/// A rough, conservative token count for text whose tokenizer we do not run.
public enum TokenEstimate {
    /// About 4 characters per token for English prose; rounded up.
    public static func tokens(forCharacters characters: Int) -> Int { (characters + 3) / 4 }
    public static func tokens(for text: String) -> Int { tokens(forCharacters: text.utf8.count) }
}

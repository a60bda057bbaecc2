/// A test file (`NAME.test.yaml`, beside its spec): the spec it tests and its cases, each
/// with its input, what each stage's model answers (`mocks`), and what must come out
/// (`expect`). `evals:` and `min_pass_rate:` belong to `pipe eval`, which reads them itself.
public struct TestFile: Sendable {
    public var source: SourceFile
    /// `spec:`, relative to the test file's directory.
    public var spec: Located<String>?
    public var cases: [TestCase]

    /// The top-level keys a test file may have.
    public static let keys = ["spec", "cases", "evals", "min_pass_rate"]

    /// The test file of a spec: `NAME.test.yaml` beside `NAME.yaml`.
    public static func path(forSpec spec: String) -> String {
        for suffix in [".yaml", ".yml"] where spec.hasSuffix(suffix) {
            return String(spec.dropLast(suffix.count)) + ".test.yaml"
        }
        return spec + ".test.yaml"
    }

    /// Whether a path names a test file rather than a spec.
    public static func isTestFile(_ path: String) -> Bool {
        path.hasSuffix(".test.yaml") || path.hasSuffix(".test.yml")
    }
}

/// One case of a test file.
public struct TestCase: Sendable {
    public var name: Located<String>
    /// The pipeline's input; nil: a value the mock provider makes from the input schema.
    public var input: JSONValue?
    /// Each stage's scripted answers, in turn (`mocks:`).
    public var mocks: [StageMock]
    public var expect: TestExpectation
    /// `stage:`: run only this stage, with `given` as the values of the stages it reads.
    public var stage: Located<String>?
    public var given: [GivenValue]
    /// `replay:`: a cassette (`pipe run --record`) that answers the calls no mock answers.
    public var replay: Located<String>?
    /// The whole case, for diagnostics about it.
    public var span: Span
}

/// What one stage's model answers in a case, call after call; once they are used, the
/// stage's `mock:` values (or the mock provider's) answer.
public struct StageMock: Sendable {
    public var stage: Located<String>
    public var answers: [MockAnswer]
}

/// One scripted answer to one call.
public enum MockAnswer: Sendable {
    /// The stage's value, sent as the model's reply (JSON text, or the string itself).
    case value(JSONValue, Span)
    /// `{ reply: "..." }`: the model's raw reply text (not JSON, say), parsed as the run would.
    case reply(String, Span)
    /// `{ error: ... }`: the call fails as a provider's would.
    case error(InjectedError, Span)

    public var span: Span {
        switch self {
        case .value(_, let span), .reply(_, let span), .error(_, let span): span
        }
    }
}

/// A provider failure a case injects: the same typed error the real providers raise, so
/// retries, fallbacks and the run's outcome are the real ones.
public enum InjectedError: Sendable, Hashable, CustomStringConvertible {
    /// The attempt timed out.
    case timeout
    /// An HTTP error status from the API: 429, 500, 529...
    case status(Int)
    /// A reply that is not what the API promises (not JSON, no content).
    case invalid
    /// The connection failed.
    case connection

    /// The words `error:` takes besides an HTTP status (400 to 599).
    public static let names = ["timeout", "invalid", "connection"]

    public init?(_ text: String) {
        switch text {
        case "timeout": self = .timeout
        case "invalid": self = .invalid
        case "connection": self = .connection
        default:
            guard let code = Int(text), (400...599).contains(code) else { return nil }
            self = .status(code)
        }
    }

    public var description: String {
        switch self {
        case .timeout: "timeout"
        case .status(let code): "\(code)"
        case .invalid: "invalid"
        case .connection: "connection"
        }
    }

    /// The error a provider would raise.
    public func providerError(for model: ResolvedModel) -> ProviderError {
        switch self {
        case .timeout: .timedOut
        case .status(let code): .status(code: code, provider: model.provider, message: "injected by the test", retryAfter: nil)
        case .invalid: .invalidResponse("injected by the test")
        case .connection: .transport("injected by the test")
        }
    }
}

/// A value given to a stage run alone (`given:`): inline, or read from a JSON file.
public struct GivenValue: Sendable {
    public enum Source: Sendable {
        case value(JSONValue)
        /// A path relative to the test file (a string ending in `.json`).
        case file(String)
    }

    public var stage: Located<String>
    public var source: Source
    public var span: Span
}

/// What a case must end with.
public struct TestExpectation: Sendable {
    /// `exit:`; 0 when not written.
    public var exit: Located<Int>?
    /// `output:` matched against the pipeline's output (or the stage's value, for `stage:`).
    public var output: Matcher?
    public var outputSpan: Span?
    public var stages: [StageExpectation]

    public init(exit: Located<Int>? = nil, output: Matcher? = nil, outputSpan: Span? = nil, stages: [StageExpectation] = []) {
        self.exit = exit
        self.output = output
        self.outputSpan = outputSpan
        self.stages = stages
    }
}

/// `stages: { writer: { attempts: 2, model: fast, status: succeeded, output: ... } }`
public struct StageExpectation: Sendable {
    public var stage: Located<String>
    public var attempts: Matcher?
    /// The name of the model (under `models:`) the last attempt used.
    public var model: Located<String>?
    public var status: Located<String>?
    /// The stage's value.
    public var output: Matcher?
    public var outputSpan: Span?

    public static let statuses = ["succeeded", "failed", "skipped", "cancelled", "waiting", "not-run"]
}

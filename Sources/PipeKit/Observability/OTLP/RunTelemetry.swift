/// A process's OpenTelemetry, from its environment: the caller's trace context (`TRACEPARENT`),
/// which every run of the process continues, and the exporter, when an OTLP endpoint is set.
/// A command makes one, gives each run a `tracer` (attached where the run's events are
/// observed) and calls `finish` before it exits.
public struct RunTelemetry: Sendable {
    public let parent: TraceParent?
    /// Nil: nothing is exported.
    public let exporter: OTLPExporter?
    /// What the environment asked for and cannot be done, one line each, to print once.
    public let warnings: [String]

    public init(parent: TraceParent?, exporter: OTLPExporter?, warnings: [String] = []) {
        self.parent = parent
        self.exporter = exporter
        self.warnings = warnings
    }

    /// Neither a caller's trace nor export.
    public static let disabled = RunTelemetry(parent: nil, exporter: nil)

    public static func fromEnvironment(_ environment: [String: String]) -> RunTelemetry {
        let (parent, parentWarning) = TraceParent.fromEnvironment(environment)
        let (configuration, configurationWarning) = OTLPConfiguration.fromEnvironment(environment)
        return RunTelemetry(
            parent: parent, exporter: configuration.map(OTLPExporter.init(configuration:)),
            warnings: [parentWarning, configurationWarning].compactMap { $0 })
    }

    /// A new run's trace id: the caller's, else a new one. The run store, `--trace` and the
    /// exported spans all carry it.
    public func traceID() -> String { parent?.traceID ?? TraceIDs.traceID() }

    /// The span builder of one run, or nil when nothing is exported.
    public func tracer(
        runID: String, traceID: String, pipeline: String, attributes: [(key: String, value: OTLPValue)] = []
    ) -> OTLPRunTracer? {
        exporter.map {
            OTLPRunTracer(exporter: $0, traceID: traceID, parent: parent, runID: runID, pipeline: pipeline, attributes: attributes)
        }
    }

    /// Sends the spans still queued (at most the flush deadline) and stops the exporter;
    /// returns the one warning to print when spans were lost.
    public func finish() async -> String? {
        await exporter?.shutdown().warning
    }
}

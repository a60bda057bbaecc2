/// One stage of a pipeline run alone (`pipe run --stage`, a test case's `stage:`): the
/// stages it reads are not run; their values are given (`PipelineRunner.Options.given`).
extension CompiledPipeline {
    /// The pipeline of `name` alone, its output that stage's value; nil when there is no
    /// such stage. A loop member runs once, outside its loop.
    public func only(_ name: String) -> CompiledPipeline? {
        guard var stage = stage(named: name) else { return nil }
        stage.dependencies = []
        stage.loop = nil
        let dag = DAG.build(stages: [name], edges: []).dag
        // `{{ name }}`: the output is the stage's value, as it is.
        let value = Template(
            parts: [.reference(TemplateReference(root: Located(name, at: stage.span), path: [], span: stage.span))], span: stage.span)
        return CompiledPipeline(
            name: self.name, source: source, inputSchema: inputSchema, stages: [stage], dag: dag, output: .single(value),
            budget: budget)
    }

    /// The stages `name` reads: what a run of it alone must be given (`input` aside).
    public func upstream(of name: String) -> [String] {
        stage(named: name)?.dependencies ?? []
    }
}

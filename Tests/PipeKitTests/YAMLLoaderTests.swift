import Testing
@testable import PipeKit

@Suite struct YAMLLoaderTests {
    func load(_ text: String) -> (YAMLNode?, [Diagnostic]) {
        var sink = DiagnosticSink()
        let node = YAMLLoader().load(SourceFile(path: "t.yaml", text: text), diagnostics: &sink)
        return (node, sink.diagnostics)
    }

    func position(_ node: YAMLNode?) -> String { node.map { "\($0.span.start)-\($0.span.end)" } ?? "nil" }

    @Test func plainQuotedAndFlowScalarsKeepTheirSpans() {
        let (root, problems) = load("""
            plain: hello world
            single: 'it''s'
            double: "a\\tb"
            flow: { k: [1, two] }
            """)
        #expect(problems.isEmpty)
        #expect(position(root?["plain"]) == "1:8-1:19")
        #expect(root?["single"]?.scalar == "it's")
        #expect(position(root?["single"]) == "2:9-2:16")
        #expect(root?["double"]?.scalar == "a\tb")
        #expect(position(root?["double"]) == "3:9-3:15")
        let flow = root?["flow"]?["k"]?.sequence
        #expect(position(flow?[1]) == "4:16-4:19")
        #expect(root?.mapping?[3].key.span.start == SourcePosition(line: 4, column: 1))
    }

    @Test func blockScalarTemplatesAreLocatedAtTheirOwnLineAndColumn() {
        let text = """
            stage:
              prompt: |
                First line.
                  Indented: {{ input }} and {{ other.field }}
            """
        let source = SourceFile(path: "t.yaml", text: text)
        var sink = DiagnosticSink()
        let root = YAMLLoader().load(source, diagnostics: &sink)!
        let node = root["stage"]!["prompt"]!
        let template = TemplateLocator.template(from: node, text: node.scalar!, in: source, diagnostics: &sink)!
        #expect(template.references.map(\.root.span.start) == [
            SourcePosition(line: 4, column: 20), SourcePosition(line: 4, column: 36),
        ])
        #expect(template.references[1].path.first?.span.start == SourcePosition(line: 4, column: 42))
    }

    @Test func foldedAndDoubleQuotedTemplatesAreLocatedToo() {
        let text = "a: >\n  one\n  two {{ x }}\nb: \"\\t{{ y.z }}\"\n"
        let source = SourceFile(path: "t.yaml", text: text)
        var sink = DiagnosticSink()
        let root = YAMLLoader().load(source, diagnostics: &sink)!
        let a = TemplateLocator.template(from: root["a"]!, text: root["a"]!.scalar!, in: source, diagnostics: &sink)!
        #expect(a.references.first?.root.span.start == SourcePosition(line: 3, column: 10))
        let b = TemplateLocator.template(from: root["b"]!, text: root["b"]!.scalar!, in: source, diagnostics: &sink)!
        #expect(b.references.first?.path.first?.span.start == SourcePosition(line: 4, column: 12))
    }

    @Test func columnsCountCharactersNotBytes() {
        let (root, _) = load("café: ünïcödé value\n")
        #expect(position(root?["café"]) == "1:7-1:20")
    }

    @Test func duplicateKeysAreErrorsAtTheSecondKey() {
        let (_, problems) = load("a: 1\nb: 2\na: 3\n")
        #expect(problems.map(\.rule) == [.yamlDuplicateKey])
        #expect(problems.first?.span.start == SourcePosition(line: 3, column: 1))
        #expect(problems.first?.related.first?.span.start == SourcePosition(line: 1, column: 1))
    }

    @Test func anchorsAliasesAndMergeKeysWork() {
        let (root, problems) = load("""
            base: &b { x: 1, y: 2 }
            copy: *b
            merged:
              <<: *b
              y: 3
            """)
        #expect(problems.isEmpty)
        #expect(root?["copy"]?["x"]?.scalar == "1")
        #expect(root?["merged"]?["x"]?.scalar == "1")
        #expect(root?["merged"]?["y"]?.scalar == "3")
    }

    @Test func syntaxErrorsAreReportedWhereTheBrokenConstructStarts() {
        let (_, problems) = load("a:\n  b: [1, 2\n  c: 3\n")
        #expect(problems.count == 1)
        #expect(problems.first?.rule == .yamlSyntax)
        #expect(problems.first?.span.start == SourcePosition(line: 2, column: 6))
        #expect(problems.first?.message.contains("flow sequence") == true)
    }

    @Test func undefinedAliasIsAnError() {
        let (_, problems) = load("a: *nowhere\n")
        #expect(problems.first?.rule == .yamlSyntax)
    }

    @Test func aSecondDocumentIsAnError() {
        let (_, problems) = load("a: 1\n---\nb: 2\n")
        #expect(problems.first?.message.contains("one YAML document") == true)
    }

    @Test func coreSchemaScalars() {
        let (root, _) = load("a: 12\nb: 1.5\nc: true\nd: ~\ne: '12'\nf: 0x1F\ng: 1e3\nh: yes\n")
        #expect(YAMLScalarValue(root!["a"]!) == .int(12))
        #expect(YAMLScalarValue(root!["b"]!) == .float(1.5))
        #expect(YAMLScalarValue(root!["c"]!) == .bool(true))
        #expect(YAMLScalarValue(root!["d"]!) == .null)
        #expect(YAMLScalarValue(root!["e"]!) == .string("12"))
        #expect(YAMLScalarValue(root!["f"]!) == .int(31))
        #expect(YAMLScalarValue(root!["g"]!) == .float(1000))
        #expect(YAMLScalarValue(root!["h"]!) == .string("yes"))
    }

    @Test func inlineSchemasBecomeJSONWithExactNumbers() {
        let (root, _) = load("schema: { type: number, multipleOf: 0.10, maximum: 100, enum: [a, 'b'] }")
        let json = root!["schema"]!.json
        #expect(json["multipleOf"]?.numberValue == JSONNumber("0.1"))
        #expect(json["maximum"] == .number(JSONNumber(100)))
        #expect(json.serialized() == #"{"type":"number","multipleOf":0.1,"maximum":100,"enum":["a","b"]}"#)
    }

    /// A plain scalar that is a JSON number is that number, even beyond a Double's range.
    @Test func plainScalarsThatAreJSONNumbersAreExactNumbers() throws {
        let (root, _) = load("""
            big: 1e400
            small: -1e-400
            long: 123456789012345678901234567890
            tagged: !!float 1e400
            inf: .inf
            quoted: '1e400'
            """)
        #expect(root!["big"]!.json == (try JSONParser.parse("1e400")))
        #expect(root!["small"]!.json == (try JSONParser.parse("-1e-400")))
        #expect(root!["long"]!.json == (try JSONParser.parse("123456789012345678901234567890")))
        #expect(root!["tagged"]!.json == (try JSONParser.parse("1e400")))
        #expect(root!["inf"]!.json == ".inf")
        #expect(root!["quoted"]!.json == "1e400")
        // A schema `type: number` takes it, as it takes the JSON number.
        let schema = try JSONSchema(compiling: ["type": "number", "minimum": root!["small"]!.json])
        #expect(schema.validate(root!["big"]!.json).isEmpty)
        #expect(schema.validate(try JSONParser.parse("1e400")).isEmpty)
    }
}

import Foundation

/// One part of a report: a heading, an anchor the page's contents link to, and its HTML (made
/// only through `HTML.escape` for anything recorded). A run and a batch each give the page a
/// list of sections (`RunReport`, `BatchReport`); another kind of report (an eval's
/// scoreboard) is one more file that makes sections.
public protocol ReportSection: Sendable {
    var title: String { get }
    var anchor: String { get }
    /// The section's content, inside its `<section>` and under its `<h2>`.
    func html() -> String
}

/// A section whose HTML is already made.
struct MadeSection: ReportSection {
    var title: String
    var anchor: String
    var body: String
    func html() -> String { body }
}

/// A self-contained HTML page: inline CSS and SVG, no script, nothing fetched from anywhere,
/// so it opens from disk or as a CI artifact.
public struct ReportPage: Sendable {
    public var title: String
    /// Under the title: what the page is about, in a line.
    public var subtitle: String
    public var sections: [any ReportSection]

    public init(title: String, subtitle: String, sections: [any ReportSection]) {
        self.title = title
        self.subtitle = subtitle
        self.sections = sections
    }

    public func render() -> String {
        var html = """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <meta name="generator" content="pipe \(HTML.escape(PipeVersion.current))">
            <title>\(HTML.escape(title))</title>
            <style>\(Self.css)</style>
            </head>
            <body>
            <header><h1>\(HTML.escape(title))</h1><p class="subtitle">\(HTML.escape(subtitle))</p>
            <nav>
            """
        html += sections.map { "<a href=\"#\(HTML.escape($0.anchor))\">\(HTML.escape($0.title))</a>" }.joined(separator: " · ")
        html += "</nav></header>\n<main>\n"
        for section in sections {
            html += "<section id=\"\(HTML.escape(section.anchor))\"><h2>\(HTML.escape(section.title))</h2>\n"
            html += section.html()
            html += "\n</section>\n"
        }
        html += "</main>\n<footer>Made by <code>pipe report</code> from the run store; "
            + "self-contained: it loads nothing from the network.</footer>\n</body>\n</html>\n"
        return html
    }

    /// A table of label and value rows (values already escaped).
    static func fields(_ rows: [(String, String)]) -> String {
        "<table class=\"fields\">" + rows.map { "<tr><th>\(HTML.escape($0.0))</th><td>\($0.1)</td></tr>" }.joined() + "</table>"
    }

    /// A table with a header row (cells already escaped).
    static func table(_ header: [String], _ rows: [[String]], classes: [String] = []) -> String {
        var html = "<table class=\"grid\"><thead><tr>" + header.map { "<th>\(HTML.escape($0))</th>" }.joined() + "</tr></thead><tbody>"
        for (index, row) in rows.enumerated() {
            let rowClass = index < classes.count && !classes[index].isEmpty ? " class=\"\(classes[index])\"" : ""
            html += "<tr\(rowClass)>" + row.map { "<td>\($0)</td>" }.joined() + "</tr>"
        }
        return html + "</tbody></table>"
    }

    static func usd(_ value: Double?) -> String { value.map(RunSummary.usd) ?? "-" }

    static let css = """
        :root{--ok:#2e7d32;--bad:#c62828;--warn:#ef6c00;--grey:#9e9e9e;--ink:#212121;--soft:#f5f5f5;--line:#ddd}
        body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--ink);margin:0 auto;max-width:1200px;padding:0 16px 40px}
        header{border-bottom:1px solid var(--line);margin-bottom:12px}h1{font-size:22px;margin:16px 0 2px}
        .subtitle{color:#555;margin:0 0 8px}nav{margin:0 0 10px}nav a{color:#1565c0;text-decoration:none}
        h2{font-size:18px;border-bottom:1px solid var(--line);padding-bottom:4px;margin-top:28px}h3{font-size:15px;margin:18px 0 6px}
        table{border-collapse:collapse;margin:6px 0}th,td{text-align:left;padding:3px 10px 3px 0;vertical-align:top}
        table.grid th{border-bottom:1px solid var(--line)}table.grid td{border-bottom:1px solid #eee}
        td.num,th.num{text-align:right}.fields th{color:#555;font-weight:normal;padding-right:16px}
        pre{background:var(--soft);padding:8px;white-space:pre-wrap;word-break:break-word;max-height:480px;overflow:auto;margin:4px 0}
        details{margin:4px 0}summary{cursor:pointer}.note{color:#555;font-style:italic}
        .status-failed,.failed>h3,tr.failed td{color:var(--bad)}.status-succeeded{color:var(--ok)}.status-skipped{color:var(--grey)}
        section.stage{border-left:4px solid var(--ok);padding-left:10px;margin:12px 0}
        section.stage.failed{border-left-color:var(--bad)}section.stage.skipped,section.stage.cancelled{border-left-color:var(--grey)}
        section.stage.critical h3::after{content:" (critical path)";color:var(--warn);font-weight:normal}
        .scroll{overflow:auto;border:1px solid var(--line);max-height:720px}
        svg text{font:12px system-ui,sans-serif;fill:var(--ink)}
        .dag .node rect{fill:#e8f5e9;stroke:var(--ok);stroke-width:1.5}.dag .node.failed rect{fill:#ffebee;stroke:var(--bad);stroke-width:2.5}
        .dag .node.skipped rect,.dag .node.notrun rect,.dag .node.cancelled rect{fill:#eee;stroke:var(--grey);stroke-dasharray:4 3}
        .dag .node.skipped text,.dag .node.notrun text{fill:#777}.dag .node.waiting rect{fill:#fff3e0;stroke:var(--warn)}
        .dag .node.planned rect{fill:#e3f2fd;stroke:#1565c0}.dag .node.terminal rect{fill:#fff;stroke:#555}
        .dag .node .name{font-weight:bold}.dag .edge,.dag .loop-edge{fill:none;stroke:#666;stroke-width:1.3}
        .dag .loop-edge{stroke-dasharray:6 4;stroke:#1565c0}.dag .loop-label{fill:#1565c0}.arrowhead{fill:#666}
        .timeline .tick{stroke:#eee}.timeline .tick-label{fill:#777;font-size:11px}
        .timeline .span{fill:#e0e0e0}.timeline .critical .span{fill:#ffe0b2;stroke:var(--warn)}
        .timeline .critical .unit-label{font-weight:bold;fill:#e65100}.timeline .failed .unit-label{fill:var(--bad)}
        .timeline .attempt.ok{fill:var(--ok)}.timeline .attempt.invalid{fill:var(--warn)}.timeline .attempt.failed{fill:var(--bad)}
        .timeline .attempt.cached{fill:#90caf9}.timeline .attempt.fallback{stroke:#4a148c;stroke-width:2}
        .timeline .tool{fill:#7e57c2}.timeline .tool.failed{fill:var(--bad)}.timeline .tool-label{font-size:10px;fill:#4527a0}
        .timeline .tool-label.failed{fill:var(--bad)}
        .histogram rect{fill:#64b5f6}.histogram .axis{stroke:#999}.counts .bar{height:14px;display:inline-block}
        .legend span{display:inline-block;margin-right:14px}.legend i{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:middle}
        footer{margin-top:32px;color:#777;font-size:12px}
        """
}

import Foundation
import PipeKit

/// The tool servers `pipe run`, `pipe tools` and `pipe lint --tools` start.
enum ToolServersSetup {
    /// The production implementation of `ToolServers`: none until the MCP client
    /// (`Sources/PipeKit/Tools/MCP/`) is wired in, so a spec whose stages use tools stops
    /// with exit 2 instead of pretending.
    static let factory: PipelineRunner.ToolServersFactory? = { MCPToolServers($0) }

    /// Starts every server the spec declares, asks each for its tools, and stops them.
    static func listings(_ pipeline: CompiledPipeline) async throws(ToolSetupError) -> [ToolCatalog.Listing] {
        guard let factory else { throw .unavailable }
        let servers = factory(try pipeline.toolServerConfigs(environment: ProcessInfo.processInfo.environment, all: true))
        let listings = await ToolCatalog.list(pipeline, servers: servers)
        await servers.shutdown()
        return listings
    }

    /// `listings`, or the reason on stderr and exit 2.
    static func listingsOrExit(_ pipeline: CompiledPipeline) async throws -> [ToolCatalog.Listing] {
        do throws(ToolSetupError) {
            return try await listings(pipeline)
        } catch {
            try Terminal.writeError("pipe: \(error)\n")
            throw ExitCodeError(code: 2)
        }
    }
}

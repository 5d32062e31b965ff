import Foundation
import PackagePlugin

/// `swift package conformance [SUITE OPTIONS] [EXTRA.so…]`: builds every
/// product, then runs the conformance suite on each provider plugin it built
/// (`lib*Provider.so` in the build folder, which also holds the C example
/// once scripts/build has run) and on any `.so` given. Other arguments go to
/// the suite unchanged, e.g. `--valgrind` or `--report junit`.
@main
struct ConformancePlugin: CommandPlugin {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    func performCommand(context: PluginContext, arguments: [String]) async throws {
        let extraPlugins = arguments.filter { $0.hasSuffix(".so") }
        let suiteOptions = arguments.filter { !$0.hasSuffix(".so") }

        let build = try packageManager.build(.all(includingTests: false), parameters: .init(configuration: .debug, logging: .concise))
        guard build.succeeded else {
            print(build.logText)
            throw Failure(description: "the build failed; the suite did not run")
        }
        guard let suite = build.builtArtifacts.first(where: { $0.kind == .executable && $0.url.lastPathComponent == "batchsender-conformance" }) else {
            throw Failure(description: "the build made no batchsender-conformance executable")
        }
        let binFolder = suite.url.deletingLastPathComponent()
        let built = ((try? FileManager.default.contentsOfDirectory(atPath: binFolder.path)) ?? [])
            .filter { $0.hasPrefix("lib") && $0.hasSuffix("Provider.so") }
            .sorted()
            .map { binFolder.appendingPathComponent($0).path }
        let plugins = built + extraPlugins
        guard !plugins.isEmpty else { throw Failure(description: "no provider plugins were built or given") }

        var failed: [String] = []
        for plugin in plugins {
            print("== conformance: \(plugin)")
            let process = Process()
            process.executableURL = suite.url
            process.arguments = [plugin] + suiteOptions
            process.currentDirectoryURL = context.package.directoryURL
            try process.run()
            process.waitUntilExit()
            if process.terminationStatus != 0 { failed.append("\(URL(fileURLWithPath: plugin).lastPathComponent) (exit \(process.terminationStatus))") }
        }
        guard failed.isEmpty else {
            throw Failure(description: "\(failed.count) of \(plugins.count) plugins do not conform: \(failed.joined(separator: ", "))")
        }
        print("all \(plugins.count) plugins conform")
    }
}

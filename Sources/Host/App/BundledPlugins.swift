import Foundation

/// The provider plugins the build put beside this executable: what `serve` and the benchmarks load when no
/// host config names plugins.
public enum BundledPlugins {
    public static func paths() -> [String] {
        let folder = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.filter { $0.hasPrefix("lib") && $0.hasSuffix("Provider.so") && !$0.contains("EchoC") }.sorted()
            .map { folder.appendingPathComponent($0).path }
    }
}

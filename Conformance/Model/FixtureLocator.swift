import Foundation

/// Finds a plugin's fixtures by convention when `--fixtures` is not given:
/// a folder whose `fixtures.json` lists the plugin's id, looked for
/// 1. beside the plugin file, as `<id>.fixtures/`;
/// 2. in the current project, as `Sources/Providers/*/Fixtures/` or `examples/*/fixtures/`.
enum FixtureLocator {
    static func find(pluginId: String, pluginPath: String, in directory: String) -> String? {
        let beside = (pluginPath as NSString).deletingLastPathComponent + "/\(pluginId).fixtures"
        var candidates = [beside]
        for (parent, child) in [("Sources/Providers", "Fixtures"), ("examples", "fixtures")] {
            let root = directory + "/" + parent
            let names = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
            candidates += names.sorted().map { "\(root)/\($0)/\(child)" }
        }
        return candidates.first { (try? Fixtures.manifest(in: $0))?.plugins.contains(pluginId) ?? false }
    }
}

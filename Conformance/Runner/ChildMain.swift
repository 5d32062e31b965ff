import Foundation
import HostCore

/// The child process's side: loads the plugin and its fixtures, then runs its groups in order (one, or a valgrind
/// lane's several, which share the plugin as loaded once).
enum ChildMain {
    static func run(groups names: [String], options: SuiteOptions) {
        CrashWitness.install()
        // What goes wrong before any group runs is the first group's to report.
        let recorder = CheckRecorder(group: names[0])
        recorder.startGroup()
        let plugin: LoadedPlugin
        do {
            plugin = try PluginLoader.load(path: options.pluginPath)
        } catch {
            recorder.check("loads with RTLD_NOW | RTLD_LOCAL and completes the handshake") {
                .fail(expected: "a plugin the host can load", actual: error.description)
            }
            return
        }
        let folder = options.fixturesPath
            ?? FixtureLocator.find(pluginId: plugin.id, pluginPath: options.originPath, in: FileManager.default.currentDirectoryPath)
        guard let folder else {
            recorder.check("fixtures found") {
                .fail(expected: "a fixtures folder listing \(plugin.id) (--fixtures, or by convention: docs/conformance.md)",
                      actual: "none found beside the plugin or under Sources/Providers/*/Fixtures and examples/*/fixtures")
            }
            return
        }
        let fixtures: Fixtures
        do {
            fixtures = try Fixtures.load(folder: folder)
        } catch {
            recorder.check("fixtures readable") { .fail(expected: "valid fixtures (docs/conformance.md)", actual: error.description) }
            return
        }
        for (index, name) in names.enumerated() {
            guard let group = CheckGroups.all.first(where: { $0.name == name }) else { continue }
            let groupRecorder = index == 0 ? recorder : CheckRecorder(group: name)
            if index > 0 { groupRecorder.startGroup() }
            group.run(GroupContext(options: options, recorder: groupRecorder, plugin: plugin, fixtures: fixtures))
        }
    }
}

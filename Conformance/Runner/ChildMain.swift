import Foundation
import HostCore

/// The child process's side: loads the plugin and its fixtures, then runs one group.
enum ChildMain {
    static func run(group name: String, options: SuiteOptions) {
        CrashWitness.install()
        let recorder = CheckRecorder(group: name)
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
        guard let group = CheckGroups.all.first(where: { $0.name == name }) else { return }
        group.run(GroupContext(options: options, recorder: recorder, plugin: plugin, fixtures: fixtures))
    }
}

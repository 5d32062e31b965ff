import HostCore
import ProviderModel

/// The plugin's own refusal of bad config. The host checks config against the
/// declared keys before it calls create, so these checks hand config to the
/// plugin unchecked: a plugin must not depend on the host to be safe.
enum ConfigChecks: CheckGroup {
    static let name = "config"

    static func run(_ context: GroupContext) {
        let valid = context.fixtures.config
        let services = context.services()

        func refusal(_ entries: [KeyValue]) -> PluginFailure? {
            failure { _ = try context.plugin.makeInstance(configuration: entries, services: services, hostChecks: false) }
        }

        /// A refusal with status config whose field names `key`.
        func refused(_ entries: [KeyValue], naming key: String) -> Verdict {
            guard let failure = refusal(entries) else {
                return .fail(expected: "no instance and a config error naming \(key)", actual: "an instance was created")
            }
            return Verdict.expect(failure.status == .config && failure.field.contains(key) && !failure.message.isEmpty,
                                  "status config, field naming \(key), and a message", got: failure.summary)
        }

        context.check("the fixtures' valid config gives an instance") {
            if let failure = refusal(valid) { return .fail(expected: "an instance", actual: failure.summary) }
            return .pass
        }

        for key in context.plugin.descriptor.configKeys where key.required {
            context.check("missing required key \(key.name) is refused, naming it") {
                refused(valid.filter { $0.name != key.name }, naming: key.name)
            }
        }

        let wrongValues: [ConfigValueType: String] = [
            .url: "not a url", .bool: "perhaps", .stringList: "{\"not\":\"a list\"}", .stringMap: "[\"not\",\"a map\"]",
        ]
        for key in context.plugin.descriptor.configKeys {
            guard let wrong = wrongValues[key.type] else { continue }
            context.check("a \(key.type.rawValue) key given a wrong type (\(key.name)) is refused, naming it") {
                refused(valid.filter { $0.name != key.name } + [KeyValue(key.name, wrong)], naming: key.name)
            }
        }

        context.check("an unknown key is refused, naming it") {
            refused(valid + [KeyValue("conformance_unknown_key", "x")], naming: "conformance_unknown_key")
        }

        for invalid in context.fixtures.manifest.invalidConfigs {
            context.check("fixture config refused: \(invalid.description)") {
                guard let entries = try? PluginConfiguration.entries(fromJSON: invalid.config) else {
                    return .fail(expected: "a config object of strings in the fixture", actual: "numbers or nested values")
                }
                let key = invalid.field.hasPrefix("config.") ? String(invalid.field.dropFirst(7)) : invalid.field
                return refused(entries, naming: key)
            }
        }
    }
}

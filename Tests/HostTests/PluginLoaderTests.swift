import Foundation
import HostCore
import Logging
import ProviderModel
import TestSupport
import Testing

@Suite("Plugin loader and registry")
struct PluginLoaderTests {
    @Test("the C example and the Swift plugin load into one process and describe themselves")
    func loadsBothLanguages() throws {
        var registry = PluginRegistry()
        try registry.register(PluginLoader.load(path: TestEnvironment.swiftEcho))
        try registry.register(PluginLoader.load(path: TestEnvironment.cEcho))
        #expect(registry.ids == ["echo", "echo-c"])
        let swift = try #require(registry["echo"]), c = try #require(registry["echo-c"])
        for plugin in [swift, c] {
            #expect(plugin.descriptor.channels == [.email, .sms, .webhook])
            #expect(plugin.descriptor.maxBatch == 100)
            #expect(plugin.descriptor.configKeys.map(\.name) == ["url", "secret"])
            #expect(plugin.descriptor.configKeys.map(\.secret) == [false, true])
            #expect(plugin.descriptor.interfaces == [PluginInterface.senderV1, PluginInterface.webhookV1])
            #expect(plugin.sends && plugin.receivesWebhooks)
        }
    }

    @Test("a plugin that serves another ABI major is refused, naming both majors")
    func wrongMajor() throws {
        let path = try TestEnvironment.fixturePlugin("wrong_major")
        let error = try #require(throws: PluginLoadError.self) { try PluginLoader.load(path: path) }
        #expect(error.reason == .refusedABI(hostMajor: 1))
        #expect(error.description.contains(path) && error.description.contains("major 1"))

        let other = try TestEnvironment.fixturePlugin("claims_other_major")
        let second = try #require(throws: PluginLoadError.self) { try PluginLoader.load(path: other) }
        #expect(second.reason == .wrongABI(hostMajor: 1, pluginMajor: 7))
        #expect(second.description.contains("ABI major 7"))
    }

    @Test("a shared object without the entry symbol is refused")
    func missingEntry() throws {
        let path = try TestEnvironment.fixturePlugin("no_entry")
        let error = try #require(throws: PluginLoadError.self) { try PluginLoader.load(path: path) }
        #expect(error.reason == .missingEntrySymbol)
        #expect(error.description.contains("batchsender_plugin_entry"))
    }

    @Test("a file that is not a shared object, and a missing file, are refused")
    func notASharedObject() throws {
        let text = try TestPaths.write("this is not an ELF file", name: "fake.so")
        let error = try #require(throws: PluginLoadError.self) { try PluginLoader.load(path: text) }
        guard case .notASharedObject(let detail) = error.reason else { Issue.record("wrong reason \(error)"); return }
        #expect(!detail.isEmpty)
        #expect(error.description.contains(text))

        let missing = try #require(throws: PluginLoadError.self) { try PluginLoader.load(path: "/nonexistent/plugin.so") }
        #expect(missing.reason == .missingFile)
    }

    @Test("a descriptor that breaks the documented form is refused")
    func badDescriptor() throws {
        let path = try TestEnvironment.fixturePlugin("bad_descriptor")
        let error = try #require(throws: PluginLoadError.self) { try PluginLoader.load(path: path) }
        guard case .badTable(let problem) = error.reason else { Issue.record("wrong reason \(error)"); return }
        #expect(problem.contains("Not An Id!"))
    }

    @Test("a second plugin with an id already loaded is refused, naming the first file")
    func duplicateId() throws {
        let copy = TestPaths.scratch.appendingPathComponent("copy-of-echo-c.so").path
        try? FileManager.default.removeItem(atPath: copy)
        try FileManager.default.copyItem(atPath: TestEnvironment.cEcho, toPath: copy)
        let entries = [PluginEntry(path: TestEnvironment.cEcho), PluginEntry(path: copy)]
        let error = try #require(throws: PluginLoadError.self) {
            try PluginRegistry(loading: entries, logger: Logger(label: "test"))
        }
        #expect(error.reason == .duplicateId("echo-c", loadedFrom: TestEnvironment.cEcho))
        #expect(error.description.contains(copy))
    }

    @Test("a required plugin's failure stops start-up; an optional one's is skipped")
    func requiredVersusOptional() throws {
        let broken = try TestEnvironment.fixturePlugin("wrong_major")
        #expect(throws: PluginLoadError.self) {
            try PluginRegistry(loading: [PluginEntry(path: TestEnvironment.swiftEcho), PluginEntry(path: broken, required: true)],
                               logger: Logger(label: "test"))
        }
        let registry = try PluginRegistry(
            loading: [PluginEntry(path: broken, required: false), PluginEntry(path: "/missing.so", required: false),
                      PluginEntry(path: TestEnvironment.swiftEcho)],
            logger: Logger(label: "test"))
        #expect(registry.ids == ["echo"])
    }

    @Test("a relative path is the file in the current folder, not a library search")
    func relativePath() throws {
        let folder = URL(fileURLWithPath: TestEnvironment.cEcho).deletingLastPathComponent().path
        let previous = FileManager.default.currentDirectoryPath
        _ = FileManager.default.changeCurrentDirectoryPath(folder)
        defer { _ = FileManager.default.changeCurrentDirectoryPath(previous) }
        let plugin = try PluginLoader.load(path: "libEchoCProvider.so")
        #expect(plugin.id == "echo-c")
    }
}

@Suite("Host config")
struct HostConfigTests {
    @Test("plugins, fetch policy and HTTP settings are read; relative paths are taken from the file's folder")
    func readsConfig() throws {
        let path = try TestPaths.write("""
            [[plugin]]
            path = "plugins/libResend.so"

            [[plugin]]
            path = "/opt/x/libTelnyx.so"
            required = false

            [fetch]
            allow = ["https://sns.*.amazonaws.com/*"]
            timeout_ms = 2000

            [http]
            connect_timeout_ms = 1500

            [api]
            rate_limit_per_key = 600
            max_recipients_per_batch = 250000
            """, name: "host.toml")
        let config = try HostConfig.load(path: path)
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        #expect(config.plugins == [PluginEntry(path: folder + "/plugins/libResend.so"),
                                   PluginEntry(path: "/opt/x/libTelnyx.so", required: false)])
        #expect(config.fetch.timeoutMs == 2000)
        #expect(config.fetch.allows("https://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem"))
        #expect(!config.fetch.allows("https://sns.us-east-1.amazonaws.com.evil.org/x.pem"))
        #expect(!config.fetch.allows("http://sns.us-east-1.amazonaws.com/x.pem"))
        // A star in the host reaches no user info, port, query or fragment: each would make the URL another host.
        for forged in ["https://sns.x@evil.com#.amazonaws.com/a.pem", "https://sns.evil.com:443#.amazonaws.com/a.pem",
                       "https://sns.evil.com?.amazonaws.com/a.pem", "https://sns.evil.com\\.amazonaws.com/a.pem",
                       "https://sns.us-east-1.amazonaws.com/a.pem#frag", "https://user@sns.us-east-1.amazonaws.com/a.pem"] {
            #expect(!config.fetch.allows(forged), "\(forged)")
        }
        // In the path a star still takes a query (SNS's SubscribeURL has one).
        #expect(config.fetch.allows("https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&Token=abc"))
        #expect(config.http.connectTimeoutMs == 1500 && config.http.timeoutMs == 30000)
        #expect(config.api.rateLimitPerKey == 600 && config.api.maxRecipientsPerBatch == 250_000)
        #expect(config.api.rateLimitPerAddress == 2_400 && config.api.redisKeyPrefix == "batchsender:", "unset keys keep their defaults")
    }

    @Test("bad config names the problem")
    func badConfig() throws {
        let unknown = try #require(throws: HostConfigError.self) { try HostConfig.parse("[[plugin]]\npath = \"a.so\"\nrequird = true") }
        #expect(unknown.message.contains("requird"))
        let missing = try #require(throws: HostConfigError.self) { try HostConfig.parse("[[plugin]]\nrequired = true") }
        #expect(missing.message.contains("path"))
        let syntax = try #require(throws: HostConfigError.self) { try HostConfig.parse("[[plugin]\npath = ") }
        #expect(syntax.message.contains("line"))
        let range = try #require(throws: HostConfigError.self) { try HostConfig.parse("[api]\nrate_limit_per_key = 0") }
        #expect(range.message.contains("rate_limit_per_key") && range.message.contains("from 1"), "\(range.message)")
        let prefix = try #require(throws: HostConfigError.self) { try HostConfig.parse("[api]\nredis_key_prefix = \"a b\"") }
        #expect(prefix.message.contains("redis_key_prefix"), "\(prefix.message)")
        let unknownAPI = try #require(throws: HostConfigError.self) { try HostConfig.parse("[api]\nrate_limit = 5") }
        #expect(unknownAPI.message.contains("rate_limit"))
    }

    @Test("[limits] and [admin]: defaults, overrides, and every bad limit refused naming its key")
    func limits() throws {
        // The providers' own rates come from their plugins (ABI 1.1), not from a table in the host.
        var defaults = try HostConfig.parse("").limits
        #expect(defaults.system == nil && defaults.configDefault(provider: "ses") == 100 && defaults.managedLimit(provider: "ses") == 100)
        defaults.providerDefaults = ["ses": TokenRate(perSecond: 14), "resend": TokenRate(perSecond: 5, perToken: 100)]
        #expect(defaults.configDefault(provider: "ses") == 14 && defaults.configDefault(provider: "custom") == 100)
        // A rate in requests stays one: its bucket counts requests of up to the max batch; shown as messages.
        #expect(defaults.configDefaultRate(provider: "resend") == TokenRate(perSecond: 5, perToken: 100) && defaults.configDefault(provider: "resend") == 500)
        var set = try HostConfig.parse("[limits]\nsystem = 900\ndefault = 7\nbyok = { ses = 20 }\nmanaged = { resend = 30 }\n").limits
        set.providerDefaults = ["ses": TokenRate(perSecond: 14), "resend": TokenRate(perSecond: 5, perToken: 100)]
        #expect(set.system == 900 && set.configDefault(provider: "ses") == 20 && set.configDefault(provider: "resend") == 500
                && set.configDefault(provider: "other") == 7 && set.managedLimit(provider: "resend") == 30)
        for (text, key) in [("system = 0", "system"), ("system = -3", "system"), ("system = 20000000", "system"), ("system = \"fast\"", "system"),
                            ("default = 0", "default"), ("byok = { ses = 0 }", "byok"), ("managed = { ses = 99999999 }", "managed"),
                            ("burst = 5", "burst")] {
            let error = try #require(throws: HostConfigError.self) { try HostConfig.parse("[limits]\n\(text)\n") }
            #expect(error.message.contains(key), "\(text): \(error.message)")
        }
        let inline = try HostConfig.parse("[admin]\ntoken = \"plain-secret-in-the-file-0123456789\"")
        #expect(throws: HostConfigError.self) { try inline.admin.resolvedToken(environment: [:]) }
        let short = try HostConfig.parse("[admin]\ntoken = \"env:T\"")
        #expect(throws: HostConfigError.self) { try short.admin.resolvedToken(environment: ["T": "short"]) }
        #expect(try short.admin.resolvedToken(environment: ["T": "a-long-enough-admin-token-0123"]) == "a-long-enough-admin-token-0123")
    }
}

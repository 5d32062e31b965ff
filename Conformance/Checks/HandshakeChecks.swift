import BatchSenderABI
import Foundation
@_spi(Conformance) import HostCore
import ProviderModel

/// Loading and describing: what the loader does at start-up, done the way the
/// host does it, plus what the loader does not look at (exported symbols).
/// The plugin itself is loaded before this group runs (it would not get here otherwise).
enum HandshakeChecks: CheckGroup {
    static let name = "handshake"

    /// Symbols every shared object defines, put there by the linker rather than the author.
    static let linkerSymbols: Set<String> = ["_init", "_fini", "_edata", "_end", "__bss_start"]

    static func run(_ context: GroupContext) {
        let path = context.plugin.path
        let descriptor = context.plugin.descriptor

        context.check("loads with RTLD_NOW | RTLD_LOCAL and completes the handshake") { .pass }

        context.check("exports only \(BSP_ENTRY_SYMBOL)") {
            let listing = try ChildProcess.run("/usr/bin/nm", ["-D", "--defined-only", path], timeout: 30)
            guard listing.ending == .exited(0) else {
                return .fail(expected: "nm to list the dynamic symbols", actual: String(decoding: listing.stderr, as: UTF8.self))
            }
            let exported = String(decoding: listing.stdout, as: UTF8.self).split(separator: "\n").compactMap { line -> String? in
                let fields = line.split(separator: " ")
                guard fields.count >= 3, let type = fields[1].first, type.isUppercase else { return nil }
                let name = String(fields[2].split(separator: "@").first ?? fields[2])
                return linkerSymbols.contains(name) ? nil : name
            }
            let extra = exported.filter { $0 != BSP_ENTRY_SYMBOL }
            return Verdict.expect(extra.isEmpty && exported.contains(BSP_ENTRY_SYMBOL),
                                  "one global symbol, \(BSP_ENTRY_SYMBOL) (link with a version script, see docs/plugin-authors.md)",
                                  got: "\(exported.count) global symbols: \(exported.prefix(8).joined(separator: ", "))\(exported.count > 8 ? ", …" : "")")
        }

        context.check("answers NULL for an ABI major it does not serve") {
            let major = UInt32(BSP_ABI_MAJOR)
            var answered: [UInt32] = []
            for other in [major + 1, major + 100, 0] where try PluginLoader.entryAnswers(path: path, hostMajor: other, hostMinor: 0) {
                answered.append(other)
            }
            return Verdict.expect(answered.isEmpty, "NULL from the entry function for majors \(major + 1), \(major + 100) and 0",
                                  got: "a table for major \(answered.map(String.init).joined(separator: ", "))")
        }

        context.check("descriptor: id, name and version") {
            var problems: [String] = []
            // descriptor.h's rule, the one the loader applies.
            if !PluginDescriptor.isValidId(descriptor.id) {
                problems.append("id \"\(descriptor.id)\" is not [a-z][a-z0-9_-]{0,63} (descriptor.h)")
            }
            if descriptor.name.trimmingCharacters(in: .whitespaces).isEmpty { problems.append("name is empty") }
            if descriptor.version.range(of: #"^\d+\.\d+\.\d+([-+][0-9A-Za-z.-]+)?$"#, options: .regularExpression) == nil {
                problems.append("version \"\(descriptor.version)\" is not semantic (MAJOR.MINOR.PATCH)")
            }
            return Verdict.expect(problems.isEmpty, "a lower-case id, a name and a semantic version", got: problems.joined(separator: "; "))
        }

        context.check("descriptor: channels, max batch and interfaces") {
            var problems: [String] = []
            if descriptor.channels.isEmpty { problems.append("no channels") }
            if Set(descriptor.channels).count != descriptor.channels.count { problems.append("a channel listed twice") }
            if !(1...10_000).contains(descriptor.maxBatch) { problems.append("max batch \(descriptor.maxBatch) is outside 1...10000") }
            let sender = descriptor.interfaces.contains(PluginInterface.senderV1)
            let webhook = descriptor.interfaces.contains(PluginInterface.webhookV1)
            if sender != context.plugin.sends { problems.append("declares sender \(sender) but serves it: \(context.plugin.sends)") }
            if webhook != context.plugin.receivesWebhooks {
                problems.append("declares webhook \(webhook) but serves it: \(context.plugin.receivesWebhooks)")
            }
            return Verdict.expect(problems.isEmpty, "at least one channel, max batch in 1...10000, interfaces declared as served",
                                  got: problems.joined(separator: "; "))
        }

        context.check("descriptor: default rate and unit") {
            // The loader reads an unknown unit as no rate (a later minor may add units); a plugin of
            // this minor that declares one has a typo, and its provider's rate would go unused.
            guard let raw = context.table?.descriptor else { return .fail(expected: "the plugin's descriptor", actual: "none") }
            return Verdict.expect(PluginDescriptor.rateProblem(in: raw) == nil,
                                  "default_rate 0 (none), or a rate with rate_unit BSP_RATE_MESSAGES_PER_SECOND (1) or BSP_RATE_REQUESTS_PER_SECOND (2)",
                                  got: PluginDescriptor.rateProblem(in: raw) ?? "")
        }

        context.check("descriptor: config keys named, described and secrets marked") {
            var problems: [String] = []
            var seen: Set<String> = []
            for key in descriptor.configKeys {
                if key.name.range(of: #"^[a-z][a-z0-9_]*$"#, options: .regularExpression) == nil {
                    problems.append("key \"\(key.name)\" is not snake_case")
                }
                if !seen.insert(key.name).inserted { problems.append("key \(key.name) declared twice") }
                if key.description.isEmpty { problems.append("key \(key.name) has no description") }
                let secretLike = looksSecret(key.name)
                if secretLike && !key.secret { problems.append("key \(key.name) looks secret but is not marked secret") }
            }
            return Verdict.expect(problems.isEmpty, "unique snake_case keys with descriptions; credentials marked secret",
                                  got: problems.joined(separator: "; "))
        }

        context.check("lifecycle: destroy(NULL) does nothing") {
            CrashWitness.witness("destroy(NULL)")
            context.plugin.destroyNothing()
            return .pass
        }

        context.check("lifecycle: get_interface answers NULL for unknown and future interface ids") {
            let ids = ["batchsender.sender/2", "batchsender.webhook/2", "batchsender.sender/10", "batchsender.sender/",
                       "batchsender.sender", "batchsender.unknown/1", "batchsender.sender/1/", "BATCHSENDER.SENDER/1", ""]
            let answered = ids.filter { context.plugin.answersInterface($0) }
            return Verdict.expect(answered.isEmpty, "NULL for \(ids.count) ids it does not serve",
                                  got: "a table for \(answered.map { "\"\($0)\"" }.joined(separator: ", "))")
        }
    }

    /// Words in a key's name that mark a credential, whatever else the name says:
    /// passwords, tokens, keys (but a public key), basic auth, signing material.
    static func looksSecret(_ name: String) -> Bool {
        let words = Set(name.split(separator: "_").map(String.init))
        let secretWords: Set<String> = ["secret", "password", "passwd", "passphrase", "pass", "pwd", "token", "auth", "authorization",
                                        "credential", "credentials", "private", "bearer", "cookie", "signing", "hmac"]
        if !words.isDisjoint(with: secretWords) { return true }
        if ["secret", "password", "token", "credential", "private"].contains(where: { name.contains($0) }) { return true }
        // api_key, access_key, webhook_key…: a key is a credential unless it is public or only names something.
        return words.contains("key") && !words.contains("public") && !name.hasSuffix("_key_id")
    }
}

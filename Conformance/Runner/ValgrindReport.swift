/// Valgrind's errors, read from its output: each error's kind and the first
/// frame of its stack inside the plugin, so a report says "Invalid write of
/// size 1 in echo_parse" rather than quoting the tail of valgrind's log.
struct ValgrindReport {
    struct Finding: Equatable {
        var kind: String
        var function: String
    }

    var findings: [Finding] = []

    /// Reads valgrind's stderr; `plugin` is the file name of the plugin's (stripped) copy.
    init(_ log: String, plugin: String) {
        var kind: String?
        var frames: [(function: String, object: String)] = []
        func finish() {
            defer { kind = nil; frames = [] }
            guard let kind else { return }
            let inPlugin = frames.first { $0.object.hasSuffix(plugin) }
            let function = inPlugin.map { "\($0.function) in \(plugin)" }
                ?? frames.first.map { "\($0.function) (no frame in the plugin; first frame in \($0.object))" } ?? "an unknown function"
            let finding = Finding(kind: kind, function: function)
            if !findings.contains(finding) { findings.append(finding) }
        }
        for raw in log.split(separator: "\n", omittingEmptySubsequences: false) {
            // "==123== Invalid read of size 1", "==123==    at 0x4849: echo_parse (in /tmp/libEchoCProvider.so)"
            guard raw.hasPrefix("=="), let close = raw.dropFirst(2).firstRange(of: "==") else { continue }
            let line = raw[close.upperBound...].trimmingCharacters(in: .whitespaces)
            if line.isEmpty { finish(); continue }
            if line.hasPrefix("at 0x") || line.hasPrefix("by 0x") {
                guard kind != nil, let colon = line.firstIndex(of: ":") else { continue }
                let rest = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                let function = String(rest.prefix { $0 != " " && $0 != "(" })
                let object = rest.firstRange(of: "(in ").map { String(rest[$0.upperBound...].dropLast()) }
                    ?? rest.firstRange(of: "(").map { String(rest[$0.upperBound...].dropLast()) } ?? ""
                frames.append((function, object))
            } else if Self.isErrorHeading(line) {
                finish()
                kind = line.replacingOccurrences(of: #" in loss record [0-9,]+ of [0-9,]+"#, with: "", options: .regularExpression)
            }
        }
        finish()
    }

    static func isErrorHeading(_ line: String) -> Bool {
        line.hasPrefix("Invalid ") || line.hasPrefix("Mismatched ") || line.hasPrefix("Conditional jump")
            || line.hasPrefix("Use of uninitialised") || line.hasPrefix("Syscall param") || line.contains("are definitely lost")
            || line.hasPrefix("Source and destination overlap")
    }

    var summary: String {
        findings.prefix(8).map { "\($0.kind) in \($0.function)" }.joined(separator: "; ")
            + (findings.count > 8 ? "; and \(findings.count - 8) more" : "")
    }
}

import Foundation

/// The readable summary: one line per check, and for a failure what was expected and what came back.
enum SummaryReport {
    static func lines(for result: CheckResult) -> String {
        var lines = ["\(result.verdict.rawValue)  \(result.group): \(result.name)"]
        switch result.verdict {
        case .fail:
            lines.append("      expected: \(result.expected)")
            lines.append("      got:      \(result.actual)")
        case .skip:
            lines.append("      \(result.actual)")
        case .pass:
            break
        }
        return lines.joined(separator: "\n")
    }

    static func footer(_ results: [CheckResult], plugin: String) -> String {
        let failed = results.filter { $0.verdict == .fail }.count
        let skipped = results.filter { $0.verdict == .skip }.count
        return "\n\(plugin): \(results.count) checks, \(results.count - failed - skipped) passed, \(failed) failed, \(skipped) skipped: "
            + (failed == 0 ? "CONFORMS" : "DOES NOT CONFORM")
    }
}

/// JUnit XML, one test suite per group, for CI systems that display test results.
enum JUnitReport {
    static func render(_ results: [CheckResult], plugin: String) -> String {
        var xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        let failures = results.filter { $0.verdict == .fail }.count
        xml += "<testsuites name=\"\(escape("conformance \(plugin)"))\" tests=\"\(results.count)\" failures=\"\(failures)\">\n"
        var groups: [String] = []
        for result in results where !groups.contains(result.group) { groups.append(result.group) }
        for group in groups {
            let members = results.filter { $0.group == group }
            let seconds = members.reduce(0) { $0 + $1.seconds }
            xml += "  <testsuite name=\"\(escape(group))\" tests=\"\(members.count)\" failures=\"\(members.filter { $0.verdict == .fail }.count)\" skipped=\"\(members.filter { $0.verdict == .skip }.count)\" time=\"\(String(format: "%.3f", seconds))\">\n"
            for result in members {
                xml += "    <testcase classname=\"\(escape("\(plugin).\(group)"))\" name=\"\(escape(result.name))\" time=\"\(String(format: "%.3f", result.seconds))\""
                switch result.verdict {
                case .pass: xml += "/>\n"
                case .skip: xml += "><skipped message=\"\(escape(result.actual))\"/></testcase>\n"
                case .fail:
                    xml += "><failure message=\"\(escape("expected \(result.expected)"))\">\(escape("expected: \(result.expected)\ngot: \(result.actual)"))</failure></testcase>\n"
                }
            }
            xml += "  </testsuite>\n"
        }
        return xml + "</testsuites>\n"
    }

    static func escape(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "\t", "\n", "\r": out.unicodeScalars.append(scalar)
            case _ where scalar.value < 0x20: out += "?"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}

/// The results as JSON: `{"plugin", "passed", "checks": [...]}`.
enum JSONReport {
    struct Document: Encodable {
        var plugin: String
        var passed: Bool
        var checks: [CheckResult]
    }

    static func render(_ results: [CheckResult], plugin: String) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let document = Document(plugin: plugin, passed: !results.contains { $0.verdict == .fail }, checks: results)
        return (try? encoder.encode(document)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}

/// What one check found. `expected` and `actual` say, for a failure, what
/// the contract demands and what the plugin did instead.
struct CheckResult: Codable, Sendable {
    enum Verdict: String, Codable, Sendable {
        case pass = "PASS"
        case fail = "FAIL"
        case skip = "SKIP"
    }

    var group: String
    var name: String
    var verdict: Verdict
    var expected: String = ""
    var actual: String = ""
    var seconds: Double = 0
}

/// What a check body returns.
enum Verdict: Sendable {
    case pass
    case fail(expected: String, actual: String)
    case skip(String)

    /// Pass when `condition` holds, else a failure with both sides spelled out.
    static func expect(_ condition: Bool, _ expected: @autoclosure () -> String, got actual: @autoclosure () -> String) -> Verdict {
        condition ? .pass : .fail(expected: expected(), actual: actual())
    }
}

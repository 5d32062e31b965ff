/// The checks every signature scheme with a timestamp header starts with,
/// each failing with the status and field the conformance suite expects.
extension InboundWebhook {
    /// The value of a header the signature needs; `signature_missing` without it.
    public func signatureHeader(_ name: String) throws(PluginFailure) -> String {
        guard let value = header(name) else {
            throw PluginFailure(.signatureMissing, field: "header:\(name)", "the \(name) header is missing")
        }
        return value
    }

    /// The Unix seconds in `timestamp` (the value of header `name`), checked to be within `tolerance`
    /// seconds of `nowSeconds` either way. Parsed with bounds and compared without overflow: the
    /// header is an attacker's, and this runs before any signature is checked.
    public static func checkTimestamp(_ timestamp: String, header name: String, nowSeconds: Int64,
                                      tolerance: Int64) throws(PluginFailure) -> Int64 {
        let seconds: Int64
        do { seconds = try BoundedInteger.parse(timestamp, in: Int64.min...Int64.max) } catch {
            // Thirty digits are a number too, just not a time within the tolerance.
            guard error == .notAnInteger else {
                throw PluginFailure(.signatureExpired, field: "header:\(name)", "timestamp is out of any range; the tolerance is \(tolerance) s")
            }
            throw PluginFailure(.signatureEncoding, field: "header:\(name)", "not a whole number of seconds")
        }
        guard BoundedInteger.isWithin(seconds, tolerance, of: nowSeconds) else {
            let gap = BoundedInteger.distance(nowSeconds, seconds)
            let when = seconds < nowSeconds ? "\(gap) s old" : "\(gap) s in the future"
            throw PluginFailure(.signatureExpired, field: "header:\(name)", "timestamp is \(when); the tolerance is \(tolerance) s")
        }
        return seconds
    }
}

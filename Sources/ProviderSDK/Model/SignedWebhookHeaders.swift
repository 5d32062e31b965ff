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

    /// The Unix seconds in `timestamp` (the value of header `name`), checked to
    /// be within `tolerance` seconds of `nowSeconds` either way.
    public static func checkTimestamp(_ timestamp: String, header name: String, nowSeconds: Int64,
                                      tolerance: Int64) throws(PluginFailure) -> Int64 {
        guard let seconds = Int64(timestamp) else {
            throw PluginFailure(.signatureEncoding, field: "header:\(name)", "not a whole number of seconds")
        }
        let skew = nowSeconds - seconds
        guard abs(skew) <= tolerance else {
            let when = skew > 0 ? "\(skew) s old" : "\(-skew) s in the future"
            throw PluginFailure(.signatureExpired, field: "header:\(name)", "timestamp is \(when); the tolerance is \(tolerance) s")
        }
        return seconds
    }
}

import HostCore

extension PluginRegistry {
    /// The rate each loaded plugin declares for its provider (ABI 1.1), in messages per second: what a BYOK
    /// send-config of that provider sends at when neither it nor `[limits] byok` says otherwise.
    var declaredRates: [String: Int] {
        var rates: [String: Int] = [:]
        for (id, plugin) in plugins {
            guard let rate = plugin.descriptor.defaultRate else { continue }
            let perSecond = rate.messagesPerSecond(maxBatch: plugin.descriptor.maxBatch)
            rates[id] = Int(min(perSecond, Int64(SendRateLimits.range.upperBound)))
        }
        return rates
    }
}

import HostCore

extension PluginRegistry {
    /// The rate each loaded plugin declares for its provider (ABI 1.1), in the provider's unit: what a BYOK
    /// send-config of that provider sends at when neither it nor `[limits] byok` says otherwise. A rate in
    /// requests is paced in requests, each token standing for one request of up to the plugin's max batch.
    var declaredRates: [String: TokenRate] {
        var rates: [String: TokenRate] = [:]
        for (id, plugin) in plugins {
            guard let rate = plugin.descriptor.defaultRate else { continue }
            let perSecond = min(rate.perSecond, SendRateLimits.range.upperBound)
            switch rate.unit {
            case .messagesPerSecond: rates[id] = TokenRate(perSecond: perSecond)
            case .requestsPerSecond: rates[id] = TokenRate(perSecond: perSecond, perToken: plugin.descriptor.maxBatch)
            }
        }
        return rates
    }
}

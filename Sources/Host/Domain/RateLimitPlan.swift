import HostCore

/// Which limits a send-config's messages pass, in order, and each one's rate when no operator override is
/// set: the deployment's (`[limits] system`), the managed account's shared one for a managed config, and
/// the config's own (its `rateLimit`, else its provider's default for a BYOK config). 0 means no limit.
public enum RateLimitPlan {
    public struct Level: Sendable, Equatable {
        public enum Scope: Sendable, Equatable {
            case system
            case provider(String)
            case config(String)
        }

        public var scope: Scope
        /// Tokens per second when no override is set; 0 for none.
        public var fallback: Int
        /// Messages one token of `fallback` stands for: 1, or a provider's max batch when its rate counts
        /// requests. An operator's override is always in messages.
        public var perToken: Int

        public init(scope: Scope, fallback: Int, perToken: Int = 1) {
            self.scope = scope
            self.fallback = fallback
            self.perToken = max(1, perToken)
        }
    }

    public static func levels(sendConfigID: String, provider: String, managed: Bool, rateLimit: Int?, limits: SendRateLimits) -> [Level] {
        var levels = [Level(scope: .system, fallback: limits.system ?? 0)]
        if managed { levels.append(Level(scope: .provider(provider), fallback: limits.managedLimit(provider: provider))) }
        // A managed config without a rate of its own is held only by its account's shared bucket.
        if let rateLimit {
            levels.append(Level(scope: .config(sendConfigID), fallback: rateLimit))
        } else if managed {
            levels.append(Level(scope: .config(sendConfigID), fallback: 0))
        } else {
            let rate = limits.configDefaultRate(provider: provider)
            levels.append(Level(scope: .config(sendConfigID), fallback: rate.perSecond, perToken: rate.perToken))
        }
        return levels
    }
}

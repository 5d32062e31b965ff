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
        /// Messages per second when no override is set; 0 for none.
        public var fallback: Int

        public init(scope: Scope, fallback: Int) {
            self.scope = scope
            self.fallback = fallback
        }
    }

    public static func levels(sendConfigID: String, provider: String, managed: Bool, rateLimit: Int?, limits: SendRateLimits) -> [Level] {
        var levels = [Level(scope: .system, fallback: limits.system ?? 0)]
        if managed { levels.append(Level(scope: .provider(provider), fallback: limits.managedLimit(provider: provider))) }
        // A managed config without a rate of its own is held only by its account's shared bucket.
        levels.append(Level(scope: .config(sendConfigID), fallback: rateLimit ?? (managed ? 0 : limits.configDefault(provider: provider))))
        return levels
    }
}

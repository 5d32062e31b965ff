import Domain
import HostCore
/// Version 6: the operators' live limits (the admin API). Redis holds them for the senders to read on
/// every chunk; this table is their durable copy, which the API puts back into Redis when it starts.
enum RateLimitOverrides {
    static let migration = Migration(version: 6, name: "rate limit overrides", sql: """
        CREATE TABLE rate_limit_overrides (
            field text PRIMARY KEY CHECK (field = 'system' OR field LIKE 'provider:%' OR field LIKE 'config:%'),
            per_second integer NOT NULL CHECK (per_second > 0),
            updated_at timestamptz NOT NULL DEFAULT now());
        """)
}

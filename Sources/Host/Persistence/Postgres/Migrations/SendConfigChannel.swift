import Domain
import HostCore
/// Version 2: the channel a send-config sends on (a plugin may offer several),
/// and the count of recipients an upload found already suppressed.
enum SendConfigChannel {
    static let migration = Migration(version: 2, name: "send-config channel, suppressed count", sql: """
        ALTER TABLE send_configs ADD COLUMN channel text NOT NULL DEFAULT 'email'
            CHECK (channel IN ('email', 'sms', 'webhook'));
        ALTER TABLE batches ADD COLUMN suppressed_count integer NOT NULL DEFAULT 0;
        """)
}

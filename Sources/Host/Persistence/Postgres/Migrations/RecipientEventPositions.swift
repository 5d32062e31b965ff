import Domain
/// Version 11: `recipient_events.position` takes every recipient position. Positions come from one
/// bigint sequence (version 3) shared by all batches, while version 5 gave this column `integer`:
/// past 2^31 - 1 every event of a newer recipient was refused (SQLSTATE 22003). The table is rewritten
/// once, under its lock, which webhook rounds wait out.
enum RecipientEventPositions {
    static let migration = Migration(version: 11, name: "recipient event positions as bigint", sql: """
        ALTER TABLE recipient_events ALTER COLUMN position TYPE bigint;
        """)
}

import ProviderModel

/// The analytics events table written in blocks: each insert is one block (its rows tagged with the block's
/// id), so that a block whose insert may have landed before a failure is looked up rather than written twice.
public struct AnalyticsBlocks: Sendable {
    let client: ClickHouseClient

    public init(client: ClickHouseClient) { self.client = client }

    /// Rows of block `id` already in the table (the blocks view sums them).
    public func landedRows(block id: String) async throws(ClickHouseError) -> Int {
        let landed = try await client.rows("SELECT sum(rows) AS rows FROM \(AnalyticsSchema.blocks) WHERE block_id = \(ClickHouseClient.literal(id))")
        return landed.first?["rows"]?.stringValue.flatMap(Int.init) ?? 0
    }

    /// One block of JSONEachRow lines (`AnalyticsEvent.encode(_:block:into:)`).
    public func insert(_ body: [UInt8]) async throws(ClickHouseError) {
        try await client.insert(into: AnalyticsSchema.events, jsonEachRow: body)
    }
}

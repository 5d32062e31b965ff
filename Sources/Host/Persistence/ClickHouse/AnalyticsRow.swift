import Domain
import ProviderModel

// How an analytics event is a row of the ClickHouse table (AnalyticsSchema): the store's format, kept beside it.
extension AnalyticsEvent {
    /// The row as one JSONEachRow line, tagged with the block it is written in.
    public func encode(into writer: inout JSONWriter, block: String) {
        writer.beginObject()
        writer.member("event_time", number: min(max(0, timeMs / 1_000), Int64(UInt32.max)))
        writer.member("user_id", userID)
        writer.member("batch_id", batchID)
        writer.member("recipient", number: Int64(max(0, recipient)))
        writer.member("send_config_id", sendConfigID)
        writer.member("provider", provider)
        writer.member("event_type", type.rawValue)
        writer.member("bounce_class", bounceClass)
        writer.member("reason", String(reason.prefix(500)))
        writer.member("provider_message_id", providerMessageID)
        writer.member("event_id", eventID)
        writer.member("block_id", block)
        writer.endObject()
    }
}

/// A provider plugin written in Swift: a type that describes itself and makes
/// configured instances. Conform to `MessageSending`, `WebhookHandling` or
/// both, then export it with one line (see `PluginExport`).
///
/// Instances are shared by many threads at once: keep them immutable.
/// Never trap on input (no force-unwraps, no unchecked indexing): a trap in
/// a plugin ends the host process.
public protocol ProviderPlugin: Sendable {
    /// Static facts: id, name, version, channels, max batch, config keys.
    /// `interfaces` is filled in by the kit from the protocols the type conforms to.
    static var descriptor: PluginDescriptor { get }

    /// Makes an instance from a configuration the kit has already checked
    /// against `descriptor.configKeys`. Throw `.config` with the field for
    /// anything else wrong (a secret of the wrong format, say).
    init(configuration: PluginConfiguration, context: some PluginContext) throws(PluginFailure)
}

/// The sender interface ("batchsender.sender/1"); see sender.h for the contract.
public protocol MessageSending: ProviderPlugin {
    /// The HTTP request(s) for 1...maxBatch messages. Every index must end up
    /// in exactly one request's `messageIndices` or in one `refused` outcome.
    func prepare(_ messages: [OutboundMessage], context: some PluginContext) throws(PluginFailure) -> PreparedSend

    /// Exactly one outcome per message of the request, whatever came back.
    func interpret(_ result: HTTPResult, for messages: [OutboundMessage], context: some PluginContext) -> [SendOutcome]
}

/// The webhook interface ("batchsender.webhook/1"); see webhook.h for the contract.
public protocol WebhookHandling: ProviderPlugin {
    /// Returns when the request is authentic; throws the reason otherwise.
    func verify(_ request: InboundWebhook, context: some PluginContext) throws(PluginFailure)

    /// The normalised events in a verified body; unknown types as `.unknown`.
    func parse(_ request: InboundWebhook, context: some PluginContext) throws(PluginFailure) -> [DeliveryEvent]
}

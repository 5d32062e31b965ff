import HostCore

/// A send-config's plugin instance, or why there is none: what the processor asks (the send-config
/// cache in a process).
public protocol SendConfigResolving: Sendable {
    func instance(sendConfigID: String) async throws -> Result<PluginInstance, SendConfigProblem>
}

extension SendConfigInstances: SendConfigResolving {}

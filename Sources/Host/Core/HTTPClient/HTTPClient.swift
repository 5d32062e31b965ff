import ProviderModel

/// Sends plugin-built requests. The one seam between the host's roles and the
/// network: tests and the sandbox can stand behind it.
public protocol HTTPClient: Sendable {
    /// Never throws: a transport failure comes back as an `HTTPResult` with
    /// `transportFailure` set, for the plugin to interpret.
    func execute(_ request: PreparedRequest, timeoutMs: Int?) async -> HTTPResult
}

extension HTTPClient {
    public func execute(_ request: PreparedRequest) async -> HTTPResult {
        await execute(request, timeoutMs: nil)
    }
}

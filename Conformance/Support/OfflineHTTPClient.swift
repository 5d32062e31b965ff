import HostCore
import ProviderModel

/// The suite's HTTP client: no network. Every request fails to connect, so a
/// plugin that wants a document the fixtures do not hold sees a fetch failure.
struct OfflineHTTPClient: HTTPClient {
    func execute(_ request: PreparedRequest, timeoutMs: Int?) async -> HTTPResult {
        HTTPResult(failure: .connect, message: "the conformance suite does not go to the network (\(request.url))")
    }
}

import Foundation

/// What a provider can ask of the host during a call (host.h bsp_host).
public protocol PluginContext {
    /// Milliseconds since the Unix epoch: the host's clock, pinned in tests.
    var nowMilliseconds: Int64 { get }
    func log(_ level: PluginLogLevel, _ message: String)
    /// Secure random bytes; nil when the system has no entropy.
    func randomBytes(_ count: Int) -> [UInt8]?
    /// A document from the host's fetch cache (a signing certificate, say).
    func fetch(_ url: String) -> FetchResult
}

public enum PluginLogLevel: Int32, Sendable {
    case debug = 0, info, warn, error
}

public enum FetchResult: Sendable, Equatable {
    case document([UInt8])
    /// The host is fetching it: throw `.pending` and the call will be repeated.
    case pending
    /// Outside the host's allow-list.
    case forbidden
    case failed(String)
}

extension PluginContext {
    public var nowSeconds: Int64 { nowMilliseconds / 1000 }
}

/// A context for calling a provider directly, in-process (tests, benchmarks):
/// a fixed or system clock, documents from a dictionary, logs dropped.
public struct LocalContext: PluginContext, Sendable {
    public var fixedMilliseconds: Int64?
    public var documents: [String: [UInt8]]

    public init(nowMilliseconds: Int64? = nil, documents: [String: [UInt8]] = [:]) {
        self.fixedMilliseconds = nowMilliseconds
        self.documents = documents
    }

    public var nowMilliseconds: Int64 {
        fixedMilliseconds ?? Int64(Date().timeIntervalSince1970 * 1000)
    }

    public func log(_ level: PluginLogLevel, _ message: String) {}

    public func randomBytes(_ count: Int) -> [UInt8]? {
        (0..<count).map { _ in UInt8.random(in: .min ... .max) }
    }

    public func fetch(_ url: String) -> FetchResult {
        documents[url].map(FetchResult.document) ?? .failed("no document for \(url)")
    }
}

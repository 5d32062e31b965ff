import Foundation
import Logging

/// What the host offers plugins during calls (host.h bsp_host): its log, its
/// clock (pinned by `--now` and in tests), and its document fetcher.
public final class HostServices: Sendable {
    public let logger: Logger
    public let fetcher: DocumentFetcher?
    private let fixedNowMs: Int64?
    /// The conformance suite's: every host callback yields the thread first, so calls
    /// on other threads run between a plugin's steps (shared buffers then show at once).
    public let interleaves: Bool

    public init(logger: Logger, nowMilliseconds: Int64? = nil, fetcher: DocumentFetcher? = nil, interleaves: Bool = false) {
        self.logger = logger
        self.fixedNowMs = nowMilliseconds
        self.fetcher = fetcher
        self.interleaves = interleaves
    }

    public var nowMilliseconds: Int64 {
        fixedNowMs ?? SystemClock.nowMilliseconds
    }
}

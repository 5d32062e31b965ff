import CCurl
import Synchronization

/// The easy handles of one client, kept for the next request once a transfer is done with them: a new
/// handle allocates curl's buffers (tens of kilobytes) and freeing them made glibc consolidate its heap,
/// a large part of a one-message request's cost. A handle comes back reset: nothing of one request's
/// options, headers or callbacks reaches the next.
final class CurlHandles: Sendable {
    private struct Pool: ~Copyable {
        /// The handles' addresses: a pointer is not Sendable, and the lock is what hands one to its next owner.
        var idle: [UInt] = []
        var closed = false
    }

    private let keep: Int
    private let pool = Mutex(Pool())

    init(keep: Int) { self.keep = keep }

    /// A handle with no options set, or nil when curl cannot make one (out of memory).
    func take() -> UnsafeMutableRawPointer? {
        if let address = pool.withLock({ $0.idle.popLast() }), let handle = UnsafeMutableRawPointer(bitPattern: address) { return handle }
        return curl_easy_init()
    }

    /// Takes a handle back once no multi handle holds it; kept, reset, unless enough are kept already.
    func give(_ handle: UnsafeMutableRawPointer) {
        curl_easy_reset(handle)
        let address = UInt(bitPattern: handle), keep = keep
        let kept = pool.withLock { pool -> Bool in
            guard !pool.closed, pool.idle.count < keep else { return false }
            pool.idle.append(address)
            return true
        }
        if !kept { curl_easy_cleanup(handle) }
    }

    /// Frees every kept handle; handles given back later are freed at once.
    func close() {
        let idle = pool.withLock { pool -> [UInt] in
            pool.closed = true
            defer { pool.idle = [] }
            return pool.idle
        }
        for address in idle { curl_easy_cleanup(UnsafeMutableRawPointer(bitPattern: address)) }
    }
}

import CCurl
import Foundation
import ProviderModel
import Synchronization

/// The host's HTTP client, on libcurl's multi interface: one thread of its own
/// drives every transfer (Swift's cooperative pool never blocks on I/O),
/// connections are pooled and reused per host, HTTP/2 is used where a TLS
/// server offers it, TLS verification is always on.
public final class CurlHTTPClient: HTTPClient, @unchecked Sendable {
    private struct Queue {
        var submitted: [CurlTransfer] = []
        var stopping = false
    }

    public let settings: HTTPClientSettings
    /// Where this client may connect; nil for the operator's own services (ClickHouse), which are not a tenant's to choose.
    public let policy: OutboundPolicy?
    private let multi: UnsafeMutableRawPointer
    private let queue = Mutex(Queue())
    private let connections = Atomic<Int>(0)
    private let stopped = DispatchSemaphore(value: 0)
    private let handles: CurlHandles

    /// The longest the thread waits in `curl_multi_poll` with nothing to do; a send, a stop or a transfer's
    /// progress ends the wait sooner.
    private let idleWaitMs: Int32

    public convenience init(settings: HTTPClientSettings = HTTPClientSettings(), policy: OutboundPolicy? = nil) {
        self.init(settings: settings, policy: policy, idleWaitMs: 1000)
    }

    /// `idleWaitMs`: a test sets it long, so that a send that failed to wake the thread shows as a send that waits.
    init(settings: HTTPClientSettings, policy: OutboundPolicy?, idleWaitMs: Int32) {
        _ = Self.globalInit
        self.settings = settings
        self.policy = policy
        self.idleWaitMs = idleWaitMs
        multi = curl_multi_init()
        handles = CurlHandles(keep: max(16, 2 * settings.maxConnectionsPerHost))
        _ = bs_curl_multi_set_long(multi, CURLMOPT_MAX_HOST_CONNECTIONS, settings.maxConnectionsPerHost)
        _ = bs_curl_multi_set_long(multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX)
        let thread = Thread { [self] in run() }
        thread.name = "batchsender-http"
        thread.start()
    }

    /// Connections opened so far (a reused connection opens none).
    public var connectionsOpened: Int { connections.load(ordering: .relaxed) }

    public func execute(_ request: PreparedRequest, timeoutMs: Int?) async -> HTTPResult {
        await withCheckedContinuation { continuation in
            guard let transfer = CurlTransfer(request, settings: settings, policy: policy, timeoutMs: timeoutMs, handles: handles,
                                              continuation: continuation) else {
                continuation.resume(returning: HTTPResult(failure: .other, message: "curl could not create a handle"))
                return
            }
            transfer.submitted(timeoutMs: timeoutMs ?? settings.timeoutMs)
            // Only the submit that finds the line empty wakes the thread: it takes the whole line at once, and
            // a wakeup is owed until it does, so a burst of sends costs one wakeup instead of one each. The
            // wakeup is sent under the lock: the thread frees the multi handle only after a take that saw the
            // client stopping, so a submit that got in before that take has finished with the handle.
            let accepted = queue.withLock { queue in
                guard !queue.stopping else { return false }
                queue.submitted.append(transfer)
                if queue.submitted.count == 1 { curl_multi_wakeup(multi) }
                return true
            }
            guard accepted else { return transfer.cancel("the HTTP client is shut down") }
        }
    }

    /// Stops taking requests, lets transfers in flight finish, then ends the thread.
    public func shutdown() {
        let first = queue.withLock { queue in
            defer { queue.stopping = true }
            // Under the lock, as in `execute`: the thread may end and free the multi handle as soon as it sees this.
            if !queue.stopping { curl_multi_wakeup(multi) }
            return !queue.stopping
        }
        guard first else { return }
        stopped.wait()
    }

    private func run() {
        var active: [UnsafeMutableRawPointer: CurlTransfer] = [:]
        var admission = OriginAdmission<CurlTransfer>(connectionsPerOrigin: settings.maxConnectionsPerHost)
        // A transfer let in runs on what is left of its timeout; one whose timeout ran out in line, or that curl
        // refuses, is answered at once and its place goes to the next.
        func add(_ transfer: CurlTransfer) {
            var next = [transfer]
            while !next.isEmpty {
                let transfer = next.removeFirst()
                let failure: (TransportFailure, String)?
                if transfer.remainingTimeout() == nil {
                    failure = (.timeout, "the request waited its whole timeout for a connection to \(transfer.origin)")
                } else if curl_multi_add_handle(multi, transfer.easy) != CURLM_OK {
                    failure = (.other, "curl could not take the request")
                } else {
                    active[transfer.easy] = transfer
                    failure = nil
                }
                guard let failure else { continue }
                transfer.fail(failure.0, failure.1)
                next += admission.finished(transfer.origin, http2: false)
            }
        }
        while true {
            let (submitted, stopping) = queue.withLock { queue in
                defer { queue.submitted = [] }
                return (queue.submitted, queue.stopping)
            }
            for transfer in submitted { if let admitted = admission.admit(transfer) { add(admitted) } }
            var running: Int32 = 0
            curl_multi_perform(multi, &running)
            var left: Int32 = 0
            while let message = curl_multi_info_read(multi, &left) {
                guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle,
                      let transfer = active.removeValue(forKey: easy) else { continue }
                let code = message.pointee.data.result
                curl_multi_remove_handle(multi, easy)
                let (_, opened, http2) = transfer.finish(code)
                connections.add(opened, ordering: .relaxed)
                for next in admission.finished(transfer.origin, http2: http2) { add(next) }
            }
            // Stopping with nothing left (the last transfer just ended, or there was none: `curl_multi_perform`
            // on no transfers does nothing): nothing will wake the poll below, so leave now.
            if stopping && active.isEmpty && admission.isEmpty { break }
            curl_multi_poll(multi, nil, 0, idleWaitMs, nil)
        }
        curl_multi_cleanup(multi)
        handles.close()
        stopped.signal()
    }

    private static let globalInit: Void = {
        curl_global_init(Int(CURL_GLOBAL_DEFAULT))
    }()
}

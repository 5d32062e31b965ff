import CCurl
#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import ProviderModel

/// One request in flight on the curl multi handle: its easy handle, header
/// list and the response being collected. Touched only by the client's
/// transfer thread once it is submitted.
final class CurlTransfer: OriginBound, @unchecked Sendable {
    let easy: UnsafeMutableRawPointer
    /// The URL's scheme, host and port, as written: what connections are shared within (`OriginAdmission`).
    let origin: String
    /// Takes the handle back when the transfer is done with it (`CurlHandles`).
    private let handles: CurlHandles
    private var headerList: UnsafeMutablePointer<curl_slist>?
    private let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
    private var status = 0
    private var headers: [KeyValue] = []
    private var body: [UInt8] = []
    private let continuation: CheckedContinuation<HTTPResult, Never>
    private let policy: OutboundPolicy?
    private let maxResponseBytes: Int
    /// Why the outbound policy refused an address curl was about to connect to.
    private var refusal: String?
    private var tooLarge = false

    /// nil when curl could not make a handle (out of memory).
    init?(_ request: PreparedRequest, settings: HTTPClientSettings, policy: OutboundPolicy?, timeoutMs: Int?, handles: CurlHandles,
          continuation: CheckedContinuation<HTTPResult, Never>) {
        guard let easy = handles.take() else { return nil }
        self.easy = easy
        self.handles = handles
        origin = Self.origin(of: request.url)
        self.policy = policy
        maxResponseBytes = settings.maxResponseBytes
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        self.continuation = continuation
        configure(request, settings: settings, timeoutMs: timeoutMs)
    }

    deinit {
        // Reset (no longer pointing at the header list or the error buffer) before those are freed.
        handles.give(easy)
        curl_slist_free_all(headerList)
        errorBuffer.deallocate()
    }

    private func configure(_ request: PreparedRequest, settings: HTTPClientSettings, timeoutMs: Int?) {
        _ = bs_curl_set_str(easy, CURLOPT_URL, request.url)
        // Never a proxy from http_proxy, HTTPS_PROXY or ALL_PROXY in the environment: the outbound policy checks
        // the address each connection opens, which would then be the proxy's, not the target's.
        _ = bs_curl_set_str(easy, CURLOPT_PROXY, "")
        _ = bs_curl_set_str(easy, CURLOPT_NOPROXY, "*")
        _ = bs_curl_set_str(easy, CURLOPT_PROTOCOLS_STR, policy?.allowHTTP == false ? "https" : "http,https")
        _ = bs_curl_set_long(easy, CURLOPT_FOLLOWLOCATION, 0)
        _ = bs_curl_set_off(easy, CURLOPT_MAXFILESIZE_LARGE, curl_off_t(maxResponseBytes))
        _ = bs_curl_set_long(easy, CURLOPT_NOSIGNAL, 1)
        _ = bs_curl_set_long(easy, CURLOPT_SSL_VERIFYPEER, 1)
        _ = bs_curl_set_long(easy, CURLOPT_SSL_VERIFYHOST, 2)
        _ = bs_curl_set_long(easy, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_2TLS)
        _ = bs_curl_set_long(easy, CURLOPT_PIPEWAIT, 1)
        _ = bs_curl_set_long(easy, CURLOPT_CONNECTTIMEOUT_MS, settings.connectTimeoutMs)
        _ = bs_curl_set_long(easy, CURLOPT_TIMEOUT_MS, timeoutMs ?? settings.timeoutMs)
        _ = bs_curl_set_ptr(easy, CURLOPT_ERRORBUFFER, errorBuffer)

        switch request.method {
        case "GET": _ = bs_curl_set_long(easy, CURLOPT_HTTPGET, 1)
        case "HEAD": _ = bs_curl_set_long(easy, CURLOPT_NOBODY, 1)
        case "POST": _ = bs_curl_set_long(easy, CURLOPT_POST, 1)
        default: _ = bs_curl_set_str(easy, CURLOPT_CUSTOMREQUEST, request.method)
        }
        if request.method != "GET" && request.method != "HEAD" {
            _ = bs_curl_set_off(easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(request.body.count))
            // COPYPOSTFIELDS copies (POSTFIELDSIZE bytes), so the body need not outlive this call.
            var body = request.body
            if body.isEmpty { body = [0] }
            _ = body.withUnsafeBufferPointer { body in
                body.withMemoryRebound(to: CChar.self) { bs_curl_set_str(easy, CURLOPT_COPYPOSTFIELDS, $0.baseAddress) }
            }
        }
        // curl's own "Expect: 100-continue" costs a round trip on every large POST.
        for line in request.headers.map({ "\($0.name): \($0.value)" }) + ["Expect:"] {
            headerList = curl_slist_append(headerList, line)
        }
        _ = bs_curl_set_slist(easy, CURLOPT_HTTPHEADER, headerList)

        let me = Unmanaged.passUnretained(self).toOpaque()
        _ = bs_curl_set_data_cb(easy, CURLOPT_WRITEFUNCTION) { data, size, count, user in
            guard let user, let data else { return 0 }
            let transfer = Unmanaged<CurlTransfer>.fromOpaque(user).takeUnretainedValue()
            let length = size * count
            guard transfer.body.count + length <= transfer.maxResponseBytes else {
                transfer.tooLarge = true
                return 0
            }
            data.withMemoryRebound(to: UInt8.self, capacity: length) {
                transfer.body.append(contentsOf: UnsafeBufferPointer(start: $0, count: length))
            }
            return length
        }
        _ = bs_curl_set_ptr(easy, CURLOPT_WRITEDATA, me)
        _ = bs_curl_set_data_cb(easy, CURLOPT_HEADERFUNCTION) { data, size, count, user in
            guard let user, let data else { return 0 }
            let transfer = Unmanaged<CurlTransfer>.fromOpaque(user).takeUnretainedValue()
            let length = size * count
            data.withMemoryRebound(to: UInt8.self, capacity: length) {
                transfer.header(line: UnsafeBufferPointer(start: $0, count: length))
            }
            return length
        }
        _ = bs_curl_set_ptr(easy, CURLOPT_HEADERDATA, me)
        if policy != nil {
            _ = bs_curl_set_opensocket_cb(easy) { user, _, address in
                guard let user, let address else { return CURL_SOCKET_BAD }
                let transfer = Unmanaged<CurlTransfer>.fromOpaque(user).takeUnretainedValue()
                let family = address.pointee.family
                let raw = UnsafeRawPointer(address) + MemoryLayout<curl_sockaddr>.offset(of: \.addr)!
                let bytes: [UInt8] = switch family {
                case AF_INET: withUnsafeBytes(of: raw.loadUnaligned(as: sockaddr_in.self).sin_addr) { Array($0) }
                case AF_INET6: withUnsafeBytes(of: raw.loadUnaligned(as: sockaddr_in6.self).sin6_addr) { Array($0) }
                default: []
                }
                if let reason = bytes.isEmpty ? "only IPv4 and IPv6 addresses may be reached" : transfer.policy?.refusal(bytes) {
                    transfer.refusal = reason
                    return CURL_SOCKET_BAD
                }
                return socket(family, address.pointee.socktype, address.pointee.protocol)
            }
            _ = bs_curl_set_ptr(easy, CURLOPT_OPENSOCKETDATA, me)
        }
    }

    /// One header line as curl hands it over (CRLF included). Parsed as bytes: Foundation's trimming of each
    /// line was a noticeable part of a one-message request's cost.
    private func header(line: UnsafeBufferPointer<UInt8>) {
        func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0d || byte == 0x0a }
        var start = line.startIndex, end = line.endIndex
        while start < end, isSpace(line[start]) { start += 1 }
        while end > start, isSpace(line[end - 1]) { end -= 1 }
        let text = UnsafeBufferPointer(rebasing: line[start..<end])
        if text.starts(with: "HTTP/".utf8) {
            // A new status line (after 100 Continue, say): only the last response counts.
            headers = []
            return
        }
        guard let colon = text.firstIndex(of: UInt8(ascii: ":")) else { return }
        var nameEnd = colon, valueStart = colon + 1
        while nameEnd > text.startIndex, isSpace(text[nameEnd - 1]) { nameEnd -= 1 }
        while valueStart < text.endIndex, isSpace(text[valueStart]) { valueStart += 1 }
        let name = String(decoding: text[text.startIndex..<nameEnd].map { $0 >= 0x41 && $0 <= 0x5a ? $0 + 0x20 : $0 }, as: UTF8.self)
        headers.append(KeyValue(name, String(decoding: text[valueStart..<text.endIndex], as: UTF8.self)))
    }

    /// The scheme and the host and port: `https://host:port`, without a user's name or password; ASCII letters
    /// lower-cased (a host written with other letters in two cases counts as two origins, each with its limit).
    static func origin(of url: String) -> String {
        // Once per request: a plain scan of the bytes (the standard library's `firstRange(of:)` cost more than
        // the rest of the admission together).
        var url = url
        return url.withUTF8 { bytes in
            let colon = UInt8(ascii: ":"), slash = UInt8(ascii: "/")
            var schemeEnd = -1
            var index = 0
            while index + 2 < bytes.count {
                if bytes[index] == colon, bytes[index + 1] == slash, bytes[index + 2] == slash { schemeEnd = index + 3; break }
                index += 1
            }
            guard schemeEnd >= 0 else { return String(decoding: bytes, as: UTF8.self) }
            var end = schemeEnd, hostStart = schemeEnd
            while end < bytes.count, bytes[end] != slash, bytes[end] != UInt8(ascii: "?"), bytes[end] != UInt8(ascii: "#") {
                if bytes[end] == UInt8(ascii: "@") { hostStart = end + 1 }
                end += 1
            }
            var origin = [UInt8]()
            origin.reserveCapacity(end - hostStart + schemeEnd)
            for byte in bytes[..<schemeEnd] { origin.append(Self.lowercased(byte)) }
            for byte in bytes[hostStart..<end] { origin.append(Self.lowercased(byte)) }
            return String(decoding: origin, as: UTF8.self)
        }
    }

    private static func lowercased(_ byte: UInt8) -> UInt8 {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte | 0x20 : byte
    }

    /// When the caller gave up on this request (monotonic ns): its timeout counts from the submit, not from
    /// when its origin let it in.
    private(set) var deadlineNs: UInt64 = 0

    /// Starts the request's clock; called as it is submitted.
    func submitted(timeoutMs: Int) {
        deadlineNs = DispatchTime.now().uptimeNanoseconds + UInt64(max(0, timeoutMs)) * 1_000_000
    }

    /// The time left of the request's timeout, given to curl as it is let in; nil once it has run out.
    func remainingTimeout() -> Int? {
        let now = DispatchTime.now().uptimeNanoseconds
        guard now < deadlineNs else { return nil }
        let left = Int((deadlineNs - now) / 1_000_000)
        guard left > 0 else { return nil }
        _ = bs_curl_set_long(easy, CURLOPT_TIMEOUT_MS, left)
        return left
    }

    /// Ends a request that never reached curl: its timeout ran out while it waited, or curl refused it.
    func fail(_ failure: TransportFailure, _ message: String) {
        continuation.resume(returning: HTTPResult(failure: failure, message: message))
    }

    /// Completes the caller's await with what curl reported; also whether the answer came over HTTP/2.
    func finish(_ code: CURLcode) -> (result: HTTPResult, newConnections: Int, http2: Bool) {
        var connects = 0
        _ = bs_curl_get_long(easy, CURLINFO_NUM_CONNECTS, &connects)
        var version = 0
        _ = bs_curl_get_long(easy, CURLINFO_HTTP_VERSION, &version)
        let result: HTTPResult
        if code == CURLE_OK {
            var status = 0
            _ = bs_curl_get_long(easy, CURLINFO_RESPONSE_CODE, &status)
            result = HTTPResult(status: status, headers: headers, body: body)
        } else if let refusal {
            result = HTTPResult(failure: .connect, message: "not connected: \(refusal)")
        } else if tooLarge || code == CURLE_FILESIZE_EXCEEDED {
            result = HTTPResult(failure: .io, message: "the response is larger than \(maxResponseBytes) bytes ([http] max_response_bytes)")
        } else {
            let detail = String(cString: errorBuffer)
            let message = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
            result = HTTPResult(failure: Self.failure(for: code), message: message)
        }
        continuation.resume(returning: result)
        return (result, connects, version >= Int(CURL_HTTP_VERSION_2_0))
    }

    func cancel(_ message: String) {
        continuation.resume(returning: HTTPResult(failure: .other, message: message))
    }

    static func failure(for code: CURLcode) -> TransportFailure {
        switch code {
        case CURLE_OPERATION_TIMEDOUT: .timeout
        case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY: .connect
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER,
             CURLE_SSL_CACERT_BADFILE, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_PINNEDPUBKEYNOTMATCH: .tls
        case CURLE_SEND_ERROR, CURLE_RECV_ERROR, CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE, CURLE_HTTP2, CURLE_HTTP2_STREAM: .io
        default: .other
        }
    }
}

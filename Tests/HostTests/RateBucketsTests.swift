import Foundation
import HostCore
import NIOPosix
import Persistence
import TestSupport
import Testing

/// The take script on the stack's real Redis (its clock is Redis's, so these read times loosely): appointments
/// on a shared level are kept per tenant, and the limit holds whatever the appointments. Their reads are tens of
/// milliseconds apart at most when the machine is free: run alone by scripts/test (BATCHSENDER_TIMING=1), as
/// beside forty other tests on two cores the calls of one test were seconds apart.
@Suite("Rate buckets: appointments per tenant",
       .enabled(if: ProcessInfo.processInfo.environment["BATCHSENDER_TIMING"] == "1", "run alone by scripts/test"))
struct RateBucketsTests {
    /// A system limit of 1,000/s that binds; each tenant's own send-config does not.
    static let limit = 1_000
    /// Half a bucket at 1,000/s: floor(1000 / 12 / 2) tokens, so an appointment's spacing in ms.
    static let halfBucket: Int64 = 41

    final class Buckets: Sendable {
        let threads = NIOThreadPool(numberOfThreads: 1)
        let buckets: RateBuckets

        init() throws {
            threads.start()
            let redis = StorePools.redis(url: try StackEnvironment.value("REDIS_URL"), capacity: 1, threads: threads)
            buckets = RateBuckets(redis: redis, keyPrefix: "test:\(UUID().uuidString):", limits: SendRateLimits(system: RateBucketsTests.limit))
        }

        func request(_ tenant: String, _ wanted: Int) -> RateBuckets.Request {
            RateBuckets.Request(levels: buckets.levels(sendConfigID: "config-\(tenant)", provider: "resend", managed: false, rateLimit: 10_000_000),
                                wanted: wanted, tenant: tenant)
        }

        func take(_ requests: [RateBuckets.Request]) async throws -> [RateBuckets.Grant] { try await buckets.take(requests) }

        func close() async throws { try await threads.shutdownGracefully() }
    }

    @Test("a tenant that starts waiting on a shared level is given an appointment next to the waiting tenant's, not after its 200 chunks; the first tenant's next ones are spaced for two")
    func anotherTenantIsNotQueuedBehind() async throws {
        let buckets = try Buckets()
        // Tenant A's 200 chunks of 100 in one round: the first takes the bucket, the others are given appointments
        // one half-bucket apart, so its line reaches about 8 s out.
        let bulk = try await buckets.take((0..<200).map { _ in buckets.request("a", 100) })
        // The calls of a round run a few ms apart in Redis, so a later one may find a token or two refilled.
        #expect(bulk[0].granted == 83 && bulk.dropFirst().reduce(0) { $0 + $1.granted } < 20)
        let lineEnd = try #require(bulk.last?.waitMs)
        #expect(lineEnd >= 199 * Self.halfBucket - 50, "one tenant alone is paced as before: \(bulk.prefix(4).map(\.waitMs)) … \(lineEnd)")
        let spacing = bulk[2].waitMs - bulk[1].waitMs
        #expect((Self.halfBucket - 3)...(Self.halfBucket + 1) ~= spacing, "one tenant's appointments are half a bucket apart: \(spacing) ms")

        // Tenant B's chunk: due as soon as the bucket has half a bucket again (a few tokens refilled meanwhile
        // go to B at once), not after A's line.
        let small = try await buckets.take([buckets.request("b", 100)])[0]
        #expect(small.granted < 20 && small.waitMs <= Self.halfBucket, "B comes back in \(small.waitMs) ms, A's line ends in \(lineEnd) ms")
        // A's next chunk joins A's line, two half-buckets after its last: B's line takes the other half of the rate.
        let next = try await buckets.take([buckets.request("a", 100)])[0]
        let gap = next.waitMs - lineEnd
        #expect((2 * Self.halfBucket - 30)...(2 * Self.halfBucket + 1) ~= gap, "A's next appointment is \(gap) ms after its last")
        try await buckets.close()
    }

    @Test("the limit holds with several tenants taking: granted ≤ a bucket + the limit × the time taken")
    func limitHoldsAcrossTenants() async throws {
        let buckets = try Buckets()
        let started = Date()
        var granted = 0
        while Date().timeIntervalSince(started) < 1.5 {
            let round = try await buckets.take(["a", "b", "c", "a", "a"].map { buckets.request($0, 100) })
            granted += round.reduce(0) { $0 + $1.granted }
        }
        let elapsed = Date().timeIntervalSince(started)
        let bound = Int((Double(Self.limit) * elapsed).rounded(.up)) + Self.limit / 12
        #expect(granted <= bound && granted >= Self.limit, "\(granted) granted in \(elapsed) s at \(Self.limit)/s (bound \(bound))")
        try await buckets.close()
    }
}

/// Whether Redis answers on a connection: a readiness probe's round trip.
public enum RedisProbe {
    public static func ping(_ redis: RedisConnection) throws {
        _ = try redis.command(["PING"])
    }
}

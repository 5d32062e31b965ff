import Foundation

/// The real time, as Unix milliseconds: what signatures and timestamps use.
public enum WallClock {
    public static var nowMilliseconds: Int64 {
        Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
    }
}

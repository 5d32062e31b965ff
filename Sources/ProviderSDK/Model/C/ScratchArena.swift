#if canImport(Glibc)
import Glibc
#endif

/// One reusable arena per thread for the C views of a call. Marshalling a
/// call then costs no heap allocation once the thread has made one call:
/// a fresh arena's first block (malloc of 4 KiB) costs more than copying a
/// whole message into it.
public enum ScratchArena {
    private final class Slot {
        let arena = CArena()
        var inUse = false
    }

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        let created = pthread_key_create(&key) { slot in
            guard let slot else { return }
            Unmanaged<Slot>.fromOpaque(slot).release()
        }
        precondition(created == 0, "pthread_key_create failed: no thread-local slot for the scratch arena")
        return key
    }()

    /// Runs `body` with this thread's arena, emptied when `body` returns.
    /// A nested use on the same thread gets a fresh arena of its own.
    public static func with<R>(_ body: (CArena) throws -> R) rethrows -> R {
        let slot: Slot
        if let existing = pthread_getspecific(key) {
            slot = Unmanaged<Slot>.fromOpaque(existing).takeUnretainedValue()
        } else {
            slot = Slot()
            pthread_setspecific(key, Unmanaged.passRetained(slot).toOpaque())
        }
        guard !slot.inUse else { return try body(CArena()) }
        slot.inUse = true
        defer {
            slot.arena.reset()
            slot.inUse = false
        }
        return try body(slot.arena)
    }
}

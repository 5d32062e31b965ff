/*
 * batchsender/host.h — what the host gives a plugin: the per-call context
 * (bsp_call: where results and errors go) and the host services (bsp_host:
 * logging, clock, randomness, document fetch).
 *
 * Threads: every function here may be called only from inside the plugin
 * function that received the bsp_call, on the thread that runs it, and never
 * after that function returns. They never block and never call back into
 * the plugin.
 */
#ifndef BATCHSENDER_HOST_H
#define BATCHSENDER_HOST_H

#include "types.h"
#include "status.h"
#include "http.h"
#include "outcome.h"
#include "event.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct bsp_call bsp_call;
typedef struct bsp_host bsp_host;

#define BSP_LOG_DEBUG 0
#define BSP_LOG_INFO  1
#define BSP_LOG_WARN  2
#define BSP_LOG_ERROR 3

/* Host services, one static table for the host's whole life. Owned by the
 * host; a plugin may keep the pointer in an instance it creates. */
struct bsp_host {
    /* sizeof(bsp_host) as the host knows it: a plugin calls only functions
     * that end within it. */
    uint32_t struct_size;
    /* The ABI version the host implements, e.g. 1 and 1; the same the entry
     * function received. A plugin emits nothing this minor does not define
     * (entry.h). */
    uint32_t abi_major;
    uint32_t abi_minor;

    /* Writes one line to the host's structured log, tagged with the plugin
     * id and the call. `message` is copied. Never secrets. */
    void (*log)(bsp_call *call, int32_t level, bsp_str message);

    /* The current time in milliseconds since the Unix epoch. Use it, not the
     * system clock: tests and `--now` pin it. */
    int64_t (*now_ms)(bsp_call *call);

    /* Fills `out[0..len)` with cryptographically secure random bytes.
     * BSP_OK, or BSP_E_INTERNAL when the system has no entropy. */
    bsp_status (*random_bytes)(bsp_call *call, uint8_t *out, size_t len);

    /* An auxiliary document from the host's cache, e.g. a signing
     * certificate by URL. The host fetches only URLs its operator allowed,
     * with its own timeout, and caches what it got.
     * - BSP_OK: *out_document views the document; it stays valid until the
     *   plugin function that received `call` returns.
     * - BSP_E_PENDING: not cached yet; the host has queued the fetch. Return
     *   BSP_E_PENDING from your own function; it will be called again.
     * - BSP_E_FORBIDDEN: the URL is outside the host's allow-list.
     * - BSP_E_INTERNAL: the fetch failed (set on call with the reason); the
     *   host retries it only after its negative-cache time. */
    bsp_status (*fetch)(bsp_call *call, bsp_str url, bsp_bytes *out_document);
};

/* The context of one plugin call. Created by the host for each call, on the
 * caller's stack; never keep the pointer after the call returns.
 *
 * Every emit_* copies what it is given before it returns, and answers:
 * - BSP_OK: taken.
 * - BSP_E_INVALID_ARGUMENT: refused (an index out of range, a header with CR
 *   or LF, an emit this kind of call does not take); set_error was called.
 *   The plugin should stop and return the same status. */
struct bsp_call {
    /* sizeof(bsp_call) as the host knows it. */
    uint32_t struct_size;
    /* The host services, the same table for every call. */
    const bsp_host *host;
    /* The host's own per-call state. Plugins never read or write it. */
    void *host_data;

    /* Says why the call failed: which field ("config.api_key",
     * "header:svix-signature", "messages[3].to"; empty when none applies)
     * and a message a user can act on. The last call before the function
     * returns wins. Both are copied. */
    void (*set_error)(bsp_call *call, bsp_str field, bsp_str message);

    /* sender.prepare only: one HTTP request to send. */
    bsp_status (*emit_request)(bsp_call *call, const bsp_http_request *request);

    /* sender.prepare (messages refused before sending, e.g. an invalid
     * number) and sender.interpret (every message): one outcome. */
    bsp_status (*emit_outcome)(bsp_call *call, const bsp_outcome *outcome);

    /* webhook.parse only: one normalised event. */
    bsp_status (*emit_event)(bsp_call *call, const bsp_event *event);
};

#ifdef __cplusplus
}
#endif

#endif /* BATCHSENDER_HOST_H */

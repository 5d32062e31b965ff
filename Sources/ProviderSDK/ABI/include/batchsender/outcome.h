/*
 * batchsender/outcome.h — what happened to one message.
 */
#ifndef BATCHSENDER_OUTCOME_H
#define BATCHSENDER_OUTCOME_H

#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The provider took the message; provider_message_id is set. */
#define BSP_OUTCOME_ACCEPTED  1
/* Not sent now, may succeed later: a 5xx, a timeout, a transient provider
 * state. retry_after_ms says when, if the provider said. The host spends one
 * of the message's attempts on it. */
#define BSP_OUTCOME_RETRYABLE 2
/* Will never succeed as it is: an invalid address, a refused sender, bad
 * credentials. code and message say why, in the provider's words. */
#define BSP_OUTCOME_PERMANENT 3
/* Since ABI 1.1. Not sent: the provider's rate or quota refused it (HTTP 429,
 * "rate_limit_exceeded", "ACCOUNT_DAILY_QUOTA_EXCEEDED"), not anything about
 * the message. retry_after_ms as for BSP_OUTCOME_RETRYABLE. The host waits
 * and spends no attempt: a quota that lasts a day does not fail the message.
 *
 * Compatibility: a plugin emits it only to a host of minor 1 or later (the
 * host_abi_minor the entry function received, also bsp_host.abi_minor); to a
 * 1.0 host it emits BSP_OUTCOME_RETRYABLE with the same retry_after_ms and
 * code, which is what a 1.0 plugin sends for the same response. A 1.0 host
 * refuses any kind but 1 to 3 (emit_outcome answers
 * BSP_E_INVALID_ARGUMENT); a 1.1 host refuses any kind but 1 to 4. */
#define BSP_OUTCOME_THROTTLED 4

/* Emitted through bsp_call.emit_outcome; views need to live only until
 * emit_outcome returns (the host copies them). */
typedef struct bsp_outcome {
    uint32_t struct_size;
    /* Index into the message array of the call that emits it. */
    uint32_t message_index;
    /* One of BSP_OUTCOME_*. */
    int32_t kind;
    /* Milliseconds the provider asked us to wait (retry-after), or -1 when it
     * did not say. Only meaningful for BSP_OUTCOME_RETRYABLE and
     * BSP_OUTCOME_THROTTLED. The host waits at most a day (86400000): a
     * larger value is read as that. */
    int64_t retry_after_ms;
    /* The provider's id for the message, e.g. "49a3999c-0ce1-4ea6-…";
     * required for BSP_OUTCOME_ACCEPTED, empty otherwise. */
    bsp_str provider_message_id;
    /* The provider's error code, e.g. "rate_limit_exceeded", "40310";
     * empty when there is none. */
    bsp_str code;
    /* One sentence a user can act on, e.g. "The 'to' number is not E.164". */
    bsp_str message;
} bsp_outcome;

#ifdef __cplusplus
}
#endif

#endif /* BATCHSENDER_OUTCOME_H */
